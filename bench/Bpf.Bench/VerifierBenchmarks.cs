using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Bpf.Asm;
using Bpf.Loader;
using Bpf.Verifier;

namespace Bpf.Bench;

/// <summary>
/// Verification time (issue 12, goal 5): our verifier's <see cref="BpfVerifier.Verify(ReadOnlySpan{Instruction}, VerifierOptions?)"/>
/// per program, and in the same run the kernel's own "verification time N usec" (BPF_LOG_STATS) for the same program
/// loaded as a socket filter (<see cref="KernelDurationColumn"/>: the median of several loads, in ns), with both
/// "processed N insns" counts (<see cref="ProcessedColumn"/>). The workloads are the docs/benchmarks.md table's plus
/// the growth series: straight lines, counted loops and N undecided branches that either prune (the counter is never
/// compared) or explore every path (each path's sum becomes a stack offset, so it is precise and no state prunes).
/// </summary>
[MemoryDiagnoser]
public class VerifierBenchmarks : IKernelReference
{
    private Instruction[] _program = null!;

    /// <summary>Workload names: <c>straight-N</c> (N additions between <c>r0 = 0</c> and <c>exit</c>),
    /// <c>loop-N</c> (a counted loop of N iterations, 3N + 3 processed), <c>helper-decided-N</c> (N helper results
    /// compared, a counter never compared: about 6.3 N processed, the states prune; N stays under the 8,192 pending branches both verifiers allow,
    /// since every branch is queued before the first path ends), <c>prune-N</c> (N ≤ 31 undecided branches on one register;
    /// a counter never compared), <c>explore-N</c> (N undecided branches each adding 2^i to a sum that ends as a stack offset:
    /// 2^N paths, no pruning).</summary>
    [Params(
        "straight-1000", "straight-10000", "straight-100000", "straight-999998",
        "loop-333", "loop-3333", "loop-10000", "loop-33333", "loop-100000", "loop-333332",
        "helper-decided-12", "helper-decided-150", "helper-decided-1500", "helper-decided-8000",
        "prune-12", "explore-7", "explore-10", "explore-13", "explore-16")]
    public string Workload { get; set; } = "straight-1000";

    [GlobalSetup]
    public void Setup()
    {
        _program = Program(Workload);
        var result = BpfVerifier.Verify(_program);
        if (!result.IsAccepted) throw new InvalidOperationException($"{Workload}: we reject: {result}");
    }

    [Benchmark]
    public int Verify() => BpfVerifier.Verify(_program).ProcessedInstructions;

    /// <summary>The workload's program (see <see cref="Workload"/>).</summary>
    public static Instruction[] Program(string workload)
    {
        var dash = workload.LastIndexOf('-');
        var kind = workload[..dash];
        var n = int.Parse(workload[(dash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var text = kind switch
        {
            "straight" => "r0 = 0\n" + string.Concat(Enumerable.Repeat("r0 += 1\n", n)) + "exit",
            "loop" => $"r0 = 0\nr1 = 0\nl: r0 += 3\nr1 += 1\nif r1 < {n} goto l\nexit",
            "helper-decided" => "r6 = 0\n" + string.Concat(Enumerable.Repeat("call 7\nif r0 > 5 goto +1\nr6 += 1\n", n)) + "r0 = r6\nexit",
            "prune" => "r6 = r1\ncall 7\nr6 = r0\nr0 = 0\n"
                + string.Concat(Enumerable.Range(0, n).Select(i => $"if r6 & {1L << (i % 31)} goto +1\nr0 += 1\n")) + "exit",
            "explore" => "call 7\nr7 = r0\nr6 = 0\n"
                + string.Concat(Enumerable.Range(0, n).Select(i => $"if r7 & {1L << i} goto +1\nr6 += {1L << i}\n"))
                + "r6 &= 63\nr1 = r10\nr1 += -64\nr1 += r6\nr0 = 0\n*(u8 *)(r1 + 0) = r0\nexit",
            _ => throw new ArgumentException($"unknown workload '{workload}'"),
        };
        return Assembler.Assemble(text, AsmDialect.Llvm);
    }

    public double? KernelNanosecondsPerOperation(string method) => null;

    public double? KernelNanosecondsPerOperation(string method, IReadOnlyDictionary<string, object?> parameters) =>
        OperatingSystem.IsLinux() && parameters.TryGetValue(nameof(Workload), out var w) && w is string workload
            ? KernelVerification.Measure(workload).Median.TotalNanoseconds
            : null;
}

/// <summary>The kernel's own figures for a <see cref="VerifierBenchmarks"/> workload: each load's "verification time"
/// and "processed N insns" from BPF_LOG_STATS, loaded as a socket filter several times (the median is reported:
/// the kernel times itself, but a load can still be preempted).</summary>
internal static class KernelVerification
{
    private static readonly Dictionary<string, (TimeSpan Median, long? Processed)> Cache = [];

    public static (TimeSpan Median, long? Processed) Measure(string workload)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(workload, out var known)) return known;
            if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the kernel's verifier needs Linux");
            var result = MeasureLinux(workload);
            Cache[workload] = result;
            return result;
        }
    }

    [SupportedOSPlatform("linux")]
    private static (TimeSpan Median, long? Processed) MeasureLinux(string workload)
    {
        var program = VerifierBenchmarks.Program(workload);
        var times = new List<TimeSpan>();
        long? processed = null;
        var spent = TimeSpan.Zero;
        // At least 5 loads, more while they are quick (up to 21, about a second in all).
        while (times.Count < 5 || (times.Count < 21 && spent < TimeSpan.FromSeconds(1)))
        {
            using var loaded = BpfProgram.Load(ProgramType.SocketFilter, program, "GPL", new LoadOptions { LogLevel = VerifierLogLevel.Stats });
            var time = loaded.VerificationTime ?? throw new InvalidOperationException($"{workload}: the kernel's log has no verification time");
            processed = loaded.ProcessedInstructions;
            times.Add(time);
            spent += time;
        }
        times.Sort();
        return (times[times.Count / 2], processed);
    }
}

/// <summary>For <see cref="VerifierBenchmarks"/>: "processed N insns", ours and the kernel's for the same program.</summary>
public sealed class ProcessedColumn(bool kernel) : IColumn
{
    public string Id => nameof(ProcessedColumn) + (kernel ? "Kernel" : "Ours");
    public string ColumnName => kernel ? "processed (kernel)" : "processed (ours)";
    public bool AlwaysShow => false;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => kernel ? 5 : 4;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => kernel
        ? "The kernel's \"processed N insns\" for the same program (BPF_LOG_STATS)"
        : "Our verifier's processed instruction count";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(VerifierBenchmarks));
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Descriptor.Type != typeof(VerifierBenchmarks)) return "-";
        if (benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(VerifierBenchmarks.Workload))?.Value is not string workload) return "-";
        if (!kernel) return BpfVerifier.Verify(VerifierBenchmarks.Program(workload)).ProcessedInstructions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            return KernelVerification.Measure(workload).Processed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "n/a";
        }
        catch (Exception e)
        {
            return $"n/a ({e.GetType().Name})";
        }
    }
}
