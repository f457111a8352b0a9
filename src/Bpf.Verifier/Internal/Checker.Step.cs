namespace Bpf.Verifier.Internal;

internal sealed partial class Checker
{
    private Frame F => _cur.Cur;

    /// <summary>Simulates the instruction at <paramref name="pc"/>; true when the path ends.</summary>
    private bool Step(int pc)
    {
        var insn = _p[pc];
        if (!InstructionSet.TryClassify(insn, out var form, out var kind, out _))
        {
            throw EncodingError(insn, kind);
        }
        switch (form.Shape)
        {
            case OperandShape.AluImm:
            case OperandShape.AluReg:
            case OperandShape.Negate:
            case OperandShape.Endian:
                DoAlu(insn);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.Jump:
                _jumps++;
                _cur.Insn = pc + insn.Offset + 1;
                return false;
            case OperandShape.JumpLong:
                _jumps++;
                _cur.Insn = pc + insn.Imm + 1;
                return false;
            case OperandShape.JumpImm:
            case OperandShape.JumpReg:
                _jumps++;
                return DoCondJump(pc, insn);
            case OperandShape.MayGoto:
                _jumps++;
                DoMayGoto(pc, insn);
                return false;
            case OperandShape.Call:
                _jumps++;
                if (insn.SrcRaw == (byte)CallKind.Local)
                {
                    DoLocalCall(pc, insn);
                    return false;
                }
                if (insn.SrcRaw == (byte)CallKind.Kfunc) DoKfuncCall(pc, insn);
                else DoHelperCall(pc, insn);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.Exit:
                _jumps++;
                return DoExit();
            case OperandShape.LoadImm64:
                DoLdImm64(pc, insn);
                _cur.Insn = pc + 2;
                return false;
            case OperandShape.LoadAbs:
            case OperandShape.LoadInd:
                DoLdAbs(insn, form.Shape == OperandShape.LoadInd);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.Load:
                DoLoad(insn);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.StoreImm:
            case OperandShape.StoreReg:
                DoStore(insn, form.Shape == OperandShape.StoreImm);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.Atomic:
                DoAtomic(insn);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.LoadAcquire:
                DoLoadAcquire(insn);
                _cur.Insn = pc + 1;
                return false;
            case OperandShape.StoreRelease:
                DoStoreRelease(insn);
                _cur.Insn = pc + 1;
                return false;
            default:
                throw Fail(VerifierErrorCode.UnknownOpcode, $"unknown opcode {insn.Opcode:x2}");
        }
    }

    /// <summary>
    /// may_goto (the kernel's JCOND): the current path takes the jump (the loop budget is spent) and the
    /// fall-through is queued one may_goto level deeper. Scalars that changed since the previous visit of this
    /// instruction on the same path are widened in the queued state (widen_imprecise_scalars), so a loop
    /// reaches a state within the earlier one and is pruned there (see IsStateVisited).
    /// </summary>
    private void DoMayGoto(int pc, Instruction insn)
    {
        var target = pc + insn.Offset + 1;
        var body = _cur.Clone();
        body.Insn = pc + 1;
        body.MayGotoDepth++;
        if (PreviousOnPath(pc) is { } prev) Widen(prev.State, body, _need[pc]);
        PushBranch(body);
        _cur.Path = new PathNode(pc, target, _cur.Path, (_cur.Path?.Length ?? 0) + 1);
        _cur.Insn = target;
    }

    /// <summary>The latest state stored at <paramref name="pc"/> that is still on the current path (its
    /// exploration not finished), other than the one the current state just stored.</summary>
    private Checkpoint? PreviousOnPath(int pc)
    {
        if (_explored[pc] is not { } list) return null;
        Checkpoint? best = null;
        foreach (var cp in list)
        {
            if (cp.Branches <= 0 || ReferenceEquals(cp, _cur.Parent) || !SameCallSites(cp.State, _cur)) continue;
            if (best is null || (cp.State.Path?.Length ?? 0) > (best.State.Path?.Length ?? 0)) best = cp;
        }
        return best;
    }

    /// <summary><see cref="WidenChangedScalars"/> keeping the registers whose value matters at the instruction (a
    /// narrower set than a later run with more decided branches keeps: see <see cref="_reliedOnImprecision"/>).</summary>
    private void Widen(VState old, VState cur, ushort keep)
    {
        if (keep != 0x7ff) _reliedOnImprecision = true;
        WidenChangedScalars(old, cur, keep);
    }

    /// <summary>Sets to unknown every scalar register (outside <paramref name="keep"/> in the current frame)
    /// and spilled scalar whose value differs between <paramref name="old"/> and <paramref name="cur"/>.
    /// Losing precision is always sound; it only risks rejecting.</summary>
    private static void WidenChangedScalars(VState old, VState cur, ushort keep)
    {
        for (var fi = 0; fi <= cur.CurFrame && fi <= old.CurFrame; fi++)
        {
            var of = old.Frames[fi];
            // Callers' frames may be shared with other states (copy on write): copy before the first change.
            var cf = cur.Frames[fi];
            for (var r = 0; r < 10; r++)
            {
                if (fi == cur.CurFrame && (keep & (1 << r)) != 0) continue;
                var c = cf.Regs[r];
                if (!c.IsScalar || !of.Regs[r].IsScalar || c.V.SameAs(of.Regs[r].V)) continue;
                cf = cur.Writable(fi);
                cf.Regs[r] = RegState.Unknown;
            }
            for (var slot = 0; slot < Frame.StackSize / 8; slot++)
            {
                if (cf.Bytes[slot * 8] != SlotType.Spill || of.Bytes[slot * 8] != SlotType.Spill) continue;
                var c = cf.Spill(slot);
                var o = of.Spill(slot);
                if (!c.IsScalar || !o.IsScalar || c.V.SameAs(o.V)) continue;
                cf = cur.Writable(fi);
                cf.Spill(slot) = RegState.Unknown;
            }
        }
    }

    private VerifyFailure EncodingError(Instruction insn, DecodeErrorKind kind)
    {
        if (kind == DecodeErrorKind.InvalidRegister)
        {
            var r = insn.DstRaw > 10 ? insn.DstRaw : insn.SrcRaw;
            return Fail(VerifierErrorCode.InvalidRegister, $"R{r} is invalid", r);
        }
        string? what = insn.Class switch
        {
            OpClass.Alu or OpClass.Alu64 => insn.AluOp switch
            {
                AluOp.End => "BPF_END",
                AluOp.Neg => "BPF_NEG",
                AluOp.Mov => "BPF_MOV",
                _ => "BPF_ALU",
            },
            OpClass.Jmp or OpClass.Jmp32 => insn.JumpOp switch
            {
                JumpOp.Call => "BPF_CALL",
                JumpOp.Exit => "BPF_EXIT",
                JumpOp.Ja => "BPF_JA",
                JumpOp.Cond => null,
                _ => "BPF_JMP/JMP32",
            },
            OpClass.Ld => insn.IsWide ? "BPF_LD_IMM64" : "BPF_LD_[ABS|IND]",
            OpClass.Ldx => "BPF_LDX",
            OpClass.St => "BPF_ST",
            _ => insn.Mode == MemMode.Atomic ? null : "BPF_STX",
        };
        if (what is not null) return Fail(VerifierErrorCode.ReservedField, $"{what} uses reserved fields");
        if (insn.Class is OpClass.Jmp) return Fail(VerifierErrorCode.ReservedField, $"invalid may_goto imm {insn.Imm}");
        // BPF_ATOMIC: read-modify-write operations exist for 32 and 64 bits only; acquire/release for every size.
        if (insn.Size is MemSize.B or MemSize.H && Enum.IsDefined((AtomicOp)insn.Imm) && (AtomicOp)insn.Imm is not (AtomicOp.LoadAcquire or AtomicOp.StoreRelease))
        {
            return Fail(VerifierErrorCode.ReservedField, "invalid atomic operand size");
        }
        return Fail(VerifierErrorCode.ReservedField, $"BPF_ATOMIC uses invalid atomic opcode {insn.Imm:x2}");
    }

    // ---- registers -----------------------------------------------------------------------------------

    private ref RegState ReadReg(int r)
    {
        if (r > 10) throw Fail(VerifierErrorCode.InvalidRegister, $"R{r} is invalid", r);
        ref var reg = ref F.Regs[r];
        if (reg.Type == RegType.NotInit) throw Fail(VerifierErrorCode.UninitializedRegister, $"R{r} !read_ok", r);
        return ref reg;
    }

    private void CheckWritable(int r)
    {
        if (r > 10) throw Fail(VerifierErrorCode.InvalidRegister, $"R{r} is invalid", r);
        if (r == 10) throw Fail(VerifierErrorCode.InvalidRegister, "frame pointer is read only", r);
    }

    private bool IsLeakyPointer(in RegState reg) => !_allowPtrLeaks && reg.IsPointer;

    // ---- ALU ----------------------------------------------------------------------------------------

    private void DoAlu(Instruction insn)
    {
        var is32 = insn.Class == OpClass.Alu;
        var op = insn.AluOp;
        int d = insn.DstRaw;

        if (op is AluOp.End or AluOp.Neg)
        {
            ref var r = ref ReadReg(d);
            if (IsLeakyPointer(r)) throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic prohibited", d);
            CheckWritable(d);
            // Constants stay constants (the kernel folds them); a negated scalar is 0 - x (6.18 tracks BPF_NEG's range);
            // a byte swap keeps the known bits, swapped (scalar_byte_swap); a pointer loses everything.
            F.Regs[d] = r.IsScalar && r.V.IsConst ? RegState.Known(FoldUnary(insn, r.V.ConstValue))
                : r.IsScalar && op == AluOp.Neg ? RegState.OfScalar(ScalarOps.Alu(AluOp.Sub, is32, Scalar.Const(0), r.V))
                : r.IsScalar ? RegState.OfScalar(ScalarOps.ByteSwap(r.V, insn.Imm, swap: !is32 || insn.Source == Source.Reg))
                : RegState.Unknown;
            return;
        }

        if (op == AluOp.Mov)
        {
            CheckWritable(d);
            if (insn.Source == Source.Imm)
            {
                F.Regs[d] = RegState.Known(is32 ? (uint)insn.Imm : (ulong)(long)insn.Imm);
                return;
            }
            int s = insn.SrcRaw;
            ref var src = ref ReadReg(s);
            if (insn.Offset != 0)
            {
                if (src.IsPointer)
                {
                    if (!_allowPtrLeaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{s} sign-extension part of pointer", s);
                    F.Regs[d] = RegState.Unknown;
                    return;
                }
                var v = src.V.SignExtend(insn.Offset / 8);
                F.Regs[d] = RegState.OfScalar(is32 ? v.Zext32() : v);
                return;
            }
            if (is32)
            {
                if (src.IsPointer)
                {
                    if (!_allowPtrLeaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{s} partial copy of pointer", s);
                    F.Regs[d] = RegState.OfScalar(Scalar.Unknown.Zext32());
                    return;
                }
                F.Regs[d] = RegState.OfScalar(src.V.Zext32());
                return;
            }
            if (src.IsScalar && !src.V.IsConst && src.Id == 0) src.Id = NewId();
            F.Regs[d] = src;
            return;
        }

        // The kernel's order (check_alu_op): the source register, then the destination, then the immediate's checks.
        var srcIsReg = insn.Source == Source.Reg;
        var srcReg = srcIsReg ? ReadReg(insn.SrcRaw) : default;
        ref var dst = ref ReadReg(d);
        if (!srcIsReg)
        {
            if (op is AluOp.Div or AluOp.Mod && insn.Imm == 0) throw Fail(VerifierErrorCode.InvalidImmediate, "div by zero");
            if (op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh && (insn.Imm < 0 || insn.Imm >= (is32 ? 32 : 64)))
            {
                throw Fail(VerifierErrorCode.InvalidImmediate, $"invalid shift {insn.Imm}");
            }
            srcReg = RegState.Known(is32 ? (uint)insn.Imm : (ulong)(long)insn.Imm);
        }
        CheckWritable(d);

        if (dst.IsPointer || srcReg.IsPointer)
        {
            F.Regs[d] = PointerAlu(insn, d, dst, srcReg, is32, op, srcIsReg);
            return;
        }
        var linkId = dst.Id;
        var linkOff = dst.Off;
        F.Regs[d] = RegState.OfScalar(ScalarOps.Alu(op, is32, dst.V, srcReg.V));
        // The kernel's linked registers with an offset: rX += K (64-bit, K a constant in [0, S32_MAX]) keeps rX
        // linked to its copies, K apart, once; a bound learned on one then applies to the others (SetScalar).
        if (op == AluOp.Add && !is32 && _bpfCapable && linkId != 0 && linkOff == 0 && srcReg.V.IsConst && srcReg.V.ConstValue <= int.MaxValue)
        {
            F.Regs[d].Id = linkId;
            F.Regs[d].Off = (int)srcReg.V.ConstValue;
        }
    }

    /// <summary>neg, le/be and bswap of a known value, as the processor computes them (little-endian target).</summary>
    private static ulong FoldUnary(Instruction insn, ulong v)
    {
        var is32 = insn.Class == OpClass.Alu;
        if (insn.AluOp == AluOp.Neg) return is32 ? (uint)(0u - (uint)v) : 0UL - v;
        // BPF_END: ALU with TO_LE truncates, ALU with TO_BE swaps (the target is little-endian), ALU64 always swaps.
        var swap = !is32 || insn.Source == Source.Reg;
        return insn.Imm switch
        {
            16 => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v) : (ushort)v,
            32 => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v) : (uint)v,
            _ => swap ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v) : v,
        };
    }

    private static string AluName(AluOp op) => op switch
    {
        AluOp.Add => "+=", AluOp.Sub => "-=", AluOp.Mul => "*=", AluOp.Div => "/=", AluOp.Or => "|=", AluOp.And => "&=",
        AluOp.Lsh => "<<=", AluOp.Rsh => ">>=", AluOp.Mod => "%=", AluOp.Xor => "^=", AluOp.Arsh => "s>>=", _ => "?",
    };

    private RegState PointerAlu(Instruction insn, int d, RegState dst, RegState src, bool is32, AluOp op, bool srcIsReg)
    {
        if (dst.IsPointer && src.IsPointer)
        {
            if (op == AluOp.Sub && _allowPtrLeaks) return RegState.Unknown;
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer {AluName(op)} pointer prohibited", d);
        }
        var ptrIsDst = dst.IsPointer;
        var ptr = ptrIsDst ? dst : src;
        var off = ptrIsDst ? src : dst;
        if (is32)
        {
            if (op == AluOp.Sub && _allowPtrLeaks) return RegState.Unknown;
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} 32-bit pointer arithmetic prohibited", d);
        }
        if (ptr.IsNullable)
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic on {ptr.TypeName} prohibited, null-check it first", d);
        }
        switch (ptr.Type)
        {
            case RegType.MapPtr:
                if (off.V.IsZero && op == AluOp.Add) return ptr;
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic on map_ptr prohibited", d);
            case RegType.PacketEnd:
            case RegType.Func:
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic on {ptr.TypeName} prohibited", d);
        }
        // The kernel's order (adjust_ptr_min_max_vals): the scalar's sanity (check_reg_sane_offset), then Spectre v1
        // sanitation of + and - with a register (sanitize_ptr_alu: mixed signs, then the pointer type), then the operator.
        var known = off.V.IsConst;
        var val = (long)off.V.ConstValue;
        if (known && (val >= MaxVarOff || val <= -MaxVarOff))
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"math between {ptr.TypeName} pointer and {val} is not allowed", d);
        }
        if (!known)
        {
            if (off.V.SMin == long.MinValue)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic,
                    $"math between {ptr.TypeName} pointer and register with unbounded min value is not allowed", d);
            }
            if (off.V.SMin >= MaxVarOff || off.V.SMin <= -MaxVarOff)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"value {off.V.SMin} makes {ptr.TypeName} pointer be out of bounds", d);
            }
        }
        if (!_bypassSpec && srcIsReg && op is AluOp.Add or AluOp.Sub)
        {
            if (!known && off.V.SMin < 0 && off.V.SMax >= 0)
            {
                // Named by the scalar's register (the kernel's sanitize_err names off_reg), the pointer's for the rest.
                var offReg = ptrIsDst ? insn.SrcRaw : d;
                throw Fail(VerifierErrorCode.PointerArithmetic,
                    $"R{offReg} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root", offReg);
            }
            if (ptr.Type is not (RegType.Stack or RegType.MapValue))
            {
                // Spectre v1 masking exists only for stack and map value pointers.
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root", d);
            }
        }
        if (op == AluOp.Sub && !ptrIsDst)
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} tried to subtract pointer from scalar", d);
        }
        if (op == AluOp.Sub && ptr.Type == RegType.Stack)
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} subtraction from stack pointer prohibited", d);
        }
        if (op is AluOp.And or AluOp.Or or AluOp.Xor)
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} bitwise operator {AluName(op)} on pointer prohibited", d);
        }
        if (op is not (AluOp.Add or AluOp.Sub))
        {
            throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic with {AluName(op)} operator prohibited", d);
        }

        var r = ptr;
        if (known)
        {
            var newOff = op == AluOp.Add ? (long)r.Off + val : (long)r.Off - val;
            if (newOff >= MaxVarOff || newOff <= -MaxVarOff)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"{ptr.TypeName} pointer offset {newOff} is not allowed", d);
            }
            r.Off = (int)newOff;
        }
        else
        {
            r.V = ScalarOps.Alu(op, false, r.V, off.V);
            if (r.IsPacketLike)
            {
                r.Id = NewId();
                r.Range = 0;
            }
            // The result (check_reg_sane_offset_ptr, 6.18): its constant offset, else its minimum, within 2^29 (a
            // constant's minimum is itself).
            var resultOff = r.V.SMin;
            if (resultOff <= -MaxVarOff || resultOff >= MaxVarOff)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"{ptr.TypeName} pointer offset {resultOff} is not allowed", d);
            }
        }
        if (!_bypassSpec) CheckSpeculativePointer(d, r);
        if (!_bypassSpec && srcIsReg && ptr.Type is RegType.Stack or RegType.MapValue) CheckSanitationState(d, op, ptr, off, r, ptrIsDst);
        return r;
    }

    /// <summary>
    /// Without CAP_PERFMON the kernel masks pointer arithmetic with a register against Spectre v1, and the mask
    /// is per instruction: every path through it must need the same one (sanitize_ptr_alu's alu_state and
    /// alu_limit, the distance the pointer moved). A counter that differs between loop iterations does not.
    /// </summary>
    private void CheckSanitationState(int d, AluOp op, in RegState before, in RegState off, in RegState after, bool ptrIsDst)
    {
        var offIsNeg = off.V.SMin < 0;
        var offIsImm = off.V.IsConst;
        var maskToLeft = (op == AluOp.Add && offIsNeg) || (op == AluOp.Sub && !offIsNeg);
        uint Limit(in RegState p) => p.Type == RegType.Stack
            ? (uint)-(long)(p.V.T.Value + (ulong)(long)p.Off)
            : (uint)((maskToLeft ? (ulong)p.V.SMin : p.V.UMax) + (ulong)(long)p.Off);
        var limit = (uint)Math.Abs((int)(Limit(before) - Limit(after)));
        var state = (offIsNeg ? 1 : 0) | (offIsImm ? 2 : 0) | (ptrIsDst ? 4 : 8);
        _aluSanitation ??= new (int, uint)[_p.Length];
        ref var seen = ref _aluSanitation[_cur.Insn];
        if (seen.State != 0 && (seen.State != state || seen.Limit != limit))
        {
            throw Fail(VerifierErrorCode.PointerArithmetic,
                $"R{d} tried to {(op == AluOp.Add ? "add" : "sub")} from different maps, paths or scalars, pointer arithmetic with it prohibited for !root", d);
        }
        seen = (state, limit);
    }

    private (int State, uint Limit)[]? _aluSanitation;

    /// <summary>Without CAP_PERFMON the kernel refuses pointer arithmetic whose result could leave its object.</summary>
    private void CheckSpeculativePointer(int d, in RegState r)
    {
        if (r.Type == RegType.Stack)
        {
            if (!r.V.IsConst)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} variable stack access prohibited for !root, var_off={r.V.T} off={unchecked((int)((ulong)(long)r.Off + r.V.T.Value))}", d);
            }
            var off = r.Off + (long)r.V.ConstValue;
            if (off >= 0 || off < -Frame.StackSize)
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} stack pointer arithmetic goes out of range, prohibited for !root; off={off}", d);
            }
        }
        else if (r.Type == RegType.MapValue)
        {
            var m = _o.Maps[r.Map];
            var vs = m.ValueSize;
            // The kernel's sanitize_check_bounds is a one-byte check_map_access: the byte may not be out of the
            // value, nor in its bpf_spin_lock (so even a pointer to the lock made by arithmetic is refused).
            var max = (long)r.Off + (long)Math.Min(r.V.UMax, long.MaxValue / 2);
            if (r.Off + r.V.SMin < 0 || max + 1 > vs
                || (m.HasSpinLock && r.Off + r.V.SMin < m.SpinLockOffset + MapDefinition.SpinLockSize && m.SpinLockOffset < max + 1))
            {
                throw Fail(VerifierErrorCode.PointerArithmetic, $"R{d} pointer arithmetic of map value goes out of range, prohibited for !root", d);
            }
        }
    }

    // ---- wide load, legacy packet loads -------------------------------------------------------------

    private void DoLdImm64(int pc, Instruction insn)
    {
        int d = insn.DstRaw;
        CheckWritable(d);
        var map = _s.MapOfInsn[pc];
        switch ((PseudoSource)insn.SrcRaw)
        {
            case PseudoSource.None:
                F.Regs[d] = RegState.Known((uint)insn.Imm | ((ulong)(uint)_p[pc + 1].Imm << 32));
                break;
            case PseudoSource.MapFd:
            case PseudoSource.MapIndex:
                F.Regs[d] = RegState.Pointer(RegType.MapPtr);
                F.Regs[d].Map = map;
                break;
            case PseudoSource.BtfId:
                F.Regs[d] = _s.KsymOf![pc];
                break;
            case PseudoSource.Func:
                // The kernel needs the callback's BTF func_info (check_ld_imm).
                if (!_o.HasFuncInfo) throw Fail(VerifierErrorCode.InvalidHelperArgument, "missing btf func_info");
                F.Regs[d] = RegState.Pointer(RegType.Func, pc + insn.Imm + 1);
                break;
            default:
                F.Regs[d] = RegState.Pointer(RegType.MapValue, _p[pc + 1].Imm);
                F.Regs[d].Map = map;
                break;
        }
    }

    private void DoLdAbs(Instruction insn, bool indirect)
    {
        if (!ContextLayouts.IsSkb(_o.ProgramType))
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
        }
        ref var r6 = ref ReadReg(6);
        if (r6.Type != RegType.Ctx)
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, "at the time of BPF_LD_ABS|IND R6 != pointer to skb", 6);
        }
        if (indirect)
        {
            ref var s = ref ReadReg(insn.SrcRaw);
            if (IsLeakyPointer(s)) throw Fail(VerifierErrorCode.PointerLeak, $"R{insn.SrcRaw} leaks addr into helper function", insn.SrcRaw);
        }
        if (_cur.HoldsLock)
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region");
        }
        if (_cur.Refs is { Count: > 0 })
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "BPF_LD_[ABS|IND] would lead to reference leak");
        }
        if (_cur.RcuLock)
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region");
        }
        for (var r = 1; r <= 5; r++) F.Regs[r] = default;
        F.Regs[0] = RegState.Unknown;
    }
}
