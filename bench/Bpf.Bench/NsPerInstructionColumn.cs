using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bpf.Bench;

/// <summary>Median time divided by the number of eBPF instructions one run executes.</summary>
public sealed class NsPerInstructionColumn : IColumn
{
    public string Id => nameof(NsPerInstructionColumn);
    public string ColumnName => "ns/insn";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median time per executed eBPF instruction (ns)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => c.Parameters.Items.Any(p => p.Name == "Program"));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var program = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Program")?.Value as string;
        if (report?.ResultStatistics is null || program is null) return "-";
        var count = BenchPrograms.InstructionCount(program);
        return $"{report.ResultStatistics.Median / count:0.00} ({count} insns)";
    }
}
