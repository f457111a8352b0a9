using System.Runtime.InteropServices;

namespace Bpf;

/// <summary>
/// One 8-byte eBPF instruction slot, laid out exactly as on the wire (little-endian host order):
/// <code>
///  byte 0    byte 1          bytes 2-3        bytes 4-7
/// +--------+-------+-------+----------------+--------------------------------+
/// | opcode | src:4 | dst:4 | offset (s16)   | immediate (s32)                |
/// +--------+-------+-------+----------------+--------------------------------+
/// </code>
/// The 64-bit wide immediate load (<c>lddw</c>) is one logical instruction that takes two slots: the second
/// slot has opcode 0 and carries the upper 32 bits of the constant in its immediate. Programs are sequences of
/// slots, and jump offsets count slots.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = 8)]
public readonly partial struct Instruction : IEquatable<Instruction>
{
    private readonly byte _opcode;
    private readonly byte _regs;
    private readonly short _offset;
    private readonly int _imm;

    /// <summary>Creates an instruction slot from its raw fields.</summary>
    /// <param name="opcode">The opcode byte.</param>
    /// <param name="dst">Destination register field (0-15; values over 10 are invalid but representable).</param>
    /// <param name="src">Source register field (0-15).</param>
    /// <param name="offset">Signed 16-bit offset.</param>
    /// <param name="imm">Signed 32-bit immediate.</param>
    public Instruction(byte opcode, byte dst, byte src, short offset, int imm)
    {
        _opcode = opcode;
        _regs = (byte)((dst & 0x0f) | ((src & 0x0f) << 4));
        _offset = offset;
        _imm = imm;
    }

    /// <summary>Creates an instruction slot from its raw fields with typed registers.</summary>
    public Instruction(byte opcode, Register dst, Register src, short offset, int imm)
        : this(opcode, (byte)dst, (byte)src, offset, imm)
    {
    }

    /// <summary>The opcode byte.</summary>
    public byte Opcode => _opcode;

    /// <summary>The raw destination register field (0-15).</summary>
    public byte DstRaw => (byte)(_regs & 0x0f);

    /// <summary>The raw source register field (0-15).</summary>
    public byte SrcRaw => (byte)(_regs >> 4);

    /// <summary>The destination register.</summary>
    public Register Dst => (Register)DstRaw;

    /// <summary>The source register.</summary>
    public Register Src => (Register)SrcRaw;

    /// <summary>The signed 16-bit offset.</summary>
    public short Offset => _offset;

    /// <summary>The signed 32-bit immediate.</summary>
    public int Imm => _imm;

    /// <summary>The instruction class (low three bits of the opcode).</summary>
    public OpClass Class => (OpClass)(_opcode & 0x07);

    /// <summary>For ALU and ALU64: the operation. Meaningless for other classes.</summary>
    public AluOp AluOp => (AluOp)(_opcode & 0xf0);

    /// <summary>For JMP and JMP32: the operation. Meaningless for other classes.</summary>
    public JumpOp JumpOp => (JumpOp)(_opcode & 0xf0);

    /// <summary>For ALU and JMP classes: whether the source is the immediate or the source register.</summary>
    public Source Source => (Source)(_opcode & 0x08);

    /// <summary>For load/store classes: the access size.</summary>
    public MemSize Size => (MemSize)(_opcode & 0x18);

    /// <summary>For load/store classes: the addressing mode.</summary>
    public MemMode Mode => (MemMode)(_opcode & 0xe0);

    /// <summary>True for the first slot of a 64-bit wide immediate load (opcode 0x18), which takes two slots.</summary>
    public bool IsWide => _opcode == Opcodes.LdDw;

    /// <summary>The slot as a 64-bit little-endian word (as the conformance suite's <c>-- raw</c> prints it).</summary>
    public ulong ToRaw() =>
        _opcode | ((ulong)_regs << 8) | ((ulong)(ushort)_offset << 16) | ((ulong)(uint)_imm << 32);

    /// <summary>Creates a slot from a 64-bit little-endian word.</summary>
    public static Instruction FromRaw(ulong raw) =>
        new((byte)raw, (byte)((raw >> 8) & 0x0f), (byte)((raw >> 12) & 0x0f), (short)(ushort)(raw >> 16), (int)(uint)(raw >> 32));

    /// <summary>Returns a copy with a different offset (used to patch jumps).</summary>
    public Instruction WithOffset(short offset) => new(_opcode, DstRaw, SrcRaw, offset, _imm);

    /// <summary>Returns a copy with a different immediate (used to patch calls and relocations).</summary>
    public Instruction WithImm(int imm) => new(_opcode, DstRaw, SrcRaw, _offset, imm);

    /// <summary>Returns a copy with a different source register field.</summary>
    public Instruction WithSrc(byte src) => new(_opcode, DstRaw, src, _offset, _imm);

    /// <inheritdoc/>
    public bool Equals(Instruction other) => ToRaw() == other.ToRaw();

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Instruction other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ToRaw().GetHashCode();

    /// <summary>Equality of all fields.</summary>
    public static bool operator ==(Instruction left, Instruction right) => left.Equals(right);

    /// <summary>Inequality of any field.</summary>
    public static bool operator !=(Instruction left, Instruction right) => !left.Equals(right);

    /// <summary>Raw fields, for debugging; use the disassembler for text.</summary>
    public override string ToString() =>
        $"{{op=0x{_opcode:x2} dst={DstRaw} src={SrcRaw} off={_offset} imm={_imm}}}";
}
