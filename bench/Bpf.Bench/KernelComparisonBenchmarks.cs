using BenchmarkDotNet.Attributes;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// The same instructions in the managed interpreter (baseline) and in the kernel through BPF_PROG_TEST_RUN,
/// in one run, so the Ratio column compares them directly. The kernel side is one BPF_PROG_TEST_RUN syscall
/// per run (repeat = 1): on this kind of VM a test run with repeat &gt; 1 pays a fixed ~17 ms per syscall, so
/// batching repetitions would make the kernel look far slower than it is. Needs root and a kernel with BPF:
/// elsewhere the setup throws and BenchmarkDotNet reports the reason.
/// </summary>
[MemoryDiagnoser]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class KernelComparisonBenchmarks
{
    private static readonly byte[] Packet = new byte[64]; // XDP test runs need at least an Ethernet header.

    private Interpreter _interpreter = null!;
    private BpfProgram _kernel = null!;
    private readonly TestRunOptions _options = new() { Repeat = 1 };

    [ParamsSource(nameof(Programs))]
    public string Program { get; set; } = BenchPrograms.AluLoop;

    public static IEnumerable<string> Programs => BenchPrograms.KernelComparable;

    [GlobalSetup]
    public void Setup()
    {
        var insns = BenchPrograms.Program(Program);
        _interpreter = BenchPrograms.CreateInterpreter(Program);
        _kernel = BpfProgram.Load(ProgramType.Xdp, insns, "GPL");

        // Both engines must compute the same thing, or the comparison means nothing.
        var ours = (uint)_interpreter.Run(Array.Empty<byte>()).R0;
        var theirs = _kernel.TestRun(Packet).ReturnValue;
        if (ours != theirs)
        {
            throw new InvalidOperationException($"{Program}: interpreter r0 = {ours:x}, kernel r0 = {theirs:x}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true)]
    public ulong Interpreter() => _interpreter.Run(Array.Empty<byte>()).R0;

    [Benchmark]
    public uint KernelTestRun() => _kernel.TestRun(Packet, default, _options).ReturnValue;
}
