using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// The kernel's own figure for the kernel rows of <see cref="ScanVsLookupBenchmarks"/>: the duration
/// BPF_PROG_TEST_RUN reports for one run (repeat = 1, as the benchmark calls it), averaged over up to 2,000 calls or
/// one second, measured in the host process after the benchmarks with the same object, rules and packet. It leaves
/// out the syscall and the test-run setup that the wall-clock Mean includes: the JIT-compiled program alone.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class KernelRunDuration
{
    private static readonly ConcurrentDictionary<(string Method, int Rules), string> Cache = new();

    /// <summary>The program a kernel row runs, or null for other rows.</summary>
    public static string? ProgramOf(string method) => method switch
    {
        nameof(ScanVsLookupBenchmarks.KernelScan) => ScanVsLookup.ScanProgram,
        nameof(ScanVsLookupBenchmarks.KernelHash) => ScanVsLookup.HashProgram,
        nameof(ScanVsLookupBenchmarks.KernelLpm) => ScanVsLookup.LpmProgram,
        _ => null,
    };

    /// <summary>Nanoseconds per run as the kernel reports them ("" for rows that are not kernel rows; "n/a (reason)"
    /// where the kernel is unavailable).</summary>
    public static string Get(BenchmarkCase c)
    {
        var method = c.Descriptor.WorkloadMethod.Name;
        if (ProgramOf(method) is not { } program) return "";
        var rules = c.Parameters.Items.FirstOrDefault(p => p.Name == nameof(ScanVsLookupBenchmarks.Rules))?.Value is int n ? n : -1;
        if (rules < 0) return "";
        return Cache.GetOrAdd((method, rules), key => Measure(program, key.Rules));
    }

    private static string Measure(string program, int rules)
    {
        try
        {
            using var kernel = KernelCollection.Load(ScanVsLookup.Spec());
            ScanVsLookup.Fill(kernel, rules);
            var p = kernel.Program(program);
            var packet = ScanVsLookup.Packet(ScanVsLookup.LastRule(rules));
            var once = new TestRunOptions { Repeat = 1, DataOutCapacity = 128 };
            for (var i = 0; i < 10; i++) p.TestRun(packet, default, once);
            double total = 0;
            var runs = 0;
            var clock = Stopwatch.StartNew();
            while (runs < 2_000 && clock.ElapsedMilliseconds < 1_000)
            {
                var r = p.TestRun(packet, default, once);
                if (r.ReturnValue != ScanVsLookup.Drop) throw new InvalidOperationException($"{program} at N={rules} returned {r.ReturnValue}, not XDP_DROP");
                total += r.NanosecondsPerRun ?? throw new InvalidOperationException("BPF_PROG_TEST_RUN reported no duration");
                runs++;
            }
            return (total / runs).ToString("0.0", CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is BpfSyscallException or PlatformNotSupportedException or DllNotFoundException)
        {
            return $"n/a ({e.GetType().Name})";
        }
    }
}

/// <summary>The kernel-reported duration per run (see <see cref="KernelRunDuration"/>) as a summary column.</summary>
[SupportedOSPlatform("linux")]
public sealed class KernelRunDurationColumn : IColumn
{
    public string Id => nameof(KernelRunDurationColumn);
    public string ColumnName => "Kernel-reported ns/run";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 2;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "BPF_PROG_TEST_RUN's own duration for one run (repeat = 1), mean over up to 2,000 calls: the JIT-compiled program without the syscall";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(ScanVsLookupBenchmarks));

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var v = KernelRunDuration.Get(benchmarkCase);
        return v.Length == 0 ? "-" : v;
    }
}

/// <summary>
/// Writes <c>BenchmarkDotNet.Artifacts/results/*-scan-vs-lookup.csv</c>: one row per (category, method, N) with the
/// mean, median and error in nanoseconds, the scan/lookup ratio (of the means) within the category at the same N, the kernel-reported
/// duration and the bytes allocated; '#' lines first say when, where and under what load. bench/Bpf.Bench.Chart
/// draws the chart and the docs table from it.
/// </summary>
public sealed class ScanVsLookupExporter : ExporterBase
{
    public static readonly ScanVsLookupExporter Instance = new();

    /// <summary>The columns, in order (the chart reads them by name).</summary>
    public const string Header = "category,method,rules,mean_ns,median_ns,error_ns,stddev_ns,ratio_to_lookup,kernel_reported_ns,allocated_bytes";

    protected override string FileExtension => "csv";
    protected override string FileCaption => "scan-vs-lookup";

    public override void ExportToLog(Summary summary, ILogger logger)
    {
        var reports = summary.Reports
            .Where(r => r.BenchmarkCase.Descriptor.Type == typeof(ScanVsLookupBenchmarks) && r.ResultStatistics is not null)
            .ToList();
        logger.WriteLine($"# date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; os: {Environment.OSVersion.VersionString}; cpus: {Environment.ProcessorCount}; load average at export: {LoadAverage()}");
        logger.WriteLine(Header);
        foreach (var r in reports)
        {
            var c = r.BenchmarkCase;
            var category = c.Descriptor.Categories.FirstOrDefault() ?? "";
            var rules = Rules(c);
            var mean = r.ResultStatistics!.Mean;
            var baseline = reports.FirstOrDefault(b => b.BenchmarkCase.Descriptor.Baseline
                && b.BenchmarkCase.Descriptor.Categories.FirstOrDefault() == category && Rules(b.BenchmarkCase) == rules);
            var ratio = baseline is null ? "" : F(mean / baseline.ResultStatistics!.Mean, "0.000");
            var kernel = OperatingSystem.IsLinux() ? KernelRunDuration.Get(c) : "";
            var allocated = r.GcStats.GetBytesAllocatedPerOperation(c)?.ToString(CultureInfo.InvariantCulture) ?? "";
            logger.WriteLine(string.Join(',', category, c.Descriptor.WorkloadMethod.Name, rules.ToString(CultureInfo.InvariantCulture),
                F(mean, "0.0"), F(r.ResultStatistics.Median, "0.0"), F(r.ResultStatistics.ConfidenceInterval.Margin, "0.0"), F(r.ResultStatistics.StandardDeviation, "0.0"),
                ratio, kernel.StartsWith("n/a", StringComparison.Ordinal) ? "" : kernel, allocated));
        }
    }

    private static int Rules(BenchmarkCase c) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == nameof(ScanVsLookupBenchmarks.Rules))?.Value is int n ? n : -1;

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
