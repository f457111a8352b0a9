namespace Bpf.Verifier.Internal;

internal sealed partial class Checker
{
    private void DoLoad(Instruction insn)
    {
        int s = insn.SrcRaw, d = insn.DstRaw;
        var src = ReadReg(s);
        CheckWritable(d);
        var size = Opcodes.Bytes(insn.Size);
        var value = Access(s, src, insn.Offset, size, write: false, value: default, valueReg: -1);
        if (value.IsScalar)
        {
            // A stack fill has applied the fill's rules (its link kept only when the value fits); a load that changes
            // the value (narrowed, sign-extended) is a new value.
            var loaded = insn.Mode == MemMode.MemSx ? value.V.SignExtend(size) : value.V.Truncate(size);
            if (!loaded.SameAs(value.V)) value.Id = 0;
            value.V = loaded;
        }
        else if (insn.Mode == MemMode.MemSx)
        {
            // A context field that holds a pointer (data, data_end, data_meta) has no sign-extending load.
            if (src.Type == RegType.Ctx)
            {
                throw Fail(VerifierErrorCode.InvalidContextAccess, $"invalid bpf_context access off={insn.Offset} size={size}", s);
            }
            value = RegState.Unknown;
        }
        F.Regs[d] = value;
    }

    private void DoStore(Instruction insn, bool imm)
    {
        int d = insn.DstRaw;
        var dst = ReadReg(d);
        RegState value;
        var valueReg = -1;
        if (imm)
        {
            value = RegState.Known((ulong)(long)insn.Imm);
        }
        else
        {
            valueReg = insn.SrcRaw;
            value = ReadReg(valueReg);
        }
        Access(d, dst, insn.Offset, Opcodes.Bytes(insn.Size), write: true, value, valueReg, isStImm: imm);
    }

    /// <summary>load-acquire: dst = *(src + off), zero-extended; the kernel refuses it on context, packet and
    /// socket pointers and checks alignment strictly, as for every atomic.</summary>
    private void DoLoadAcquire(Instruction insn)
    {
        int s = insn.SrcRaw, d = insn.DstRaw;
        var src = ReadReg(s);
        CheckWritable(d);
        if (!AtomicPointerOk(src)) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"BPF_ATOMIC loads from R{s} {src.TypeName} is not allowed", s);
        var size = Opcodes.Bytes(insn.Size);
        CheckAtomicAlignment(s, src, insn.Offset, size);
        var value = Access(s, src, insn.Offset, size, write: false, value: default, valueReg: -1);
        if (value.IsScalar)
        {
            // As DoLoad: a fill's link survives only an unchanged value.
            var truncated = value.V.Truncate(size);
            if (!truncated.SameAs(value.V)) value.Id = 0;
            value.V = truncated;
        }
        F.Regs[d] = value;
    }

    /// <summary>store-release: *(dst + off) = src, checked as a register store plus the atomic rules.</summary>
    private void DoStoreRelease(Instruction insn)
    {
        int d = insn.DstRaw, s = insn.SrcRaw;
        var value = ReadReg(s);
        var dst = ReadReg(d);
        var size = Opcodes.Bytes(insn.Size);
        CheckAtomicAlignment(d, dst, insn.Offset, size);
        Access(d, dst, insn.Offset, size, write: true, value, s);
        if (!AtomicPointerOk(dst)) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"BPF_ATOMIC stores into R{d} {dst.TypeName} is not allowed", d);
    }

    /// <summary>The kernel's atomic_ptr_type_ok: no atomics through context, packet or socket pointers.</summary>
    private static bool AtomicPointerOk(in RegState r) =>
        r.Type is not (RegType.Ctx or RegType.Packet or RegType.PacketMeta or RegType.PacketEnd or RegType.SockCommonOrNull);

    /// <summary>Atomics demand natural alignment of every possible address (the kernel's strict alignment),
    /// including a variable offset whose low bits are not known to be zero.</summary>
    /// <remarks>The kernel's check_ptr_alignment with strict set: a packet's address counts NET_IP_ALIGN (2); the
    /// stack's alignment, always strict, is checked by the access itself.</remarks>
    private void CheckAtomicAlignment(int regno, in RegState reg, int insnOff, int size)
    {
        if (size == 1 || !reg.IsPointer || reg.Type == RegType.Stack) return;
        var packet = reg.Type is RegType.Packet or RegType.PacketMeta;
        var t = reg.V.T + Tnum.Const((ulong)(long)((packet ? 2 : 0) + reg.Off + insnOff));
        if (((t.Value | t.Mask) & (ulong)(size - 1)) == 0) return;
        if (packet)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"misaligned packet access off 2+{reg.V.T}+{reg.Off}+{insnOff} size {size}", regno);
        }
        var desc = reg.Type switch { RegType.MapValue => "value ", RegType.MapKey => "key ", RegType.Ctx => "context ", _ => "" };
        throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"misaligned {desc}access off {reg.V.T}+{reg.Off}+{insnOff} size {size}", regno);
    }

    private void DoAtomic(Instruction insn)
    {
        int d = insn.DstRaw, s = insn.SrcRaw;
        var op = (AtomicOp)insn.Imm;
        var src = ReadReg(s);
        var dst = ReadReg(d);
        if (op == AtomicOp.CmpXchg)
        {
            var r0 = ReadReg(0);
            if (IsLeakyPointer(r0)) throw Fail(VerifierErrorCode.PointerLeak, "R0 leaks addr into mem", 0);
        }
        if (IsLeakyPointer(src)) throw Fail(VerifierErrorCode.PointerLeak, $"R{s} leaks addr into mem", s);
        // The kernel's atomic_ptr_type_ok refuses context, packet and socket pointers; any other destination is
        // judged by the read and the write below (a map pointer, a kernel object or read-only memory refuse the write).
        if (!AtomicPointerOk(dst)) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"BPF_ATOMIC stores into R{d} {dst.TypeName} is not allowed", d);
        var size = Opcodes.Bytes(insn.Size);
        CheckAtomicAlignment(d, dst, insn.Offset, size);
        var old = Access(d, dst, insn.Offset, size, write: false, value: default, valueReg: -1);
        if (old.IsPointer && !_allowPtrLeaks)
        {
            // The kernel's stack read asked whether a spilled pointer may be used as a scalar (check_stack_read_fixed_off).
            throw Fail(VerifierErrorCode.PointerLeak, dst.Type == RegType.Stack ? $"leaking pointer from stack off {dst.Off + insn.Offset}" : $"R{d} leaks addr into mem", d);
        }
        Access(d, dst, insn.Offset, size, write: true, RegState.Unknown, -1);
        var fetched = RegState.OfScalar(size == 4 ? Scalar.Unknown.Zext32() : Scalar.Unknown);
        var fetch = ((int)op & 0x01) != 0;
        if (op == AtomicOp.CmpXchg)
        {
            F.Regs[0] = fetched;
        }
        else if (fetch)
        {
            CheckWritable(s);
            F.Regs[s] = fetched;
        }
    }

    /// <summary>Checks a load or store through <paramref name="reg"/>; returns the loaded value for loads.</summary>
    private RegState Access(int regno, in RegState reg, int insnOff, int size, bool write, in RegState value, int valueReg, bool isStImm = false)
    {
        var leaks = write && valueReg >= 0 && IsLeakyPointer(value);
        switch (reg.Type)
        {
            case RegType.Stack:
                return StackAccess(regno, reg, insnOff, size, write, value, valueReg, isStImm);

            case RegType.MapValue:
            {
                if (leaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{valueReg} leaks addr into map", valueReg);
                CheckMapAccessType(regno, reg, insnOff, size, write);
                var map = _o.Maps[reg.Map];
                CheckRegionAccess(regno, reg, insnOff, size, map.ValueSize, VerifierErrorCode.MapValueOutOfBounds, "map value");
                CheckMapValueFields(regno, reg, insnOff, size, map);
                return RegState.Unknown;
            }

            case RegType.MapKey:
                if (write) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"write to change key R{regno} not allowed", regno);
                CheckRegionAccess(regno, reg, insnOff, size, _o.Maps[reg.Map].KeySize, VerifierErrorCode.MapValueOutOfBounds, "map key");
                return RegState.Unknown;

            case RegType.Mem:
                if (leaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{valueReg} leaks addr into mem", valueReg);
                CheckRegionAccess(regno, reg, insnOff, size, reg.Range, VerifierErrorCode.MemoryOutOfBounds, "memory");
                return RegState.Unknown;

            case RegType.RdonlyMem:
                if (write) throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} cannot write into {reg.TypeName}", regno);
                CheckRegionAccess(regno, reg, insnOff, size, reg.Range, VerifierErrorCode.MemoryOutOfBounds, "memory");
                return RegState.Unknown;

            case RegType.Ctx:
            {
                RequireUnmovedContext(regno, reg, VerifierErrorCode.InvalidContextAccess);
                if (leaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{valueReg} leaks addr into ctx", valueReg);
                if (HasBtfContext) return BtfContextAccess(regno, insnOff, size, write);
                if (!ContextLayouts.TryAccess(_o.ProgramType, insnOff, size, write, _bpfCapable, out var loadType))
                {
                    throw Fail(VerifierErrorCode.InvalidContextAccess, $"invalid bpf_context access off={insnOff} size={size}", regno);
                }
                if (write) return default;
                if (loadType == RegType.Scalar) return RegState.Unknown;
                var p = RegState.Pointer(loadType);
                if (loadType == RegType.SockCommonOrNull) p.Id = NewId();
                return p;
            }

            case RegType.Packet:
            case RegType.PacketMeta:
            {
                if (!ContextLayouts.PacketAccess(_o.ProgramType, out var writable))
                {
                    throw Fail(VerifierErrorCode.PacketOutOfBounds, $"R{regno} invalid mem access '{reg.TypeName}'", regno);
                }
                if (write && !writable) throw Fail(VerifierErrorCode.PacketOutOfBounds, "cannot write into packet", regno);
                if (leaks) throw Fail(VerifierErrorCode.PointerLeak, $"R{valueReg} leaks addr into packet", valueReg);
                if (reg.V.SMin < 0)
                {
                    throw Fail(VerifierErrorCode.UnboundedAccess,
                        $"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.", regno);
                }
                var off = (long)reg.Off + insnOff;
                if (off < 0 || off + size > reg.Range)
                {
                    // A pointer at or beyond data_end (a negative range) is refused without the first line.
                    throw Fail(VerifierErrorCode.PacketOutOfBounds, reg.Range < 0 ? $"R{regno} offset is outside of the packet" :
                        $"invalid access to packet, off={off} size={size}, R{regno}(id={reg.Id},off={off},r={reg.Range})\nR{regno} offset is outside of the packet", regno);
                }
                return RegState.Unknown;
            }

            case RegType.MapPtr:
                return MapPointerAccess(regno, reg, insnOff, size, write);

            case RegType.BtfPointer:
                return BtfPointerAccess(regno, reg, insnOff, size, write);

            case RegType.NotInit:
                throw Fail(VerifierErrorCode.UninitializedRegister, $"R{regno} !read_ok", regno);

            default:
                throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} invalid mem access '{reg.TypeName}'", regno);
        }
    }

    /// <summary>Maps created with BPF_F_RDONLY_PROG (BPF_F_WRONLY_PROG) may not be written (read) by programs.</summary>
    private void CheckMapAccessType(int regno, in RegState reg, int insnOff, int size, bool write)
    {
        var m = _o.Maps[reg.Map];
        var forbidden = write ? MapFlags.ReadOnlyProgram : MapFlags.WriteOnlyProgram;
        if ((m.Flags & forbidden) == 0) return;
        throw Fail(VerifierErrorCode.InvalidMemoryAccess,
            $"{(write ? "write into" : "read from")} map forbidden, value_size={m.ValueSize} off={reg.V.SMin + reg.Off + insnOff} size={size}", regno);
    }

    /// <summary>The kernel's check_map_access after the bounds: no byte any possible access touches may belong to the
    /// value's bpf_spin_lock (loads, stores, atomics and helper memory alike).</summary>
    private void CheckMapValueFields(int regno, in RegState reg, long insnOff, long size, MapDefinition map)
    {
        if (!map.HasSpinLock) return;
        var off = reg.Off + insnOff;
        var p = (long)map.SpinLockOffset;
        if (reg.V.SMin + off < p + MapDefinition.SpinLockSize && p < (long)Math.Min(reg.V.UMax, long.MaxValue / 4) + off + size)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, "bpf_spin_lock cannot be accessed directly by load/store", regno);
        }
    }

    /// <summary>Bounds check for map values and memory regions: every byte of every possible access must be inside.</summary>
    private void CheckRegionAccess(int regno, in RegState reg, long insnOff, long size, int regionSize, VerifierErrorCode code, string what)
    {
        string message(long at) => what switch
        {
            "map value" => $"invalid access to map value, value_size={regionSize} off={at} size={size}",
            "map key" => $"invalid access to map key, key_size={regionSize} off={at} size={size}",
            _ => $"invalid access to memory, mem_size={regionSize} off={at} size={size}",
        };
        var off = reg.Off + insnOff;
        if (reg.V.SMin < 0 && !(reg.V.IsConst))
        {
            throw Fail(VerifierErrorCode.UnboundedAccess,
                $"R{regno} min value is negative, either use unsigned index or do a if (index >=0) check.", regno);
        }
        var min = off + (reg.V.IsConst ? (long)reg.V.ConstValue : reg.V.SMin);
        if (min < 0 || min + size > regionSize)
        {
            throw Fail(code, message(min), regno);
        }
        if (reg.V.IsConst) return;
        if (reg.V.UMax >= MaxVarOff)
        {
            throw Fail(VerifierErrorCode.UnboundedAccess, $"R{regno} unbounded memory access, make sure to bounds check any such access", regno);
        }
        var max = off + (long)reg.V.UMax;
        if (max + size > regionSize)
        {
            throw Fail(code, message(max) + $"\nR{regno} max value is outside of the allowed memory range", regno);
        }
    }

    // ---- stack ------------------------------------------------------------------------------------------

    private RegState StackAccess(int regno, in RegState reg, int insnOff, int size, bool write, in RegState value, int valueReg, bool isStImm)
    {
        var frame = write ? _cur.Writable(reg.Frame) : _cur.Frames[reg.Frame];
        if (!reg.V.IsConst)
        {
            return StackAccessVar(regno, reg, frame, insnOff, size, write, value, valueReg, isStImm);
        }
        var off = (long)reg.Off + insnOff + (long)reg.V.ConstValue;
        // The kernel's order: alignment (check_ptr_alignment, strict for the stack) before bounds.
        if (off % size != 0)
        {
            throw Fail(VerifierErrorCode.InvalidStackAccess, $"misaligned stack access off {reg.V.T}+{reg.Off}+{insnOff} size {size}", regno);
        }
        if (off < -Frame.StackSize || off + size > 0)
        {
            throw Fail(VerifierErrorCode.InvalidStackAccess,
                $"invalid {(write ? "write to" : "read from")} stack R{regno} off={off} size={size}", regno);
        }
        NoteStackDepth(reg.Frame, (int)off);
        var b = (int)off + Frame.StackSize;
        return write ? StackWrite(frame, reg.Frame, b, size, value, valueReg, isStImm) : StackRead(regno, frame, b, size);
    }

    private RegState StackWrite(Frame frame, int frameNo, int b, int size, in RegState value, int valueReg, bool isStImm)
    {
        var slot = b / 8;
        if (!_allowPtrLeaks && size != 8 && frame.Bytes[slot * 8] == SlotType.Spill && frame.Spill(slot).IsPointer)
        {
            throw Fail(VerifierErrorCode.PointerLeak, "attempt to corrupt spilled pointer on stack");
        }
        var aligned = b % 8 == 0;
        var hasValue = valueReg >= 0 || isStImm;
        if (hasValue && value.IsPointer)
        {
            if (size != 8) throw Fail(VerifierErrorCode.InvalidStackAccess, "invalid size of register spill", valueReg);
            if (value.Type == RegType.Stack && frameNo != _cur.CurFrame && value.Frame == _cur.CurFrame)
            {
                throw Fail(VerifierErrorCode.InvalidStackAccess, "cannot spill pointers to stack into stack frame of the caller", valueReg);
            }
            SaveSpill(frame, slot, value, 8);
            return default;
        }
        if (hasValue && aligned && _bpfCapable && value.IsScalar)
        {
            var v = value;
            if (valueReg >= 0 && FitsIn(value, size) && value.Id == 0 && !value.V.IsConst)
            {
                // The kernel gives the register an id before spilling it (assign_scalar_id_before_mov), so the
                // spilled copy stays linked to it: bounding a fill of it bounds the register too.
                v.Id = NewId();
                F.Regs[valueReg].Id = v.Id;
            }
            if (size < 8)
            {
                v.V = v.V.Truncate(size);
                if (!value.V.SameAs(v.V)) v.Id = 0;
            }
            SaveSpill(frame, slot, v, size);
            return default;
        }
        // Plain data: destroys any spill in the slot.
        if (frame.Bytes[slot * 8] == SlotType.Spill)
        {
            for (var i = 0; i < 8; i++)
            {
                if (frame.Bytes[slot * 8 + i] != SlotType.Invalid) frame.WritableBytes[slot * 8 + i] = SlotType.Misc;
            }
            frame.Spill(slot) = default;
        }
        var type = hasValue && value.IsScalar && value.V.IsZero ? SlotType.Zero : SlotType.Misc;
        for (var i = 0; i < size; i++) frame.WritableBytes[b + i] = type;
        return default;
    }

    private void SaveSpill(Frame frame, int slot, in RegState value, int size)
    {
        frame.Spill(slot) = value;
        for (var i = 0; i < 8; i++)
        {
            ref var t = ref frame.WritableBytes[slot * 8 + i];
            if (i < size) t = SlotType.Spill;
            else if (t == SlotType.Spill) t = SlotType.Misc;
        }
    }

    /// <summary>Whether a scalar's value fits in <paramref name="size"/> bytes (its unsigned maximum's bit width).</summary>
    private static bool FitsIn(in RegState r, int size) => size >= 8 || r.V.UMax >> (size * 8) == 0;

    private RegState StackRead(int regno, Frame frame, int b, int size)
    {
        var slot = b / 8;
        if (frame.Bytes[slot * 8] == SlotType.Spill)
        {
            var spill = frame.Spill(slot);
            var spillSize = 0;
            while (spillSize < 8 && frame.Bytes[slot * 8 + spillSize] == SlotType.Spill) spillSize++;
            if (size == 8 && spillSize == 8) return spill;
            if (spill.IsPointer) throw Fail(VerifierErrorCode.InvalidStackAccess, "invalid size of register fill");
            if (size <= spillSize && b % 8 == 0)
            {
                var r = spill;
                r.V = r.V.Truncate(size);
                // A narrower fill stays linked only when the spilled value fits in it (the kernel's get_reg_width).
                if (size < spillSize && !FitsIn(spill, size)) r.Id = 0;
                return r;
            }
        }
        var zeros = 0;
        for (var i = 0; i < size; i++)
        {
            var t = frame.Bytes[b + i];
            if (t == SlotType.Zero) zeros++;
            else if (t == SlotType.Invalid && !_allowUninitStack)
            {
                // Without CAP_PERFMON the kernel bounds reads by the stack the state has written (allocated_stack,
                // whole 8-byte slots, never shrinking): below it the access is out of bounds; above, a byte unwritten.
                if (b < LowestWrittenSlot(frame))
                {
                    throw Fail(VerifierErrorCode.InvalidStackAccess, $"invalid read from stack R{regno} off={b - Frame.StackSize} size={size}", regno);
                }
                throw Fail(VerifierErrorCode.InvalidStackAccess, $"invalid read from stack off {b - Frame.StackSize}+{i} size {size}");
            }
            else if (t == SlotType.Spill && frame.Spill(slot).IsZero()) zeros++;
        }
        return zeros == size ? RegState.Known(0) : RegState.Unknown;
    }

    private RegState StackAccessVar(int regno, in RegState reg, Frame frame, int insnOff, int size, bool write, in RegState value, int valueReg, bool isStImm)
    {
        var t = reg.V.T + Tnum.Const((ulong)(long)(reg.Off + insnOff));
        if (((t.Value | t.Mask) & (ulong)(size - 1)) != 0)
        {
            throw Fail(VerifierErrorCode.InvalidStackAccess, $"misaligned stack access off {reg.V.T}+{reg.Off}+{insnOff} size {size}", regno);
        }
        if (reg.V.SMin <= -MaxVarOff || reg.V.SMax >= MaxVarOff)
        {
            throw Fail(VerifierErrorCode.InvalidStackAccess, $"invalid unbounded variable-offset {(write ? "write to" : "read from")} stack R{regno}", regno);
        }
        var min = reg.Off + insnOff + reg.V.SMin;
        var max = reg.Off + insnOff + reg.V.SMax;
        if (min < -Frame.StackSize || max + size > 0)
        {
            throw Fail(VerifierErrorCode.InvalidStackAccess,
                $"invalid variable-offset {(write ? "write to" : "read from")} stack R{regno} var_off={reg.V.T} off={reg.Off + insnOff} size={size}", regno);
        }
        NoteStackDepth(reg.Frame, (int)min);
        var lo = (int)min + Frame.StackSize;
        var hi = (int)max + size + Frame.StackSize;
        // A variable stack offset exists only with CAP_PERFMON (CheckSpeculativePointer refuses it otherwise), which
        // also lets pointers leak and uninitialized stack be read: the kernel's checks for those in
        // check_stack_write_var_off and check_stack_range_initialized never refuse here, so they are not written.
        if (write)
        {
            var zero = (valueReg >= 0 || isStImm) && value.IsScalar && value.V.IsZero;
            for (var b = lo; b < hi; b++)
            {
                var st = frame.Bytes[b];
                if (st == SlotType.Spill)
                {
                    var slot = b / 8;
                    // A zero that may land on a spilled scalar 0 leaves the spill as it is (the kernel's writing_zero
                    // in check_stack_write_var_off): the slot still reads back as the constant 0.
                    if (zero && frame.Bytes[slot * 8] == SlotType.Spill && frame.Spill(slot).IsScalar && frame.Spill(slot).IsZero()) continue;
                    for (var i = 0; i < 8; i++)
                    {
                        if (frame.Bytes[slot * 8 + i] == SlotType.Spill) frame.WritableBytes[slot * 8 + i] = SlotType.Misc;
                    }
                    st = SlotType.Misc;
                }
                frame.WritableBytes[b] = zero && st == SlotType.Zero ? SlotType.Zero : SlotType.Misc;
            }
            return default;
        }
        return RegState.Unknown;
    }

    /// <summary>The first byte (frame index) of the lowest 8-byte slot this state has written in the frame: the kernel's
    /// allocated_stack, which only writes grow (without CAP_PERFMON, reads below it are out of bounds).</summary>
    private static int LowestWrittenSlot(Frame frame)
    {
        var lowest = frame.Bytes.IndexOfAnyExcept(SlotType.Invalid);
        return lowest < 0 ? Frame.StackSize : lowest / 8 * 8;
    }

    /// <summary>Every byte in [lo, hi) (frame byte indexes) must hold data (uninitialized bytes only when allowed).</summary>
    private void CheckStackInitialized(int regno, Frame frame, int lo, int hi, bool allowSpilledPointers)
    {
        for (var b = lo; b < hi; b++)
        {
            var t = frame.Bytes[b];
            if (t is SlotType.Misc or SlotType.Zero) continue;
            if (t == SlotType.Spill)
            {
                // A spilled pointer is readable by a helper only where pointers may leak (check_stack_range_initialized
                // refuses it as it refuses uninitialized bytes).
                if (!frame.Spill(b / 8).IsPointer || _allowPtrLeaks || allowSpilledPointers) continue;
            }
            else if (_allowUninitStack) continue;
            throw Fail(VerifierErrorCode.InvalidStackAccess,
                $"invalid read from stack R{regno} off {lo - Frame.StackSize}+{b - lo} size {hi - lo}", regno);
        }
    }

    /// <summary>
    /// A context pointer must be the one the program got: the kernel's <c>__check_ptr_off_reg</c> for a context
    /// access or a context argument, refusing in its order a negative fixed offset, any fixed offset, then a variable one.
    /// </summary>
    private void RequireUnmovedContext(int regno, in RegState reg, VerifierErrorCode code)
    {
        if (reg.Off == 0 && reg.V.IsZero) return;
        var fixedOff = reg.V.IsConst ? reg.Off + (long)reg.V.ConstValue : reg.Off;
        if (fixedOff < 0) throw Fail(code, $"negative offset ctx ptr R{regno} off={fixedOff} disallowed", regno);
        if (fixedOff != 0) throw Fail(code, $"dereference of modified ctx ptr R{regno} off={fixedOff} disallowed", regno);
        throw Fail(code, $"variable ctx access var_off={reg.V.T} disallowed", regno);
    }
}
