using BenchmarkDotNet.Attributes;
using Bpf.Asm;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// What one BPF_PROG_TEST_RUN syscall costs in wall-clock time against its <c>repeat</c> count, for a 2-instruction
/// XDP program on a 64-byte packet: shows the fixed cost a test run with repeat &gt; 1 pays on this machine (the
/// Mean is per syscall, not per repetition). Needs root and a kernel with BPF.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class KernelRepeatBenchmarks
{
    private BpfProgram _program = null!;
    private readonly byte[] _packet = new byte[64];
    private TestRunOptions _options = null!;

    [Params(1u, 2u, 1000u)]
    public uint Repeat { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _program = BpfProgram.Load(ProgramType.Xdp, Assembler.Assemble("mov %r0, 2\nexit"), "GPL");
        _options = new TestRunOptions { Repeat = Repeat, DataOutCapacity = 128 };
    }

    [GlobalCleanup]
    public void Cleanup() => _program.Dispose();

    [Benchmark]
    public uint TestRunSyscall() => _program.TestRun(_packet, default, _options).ReturnValue;
}
