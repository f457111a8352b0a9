namespace Bpf;

/// <summary>Opcode byte composition helpers and the few opcodes that are named on their own.</summary>
public static class Opcodes
{
    /// <summary>lddw: the 64-bit wide immediate load (LD | IMM | DW), which takes two slots.</summary>
    public const byte LdDw = (byte)OpClass.Ld | (byte)MemMode.Imm | (byte)MemSize.DW;

    /// <summary>exit (JMP | EXIT).</summary>
    public const byte Exit = (byte)OpClass.Jmp | (byte)JumpOp.Exit;

    /// <summary>call (JMP | CALL | K): helper or local call.</summary>
    public const byte Call = (byte)OpClass.Jmp | (byte)JumpOp.Call;

    /// <summary>callx (JMP | CALL | X): call the helper whose id is in a register.</summary>
    public const byte CallX = (byte)OpClass.Jmp | (byte)JumpOp.Call | (byte)Source.Reg;

    /// <summary>ja (JMP | JA): 16-bit offset.</summary>
    public const byte Ja = (byte)OpClass.Jmp | (byte)JumpOp.Ja;

    /// <summary>may_goto (JMP | JCOND | K, src 0): jump when the loop budget is spent, else fall through.</summary>
    public const byte MayGoto = (byte)OpClass.Jmp | (byte)JumpOp.Cond;

    /// <summary>The loop budget a program invocation starts with; each may_goto that falls through spends one
    /// (the kernel's BPF_MAX_LOOPS).</summary>
    public const int MaxLoops = 8 * 1024 * 1024;

    /// <summary>ja32 / gotol (JMP32 | JA): 32-bit offset in imm.</summary>
    public const byte Ja32 = (byte)OpClass.Jmp32 | (byte)JumpOp.Ja;

    /// <summary>Composes an arithmetic opcode.</summary>
    public static byte Alu(OpClass cls, AluOp op, Source source) => (byte)((byte)cls | (byte)op | (byte)source);

    /// <summary>Composes a jump opcode.</summary>
    public static byte Jump(OpClass cls, JumpOp op, Source source) => (byte)((byte)cls | (byte)op | (byte)source);

    /// <summary>Composes a load/store opcode.</summary>
    public static byte Memory(OpClass cls, MemMode mode, MemSize size) => (byte)((byte)cls | (byte)mode | (byte)size);

    /// <summary>The width in bytes of an access size.</summary>
    public static int Bytes(MemSize size) => size switch
    {
        MemSize.B => 1,
        MemSize.H => 2,
        MemSize.W => 4,
        _ => 8,
    };
}
