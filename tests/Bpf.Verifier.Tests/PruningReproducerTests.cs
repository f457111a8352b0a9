using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// The three pruning reproducers of issue 9, in the interpreter's memory type: each was accepted, then faulted
/// in the interpreter. Each test first proves the program is really unsafe (the interpreter faults on the given
/// memory), then that the verifier rejects it in every privilege mode that can run it.
/// </summary>
public sealed class PruningReproducerTests(ITestOutputHelper output)
{
    // Eight instructions between the fork and the join make the checker store a state at the join (r4 is set
    // on entry, so the padding leaves both paths with the same registers).
    private static readonly string Padding = string.Concat(Enumerable.Repeat("mov %r4, 0\n", 8));

    /// <summary>(1) A register-register jump: the operand not used later (r3) bounds the one that is (r6).</summary>
    public static readonly string RegRegJump = $"""
        mov %r4, 0
        ldxdw %r6, [%r1+0]
        ldxdw %r8, [%r1+8]
        mov %r9, %r1
        jgt %r8, 100, B
        mov %r3, 4
        {Padding}ja P
        B:
        mov %r3, 1000
        P:
        jge %r6, %r3, OUT
        add %r9, %r6
        ldxb %r0, [%r9+0]
        exit
        OUT:
        mov %r0, 0
        exit
        """;

    /// <summary>(2) An edge ruled out by tnum refinement: r1 in {3,4} never equals r2 in {0,2,8,10}.</summary>
    public static readonly string RefinementRulesOutEdge = $"""
        mov %r4, 0
        ldxdw %r6, [%r1+0]
        ldxdw %r8, [%r1+8]
        mov %r1, %r6
        and %r1, 1
        add %r1, 3
        mov %r2, %r6
        and %r2, 10
        jgt %r8, 100, B
        {Padding}ja P
        B:
        mov %r1, 2
        P:
        jeq %r1, %r2, BAD
        mov %r0, 0
        exit
        BAD:
        ldxb %r0, [%r1+0]
        exit
        """;

    /// <summary>(3) A pointer compared with a register holding 0 is decided "not equal"; that register matters.</summary>
    public static readonly string PointerAgainstZeroRegister = $"""
        mov %r4, 0
        mov %r9, %r1
        stxdw [%r1+0], %r1
        ldxdw %r7, [%r1+0]
        ldxdw %r8, [%r1+8]
        jgt %r8, 100, B
        mov %r7, 0
        {Padding}ja P
        B:
        mov %r4, 0
        P:
        jeq %r9, %r7, BAD
        mov %r0, 0
        exit
        BAD:
        ldxb %r0, [%r7+4096]
        exit
        """;

    public static TheoryData<string, string, string> Cases() => new()
    {
        { "reg-reg-jump", RegRegJump, "f401000000000000c800000000000000" },
        { "refinement-rules-out-edge", RefinementRulesOutEdge, "0200000000000000c800000000000000" },
        { "pointer-against-zero-register", PointerAgainstZeroRegister, "0000000000000000c800000000000000" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reproducer_FaultsInTheInterpreter_AndIsRejected(string name, string source, string memoryHex)
    {
        var program = Assembler.Assemble(source);
        var memory = Convert.FromHexString(memoryHex);
        var run = new Interpreter(program).Run(memory.AsSpan());
        output.WriteLine($"{name}: interpreter {(run.Succeeded ? "ran to exit" : run.Fault?.ToString())}");
        Assert.False(run.Succeeded, $"{name}: the reproducer must really fault, or it proves nothing");

        foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
        {
            var options = new VerifierOptions { ProgramType = VerifierProgramTypes.Memory, MemorySize = memory.Length, Privilege = mode };
            var verdict = BpfVerifier.Verify(program, options);
            output.WriteLine($"  {mode}: {verdict}");
            Assert.False(verdict.IsAccepted, $"{name} ({mode}): accepted, yet the interpreter faults on it");
        }
    }
}
