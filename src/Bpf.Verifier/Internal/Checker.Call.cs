using Bpf.Helpers;

namespace Bpf.Verifier.Internal;

internal sealed partial class Checker
{
    private void DoHelperCall(int pc, Instruction insn)
    {
        var id = insn.Imm;
        if (_cur.HoldsLock && id != SpinUnlockHelperId)
        {
            // The kernel's do_check, before it looks at the helper at all.
            throw Fail(VerifierErrorCode.InvalidHelperArgument, "function calls are not allowed while holding a lock");
        }
        var proto = HelperPrototypes.Find(id);
        if (proto is null)
        {
            if (id > 0 && id <= HelperPrototypes.MaxKernelHelperId)
            {
                throw Fail(VerifierErrorCode.NotSupported, $"helper #{id} is not in this verifier's prototype table");
            }
            // Id 0 is in the kernel's range of helper ids (bpf_unspec) but has no prototype for any program type.
            if (id == 0) throw Fail(VerifierErrorCode.UnknownHelper, "program of this type cannot use helper bpf_unspec#0");
            throw Fail(VerifierErrorCode.UnknownHelper, $"invalid func unknown#{id}");
        }
        if (!Offered(proto))
        {
            throw Fail(VerifierErrorCode.UnknownHelper, $"program of this type cannot use helper bpf_{proto.Name}#{id}");
        }
        if (proto.GplOnly && !_o.GplCompatible)
        {
            throw Fail(VerifierErrorCode.UnknownHelper, "cannot call GPL-restricted function from non-GPL compatible program");
        }
        var callback = -1;
        foreach (var kind in proto.Args)
        {
            if (kind is HelperArgKind.Function or HelperArgKind.StackOrNull && proto.Id is not (Structure.LoopHelperId or Structure.ForEachMapElemHelperId))
            {
                // Callbacks (and their context pointers) are not modelled: say so rather than accept unchecked.
                throw Fail(VerifierErrorCode.NotSupported, $"helper bpf_{proto.Name}#{id} takes an argument of kind {kind}, which this verifier does not model");
            }
        }

        var map = -1;
        var releaseRef = 0;
        var percpuType = 0;
        var constKey = -1L;
        for (var a = 0; a < 5; a++)
        {
            var kind = proto.Arg(a);
            if (kind == HelperArgKind.None) break;
            var r = a + 1;
            var reg = ReadReg(r);
            if (kind != HelperArgKind.Anything) RequirePacketAccess(proto, r, reg);
            switch (kind)
            {
                case HelperArgKind.Anything:
                    if (IsLeakyPointer(reg)) throw Fail(VerifierErrorCode.PointerLeak, $"R{r} leaks addr into helper function", r);
                    break;
                case HelperArgKind.MapPointer:
                    if (reg.Type != RegType.MapPtr) throw ArgType(r, reg, "map_ptr");
                    map = reg.Map;
                    break;
                case HelperArgKind.MapKey:
                case HelperArgKind.MapValue:
                {
                    // The map pointer argument came first (set above, or refused): the helper table's invariant, checked
                    // by Bpf.Core.Tests (Map_key_and_value_arguments_follow_the_map_pointer).
                    var m = _o.Maps[map];
                    var size = kind == HelperArgKind.MapKey ? m.KeySize : m.ValueSize;
                    // A map without keys (queue, stack, bloom filter, ringbuf): the kernel's check_stack_range_initialized.
                    if (size == 0 && reg.Type == RegType.Stack) throw Fail(VerifierErrorCode.InvalidHelperArgument, "invalid zero-sized read", r);
                    CheckHelperMemory(r, reg, size, write: false);
                    if (kind == HelperArgKind.MapKey) constKey = ConstStackKey(reg, size);
                    break;
                }
                case HelperArgKind.UninitMapValue:
                    if (_o.Maps[map].ValueSize == 0 && reg.Type == RegType.Stack) throw Fail(VerifierErrorCode.InvalidHelperArgument, "invalid zero-sized read", r);
                    CheckHelperMemory(r, reg, _o.Maps[map].ValueSize, write: true);
                    break;
                case HelperArgKind.Context:
                    if (reg.Type != RegType.Ctx) throw ArgType(r, reg, "ctx");
                    RequireUnmovedContext(r, reg, VerifierErrorCode.InvalidHelperArgument);
                    break;
                case HelperArgKind.ReadableMemory:
                case HelperArgKind.ReadableMemoryOrNull:
                case HelperArgKind.WritableMemory:
                case HelperArgKind.ReadWriteMemory:
                {
                    // The size is the next argument (every size argument of the table follows a memory argument:
                    // Bpf.Core.Tests' Size_arguments_follow_a_memory_argument), checked here and skipped below.
                    var sizeKind = proto.Arg(a + 1);
                    var sizeReg = ReadReg(r + 1);
                    RequirePacketAccess(proto, r + 1, sizeReg);
                    if (!sizeReg.IsScalar) throw ArgType(r + 1, sizeReg, "scalar");
                    CheckSizeArg(r + 1, sizeReg, zeroAllowed: sizeKind == HelperArgKind.SizeOrZero);
                    var size = (long)sizeReg.V.UMax;
                    if (kind == HelperArgKind.ReadableMemoryOrNull && reg.IsZero())
                    {
                        // The kernel's check_helper_mem_access on a NULL with a size: "expected" names the stack.
                        if (size != 0) throw ArgType(r, reg, "fp");
                    }
                    else
                    {
                        // A size of 0 does not excuse the pointer: the kernel still checks its type.
                        CheckHelperMemory(r, reg, size, write: kind is HelperArgKind.WritableMemory or HelperArgKind.ReadWriteMemory,
                            sizeIsConst: sizeReg.V.IsConst, alsoRead: kind == HelperArgKind.ReadWriteMemory);
                    }
                    a++;
                    break;
                }
                case HelperArgKind.AllocSize:
                    if (!reg.IsScalar) throw ArgType(r, reg, "scalar");
                    if (!reg.V.IsConst)
                    {
                        // The kernel's message, stray quote included.
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} is not a known constant'", r);
                    }
                    _reservedSize = reg.V.ConstValue;
                    break;
                case HelperArgKind.Function:
                    if (reg.Type != RegType.Func) throw ArgType(r, reg, "func");
                    callback = reg.Off;
                    break;
                case HelperArgKind.StackOrNull:
                    if (!reg.IsZero() && reg.Type != RegType.Stack) throw ArgType(r, reg, "fp");
                    break;
                case HelperArgKind.KernelStruct:
                    CheckKernelStructArg(r, reg, proto.KernelStruct!);
                    break;
                case HelperArgKind.PercpuKernelObject:
                    if (reg.Type != RegType.BtfPointer || reg.Map != BtfTrust.Percpu) throw ArgType(r, reg, "percpu_ptr_");
                    if (reg.Off != 0)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"dereference of modified {reg.TypeName} ptr R{r} off={reg.Off} disallowed", r);
                    }
                    if (!reg.V.IsZero)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"variable {reg.TypeName} access var_off={reg.V.T} disallowed", r);
                    }
                    percpuType = reg.Range;
                    break;
                case HelperArgKind.SpinLock:
                    if (reg.Type != RegType.MapValue) throw ArgType(r, reg, "map_value, ptr_");
                    ProcessSpinLock(r, reg, isLock: proto.Id == SpinLockHelperId);
                    break;
                case HelperArgKind.RingbufMemory:
                    if (reg.Type != RegType.Mem || reg.RefId == 0) throw ArgType(r, reg, "ringbuf_mem");
                    if (reg.Off != 0 || !reg.V.IsZero)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} must have zero offset when passed to release func or trusted arg to kfunc", r);
                    }
                    releaseRef = reg.RefId;
                    break;
            }
        }

        // The kernel checks the map against the helper (check_map_func_compatibility) after every argument: a bad
        // argument is reported first, even with a map the helper does not take.
        if (map >= 0)
        {
            CheckMapWritableByHelper(proto, _o.Maps[map]);
            CheckMapCompatible(proto, _o.Maps[map]);
        }
        if (releaseRef != 0) ReleaseReference(releaseRef);
        if (proto.Id == 12 && _cur.Refs is { Count: > 0 })
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "tail_call would lead to reference leak");
        }
        if (proto.Id == 12 && _cur.RcuLock)
        {
            throw Fail(VerifierErrorCode.UnreleasedReference, "tail_call cannot be used inside bpf_rcu_read_lock-ed region");
        }
        if (proto.ChangesPacketData)
        {
            // The kernel's clear_all_pkt_pointers / mark_reg_invalid: without CAP_PERFMON the stale pointers become
            // uninitialised (a later use is "!read_ok"), with it unknown scalars.
            var invalid = _allowPtrLeaks ? RegState.Unknown : default;
            ForEachReg(_cur, (ref RegState r) =>
            {
                if (IsPacketFamily(r)) r = invalid;
            });
        }
        if (callback >= 0) PushCallback(pc, callback, map);
        for (var r = 1; r <= 5; r++) F.Regs[r] = default;

        switch (proto.Return)
        {
            case HelperReturnKind.Integer:
                F.Regs[0] = RegState.Unknown;
                break;
            case HelperReturnKind.Void:
                F.Regs[0] = default;
                break;
            case HelperReturnKind.MapValueOrNull:
            {
                var m = _o.Maps[map];
                if (m.Type is MapType.ArrayOfMaps or MapType.HashOfMaps && m.InnerMap is { } inner && IndexOfMap(inner) is var innerIndex and >= 0)
                {
                    // As the kernel: a lookup in a map of maps yields the inner map (typed by its template) or null.
                    F.Regs[0] = RegState.Pointer(RegType.MapPtrOrNull);
                    F.Regs[0].Map = innerIndex;
                    F.Regs[0].Id = NewId();
                    break;
                }
                var nonNull = m.Type is MapType.Array or MapType.PerCpuArray && constKey >= 0 && constKey < m.MaxEntries;
                F.Regs[0] = RegState.Pointer(nonNull ? RegType.MapValue : RegType.MapValueOrNull);
                F.Regs[0].Map = map;
                // A value with a bpf_spin_lock keeps an id even when it cannot be null: it names the element locked.
                if (!nonNull || m.HasSpinLock) F.Regs[0].Id = NewId();
                break;
            }
            case HelperReturnKind.PercpuObject:
            case HelperReturnKind.PercpuObjectOrNull:
                F.Regs[0] = PercpuObject(percpuType, proto.Return == HelperReturnKind.PercpuObjectOrNull);
                break;
            case HelperReturnKind.RingbufMemoryOrNull:
            {
                // The kernel numbers the null-check id first, then the reference (check_helper_call); the two are
                // one id here, named by the reference's number as the kernel's messages name it.
                _ = NewId();
                var refId = NewId();
                (_cur.Refs ??= []).Add((refId, pc));
                F.Regs[0] = RegState.Pointer(RegType.MemOrNull);
                // The kernel keeps the size in a u32 (mem_size): a 64-bit size is truncated, not clamped.
                F.Regs[0].Range = (int)Math.Min(int.MaxValue, (uint)ReservedSize);
                F.Regs[0].Id = refId;
                F.Regs[0].RefId = refId;
                F.Regs[0].Map = map;
                break;
            }
        }
    }

    /// <summary>What bpf_per_cpu_ptr / bpf_this_cpu_ptr return for a per-CPU variable of BTF type
    /// <paramref name="typeId"/> (RET_PTR_TO_MEM_OR_BTF_ID): a plain kernel object pointer for a struct, read-only
    /// memory of the type's size otherwise; maybe null for bpf_per_cpu_ptr.</summary>
    private RegState PercpuObject(int typeId, bool maybeNull)
    {
        RegState r0;
        try
        {
            var t = Btf.BtfSpec.Underlying(_o.KernelBtf!.TypeById((uint)typeId));
            if (t is Btf.BtfComposite)
            {
                r0 = RegState.Pointer(maybeNull ? RegType.BtfPointerOrNull : RegType.BtfPointer);
                r0.Range = typeId;
                r0.Map = BtfTrust.Legacy;
            }
            else
            {
                ulong size;
                try
                {
                    size = Btf.BtfSpec.SizeOf(t);
                }
                catch (BpfObjectException)
                {
                    throw Fail(VerifierErrorCode.InvalidHelperArgument, $"unable to resolve the size of type '{t.Name}': -22");
                }
                r0 = RegState.Pointer(maybeNull ? RegType.RdonlyMemOrNull : RegType.RdonlyMem);
                r0.Range = (int)Math.Min(size, int.MaxValue);
            }
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(0, e);
        }
        if (maybeNull) r0.Id = NewId();
        return r0;
    }

    /// <summary>The index of a map definition (by value) among the program's maps, or -1.</summary>
    private int IndexOfMap(MapDefinition definition)
    {
        for (var i = 0; i < _o.Maps.Count; i++)
        {
            if (_o.Maps[i] == definition) return i;
        }
        return -1;
    }

    /// <summary>
    /// bpf_loop(nr, callback, ctx, flags): the callback is explored as a branch in a new frame (R1 the index, an
    /// unknown scalar; R2 the caller's R3), as the kernel's push_callback_call does; the caller continues after the
    /// call. When the callback exits, its path returns to the call instruction, which schedules another visit, until
    /// a visit is within an earlier one (see IsStateVisited) — so every number of iterations is covered.
    /// </summary>
    private void PushCallback(int pc, int start, int map)
    {
        if (_cur.CurFrame + 1 >= MaxCallFrames)
        {
            throw Fail(VerifierErrorCode.CallDepthExceeded, $"the call stack of {_cur.CurFrame + 2} frames is too deep");
        }
        var cb = _cur.Clone();
        var callee = new Frame { CallSite = pc, Subprog = _s.SubprogIndex(start) };
        if (_p[pc].Imm == Structure.ForEachMapElemHelperId)
        {
            // callback(map, key, value, ctx): the kernel's set_map_elem_callback_state.
            callee.Regs[1] = RegState.Pointer(RegType.MapPtr);
            callee.Regs[1].Map = map;
            callee.Regs[2] = RegState.Pointer(RegType.MapKey);
            callee.Regs[2].Map = map;
            callee.Regs[3] = RegState.Pointer(RegType.MapValue);
            callee.Regs[3].Map = map;
            callee.Regs[4] = F.Regs[3];
        }
        else
        {
            callee.Regs[1] = RegState.Unknown;
            callee.Regs[2] = F.Regs[3];
        }
        callee.Regs[10] = RegState.Pointer(RegType.Stack);
        callee.Regs[10].Frame = (byte)(cb.CurFrame + 1);
        cb.CurFrame++;
        cb.CallbackDepth++;
        cb.Frames[cb.CurFrame] = callee;
        cb.Insn = start;
        cb.Path = new PathNode(pc, start, _cur.Path, (_cur.Path?.Length ?? 0) + 1);
        PushBranch(cb);
    }

    /// <summary>True when the current frame is a callback's (its call site is a helper call, not a local call).</summary>
    private bool InCallback => _cur.CurFrame > 0 && _p[F.CallSite].SrcRaw == (byte)CallKind.Helper;

    /// <summary>A callback returns 0 or 1 (continue / stop); its path goes back to the helper call, the caller's
    /// frame as it was there, with scalars that changed since the previous visit widened.</summary>
    private bool DoCallbackExit()
    {
        ref var r0 = ref ReadReg(0);
        if (!r0.IsScalar) throw Fail(VerifierErrorCode.InvalidReturnValue, "R0 not a scalar value", 0);
        if (r0.V.SMin < 0 || r0.V.SMax > 1)
        {
            throw Fail(VerifierErrorCode.InvalidReturnValue,
                $"At callback return the register R0 has{ScalarRange(r0.V.SMin, r0.V.SMax)} should have been in [0, 1]", 0);
        }
        var site = F.CallSite;
        _cur.Frames[_cur.CurFrame] = null!;
        _cur.CurFrame--;
        _cur.Writable(_cur.CurFrame); // the caller's frame becomes the current one, which is never shared
        _cur.Insn = site;
        if (PreviousOnPath(site) is { } prev) Widen(prev.State, _cur, _need[site]);
        return false;
    }

    private const int SpinLockHelperId = 93, SpinUnlockHelperId = 94;

    /// <summary>
    /// bpf_spin_lock / bpf_spin_unlock (the kernel's process_spin_lock): the argument must point, at a constant
    /// offset, to the <c>struct bpf_spin_lock</c> the map's BTF declares; a path holds one lock at a time and
    /// releases it through a pointer to the same element (same map, same id).
    /// </summary>
    private void ProcessSpinLock(int r, in RegState reg, bool isLock)
    {
        if (!reg.V.IsConst)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} doesn't have constant offset. bpf_spin_lock has to be at the constant offset", r);
        }
        var m = _o.Maps[reg.Map];
        if (!m.HasBtf)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"map '{m.Name}' has to have BTF in order to use bpf_spin_lock", r);
        }
        if (!m.HasSpinLock)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"map '{m.Name}' has no valid bpf_spin_lock", r);
        }
        var off = (long)reg.V.ConstValue + reg.Off;
        if (off != m.SpinLockOffset)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"off {off} doesn't point to 'struct bpf_spin_lock' that is at {m.SpinLockOffset}", r);
        }
        if (isLock)
        {
            if (_cur.HoldsLock) throw Fail(VerifierErrorCode.InvalidHelperArgument, "Locking two bpf_spin_locks are not allowed", r);
            _cur.LockMap = reg.Map;
            _cur.LockId = reg.Id;
            return;
        }
        if (!_cur.HoldsLock) throw Fail(VerifierErrorCode.InvalidHelperArgument, "bpf_spin_unlock without taking a lock", r);
        if (_cur.LockMap != reg.Map || _cur.LockId != reg.Id)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, "bpf_spin_unlock of different lock", r);
        }
        _cur.LockMap = -1;
        _cur.LockId = 0;
    }

    /// <summary>The size argument of the last ringbuf reserve, captured before R2 was clobbered.</summary>
    private ulong ReservedSize => _reservedSize;

    private ulong _reservedSize;

    private bool Offered(HelperPrototype p)
    {
        var a = p.Availability;
        var tracing = IsTracingType(_o.ProgramType);
        if ((a & HelperAvailability.Base) != 0) return true;
        if ((a & HelperAvailability.BaseCapBpf) != 0 && _bpfCapable) return true;
        if ((a & HelperAvailability.BasePerfmon) != 0 && (_allowPtrLeaks || tracing)) return true;
        if (p.AlsoOfferedTo.Contains(_o.ProgramType)) return true;
        return _o.ProgramType switch
        {
            ProgramType.SocketFilter => (a & HelperAvailability.SocketFilter) != 0,
            ProgramType.SchedCls or ProgramType.SchedAct => (a & HelperAvailability.Tc) != 0,
            ProgramType.Xdp => (a & HelperAvailability.Xdp) != 0,
            _ when tracing => (a & HelperAvailability.Tracing) != 0
                && ((a & HelperAvailability.IteratorOnly) == 0 || (_o.ProgramType == ProgramType.Tracing && _o.ExpectedAttachType == AttachType.TraceIter))
                && ((a & HelperAvailability.ProbesOnly) == 0 || _o.ProgramType is ProgramType.Kprobe or ProgramType.Tracepoint or ProgramType.PerfEvent),
            ProgramType.CgroupSkb => (a & HelperAvailability.CgroupSkb) != 0,
            _ => false,
        };
    }

    /// <summary>The program types whose helpers include the kernel's bpf_tracing_func_proto (kprobe, tracepoint and
    /// perf event programs, raw tracepoints, BTF-typed tracing programs and LSM programs).</summary>
    private static bool IsTracingType(ProgramType type) => type is ProgramType.Kprobe or ProgramType.Tracepoint or ProgramType.PerfEvent
        or ProgramType.RawTracepoint or ProgramType.RawTracepointWritable or ProgramType.Tracing or ProgramType.Lsm;

    private VerifyFailure ArgType(int r, in RegState reg, string expected) =>
        Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} type={reg.TypeName} expected={expected}", r);

    private void CheckSizeArg(int r, in RegState reg, bool zeroAllowed)
    {
        if (reg.V.SMin < 0)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} min value is negative, either use unsigned or 'var &= const'", r);
        }
        if (reg.V.UMin == 0 && !zeroAllowed)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} invalid zero-sized read: u64=[{reg.V.UMin},{reg.V.UMax}]", r);
        }
        if (reg.V.UMax >= MaxVarOff)
        {
            throw Fail(VerifierErrorCode.UnboundedAccess, $"R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'", r);
        }
    }

    /// <summary>Checks that a helper may read (initialized) or write <paramref name="size"/> bytes at <paramref name="reg"/>.</summary>
    // sizeIsConst is false when the size comes from a register with a range: the kernel then turns off raw mode,
    // so without CAP_PERFMON even a buffer the helper only writes must be initialized.
    // alsoRead: the helper reads what it writes (MEM_WRITE without MEM_UNINIT), so the bytes must be initialized.
    private void CheckHelperMemory(int r, in RegState reg, long size, bool write, bool sizeIsConst = true, bool alsoRead = false)
    {
        switch (reg.Type)
        {
            case RegType.Stack:
            {
                var frame = write ? _cur.Writable(reg.Frame) : _cur.Frames[reg.Frame];
                if (reg.V.SMin <= -MaxVarOff || reg.V.SMax >= MaxVarOff)
                {
                    throw Fail(VerifierErrorCode.InvalidStackAccess, $"invalid unbounded variable-offset{(write ? " write to" : " read from")} stack R{r}", r);
                }
                var min = reg.Off + reg.V.SMin;
                var max = reg.Off + reg.V.SMax;
                if (min < -Frame.StackSize || max + size > 0 || size == 0 && min >= 0)
                {
                    // The kernel's check_stack_access_within_bounds: a variable offset is named with its tnum.
                    throw Fail(VerifierErrorCode.InvalidStackAccess, reg.V.IsConst
                        ? $"invalid {(write ? "write to" : "read from")} stack R{r} off={min} size={size}"
                        : $"invalid variable-offset {(write ? "write to" : "read from")} stack R{r} var_off={reg.V.T} off={reg.Off} size={size}", r);
                }
                if (!write && !_allowUninitStack && reg.V.IsConst && size > 0 && (int)min + Frame.StackSize < LowestWrittenSlot(frame))
                {
                    // Below the stack this state has written (the kernel's allocated_stack): out of bounds for a read.
                    throw Fail(VerifierErrorCode.InvalidStackAccess, $"invalid read from stack R{r} off={min} size={size}", r);
                }
                NoteStackDepth(reg.Frame, (int)min);
                var lo = (int)min + Frame.StackSize;
                var hi = (int)(max + size) + Frame.StackSize;
                if (write)
                {
                    if ((alsoRead || !reg.V.IsConst || !sizeIsConst) && !_allowUninitStack)
                    {
                        CheckStackInitialized(r, frame, lo, hi, allowSpilledPointers: false);
                    }
                    for (var b = lo; b < hi; b++)
                    {
                        if (frame.Bytes[b] == SlotType.Spill)
                        {
                            var slot = b / 8;
                            for (var i = 0; i < 8; i++)
                            {
                                if (frame.Bytes[slot * 8 + i] == SlotType.Spill) frame.WritableBytes[slot * 8 + i] = SlotType.Misc;
                            }
                        }
                        frame.WritableBytes[b] = SlotType.Misc;
                    }
                }
                else
                {
                    CheckStackInitialized(r, frame, lo, hi, allowSpilledPointers: false);
                }
                return;
            }
            case RegType.MapValue:
            {
                var m = _o.Maps[reg.Map];
                CheckMapAccessType(r, reg, 0, (int)Math.Min(size, int.MaxValue), write);
                CheckRegionAccess(r, reg, 0, size, m.ValueSize, VerifierErrorCode.MapValueOutOfBounds, "map value");
                CheckMapValueFields(r, reg, 0, size, m);
                return;
            }
            case RegType.Mem:
                CheckRegionAccess(r, reg, 0, size, reg.Range, VerifierErrorCode.MemoryOutOfBounds, "memory");
                return;
            case RegType.RdonlyMem:
                if (write) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{r} cannot write into {reg.TypeName}", r);
                CheckRegionAccess(r, reg, 0, size, reg.Range, VerifierErrorCode.MemoryOutOfBounds, "memory");
                return;
            case RegType.MapKey:
                if (write) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{r} cannot write into {reg.TypeName}", r);
                CheckRegionAccess(r, reg, 0, size, _o.Maps[reg.Map].KeySize, VerifierErrorCode.MapValueOutOfBounds, "map key");
                return;
            case RegType.Packet:
            case RegType.PacketMeta:
            {
                var off = (long)reg.Off;
                if (reg.V.SMin < 0 || off < 0 || off + size > reg.Range)
                {
                    throw Fail(VerifierErrorCode.PacketOutOfBounds, $"invalid access to packet, off={off} size={size}, R{r}(id={reg.Id},off={reg.Off},r={reg.Range})", r);
                }
                ContextLayouts.PacketAccess(_o.ProgramType, out var writable);
                if (write && !writable)
                {
                    throw Fail(VerifierErrorCode.PacketOutOfBounds, $"R{r} cannot write into pkt", r);
                }
                return;
            }
            default:
                throw ArgType(r, reg, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        }
    }

    /// <summary>The kernel's check_func_arg: a packet pointer reaches only helpers marked pkt_access, in any argument
    /// but an "anything" one, refused before the argument's kind is checked.</summary>
    private void RequirePacketAccess(HelperPrototype proto, int r, in RegState reg)
    {
        if (reg.Type is RegType.Packet or RegType.PacketMeta && !proto.PacketAccess)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, "helper access to the packet is not allowed", r);
        }
    }

    /// <summary>The key when it is a constant spilled or zeroed on the stack (lets array lookups skip the null check).</summary>
    private long ConstStackKey(in RegState reg, int size)
    {
        if (reg.Type != RegType.Stack || !reg.V.IsConst || size != 4) return -1;
        var frame = _cur.Frames[reg.Frame];
        var b = reg.Off + (int)reg.V.ConstValue + Frame.StackSize;
        if (b < 0 || b + size > Frame.StackSize) return -1;
        if (b % 8 == 0 && frame.Bytes[b] == SlotType.Spill)
        {
            // Only a spill of exactly the key's width counts as a constant key.
            if (frame.Bytes[b + size - 1] != SlotType.Spill || (size < 8 && frame.Bytes[b + size] == SlotType.Spill)) return -1;
            var spill = frame.Spill(b / 8);
            if (spill.IsScalar && spill.V.IsConst) return (long)(uint)spill.V.ConstValue;
            return -1;
        }
        for (var i = 0; i < size; i++)
        {
            if (frame.Bytes[b + i] != SlotType.Zero) return -1;
        }
        return 0;
    }

    /// <summary>The kernel's check_map_func_compatibility: a map type usable only with its own helpers (the map's
    /// side), then a helper usable only with its own map types (the helper's side).</summary>
    private void CheckMapCompatible(HelperPrototype p, MapDefinition m)
    {
        var mapSide = m.Type switch
        {
            MapType.ProgArray => p.Name == "tail_call",
            MapType.PerfEventArray => p.Name == "perf_event_output",
            MapType.RingBuf => p.Name is "ringbuf_output" or "ringbuf_reserve" or "ringbuf_query",
            // Their helpers (get_stackid; skb_under_cgroup, current_task_under_cgroup) are not in the table.
            MapType.StackTrace or MapType.CgroupArray => false,
            MapType.DevMap or MapType.DevMapHash or MapType.XskMap => p.Name is "redirect_map" or "map_lookup_elem",
            MapType.CpuMap => p.Name == "redirect_map",
            MapType.ArrayOfMaps or MapType.HashOfMaps => p.Name == "map_lookup_elem",
            MapType.Queue or MapType.Stack => p.Name is "map_push_elem" or "map_pop_elem" or "map_peek_elem",
            MapType.BloomFilter => p.Name is "map_push_elem" or "map_peek_elem",
            _ => true,
        };
        var helperSide = p.Name switch
        {
            "tail_call" => m.Type == MapType.ProgArray,
            "for_each_map_elem" => m.Type is MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.Array or MapType.PerCpuArray,
            "perf_event_output" => m.Type == MapType.PerfEventArray,
            "ringbuf_output" or "ringbuf_reserve" or "ringbuf_query" => m.Type == MapType.RingBuf,
            "map_push_elem" or "map_peek_elem" => m.Type is MapType.Queue or MapType.Stack or MapType.BloomFilter,
            "map_pop_elem" => m.Type is MapType.Queue or MapType.Stack,
            "redirect_map" => m.Type is MapType.DevMap or MapType.DevMapHash or MapType.CpuMap or MapType.XskMap,
            _ => true,
        };
        if (mapSide && helperSide) return;
        if (p.Name == "tail_call") throw Fail(VerifierErrorCode.InvalidMap, "expected prog array map for tail call");
        // for_each sets up its callback first, refusing a map without a for_each iterator.
        if (p.Name == "for_each_map_elem") throw Fail(VerifierErrorCode.InvalidMap, "callback function not allowed for map");
        throw Fail(VerifierErrorCode.InvalidMap, $"cannot pass map_type {(int)m.Type} into func bpf_{p.Name}#{p.Id}");
    }

    /// <summary>The kernel's record_func_map: a map read-only for programs (BPF_F_RDONLY_PROG, which the kernel sets on
    /// every devmap) may not be changed by a helper.</summary>
    private void CheckMapWritableByHelper(HelperPrototype p, MapDefinition m)
    {
        var readOnly = (m.Flags & MapFlags.ReadOnlyProgram) != 0 || m.Type is MapType.DevMap or MapType.DevMapHash;
        if (readOnly && p.Name is "map_update_elem" or "map_delete_elem" or "map_push_elem" or "map_pop_elem")
        {
            throw Fail(VerifierErrorCode.InvalidMap, "write into map forbidden");
        }
    }

    private void ReleaseReference(int refId)
    {
        var removed = _cur.Refs?.RemoveAll(x => x.Id == refId) ?? 0;
        if (removed == 0) throw Fail(VerifierErrorCode.UnreleasedReference, $"release of reference id={refId} that is not held");
        // The kernel's mark_reg_invalid: unreadable without CAP_PERFMON, an unknown scalar with it.
        var invalid = _allowPtrLeaks ? RegState.Unknown : default;
        ForEachReg(_cur, (ref RegState r) =>
        {
            if (r.RefId == refId) r = invalid;
        });
    }
}
