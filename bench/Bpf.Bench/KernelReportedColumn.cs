using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// For the kernel rows: the run time the kernel itself reports for BPF_PROG_TEST_RUN (10,000 repetitions,
/// mean per run), per executed instruction. It leaves out the syscall and the per-repetition bookkeeping that
/// the wall-clock Mean includes, so it is the JIT's own speed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class KernelReportedColumn : IColumn
{
    public string Id => nameof(KernelReportedColumn);
    public string ColumnName => "kernel ns/insn";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Kernel-reported BPF_PROG_TEST_RUN duration per executed instruction (ns), JIT only";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(KernelComparisonBenchmarks));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Descriptor.WorkloadMethod.Name != nameof(KernelComparisonBenchmarks.KernelTestRun)) return "-";
        var program = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Program")?.Value as string;
        if (program is null) return "-";
        try
        {
            using var loaded = BpfProgram.Load(ProgramType.Xdp, BenchPrograms.Program(program), "GPL");
            var run = loaded.TestRun(new byte[64], default, new TestRunOptions { Repeat = 10_000 });
            return $"{run.NanosecondsPerRun!.Value / BenchPrograms.InstructionCount(program):0.000}";
        }
        catch (Exception e) when (e is BpfSyscallException or PlatformNotSupportedException or DllNotFoundException)
        {
            return $"n/a ({e.GetType().Name})";
        }
    }
}
