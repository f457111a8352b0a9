using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Invalid encodings get a verdict, never an exception: the kernel's message, in the kernel's order of checks
/// (subprograms and last instruction, then LDX fields, wide loads and opcodes slot by slot, then the CFG, then
/// each instruction's fields as the simulation reaches it). Each expected message is what Linux 6.18 prints;
/// with a kernel the test also loads the program and checks the kernel still says so.
/// </summary>
public sealed class EncodingTests(ITestOutputHelper output)
{
    private static Instruction I(int op, int dst = 0, int src = 0, int off = 0, int imm = 0) => new((byte)op, (byte)dst, (byte)src, (short)off, imm);

    private static readonly Instruction Exit = I(0x95), Mov0 = I(0xb7);

    public static readonly TheoryData<string, int, string> Cases = new()
    {
        { "unknown-ff", 1, "unknown opcode ff" },
        { "unknown-ff-unreachable", 2, "unknown opcode ff" },
        { "unknown-00", 1, "unknown opcode 00" },
        { "callx", 1, "unknown opcode 8d" },
        { "jcond-x", 1, "unknown opcode ed" },
        { "ldxsdw", 1, "unknown opcode 99" },
        { "call-dst", 1, "BPF_CALL uses reserved fields" },
        { "call-off", 1, "BPF_CALL uses reserved fields" },
        { "lddw-cut", 1, "last insn is not an exit or jmp" },
        { "no-exit", 1, "last insn is not an exit or jmp" },
        { "ff-no-exit", 2, "last insn is not an exit or jmp" },
        { "lddw-second-slot", 0, "invalid bpf_ld_imm64 insn" },
        { "lddw-second-is-exit", 1, "invalid bpf_ld_imm64 insn" },
        { "lddw-src7", 0, "unrecognized bpf_ld_imm64 insn" },
        { "lddw-mapfd-hi", 0, "unrecognized bpf_ld_imm64 insn" },
        { "lddw-off", 0, "BPF_LD_IMM64 uses reserved fields" },
        { "mov-src", 0, "BPF_MOV uses reserved fields" },
        { "movsx-off7", 1, "BPF_MOV uses reserved fields" },
        { "alu-off", 0, "BPF_ALU uses reserved fields" },
        { "sdiv-off2", 1, "BPF_ALU uses reserved fields" },
        { "exit-imm", 1, "BPF_EXIT uses reserved fields" },
        { "ja-dst", 1, "BPF_JA uses reserved fields" },
        { "ja32-off", 1, "BPF_JA uses reserved fields" },
        { "jeq-src", 1, "BPF_JMP/JMP32 uses reserved fields" },
        { "st-src", 1, "BPF_ST uses reserved fields" },
        { "stx-imm", 1, "BPF_STX uses reserved fields" },
        { "ldx-imm", 1, "BPF_LDX uses reserved fields" },
        { "ldx-abs-mode", 1, "BPF_LDX uses reserved fields" },
        { "ldx-abs-after-ff", 0, "unknown opcode ff" },
        { "ldabs-dst", 1, "BPF_LD_[ABS|IND] uses reserved fields" },
        { "le8", 1, "BPF_END uses reserved fields" },
        { "neg-src", 1, "BPF_NEG uses reserved fields" },
        { "neg-imm", 1, "BPF_NEG uses reserved fields" },
        { "atomic-bad-op", 2, "BPF_ATOMIC uses invalid atomic opcode 07" },
        { "atomic-add-byte", 2, "invalid atomic operand size" },
        { "may-goto-imm", 1, "invalid may_goto imm 1" },
        { "may-goto-src", 1, "invalid may_goto imm 0" },
        { "r11", 0, "R11 is invalid" },
        { "src11", 1, "R11 is invalid" },
        { "div0", 1, "div by zero" },
        { "jump-out", 1, "jump out of range from insn 1 to 7" },
        { "call-out", 1, "call to invalid destination" },
        { "unreachable", 2, "unreachable insn 2" },
        { "ja-into-lddw-unreachable", 1, "unreachable insn 1" },
        { "ja-into-lddw", 3, "jump into the middle of ldimm64 insn 3" },
    };

    private static Instruction[] Program(string name) => name switch
    {
        "unknown-ff" => [Mov0, I(0xff), Exit],
        "unknown-ff-unreachable" => [Mov0, Exit, I(0xff), Exit],
        "unknown-00" => [Mov0, I(0x00), Exit],
        "callx" => [Mov0, I(0x8d, 1), Exit],
        "jcond-x" => [Mov0, I(0xed, 0, 0, 1), Mov0, Exit],
        "ldxsdw" => [Mov0, I(0x99, 0, 10, -8), Exit],
        "call-dst" => [Mov0, I(0x85, 1, 0, 0, 7), Exit],
        "call-off" => [Mov0, I(0x85, 0, 0, 1, 7), Exit],
        "lddw-cut" => [Mov0, I(0x18)],
        "no-exit" => [Mov0, Mov0],
        "ff-no-exit" => [Mov0, I(0xff), Mov0],
        "lddw-second-slot" => [I(0x18), I(0x07), Mov0, Exit],
        "lddw-second-is-exit" => [Mov0, I(0x18), Exit],
        "lddw-src7" => [I(0x18, 0, 7), I(0), Mov0, Exit],
        "lddw-mapfd-hi" => [I(0x18, 1, 1, 0, 5), I(0, 0, 0, 0, 1), Mov0, Exit],
        "lddw-off" => [I(0x18, 0, 0, 1), I(0), Exit],
        "mov-src" => [I(0xb7, 0, 1), Exit],
        "movsx-off7" => [Mov0, I(0xbf, 0, 0, 7), Exit],
        "alu-off" => [I(0x07, 0, 0, 1), Mov0, Exit],
        "sdiv-off2" => [Mov0, I(0x3f, 0, 0, 2), Exit],
        "exit-imm" => [Mov0, I(0x95, 0, 0, 0, 1)],
        "ja-dst" => [Mov0, I(0x05, 1), Exit],
        "ja32-off" => [Mov0, I(0x06, 0, 0, 1), Exit],
        "jeq-src" => [Mov0, I(0x15, 0, 1), Exit],
        "st-src" => [Mov0, I(0x7a, 10, 1, -8), Exit],
        "stx-imm" => [Mov0, I(0x7b, 10, 0, -8, 1), Exit],
        "ldx-imm" => [Mov0, I(0x79, 0, 10, -8, 1), Exit],
        "ldx-abs-mode" => [Mov0, I(0x21, 0, 10, -8), Exit],
        "ldx-abs-after-ff" => [I(0xff), I(0x21), Exit],
        "ldabs-dst" => [I(0xbf, 6, 1), I(0x30, 1), Exit],
        "le8" => [Mov0, I(0xd4, 0, 0, 0, 8), Exit],
        "neg-src" => [Mov0, I(0x87, 0, 1), Exit],
        "neg-imm" => [Mov0, I(0x87, 0, 0, 0, 1), Exit],
        "atomic-bad-op" => [Mov0, I(0x7a, 10, 0, -8), I(0xdb, 10, 0, -8, 0x07), Exit],
        "atomic-add-byte" => [Mov0, I(0x7a, 10, 0, -8), I(0xd3, 10, 0, -8, 0), Exit],
        "may-goto-imm" => [Mov0, I(0xe5, 0, 0, 1, 1), Mov0, Exit],
        "may-goto-src" => [Mov0, I(0xe5, 0, 1, 1), Mov0, Exit],
        "r11" => [I(0xb7, 11), Exit],
        "src11" => [Mov0, I(0xbf, 0, 11), Exit],
        "div0" => [Mov0, I(0x37), Exit],
        "jump-out" => [Mov0, I(0x05, 0, 0, 5), Exit],
        "call-out" => [Mov0, I(0x85, 0, 1, 0, 5), Exit],
        "unreachable" => [Mov0, Exit, Mov0, Exit],
        "ja-into-lddw-unreachable" => [I(0x05, 0, 0, 1), I(0x18), I(0), Mov0, Exit],
        "ja-into-lddw" => [Mov0, I(0x15, 0, 0, 2), Mov0, I(0x18), I(0), Exit],
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void InvalidEncoding_RejectedWithKernelMessage(string name, int insn, string message)
    {
        var program = Program(name);
        var ours = BpfVerifier.Verify(program);
        Assert.False(ours.IsAccepted, name);
        Assert.Equal(message, ours.Error!.Message);
        Assert.Equal(insn, ours.Error.InstructionIndex);
        Need.Kernel();
        var kernel = KernelOracle.Load(program, [], ProgramType.SocketFilter);
        output.WriteLine($"{name}: ours insn {ours.Error.InstructionIndex} \"{ours.Error.Message}\"; kernel \"{kernel.Message}\"");
        Assert.False(kernel.Accepted, $"{name}: the kernel accepts it");
        Assert.Equal(message, kernel.Message);
    }
}
