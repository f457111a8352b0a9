using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bpf.Bench;

/// <summary>
/// For benchmarks implementing <see cref="IKernelReference"/>: the kernel's own duration for the row's program (per
/// operation, as the Mean is), and the Median divided by it (the Median: the kernel's figure is timed inside the kernel,
/// which preemption by other processes hardly reaches; a few preempted iterations inflate our Mean). Computed when the summary is printed, right after the rows ran,
/// in the same process run; the kernel figure is the mean over many repetitions that the kernel itself timed.
/// </summary>
public sealed class KernelDurationColumn(bool ratio) : IColumn
{
    public string Id => nameof(KernelDurationColumn) + (ratio ? "Ratio" : "");
    public string ColumnName => ratio ? "Median / kernel" : "kernel ns/op";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => ratio ? 3 : 2;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => ratio
        ? "Median divided by the kernel's own duration for the same program"
        : "The kernel's own BPF_PROG_TEST_RUN duration for the same program, per operation (ns; JIT, no syscall)";

    private static readonly Dictionary<(Type, string, string), double?> Cache = [];

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => typeof(IKernelReference).IsAssignableFrom(c.Descriptor.Type));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (!typeof(IKernelReference).IsAssignableFrom(type)) return "-";
        var method = benchmarkCase.Descriptor.WorkloadMethod.Name;
        var parameters = benchmarkCase.Parameters.Items.ToDictionary(p => p.Name, p => (object?)p.Value);
        double? kernel;
        lock (Cache)
        {
            if (!Cache.TryGetValue((type, method, benchmarkCase.Parameters.FolderInfo), out kernel))
            {
                try
                {
                    kernel = ((IKernelReference)Activator.CreateInstance(type)!).KernelNanosecondsPerOperation(method, parameters);
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine($"kernel reference for {type.Name}.{method}: {e.GetType().Name}: {e.Message}");
                    kernel = null;
                }
                Cache[(type, method, benchmarkCase.Parameters.FolderInfo)] = kernel;
            }
        }
        if (kernel is not { } k) return "n/a";
        if (!ratio) return $"{k:0.0}";
        var median = summary[benchmarkCase]?.ResultStatistics?.Median;
        return median is { } m && k > 0 ? $"{m / k:0.00}" : "n/a";
    }
}
