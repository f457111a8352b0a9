namespace Bpf.Verifier.Internal;

internal sealed partial class Checker
{
    private bool DoCondJump(int pc, Instruction insn)
    {
        var is32 = insn.Class == OpClass.Jmp32;
        var op = insn.JumpOp;
        int d = insn.DstRaw;
        var target = pc + insn.Offset + 1;
        var dst = ReadReg(d);
        var srcIsReg = insn.Source == Source.Reg;
        int s = insn.SrcRaw;
        RegState src;
        if (srcIsReg)
        {
            src = ReadReg(s);
            if (src.IsPointer && !_allowPtrLeaks && !(IsPacketFamily(dst) && IsPacketFamily(src)))
            {
                throw Fail(VerifierErrorCode.PointerComparison, $"R{s} pointer comparison prohibited", s);
            }
        }
        else
        {
            src = RegState.Known(is32 ? (uint)insn.Imm : (ulong)(long)insn.Imm);
        }

        var taken = -1;
        if (dst.IsScalar && src.IsScalar)
        {
            taken = ScalarOps.BranchTaken(op, is32, dst.V, src.V);
        }
        else if (!is32 && dst.IsPointer && src.IsScalar && src.V.IsZero && op is JumpOp.Jeq or JumpOp.Jne && IsNonNull(dst))
        {
            // A non-null pointer never equals zero.
            taken = op == JumpOp.Jne ? 1 : 0;
        }
        else if (!is32 && src.IsPointer && dst.IsScalar && dst.V.IsZero && op is JumpOp.Jeq or JumpOp.Jne && IsNonNull(src))
        {
            taken = op == JumpOp.Jne ? 1 : 0;
        }
        else if (!is32 && IsPacketFamily(dst) && IsPacketFamily(src))
        {
            taken = PacketBranchTaken(op, dst, src);
        }

        // A decided branch depends on the scalar operands' values (a pointer compared with a register holding 0
        // included: the kernel marks that register precise), so pruning must compare them (see Precision).
        if (taken >= 0) MarkDecided(pc);
        if (taken >= 0 && !_bypassSpec)
        {
            // Without CAP_PERFMON the kernel also walks the edge the CPU might mispredict into (Spectre v1);
            // errors there end that path, but its instructions and pending states count against the limits.
            var spec = _cur.Clone();
            spec.Speculative = true;
            spec.Insn = taken == 1 ? pc + 1 : target;
            PushBranch(spec);
        }
        if (taken == 1)
        {
            _cur.Path = new PathNode(pc, target, _cur.Path, (_cur.Path?.Length ?? 0) + 1);
            _cur.Insn = target;
            return false;
        }
        if (taken == 0)
        {
            _cur.Insn = pc + 1;
            return false;
        }

        if (dst.IsPointer && !_allowPtrLeaks && !(dst.IsNullable && !srcIsReg && insn.Imm == 0 && !is32 && op is JumpOp.Jeq or JumpOp.Jne)
            && !MatchesPacketPointers(srcIsReg, is32, op, dst, src))
        {
            throw Fail(VerifierErrorCode.PointerComparison, $"R{d} pointer comparison prohibited", d);
        }
        var other = _cur.Clone();
        other.Insn = target;
        other.Path = new PathNode(pc, target, _cur.Path, (_cur.Path?.Length ?? 0) + 1);
        _cur.Insn = pc + 1;
        var otherAlive = Narrow(other, op, false, is32, d, srcIsReg ? s : -1, src);
        var thisAlive = Narrow(_cur, ScalarOps.Negate(op), op == JumpOp.Jset, is32, d, srcIsReg ? s : -1, src);
        // An edge ruled out by refinement (tnum or bounds) is a decision too: it rests on the operands' values.
        if (!(otherAlive && thisAlive)) MarkDecided(pc);
        if (otherAlive && thisAlive)
        {
            PushBranch(other);
        }
        else if (otherAlive)
        {
            other.Parent = _cur.Parent;
            _cur = other;
        }
        else if (!thisAlive)
        {
            // Neither edge is feasible: the state itself is contradictory, so the path ends here.
            return true;
        }
        return false;
    }

    private void MarkDecided(int pc)
    {
        if (_decided[pc]) return;
        _decided[pc] = true;
        _decidedGrew = true;
    }

    /// <summary>Pointer types the kernel knows are never null (others compare with 0 both ways).</summary>
    /// <summary>The kernel's reg_not_null (a 64-bit comparison with 0 of such a pointer is decided; a 32-bit one is not).</summary>
    private static bool IsNonNull(in RegState r) =>
        r.Type is RegType.MapValue or RegType.Mem or RegType.RdonlyMem or RegType.MapKey or RegType.MapPtr
        || IsTrustedBtf(r);

    private static bool IsPacketFamily(in RegState r) => r.Type is RegType.Packet or RegType.PacketMeta or RegType.PacketEnd;

    /// <summary>Narrows state <paramref name="st"/> by the condition <c>dst op src</c>; false when it cannot hold.</summary>
    private bool Narrow(VState st, JumpOp op, bool negJset, bool is32, int d, int s, RegState srcValue)
    {
        var f = st.Cur;
        var dst = f.Regs[d];
        var src = s >= 0 ? f.Regs[s] : srcValue;

        if (dst.IsScalar && src.IsScalar)
        {
            var a = dst.V;
            var b = src.V;
            if (!ScalarOps.Refine(op, negJset, is32, ref a, ref b)) return false;
            SetScalar(st, d, a);
            if (s >= 0) SetScalar(st, s, b);
            return true;
        }

        // Null checks on or-null pointers: only against the immediate 0, as the kernel does (a register holding
        // 0, on either side, leaves the pointer or-null on both edges).
        if (!is32 && op is JumpOp.Jeq or JumpOp.Jne && s < 0 && dst.IsNullable && src.IsScalar && src.V.IsZero)
        {
            MarkNullness(st, dst.Id, dst.RefId, isNull: op == JumpOp.Jeq);
            return true;
        }

        if (!is32 && IsPacketFamily(dst) && IsPacketFamily(src))
        {
            PacketCompare(st, op, d, s, dst, src);
        }
        return true;
    }

    /// <summary>A packet pointer known to be at or beyond data_end (its range <see cref="AtPacketEnd"/> or
    /// <see cref="BeyondPacketEnd"/>) compared with data_end again: the kernel's is_pkt_ptr_branch_taken.</summary>
    private static int PacketBranchTaken(JumpOp op, in RegState dst, in RegState src)
    {
        RegState pkt;
        if (src.Type == RegType.PacketEnd) pkt = dst;
        else if (dst.Type == RegType.PacketEnd)
        {
            pkt = src;
            op = ScalarOps.Swap(op);
        }
        else return -1;
        if (pkt.Range >= 0) return -1;
        return op switch
        {
            JumpOp.Jle or JumpOp.Jgt when pkt.Range == BeyondPacketEnd => op == JumpOp.Jgt ? 1 : 0,
            JumpOp.Jlt or JumpOp.Jge => op == JumpOp.Jge ? 1 : 0,
            _ => -1,
        };
    }

    /// <summary>The range of a packet pointer found (by a comparison with data_end) to be at data_end, or beyond it.</summary>
    internal const int AtPacketEnd = -1, BeyondPacketEnd = -2;

    private static void SetScalar(VState st, int r, Scalar v)
    {
        var f = st.Cur;
        var id = f.Regs[r].Id;
        var off = f.Regs[r].Off;
        f.Regs[r].V = v;
        if (id == 0) return;
        // Registers and spills copied from this one learn the same bound, shifted by their constant delta. (A
        // direct walk rather than ForEachReg: this runs on every branch that refines a linked scalar.)
        for (var i = 0; i <= st.CurFrame; i++)
        {
            var fr = st.Frames[i];
            for (var k = 0; k < 11; k++)
            {
                if (!fr.Regs[k].IsScalar || fr.Regs[k].Id != id) continue;
                var linked = Linked(v, fr.Regs[k].Off, off);
                if (SameBits(linked, fr.Regs[k].V)) continue;
                fr = st.Writable(i);
                fr.Regs[k].V = linked;
            }
            if (fr.Spills is null) continue;
            for (var k = 0; k < Frame.Slots; k++)
            {
                if (fr.Bytes[k * 8] != SlotType.Spill || !fr.Spills[k].IsScalar || fr.Spills[k].Id != id) continue;
                var linked = Linked(v, fr.Spills[k].Off, off);
                if (SameBits(linked, fr.Spills[k].V)) continue;
                fr = st.Writable(i);
                fr.Spills![k].V = linked;
            }
        }
    }

    /// <summary>The value of a scalar linked to one of value <paramref name="v"/>: shifted by their delta.</summary>
    private static Scalar Linked(in Scalar v, int xOff, int off) =>
        xOff == off ? v : ScalarOps.Alu(AluOp.Add, false, v, Scalar.Const((ulong)((long)xOff - off)));

    private static bool SameBits(in Scalar a, in Scalar b) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<Scalar>(in a))
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<Scalar>(in b)));

    private void MarkNullness(VState st, int id, int refId, bool isNull)
    {
        ForEachReg(st, (ref RegState r) =>
        {
            if (!r.IsNullable || r.Id != id) return;
            if (isNull)
            {
                r = RegState.Known(0);
            }
            else
            {
                r.Type = r.Type switch
                {
                    RegType.MapValueOrNull => RegType.MapValue,
                    RegType.MapPtrOrNull => RegType.MapPtr,
                    RegType.MemOrNull => RegType.Mem,
                    RegType.BtfPointerOrNull => RegType.BtfPointer,
                    RegType.RdonlyMemOrNull => RegType.RdonlyMem,
                    _ => r.Type,
                };
                if (r.Type == RegType.SockCommonOrNull) r = RegState.Unknown;
                // The kernel's reg_may_point_to_spin_lock: such a value keeps its id for bpf_spin_unlock.
                if (r.Type != RegType.MapValue || !_o.Maps[r.Map].HasSpinLock) r.Id = 0;
            }
        });
        if (isNull && refId != 0) st.Refs?.RemoveAll(x => x.Id == refId);
    }

    private delegate void RegVisitor(ref RegState r);

    /// <summary>Visits every register and spill of every frame; a shared caller frame is copied only when the
    /// visitor changes one of its values.</summary>
    private static void ForEachReg(VState st, RegVisitor visit)
    {
        for (var i = 0; i <= st.CurFrame; i++)
        {
            var fr = st.Frames[i];
            for (var k = 0; k < 11; k++)
            {
                var r = fr.Regs[k];
                visit(ref r);
                if (SameBits(r, fr.Regs[k])) continue;
                fr = st.Writable(i);
                fr.Regs[k] = r;
            }
            if (fr.Spills is null) continue;
            for (var k = 0; k < Frame.Slots; k++)
            {
                if (fr.Bytes[k * 8] != SlotType.Spill) continue;
                var r = fr.Spills[k];
                visit(ref r);
                if (SameBits(r, fr.Spills[k])) continue;
                fr = st.Writable(i);
                fr.Spills![k] = r;
            }
        }
    }

    private static bool SameBits(in RegState a, in RegState b) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<RegState>(in a))
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<RegState>(in b)));

    /// <summary>
    /// Comparing a packet pointer with data_end (or a meta pointer with data) proves the bytes before it are in
    /// the packet on one edge. A strict comparison proves one byte less, as the kernel counts it.
    /// </summary>
    private static void PacketCompare(VState st, JumpOp op, int d, int s, RegState dst, RegState src)
    {
        // Normalise to "ptr OP end". A data_meta pointer gets a range only against the initial data pointer
        // (offset 0, never moved: the kernel's reg_is_init_pkt_pointer).
        RegState ptr;
        int ptrReg;
        if ((dst.Type == RegType.Packet && src.Type == RegType.PacketEnd) || (dst.Type == RegType.PacketMeta && IsInitialPacket(src)))
        {
            (ptr, ptrReg) = (dst, d);
        }
        else if ((src.Type == RegType.Packet && dst.Type == RegType.PacketEnd) || (src.Type == RegType.PacketMeta && IsInitialPacket(dst)))
        {
            (ptr, ptrReg) = (src, s);
            op = ScalarOps.Swap(op);
        }
        else
        {
            return;
        }
        bool strict;
        switch (op)
        {
            case JumpOp.Jle: strict = false; break; // ptr <= end
            case JumpOp.Jlt: strict = true; break;  // ptr < end
            case JumpOp.Jgt or JumpOp.Jge:
                // ptr > end, ptr >= end: that one register (a data pointer, not a meta one) is beyond or at the end
                // (the kernel's mark_pkt_end).
                if (ptr.Type == RegType.Packet && ptrReg >= 0) st.Cur.Regs[ptrReg].Range = op == JumpOp.Jgt ? BeyondPacketEnd : AtPacketEnd;
                return;
            default: return;
        }
        if (ptr.Off < 0 || (ptr.Off == 0 && strict)) return;
        if (ptr.V.UMax > MaxPacketOff || ptr.V.UMax + (ulong)ptr.Off > MaxPacketOff) return;
        var range = strict ? ptr.Off + 1 : ptr.Off;
        var type = ptr.Type;
        var id = ptr.Id;
        ForEachReg(st, (ref RegState r) =>
        {
            if (r.Type == type && r.Id == id && r.Range < range) r.Range = range;
        });
    }

    /// <summary>The comparisons that give packet pointers a range (the kernel's try_match_pkt_pointers): 64-bit,
    /// register source, an ordering op, and data/data_end or data_meta/initial data in either order. Without
    /// CAP_PERFMON any other comparison of a pointer destination is refused, packet pointers included.</summary>
    private static bool MatchesPacketPointers(bool srcIsReg, bool is32, JumpOp op, in RegState dst, in RegState src) =>
        srcIsReg && !is32 && op is JumpOp.Jgt or JumpOp.Jlt or JumpOp.Jge or JumpOp.Jle
        && ((dst.Type == RegType.Packet && src.Type == RegType.PacketEnd) || (dst.Type == RegType.PacketMeta && IsInitialPacket(src))
            || (dst.Type == RegType.PacketEnd && src.Type == RegType.Packet) || (IsInitialPacket(dst) && src.Type == RegType.PacketMeta));

    private static bool IsInitialPacket(in RegState r) => r.Type == RegType.Packet && r.Id == 0 && r.Off == 0 && r.V.IsZero;

    // ---- calls and exit -------------------------------------------------------------------------------

    private void DoLocalCall(int pc, Instruction insn)
    {
        if (_cur.CurFrame + 1 >= MaxCallFrames)
        {
            throw Fail(VerifierErrorCode.CallDepthExceeded, $"the call stack of {_cur.CurFrame + 2} frames is too deep");
        }
        var target = pc + insn.Imm + 1;
        var callee = new Frame { CallSite = pc, Subprog = _s.SubprogIndex(target) };
        var caller = F;
        for (var r = 1; r <= 5; r++) callee.Regs[r] = caller.Regs[r];
        callee.Regs[10] = RegState.Pointer(RegType.Stack);
        callee.Regs[10].Frame = (byte)(_cur.CurFrame + 1);
        _cur.CurFrame++;
        _cur.Frames[_cur.CurFrame] = callee;
        _cur.Insn = target;
    }

    private bool DoExit()
    {
        if (InCallback) return DoCallbackExit();
        if (_cur.CurFrame > 0)
        {
            // The caller reads R0 only if it uses it, so an unset R0 is returned as unset.
            ref var r0 = ref F.Regs[0];
            // Any stack pointer, even into a caller's frame (the kernel is conservative here).
            if (r0.Type == RegType.Stack)
            {
                throw Fail(VerifierErrorCode.PointerLeak, "cannot return stack pointer to the caller", 0);
            }
            var ret = r0;
            var callee = F;
            _cur.Frames[_cur.CurFrame] = null!;
            _cur.CurFrame--;
            var caller = _cur.Writable(_cur.CurFrame); // becomes the current frame, which is never shared
            caller.Regs[0] = ret;
            for (var r = 1; r <= 5; r++) caller.Regs[r] = default;
            _cur.Insn = callee.CallSite + 1;
            return false;
        }
        ref var ret0 = ref ReadReg(0);

        if (_cur.HoldsLock)
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region");
        }
        if (_cur.Refs is { Count: > 0 })
        {
            var (id, at) = _cur.Refs[0];
            throw Fail(VerifierErrorCode.UnreleasedReference, $"Unreleased reference id={id} alloc_insn={at}");
        }
        if (_cur.RcuLock)
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region");
        }
        // check_return_code: a pointer the program may not leak is refused before any range is looked at.
        if (IsLeakyPointer(ret0))
        {
            throw Fail(VerifierErrorCode.PointerLeak, "R0 leaks addr as return value", 0);
        }
        if (_o.ProgramType == ProgramType.Lsm)
        {
            CheckLsmReturn(ret0);
            return true;
        }
        if (ReturnRange(_o.ProgramType, _o.ExpectedAttachType) is var (min, max))
        {
            if (!ret0.IsScalar)
            {
                throw Fail(VerifierErrorCode.InvalidReturnValue, $"At program exit the register R0 is not a known value ({ret0.TypeName})", 0);
            }
            if (ret0.V.SMin < min || ret0.V.SMax > max)
            {
                throw Fail(VerifierErrorCode.InvalidReturnValue,
                    $"At program exit the register R0 has{ScalarRange(ret0.V.SMin, ret0.V.SMax)} should have been in [{min}, {max}]", 0);
            }
        }
        return true;
    }

    /// <summary>
    /// The values a program of this type (and expected attach type) may return, as the kernel's check_return_code
    /// (6.18) enforces them; null when any value is accepted. LSM programs are checked by CheckLsmReturn (their range
    /// depends on the hook's prototype); struct_ops (on the member) are not modelled.
    /// </summary>
    internal static (long Min, long Max)? ReturnRange(ProgramType type, AttachType? attach) => type switch
    {
        ProgramType.CgroupSockAddr => attach switch
        {
            AttachType.CgroupUdp4Recvmsg or AttachType.CgroupUdp6Recvmsg or AttachType.CgroupUnixRecvmsg
                or AttachType.CgroupInet4Getpeername or AttachType.CgroupInet6Getpeername or AttachType.CgroupUnixGetpeername
                or AttachType.CgroupInet4Getsockname or AttachType.CgroupInet6Getsockname or AttachType.CgroupUnixGetsockname => (1, 1),
            AttachType.CgroupInet4Bind or AttachType.CgroupInet6Bind => (0, 3),
            _ => (0, 1),
        },
        ProgramType.CgroupSkb => attach == AttachType.CgroupInetEgress ? (0, 3) : (0, 1),
        ProgramType.CgroupSock or ProgramType.SockOps or ProgramType.CgroupDevice or ProgramType.CgroupSysctl or ProgramType.CgroupSockopt => (0, 1),
        ProgramType.Tracing => attach switch
        {
            AttachType.TraceFentry or AttachType.TraceFexit => (0, 0),
            AttachType.TraceIter => (0, 1),
            _ => null,
        },
        ProgramType.Kprobe => attach is AttachType.TraceKprobeSession or AttachType.TraceUprobeSession ? (0, 1) : null,
        ProgramType.SkLookup or ProgramType.Netfilter => (0, 1),
        _ => null,
    };

    /// <summary>The kernel's verbose_invalid_scalar: " smin=.." and " smax=.." for the bounds that are not the
    /// type's limits, " unknown scalar value" when neither is.</summary>
    private static string ScalarRange(long smin, long smax) =>
        smin == long.MinValue && smax == long.MaxValue
            ? " unknown scalar value"
            : (smin > long.MinValue ? $" smin={smin}" : "") + (smax < long.MaxValue ? $" smax={smax}" : "");
}
