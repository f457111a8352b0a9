using Bpf.Asm;

namespace Bpf.Bench;

/// <summary>
/// The benchmark workloads, kept apart from the engine that runs them so the same programs can later be run by
/// other engines (the kernel through Bpf.Loader, for comparison) with the same instruction counts.
/// </summary>
public static class BenchPrograms
{
    public const string AluLoop = "AluLoop";
    public const string Checksum = "Checksum";
    public const string Calls = "Calls";
    public const string LocalCalls = "LocalCalls";

    public static readonly string[] All = [AluLoop, Checksum, Calls, LocalCalls];

    /// <summary>The programs that run unchanged in the kernel (no input memory, no made-up helpers), so the
    /// interpreter and BPF_PROG_TEST_RUN execute the very same instructions.</summary>
    public static readonly string[] KernelComparable = [AluLoop, LocalCalls];

    /// <summary>1000 iterations of 7 ALU/jump instructions.</summary>
    private const string AluLoopAsm = """
        mov %r0, 0
        mov %r1, 1000
        loop:
        add %r0, %r1
        xor %r0, 0x5a
        mov %r2, %r0
        rsh %r2, 3
        add32 %r0, %r2
        sub %r1, 1
        jne %r1, 0, loop
        exit
        """;

    /// <summary>A ones'-complement checksum over a 1500-byte packet, 16 bits at a time, spilling the running sum
    /// to the stack each word (a load, a store, a reload per iteration), then folded to 16 bits.</summary>
    private const string ChecksumAsm = """
        mov %r3, 0
        stxdw [%r10-8], %r3
        mov %r4, %r1
        mov %r5, %r1
        add %r5, %r2
        loop:
        ldxh %r6, [%r4]
        ldxdw %r3, [%r10-8]
        add %r3, %r6
        stxdw [%r10-8], %r3
        add %r4, 2
        jlt %r4, %r5, loop
        mov %r0, %r3
        rsh %r0, 16
        and %r3, 0xffff
        add %r0, %r3
        mov %r3, %r0
        rsh %r3, 16
        and %r0, 0xffff
        add %r0, %r3
        xor %r0, 0xffff
        exit
        """;

    /// <summary>500 iterations, each a bpf-to-bpf call (which itself calls a helper) and a direct helper call.</summary>
    private const string CallsAsm = """
        mov %r6, 500
        mov %r7, 0
        loop:
        mov %r1, %r6
        mov %r2, %r7
        call local mix
        mov %r7, %r0
        mov %r1, %r7
        mov %r2, 3
        call 1
        mov %r7, %r0
        sub %r6, 1
        jne %r6, 0, loop
        mov %r0, %r7
        exit
        mix:
        mov %r6, %r1
        lsh %r6, 1
        mov %r2, %r6
        call 1
        exit
        """;

    /// <summary>500 iterations of a bpf-to-bpf call with no helpers: identical in both engines.</summary>
    private const string LocalCallsAsm = """
        mov %r6, 500
        mov %r7, 0
        loop:
        mov %r1, %r6
        mov %r2, %r7
        call local mix
        mov %r7, %r0
        sub %r6, 1
        jne %r6, 0, loop
        mov %r0, %r7
        exit
        mix:
        mov %r0, %r1
        lsh %r0, 1
        add %r0, %r2
        xor %r0, 0x33
        exit
        """;

    /// <summary>Helper 1: r1 + r2 (a trivial helper, so the call overhead dominates).</summary>
    public static HelperRegistry Helpers() =>
        HelperRegistry.CreateDefault().Register(1, "add", static (ref HelperContext _, ulong a, ulong b, ulong _, ulong _, ulong _) => a + b);

    public static Instruction[] Program(string name) => Assembler.Assemble(name switch
    {
        AluLoop => AluLoopAsm,
        Checksum => ChecksumAsm,
        Calls => CallsAsm,
        LocalCalls => LocalCallsAsm,
        _ => throw new ArgumentException($"unknown benchmark program '{name}'", nameof(name)),
    });

    /// <summary>The input memory of a program (a deterministic 1500-byte "packet" for the checksum).</summary>
    public static byte[] Memory(string name)
    {
        if (name != Checksum) return [];
        var packet = new byte[1500];
        new Random(1500).NextBytes(packet);
        return packet;
    }

    public static Interpreter CreateInterpreter(string name) =>
        new(Program(name), new InterpreterOptions { Helpers = Helpers(), InstructionBudget = 10_000_000 });

    /// <summary>Instructions one run executes (checked to end normally), for the ns/instruction column.</summary>
    public static long InstructionCount(string name)
    {
        var result = CreateInterpreter(name).Run(Memory(name));
        if (!result.Succeeded) throw new InvalidOperationException($"{name}: {result.Fault}");
        return result.InstructionsExecuted ?? 0;
    }
}
