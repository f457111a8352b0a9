using System.Runtime.InteropServices;

namespace Bpf;

/// <summary>
/// The interpreter's internal operation codes: one per distinct behaviour, so the run loop never re-examines
/// offsets or immediates to pick a variant (sdiv vs div, movsx widths, endian widths, atomic operations and
/// constant divisors are all resolved at load time). Dense from 0 so the run loop's switch is a jump table.
/// </summary>
internal enum VmOp : byte
{
    Nop,
    MovImm,          // dst = Imm (mov/mov32 imm, folded constant results)
    LdDw,            // dst = Imm; skip the second slot
    // 64-bit ALU
    Add64Imm, Add64Reg, Sub64Imm, Sub64Reg, Mul64Imm, Mul64Reg,
    Div64Imm, Div64Reg, SDiv64Imm, SDiv64Reg, Mod64Imm, Mod64Reg, SMod64Imm, SMod64Reg,
    Or64Imm, Or64Reg, And64Imm, And64Reg, Xor64Imm, Xor64Reg,
    Lsh64Imm, Lsh64Reg, Rsh64Imm, Rsh64Reg, Arsh64Imm, Arsh64Reg,
    Neg64, Mov64Reg, MovSx8To64, MovSx16To64, MovSx32To64,
    // 32-bit ALU (results zero-extended)
    Add32Imm, Add32Reg, Sub32Imm, Sub32Reg, Mul32Imm, Mul32Reg,
    Div32Imm, Div32Reg, SDiv32Imm, SDiv32Reg, Mod32Imm, Mod32Reg, SMod32Imm, SMod32Reg,
    Or32Imm, Or32Reg, And32Imm, And32Reg, Xor32Imm, Xor32Reg,
    Lsh32Imm, Lsh32Reg, Rsh32Imm, Rsh32Reg, Arsh32Imm, Arsh32Reg,
    Neg32, Mov32Reg, MovSx8To32, MovSx16To32,
    // byte order
    Zext16, Zext32, Swap16, Swap32, Swap64,
    // jumps (Off = absolute target slot)
    Ja,
    /// <summary>may_goto: jump once the run's loop budget (<see cref="Opcodes.MaxLoops"/>) is spent, else spend one.</summary>
    MayGoto,
    Jeq64Imm, Jeq64Reg, Jgt64Imm, Jgt64Reg, Jge64Imm, Jge64Reg, Jset64Imm, Jset64Reg, Jne64Imm, Jne64Reg,
    Jsgt64Imm, Jsgt64Reg, Jsge64Imm, Jsge64Reg, Jlt64Imm, Jlt64Reg, Jle64Imm, Jle64Reg,
    Jslt64Imm, Jslt64Reg, Jsle64Imm, Jsle64Reg,
    Jeq32Imm, Jeq32Reg, Jgt32Imm, Jgt32Reg, Jge32Imm, Jge32Reg, Jset32Imm, Jset32Reg, Jne32Imm, Jne32Reg,
    Jsgt32Imm, Jsgt32Reg, Jsge32Imm, Jsge32Reg, Jlt32Imm, Jlt32Reg, Jle32Imm, Jle32Reg,
    Jslt32Imm, Jslt32Reg, Jsle32Imm, Jsle32Reg,
    // calls
    CallHelper,      // Imm = helper id (known at load time)
    CallUnknown,     // Imm = helper id (not registered): faults when reached
    CallX,           // Dst = register holding the helper id
    CallLocal,       // Off = target slot
    Exit,
    // memory (Off = signed offset)
    LdxB, LdxH, LdxW, LdxDW, LdxSB, LdxSH, LdxSW,
    StB, StH, StW, StDW,           // store Imm
    StxB, StxH, StxW, StxDW,
    LdAbsB, LdAbsH, LdAbsW, LdIndB, LdIndH, LdIndW, // legacy packet loads (Imm = offset)
    // atomics (W = 32-bit, DW = 64-bit)
    AtomicAddW, AtomicOrW, AtomicAndW, AtomicXorW,
    AtomicFetchAddW, AtomicFetchOrW, AtomicFetchAndW, AtomicFetchXorW, AtomicXchgW, AtomicCmpXchgW,
    AtomicAddDW, AtomicOrDW, AtomicAndDW, AtomicXorDW,
    AtomicFetchAddDW, AtomicFetchOrDW, AtomicFetchAndDW, AtomicFetchXorDW, AtomicXchgDW, AtomicCmpXchgDW,
    // superinstructions: "dst += Imm" (add or sub of a constant) fused with the 64-bit conditional jump on dst in the
    // next slot, which stays in place (as a jump target, and for the per-instruction budget mode). Same order as the
    // jumps above (without jset), so the compiler maps a jump to its fused form by offset.
    AddJeq64Imm, AddJeq64Reg, AddJgt64Imm, AddJgt64Reg, AddJge64Imm, AddJge64Reg,
    AddJne64Imm, AddJne64Reg, AddJsgt64Imm, AddJsgt64Reg, AddJsge64Imm, AddJsge64Reg, AddJlt64Imm, AddJlt64Reg, AddJle64Imm, AddJle64Reg, AddJslt64Imm, AddJslt64Reg, AddJsle64Imm, AddJsle64Reg,
    // never reached in a valid run: the second slot of an lddw, and the slot past the end
    WideSecondSlot,
    FellOffEnd,
}

/// <summary>One pre-decoded instruction: 16 bytes, one per program slot (the second slot of an lddw holds a
/// never-executed placeholder so slot indices and jump targets stay unchanged).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DecodedOp
{
    public VmOp Code;
    public byte Dst;
    public byte Src;
    private readonly byte _pad;
    /// <summary>Memory offset, or the absolute target slot of a jump or local call.</summary>
    public int Off;
    /// <summary>The immediate, already extended to what the operation consumes.</summary>
    public ulong Imm;

    public DecodedOp(VmOp code, int dst, int src, int off, ulong imm)
    {
        Code = code;
        Dst = (byte)dst;
        Src = (byte)src;
        _pad = 0;
        Off = off;
        Imm = imm;
    }
}
