namespace Bpf;

/// <summary>The operand layout of an instruction form: which fields carry meaning and how it prints.</summary>
public enum OperandShape : byte
{
    /// <summary><c>op dst, imm</c> (ALU with immediate source).</summary>
    AluImm,
    /// <summary><c>op dst, src</c> (ALU with register source).</summary>
    AluReg,
    /// <summary><c>neg dst</c>.</summary>
    Negate,
    /// <summary><c>be16 dst</c> / <c>le32 dst</c> / <c>bswap64 dst</c>: the width is in imm.</summary>
    Endian,
    /// <summary><c>ja +off</c>.</summary>
    Jump,
    /// <summary><c>ja32 +imm</c> (gotol): the offset is the 32-bit immediate.</summary>
    JumpLong,
    /// <summary><c>jxx dst, imm, +off</c>.</summary>
    JumpImm,
    /// <summary><c>jxx dst, src, +off</c>.</summary>
    JumpReg,
    /// <summary><c>call imm</c>: helper, local function (src=1) or kfunc (src=2).</summary>
    Call,
    /// <summary><c>callx dst</c>: call the helper whose id is in a register.</summary>
    CallReg,
    /// <summary><c>exit</c>.</summary>
    Exit,
    /// <summary><c>lddw dst, imm64</c>: two slots; src selects a <see cref="PseudoSource"/>.</summary>
    LoadImm64,
    /// <summary>Legacy packet load at absolute offset imm into r0.</summary>
    LoadAbs,
    /// <summary>Legacy packet load at offset src + imm into r0.</summary>
    LoadInd,
    /// <summary><c>ldx dst, [src+off]</c> (plain or sign-extending).</summary>
    Load,
    /// <summary><c>st [dst+off], imm</c>.</summary>
    StoreImm,
    /// <summary><c>stx [dst+off], src</c>.</summary>
    StoreReg,
    /// <summary><c>lock op [dst+off], src</c>: the operation is in imm.</summary>
    Atomic,
    /// <summary><c>may_goto +off</c>: jump once the loop budget is spent (JCOND, src 0).</summary>
    MayGoto,
    /// <summary><c>ldacq dst, [src+off]</c>: a load with acquire ordering (atomic, imm 0x100).</summary>
    LoadAcquire,
    /// <summary><c>strel [dst+off], src</c>: a store with release ordering (atomic, imm 0x110).</summary>
    StoreRelease,
}

/// <summary>
/// One valid instruction form: an opcode byte, optionally narrowed by a fixed offset or immediate that
/// selects a variant (sdiv via offset 1, movsx via offset 8/16/32, the endian width, the atomic operation).
/// <see cref="InstructionSet"/> holds the table of all forms; it is the single source of truth for opcodes,
/// mnemonics and the fields each form must leave zero.
/// </summary>
public sealed class InstructionForm
{
    internal InstructionForm(byte opcode, OperandShape shape, string mnemonic, string llvmOperator,
        short? offsetKey = null, int? immKey = null)
    {
        Opcode = opcode;
        Shape = shape;
        Mnemonic = mnemonic;
        LlvmOperator = llvmOperator;
        OffsetKey = offsetKey;
        ImmKey = immKey;
    }

    /// <summary>The opcode byte.</summary>
    public byte Opcode { get; }

    /// <summary>The operand layout.</summary>
    public OperandShape Shape { get; }

    /// <summary>The mnemonic in the conformance dialect (<c>add32</c>, <c>sdiv</c>, <c>movsx832</c>, <c>lock fetch add</c>).</summary>
    public string Mnemonic { get; }

    /// <summary>The operator or function name in the LLVM/kernel dialect (<c>+=</c>, <c>s/=</c>, <c>s&gt;=</c>,
    /// <c>atomic_fetch_add</c>, <c>be16</c>); empty where the form prints without one.</summary>
    public string LlvmOperator { get; }

    /// <summary>The offset this form requires (variant selector), or null when the offset is an operand or must be 0.</summary>
    public short? OffsetKey { get; }

    /// <summary>The immediate this form requires (variant selector), or null.</summary>
    public int? ImmKey { get; }

    /// <summary>The instruction class.</summary>
    public OpClass Class => (OpClass)(Opcode & 0x07);

    /// <summary>True for 32-bit ALU and JMP32 forms and 32-bit atomics.</summary>
    public bool Is32Bit => Class is OpClass.Alu or OpClass.Jmp32
        || (Shape == OperandShape.Atomic && (MemSize)(Opcode & 0x18) == MemSize.W)
        || (Shape is OperandShape.LoadAcquire or OperandShape.StoreRelease && (MemSize)(Opcode & 0x18) != MemSize.DW);

    /// <summary>The number of slots the instruction occupies (2 for <c>lddw</c>).</summary>
    public int Slots => Shape == OperandShape.LoadImm64 ? 2 : 1;

    /// <inheritdoc/>
    public override string ToString() => $"{Mnemonic} (0x{Opcode:x2})";
}
