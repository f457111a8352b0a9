namespace Bpf;

public readonly partial struct Instruction
{
    /// <summary>ALU/ALU64 with an immediate source: <c>dst op= imm</c>.</summary>
    public static Instruction AluImm(OpClass cls, AluOp op, Register dst, int imm, short offset = 0) =>
        new(Opcodes.Alu(cls, op, Source.Imm), dst, Register.R0, offset, imm);

    /// <summary>ALU/ALU64 with a register source: <c>dst op= src</c>.</summary>
    public static Instruction AluReg(OpClass cls, AluOp op, Register dst, Register src, short offset = 0) =>
        new(Opcodes.Alu(cls, op, Source.Reg), dst, src, offset, 0);

    /// <summary>Conditional jump comparing with an immediate.</summary>
    public static Instruction JumpImm(OpClass cls, JumpOp op, Register dst, int imm, short offset) =>
        new(Opcodes.Jump(cls, op, Source.Imm), dst, Register.R0, offset, imm);

    /// <summary>Conditional jump comparing with a register.</summary>
    public static Instruction JumpReg(OpClass cls, JumpOp op, Register dst, Register src, short offset) =>
        new(Opcodes.Jump(cls, op, Source.Reg), dst, src, offset, 0);

    /// <summary><c>exit</c>.</summary>
    public static Instruction ExitInsn() => new(Opcodes.Exit, (byte)0, (byte)0, 0, 0);

    /// <summary><c>call imm</c> of a helper.</summary>
    public static Instruction CallHelper(int helperId) => new(Opcodes.Call, (byte)0, (byte)0, 0, helperId);

    /// <summary><c>call local</c> with a relative offset (target = pc + 1 + offset).</summary>
    public static Instruction CallLocal(int relativeOffset) => new(Opcodes.Call, 0, (byte)CallKind.Local, 0, relativeOffset);

    /// <summary>The two slots of <c>lddw dst, value</c>.</summary>
    public static (Instruction First, Instruction Second) LoadImm64(Register dst, ulong value, PseudoSource pseudo = PseudoSource.None) =>
        (new Instruction(Opcodes.LdDw, (byte)dst, (byte)pseudo, 0, (int)(uint)value),
         new Instruction(0, (byte)0, (byte)0, 0, (int)(uint)(value >> 32)));

    /// <summary><c>ldx dst, [src+off]</c> (sign-extending with <paramref name="signExtend"/>).</summary>
    public static Instruction Load(MemSize size, Register dst, Register src, short offset, bool signExtend = false) =>
        new(Opcodes.Memory(OpClass.Ldx, signExtend ? MemMode.MemSx : MemMode.Mem, size), dst, src, offset, 0);

    /// <summary><c>st [dst+off], imm</c>.</summary>
    public static Instruction StoreImm(MemSize size, Register dst, short offset, int imm) =>
        new(Opcodes.Memory(OpClass.St, MemMode.Mem, size), dst, Register.R0, offset, imm);

    /// <summary><c>stx [dst+off], src</c>.</summary>
    public static Instruction StoreReg(MemSize size, Register dst, Register src, short offset) =>
        new(Opcodes.Memory(OpClass.Stx, MemMode.Mem, size), dst, src, offset, 0);

    /// <summary><c>lock op [dst+off], src</c> (size W or DW).</summary>
    public static Instruction Atomic(MemSize size, AtomicOp op, Register dst, Register src, short offset) =>
        new(Opcodes.Memory(OpClass.Stx, MemMode.Atomic, size), dst, src, offset, (int)op);
}
