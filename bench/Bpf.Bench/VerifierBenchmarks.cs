using BenchmarkDotNet.Attributes;
using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Bench;

/// <summary>
/// Verification time against program size, loop count and branching. The kernel's own time for the same
/// programs (BPF_LOG_STATS) is measured by tests/Bpf.Verifier.Tests/TimingTests and recorded in docs/verifier.md.
/// </summary>
[MemoryDiagnoser]
public class VerifierBenchmarks
{
    private Instruction[] _program = null!;

    [Params("straight-1000", "straight-100000", "loop-1000", "loop-100000", "branches-12")]
    public string Workload { get; set; } = "straight-1000";

    [GlobalSetup]
    public void Setup()
    {
        var text = Workload switch
        {
            "straight-1000" => "r0 = 0\n" + string.Concat(Enumerable.Repeat("r0 += 1\n", 1000)) + "exit",
            "straight-100000" => "r0 = 0\n" + string.Concat(Enumerable.Repeat("r0 += 1\n", 100_000)) + "exit",
            "loop-1000" => "r0 = 0\nr1 = 0\nl: r0 += 3\nr1 += 1\nif r1 < 1000 goto l\nexit",
            "loop-100000" => "r0 = 0\nr1 = 0\nl: r0 += 3\nr1 += 1\nif r1 < 100000 goto l\nexit",
            _ => "r6 = r1\ncall 7\nr6 = r0\nr0 = 0\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"if r6 & {1L << i} goto +1\nr0 += 1\n")) + "exit",
        };
        _program = Assembler.Assemble(text, AsmDialect.Llvm);
    }

    [Benchmark]
    public int Verify() => BpfVerifier.Verify(_program).ProcessedInstructions;
}
