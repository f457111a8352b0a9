namespace Bpf;

/// <summary>
/// Validates a program and translates it once into <see cref="DecodedOp"/>s. Everything that can be decided
/// without running (variants, constant divisors, immediates' extension, jump targets) is decided here.
/// </summary>
internal static class ProgramCompiler
{
    public static DecodedOp[] Compile(ReadOnlySpan<Instruction> slots, Helper?[] helpers, LoadImm64Resolver? resolver)
    {
        if (slots.Length == 0)
        {
            throw new ProgramLoadException(0, "insn 0: the program is empty");
        }
        if (InstructionDecoder.Validate(slots) is { } error)
        {
            throw new ProgramLoadException(error.Index, error.Message, error);
        }

        var n = slots.Length;
        var secondSlot = new bool[n];
        for (var i = 0; i < n; i++)
        {
            if (slots[i].IsWide)
            {
                secondSlot[i + 1] = true; // Validate guarantees the second slot exists
                i++;
            }
        }

        // One extra slot past the end: running into it is a fault, not a host crash.
        var ops = new DecodedOp[n + 1];
        ops[n] = new DecodedOp(VmOp.FellOffEnd, 0, 0, 0, 0);
        for (var i = 0; i < n; i++)
        {
            if (secondSlot[i])
            {
                ops[i] = new DecodedOp(VmOp.WideSecondSlot, 0, 0, 0, 0);
                continue;
            }
            var insn = slots[i];
            InstructionSet.TryClassify(insn, out var form, out _, out _);
            ops[i] = Translate(insn, form, i, n, secondSlot, helpers, resolver, i + 1 < n ? slots[i + 1] : default);
        }
        Fuse(ops, n);
        return ops;
    }

    /// <summary>
    /// Compare-and-branch superinstructions: "dst += k" or "dst -= k" followed by a 64-bit conditional jump on dst
    /// becomes one operation in the first slot (<see cref="VmOp.AddJeq64Imm"/>..). The jump keeps its own slot, so
    /// jumps into it and the per-instruction budget mode still find it; the fused operation steps onto it before
    /// branching, so both count as executed.
    /// </summary>
    private static void Fuse(DecodedOp[] ops, int n)
    {
        for (var i = 0; i + 1 < n; i++)
        {
            ref var alu = ref ops[i];
            var jump = ops[i + 1];
            if (alu.Code is not (VmOp.Add64Imm or VmOp.Sub64Imm) || jump.Dst != alu.Dst) continue;
            var fused = jump.Code switch
            {
                >= VmOp.Jeq64Imm and <= VmOp.Jge64Reg => VmOp.AddJeq64Imm + (jump.Code - VmOp.Jeq64Imm),
                >= VmOp.Jne64Imm and <= VmOp.Jsle64Reg => VmOp.AddJne64Imm + (jump.Code - VmOp.Jne64Imm),
                _ => VmOp.Nop,
            };
            if (fused == VmOp.Nop) continue;
            alu = new DecodedOp(fused, alu.Dst, 0, 0, alu.Code == VmOp.Sub64Imm ? 0 - alu.Imm : alu.Imm);
        }
    }

    private static DecodedOp Translate(Instruction insn, InstructionForm form, int index, int n, bool[] secondSlot,
        Helper?[] helpers, LoadImm64Resolver? resolver, Instruction next)
    {
        int dst = insn.DstRaw, src = insn.SrcRaw;
        var imm = insn.Imm;
        ulong sx = (ulong)(long)imm; // imm sign-extended to 64 bits
        ulong zx = (uint)imm;        // imm as 32 bits

        switch (form.Shape)
        {
            case OperandShape.AluImm:
            case OperandShape.AluReg:
            case OperandShape.Negate:
            case OperandShape.Endian:
                RejectFramePointerWrite(dst, index);
                return form.Shape == OperandShape.Endian
                    ? Endian(form, dst, imm)
                    : Alu(insn, dst, src, sx, zx);

            case OperandShape.Jump:
                return new DecodedOp(VmOp.Ja, 0, 0, Target(index, insn.Offset, n, secondSlot), 0);
            case OperandShape.JumpLong:
                return new DecodedOp(VmOp.Ja, 0, 0, Target(index, imm, n, secondSlot), 0);
            case OperandShape.MayGoto:
                return new DecodedOp(VmOp.MayGoto, 0, 0, Target(index, insn.Offset, n, secondSlot), 0);
            case OperandShape.JumpImm:
            case OperandShape.JumpReg:
                return new DecodedOp(CondJump(insn), dst, src, Target(index, insn.Offset, n, secondSlot),
                    insn.Class == OpClass.Jmp32 ? zx : sx);

            case OperandShape.Call:
                switch ((CallKind)src)
                {
                    case CallKind.Local:
                        return new DecodedOp(VmOp.CallLocal, 0, 0, Target(index, imm, n, secondSlot), 0);
                    case CallKind.Kfunc:
                        throw new NotSupportedException(
                            $"insn {index}: kfunc calls (call with src=2, BTF id {imm}) are not supported by the interpreter");
                    default:
                        var known = (uint)imm < (uint)helpers.Length && helpers[imm] is not null;
                        return new DecodedOp(known ? VmOp.CallHelper : VmOp.CallUnknown, 0, 0, 0, zx);
                }
            case OperandShape.CallReg:
                // LLVM puts the register in dst; the older form leaves dst 0 and puts it in imm.
                return new DecodedOp(VmOp.CallX, dst != 0 ? dst : imm, 0, 0, 0);
            case OperandShape.Exit:
                return new DecodedOp(VmOp.Exit, 0, 0, 0, 0);

            case OperandShape.LoadImm64:
            {
                RejectFramePointerWrite(dst, index);
                ulong value;
                if (src == (int)PseudoSource.None)
                {
                    value = (uint)imm | ((ulong)(uint)next.Imm << 32);
                }
                else if (resolver is not null)
                {
                    value = resolver(new PseudoLoad(index, (PseudoSource)src, imm, next.Imm));
                }
                else
                {
                    throw new NotSupportedException(
                        $"insn {index}: lddw with pseudo source {(PseudoSource)src} ({src}) needs a relocation resolver " +
                        "(InterpreterOptions.LoadImm64Resolver); the interpreter alone only runs plain 64-bit constants");
                }
                return new DecodedOp(VmOp.LdDw, dst, 0, 0, value);
            }
            case OperandShape.LoadAbs:
                return new DecodedOp(insn.Size switch { MemSize.B => VmOp.LdAbsB, MemSize.H => VmOp.LdAbsH, _ => VmOp.LdAbsW }, 0, 0, 0, sx);
            case OperandShape.LoadInd:
                return new DecodedOp(insn.Size switch { MemSize.B => VmOp.LdIndB, MemSize.H => VmOp.LdIndH, _ => VmOp.LdIndW }, 0, src, 0, sx);
            case OperandShape.Load:
            case OperandShape.LoadAcquire:
            {
                // One thread runs a program: acquire ordering adds nothing to a plain load (zero-extending).
                RejectFramePointerWrite(dst, index);
                var signed = insn.Mode == MemMode.MemSx;
                var op = insn.Size switch
                {
                    MemSize.B => signed ? VmOp.LdxSB : VmOp.LdxB,
                    MemSize.H => signed ? VmOp.LdxSH : VmOp.LdxH,
                    MemSize.W => signed ? VmOp.LdxSW : VmOp.LdxW,
                    _ => VmOp.LdxDW,
                };
                return new DecodedOp(op, dst, src, insn.Offset, 0);
            }
            case OperandShape.StoreImm:
                return new DecodedOp(insn.Size switch { MemSize.B => VmOp.StB, MemSize.H => VmOp.StH, MemSize.W => VmOp.StW, _ => VmOp.StDW },
                    dst, 0, insn.Offset, sx);
            case OperandShape.StoreReg:
            case OperandShape.StoreRelease:
                return new DecodedOp(insn.Size switch { MemSize.B => VmOp.StxB, MemSize.H => VmOp.StxH, MemSize.W => VmOp.StxW, _ => VmOp.StxDW },
                    dst, src, insn.Offset, 0);
            case OperandShape.Atomic:
            {
                var atomic = (AtomicOp)imm;
                // The fetch forms and xchg write the old value into src.
                if (atomic is AtomicOp.FetchAdd or AtomicOp.FetchOr or AtomicOp.FetchAnd or AtomicOp.FetchXor or AtomicOp.Xchg)
                {
                    RejectFramePointerWrite(src, index);
                }
                var w = insn.Size == MemSize.W;
                var op = atomic switch
                {
                    AtomicOp.Add => w ? VmOp.AtomicAddW : VmOp.AtomicAddDW,
                    AtomicOp.Or => w ? VmOp.AtomicOrW : VmOp.AtomicOrDW,
                    AtomicOp.And => w ? VmOp.AtomicAndW : VmOp.AtomicAndDW,
                    AtomicOp.Xor => w ? VmOp.AtomicXorW : VmOp.AtomicXorDW,
                    AtomicOp.FetchAdd => w ? VmOp.AtomicFetchAddW : VmOp.AtomicFetchAddDW,
                    AtomicOp.FetchOr => w ? VmOp.AtomicFetchOrW : VmOp.AtomicFetchOrDW,
                    AtomicOp.FetchAnd => w ? VmOp.AtomicFetchAndW : VmOp.AtomicFetchAndDW,
                    AtomicOp.FetchXor => w ? VmOp.AtomicFetchXorW : VmOp.AtomicFetchXorDW,
                    AtomicOp.Xchg => w ? VmOp.AtomicXchgW : VmOp.AtomicXchgDW,
                    _ => w ? VmOp.AtomicCmpXchgW : VmOp.AtomicCmpXchgDW,
                };
                return new DecodedOp(op, dst, src, insn.Offset, 0);
            }
            default:
                throw new InvalidOperationException($"insn {index}: unhandled operand shape {form.Shape}");
        }
    }

    private static void RejectFramePointerWrite(int register, int index)
    {
        if (register == (int)Register.R10)
        {
            throw new ProgramLoadException(index, $"insn {index}: writes the read-only frame pointer r10");
        }
    }

    private static int Target(int index, long relative, int n, bool[] secondSlot)
    {
        var target = index + 1 + relative;
        if (target < 0 || target >= n)
        {
            throw new ProgramLoadException(index, $"insn {index}: jump or call target {target} is outside the program (slots 0..{n - 1})");
        }
        if (secondSlot[target])
        {
            throw new ProgramLoadException(index, $"insn {index}: jump or call target {target} is the second slot of the lddw at insn {target - 1}");
        }
        return (int)target;
    }

    private static DecodedOp Endian(InstructionForm form, int dst, int bits)
    {
        var cls = (OpClass)(form.Opcode & 0x07);
        var toBig = (Source)(form.Opcode & 0x08) == Source.Reg;
        // bswap (ALU64 class) always swaps; le/be swap only when the host order differs from the target order.
        var swap = cls == OpClass.Alu64 || (toBig == BitConverter.IsLittleEndian);
        var op = bits switch
        {
            16 => swap ? VmOp.Swap16 : VmOp.Zext16,
            32 => swap ? VmOp.Swap32 : VmOp.Zext32,
            _ => swap ? VmOp.Swap64 : VmOp.Nop,
        };
        return new DecodedOp(op, dst, 0, 0, 0);
    }

    private static DecodedOp Alu(Instruction insn, int dst, int src, ulong sx, ulong zx)
    {
        var is64 = insn.Class == OpClass.Alu64;
        var reg = insn.Source == Source.Reg;
        var signed = insn.Offset == 1; // sdiv/smod variant selector
        var k = is64 ? sx : zx;       // the immediate as the operation sees it
        VmOp Pick(VmOp imm64, VmOp reg64, VmOp imm32, VmOp reg32) => is64 ? (reg ? reg64 : imm64) : (reg ? reg32 : imm32);
        DecodedOp Op(VmOp op, ulong value = 0) => new(op, dst, src, 0, value);

        switch (insn.AluOp)
        {
            case AluOp.Add: return Op(Pick(VmOp.Add64Imm, VmOp.Add64Reg, VmOp.Add32Imm, VmOp.Add32Reg), k);
            case AluOp.Sub: return Op(Pick(VmOp.Sub64Imm, VmOp.Sub64Reg, VmOp.Sub32Imm, VmOp.Sub32Reg), k);
            case AluOp.Mul: return Op(Pick(VmOp.Mul64Imm, VmOp.Mul64Reg, VmOp.Mul32Imm, VmOp.Mul32Reg), k);
            case AluOp.Or: return Op(Pick(VmOp.Or64Imm, VmOp.Or64Reg, VmOp.Or32Imm, VmOp.Or32Reg), k);
            case AluOp.And: return Op(Pick(VmOp.And64Imm, VmOp.And64Reg, VmOp.And32Imm, VmOp.And32Reg), k);
            case AluOp.Xor: return Op(Pick(VmOp.Xor64Imm, VmOp.Xor64Reg, VmOp.Xor32Imm, VmOp.Xor32Reg), k);
            case AluOp.Lsh: return Op(Pick(VmOp.Lsh64Imm, VmOp.Lsh64Reg, VmOp.Lsh32Imm, VmOp.Lsh32Reg), k & (is64 ? 63UL : 31UL));
            case AluOp.Rsh: return Op(Pick(VmOp.Rsh64Imm, VmOp.Rsh64Reg, VmOp.Rsh32Imm, VmOp.Rsh32Reg), k & (is64 ? 63UL : 31UL));
            case AluOp.Arsh: return Op(Pick(VmOp.Arsh64Imm, VmOp.Arsh64Reg, VmOp.Arsh32Imm, VmOp.Arsh32Reg), k & (is64 ? 63UL : 31UL));
            case AluOp.Neg: return Op(is64 ? VmOp.Neg64 : VmOp.Neg32);
            case AluOp.Mov:
                if (!reg) return Op(VmOp.MovImm, k);
                return insn.Offset switch
                {
                    8 => Op(is64 ? VmOp.MovSx8To64 : VmOp.MovSx8To32),
                    16 => Op(is64 ? VmOp.MovSx16To64 : VmOp.MovSx16To32),
                    32 => Op(VmOp.MovSx32To64),
                    _ => Op(is64 ? VmOp.Mov64Reg : VmOp.Mov32Reg),
                };
            case AluOp.Div:
                if (reg) return Op(signed ? (is64 ? VmOp.SDiv64Reg : VmOp.SDiv32Reg) : (is64 ? VmOp.Div64Reg : VmOp.Div32Reg));
                // Constant divisors: division by 0 yields 0, signed division by -1 is negation (and must not
                // reach the host's idiv, which traps on INT_MIN / -1).
                if (k == 0) return Op(VmOp.MovImm, 0);
                if (signed && insn.Imm == -1) return Op(is64 ? VmOp.Neg64 : VmOp.Neg32);
                return Op(signed ? (is64 ? VmOp.SDiv64Imm : VmOp.SDiv32Imm) : (is64 ? VmOp.Div64Imm : VmOp.Div32Imm), k);
            case AluOp.Mod:
                if (reg) return Op(signed ? (is64 ? VmOp.SMod64Reg : VmOp.SMod32Reg) : (is64 ? VmOp.Mod64Reg : VmOp.Mod32Reg));
                // Modulo by 0 leaves dst unchanged (a 32-bit operation still zero-extends it); x % -1 is 0.
                if (k == 0) return Op(is64 ? VmOp.Nop : VmOp.Zext32);
                if (signed && insn.Imm == -1) return Op(VmOp.MovImm, 0);
                return Op(signed ? (is64 ? VmOp.SMod64Imm : VmOp.SMod32Imm) : (is64 ? VmOp.Mod64Imm : VmOp.Mod32Imm), k);
            default:
                throw new InvalidOperationException($"unhandled ALU operation {insn.AluOp}");
        }
    }

    private static VmOp CondJump(Instruction insn)
    {
        var reg = insn.Source == Source.Reg ? 1 : 0;
        var baseOp = insn.JumpOp switch
        {
            JumpOp.Jeq => VmOp.Jeq64Imm,
            JumpOp.Jgt => VmOp.Jgt64Imm,
            JumpOp.Jge => VmOp.Jge64Imm,
            JumpOp.Jset => VmOp.Jset64Imm,
            JumpOp.Jne => VmOp.Jne64Imm,
            JumpOp.Jsgt => VmOp.Jsgt64Imm,
            JumpOp.Jsge => VmOp.Jsge64Imm,
            JumpOp.Jlt => VmOp.Jlt64Imm,
            JumpOp.Jle => VmOp.Jle64Imm,
            JumpOp.Jslt => VmOp.Jslt64Imm,
            JumpOp.Jsle => VmOp.Jsle64Imm,
            _ => throw new InvalidOperationException($"unhandled jump {insn.JumpOp}"),
        };
        var offset32 = insn.Class == OpClass.Jmp32 ? VmOp.Jeq32Imm - VmOp.Jeq64Imm : 0;
        return (VmOp)((int)baseOp + offset32 + reg);
    }
}
