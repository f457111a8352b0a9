using System.Buffers.Binary;
using System.Text;

namespace Bpf.Runtime;

/// <summary>
/// The kernel helpers of the managed runtime, registered into a collection's <see cref="HelperRegistry"/>.
/// Each reads the run in progress (<see cref="RunState"/>) for the collection, the CPU and the context, and
/// touches program memory only through <see cref="HelperContext.TryGetMemory"/>.
/// </summary>
internal static class RuntimeHelpers
{
    private const ulong EFAULT = unchecked((ulong)-14L), EINVAL = unchecked((ulong)-22L), ENOENT = unchecked((ulong)-2L);
    private const int MaxTailCalls = 33; // MAX_TAIL_CALL_CNT

    public static void RegisterAll(HelperRegistry registry)
    {
        void Add(int id, HelperFunction f) => registry.Register(id, BpfHelperIds.NameOf(id), f);
        Add(BpfHelperIds.MapLookupElem, MapLookup);
        Add(BpfHelperIds.MapUpdateElem, MapUpdate);
        Add(BpfHelperIds.MapDeleteElem, MapDelete);
        Add(BpfHelperIds.MapPushElem, MapPush);
        Add(BpfHelperIds.MapPopElem, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => MapTake(ref c, r1, r2, remove: true));
        Add(BpfHelperIds.MapPeekElem, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => MapTake(ref c, r1, r2, remove: false));
        Add(BpfHelperIds.SpinLock, SpinLock);
        Add(BpfHelperIds.SpinUnlock, SpinUnlock);
        Add(BpfHelperIds.KtimeGetNs, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => State(ref c)?.Collection.Environment.MonotonicNanoseconds() ?? 0);
        Add(BpfHelperIds.KtimeGetBootNs, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) =>
            State(ref c)?.Collection.Environment is { } e ? (e.BootNanoseconds ?? e.MonotonicNanoseconds)() : 0);
        Add(BpfHelperIds.GetPrandomU32, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => State(ref c)?.Collection.Environment.NextRandom() ?? 0);
        Add(BpfHelperIds.GetSmpProcessorId, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => (ulong)(State(ref c)?.Cpu ?? 0));
        Add(BpfHelperIds.GetCurrentPidTgid, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => State(ref c)?.Collection.Environment.PidTgid ?? 0);
        Add(BpfHelperIds.GetCurrentUidGid, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => State(ref c)?.Collection.Environment.UidGid ?? 0);
        Add(BpfHelperIds.GetCurrentComm, GetCurrentComm);
        Add(BpfHelperIds.GetCurrentTask, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => State(ref c)?.Collection.Environment.CurrentTask ?? 0);
        Add(BpfHelperIds.TracePrintk, TracePrintk);
        Add(BpfHelperIds.TraceVprintk, TraceVprintk);
        Add(BpfHelperIds.GetAttachCookie, GetAttachCookie);
        Add(BpfHelperIds.GetNsCurrentPidTgid, GetNsCurrentPidTgid);
        Add(BpfHelperIds.GetStack, GetStack);
        Add(BpfHelperIds.TailCall, TailCall);
        Add(BpfHelperIds.ProbeRead, ProbeReadFails);
        Add(BpfHelperIds.ProbeReadKernel, ProbeReadFails);
        Add(BpfHelperIds.ProbeReadStr, ProbeReadFails);
        Add(BpfHelperIds.ProbeReadUser, ProbeReadFails);
        Add(BpfHelperIds.ProbeReadKernelStr, ProbeReadFails);
        Add(BpfHelperIds.ProbeReadUserStr, ProbeReadFails);
        Add(BpfHelperIds.RingbufOutput, RingbufOutput);
        Add(BpfHelperIds.RingbufReserve, RingbufReserve);
        Add(BpfHelperIds.RingbufSubmit, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => RingbufCommit(ref c, r1, discard: false));
        Add(BpfHelperIds.RingbufDiscard, (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => RingbufCommit(ref c, r1, discard: true));
        Add(BpfHelperIds.RingbufQuery, RingbufQuery);
        Add(BpfHelperIds.XdpAdjustHead, XdpAdjustHead);
        Add(BpfHelperIds.XdpAdjustTail, XdpAdjustTail);
        Add(BpfHelperIds.XdpAdjustMeta, XdpAdjustMeta);
        Add(BpfHelperIds.Redirect, Redirect);
        Add(BpfHelperIds.RedirectMap, RedirectMap);
        Add(BpfHelperIds.SkbLoadBytes, SkbLoadBytes);
        Add(BpfHelperIds.SkbStoreBytes, SkbStoreBytes);
        Add(BpfHelperIds.SkbPullData, SkbPullData);
        Add(BpfHelperIds.PerfEventOutput, PerfEventOutput);
        Add(BpfHelperIds.L3CsumReplace, L3CsumReplace);
        Add(BpfHelperIds.L4CsumReplace, L4CsumReplace);
        Add(BpfHelperIds.CsumDiff, CsumDiff);
        Add(BpfHelperIds.InternalLoadPacket, LoadPacket);
        Add(BpfHelperIds.InternalForEachNext, ForEachNext);
        Add(BpfHelperIds.FibLookup, FibLookup);
        RuntimeKfuncs.RegisterAll(registry);
    }

    private static RunState? State(ref HelperContext c)
    {
        var state = c.Host as RunState;
        if (state is null) c.Fail("runtime helpers need a run started by a ManagedCollection");
        return state;
    }

    private static ManagedMap? MapOf(ref HelperContext c, RunState state, ulong pointer)
    {
        var map = state.Collection.Space.FromHandle(pointer);
        if (map is null) c.Fail($"r1 = 0x{pointer:x} is not a map pointer");
        return map;
    }

    // ---- maps ----

    private static ulong MapLookup(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (!c.TryGetMemory(r2, map.KeySize, false, out var key)) return 0;
        return map.ProgramLookup(key, s.Cpu);
    }

    private static ulong MapUpdate(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (map is QueueStackMap) return Errno(MapError.Invalid);
        if (!c.TryGetMemory(r2, map.KeySize, false, out var key)) return 0;
        // Map-in-map and program-array values are not plain bytes: programs may not update them (the verifier says so).
        if (map is MapOfMaps or ProgramArrayMap or RingBufferMap) return Errno(MapError.NotSupported);
        if (!c.TryGetMemory(r3, map.ValueSize, false, out var value)) return 0;
        return Errno(map.ProgramUpdate(key, value, r4, s.Cpu));
    }

    private static ulong MapDelete(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (!c.TryGetMemory(r2, map.KeySize, false, out var key)) return 0;
        if (map.ReadOnlyForPrograms) return Errno(MapError.PermissionDenied);
        return Errno(map.ProgramDelete(key));
    }

    private static ulong MapPush(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (map is not QueueStackMap q) return Errno(MapError.Invalid);
        if (!c.TryGetMemory(r2, map.ValueSize, false, out var value)) return 0;
        return Errno(q.Push(value, (MapUpdateFlags)r3));
    }

    private static ulong MapTake(ref HelperContext c, ulong r1, ulong r2, bool remove)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (map is not QueueStackMap q) return Errno(MapError.Invalid);
        if (!c.TryGetMemory(r2, map.ValueSize, true, out var value)) return 0;
        return Errno(q.Take(value, remove));
    }

    /// <summary>One step of bpf_for_each_map_elem's loop function (<see cref="CallbackInliner"/>): r1 the map, r2 the
    /// address of the 8-byte cursor, r3 the key buffer in the loop function's frame. Copies the next element's key there
    /// and returns the address of its value (this CPU's, for per-CPU maps); 0 when the map is done. A map type the
    /// kernel has no for_each for (the kernel's verifier refuses the program) fails the run.</summary>
    private static ulong ForEachNext(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (!map.HasForEach)
        {
            c.Fail($"bpf_for_each_map_elem over {map.Type} map '{map.Name}': the kernel walks only array and hash maps (its verifier refuses this program)");
            return 0;
        }
        if (map.KeySize > CallbackInliner.MaxForEachKeySize)
        {
            c.Fail($"bpf_for_each_map_elem over map '{map.Name}': its {map.KeySize}-byte keys do not fit the managed runtime's loop frame (at most {CallbackInliner.MaxForEachKeySize} bytes)");
            return 0;
        }
        if (!c.TryGetMemory(r2, 8, true, out var cursorBytes) || !c.TryGetMemory(r3, map.KeySize, true, out var key)) return 0;
        var cursor = BinaryPrimitives.ReadUInt64LittleEndian(cursorBytes);
        var value = map.ForEachNext(ref cursor, key, s.Cpu);
        BinaryPrimitives.WriteUInt64LittleEndian(cursorBytes, cursor);
        return value;
    }

    private static ulong Errno(MapError error) => error == MapError.None ? 0 : unchecked((ulong)-(long)error);

    // ---- bpf_spin_lock ----

    /// <summary>bpf_spin_lock: spins until the 4-byte lock word of a map value (the verifier checked it is the value's
    /// <c>struct bpf_spin_lock</c>) goes from 0 to 1. A run holds at most one lock, as the verifier requires.</summary>
    private static unsafe ulong SpinLock(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !c.TryGetMemory(r1, MapDefinition.SpinLockSize, true, out var word)) return 0;
        if (s.HeldLock != 0)
        {
            c.Fail("this run already holds a bpf_spin_lock (a second one would deadlock)");
            return 0;
        }
        ref var cell = ref System.Runtime.CompilerServices.Unsafe.As<byte, int>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(word));
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref cell, 1, 0) != 0) spin.SpinOnce();
        s.HeldLock = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref cell);
        return 0;
    }

    /// <summary>bpf_spin_unlock: releases the lock the run holds, which must be this one.</summary>
    private static unsafe ulong SpinUnlock(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !c.TryGetMemory(r1, MapDefinition.SpinLockSize, true, out var word)) return 0;
        var at = (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(word));
        if (s.HeldLock != at)
        {
            c.Fail(s.HeldLock == 0 ? "bpf_spin_unlock without taking a lock" : "bpf_spin_unlock of a lock this run does not hold");
            return 0;
        }
        ReleaseSpinLock(s);
        return 0;
    }

    /// <summary>Releases the lock <paramref name="s"/> holds.</summary>
    internal static unsafe void ReleaseSpinLock(RunState s)
    {
        Volatile.Write(ref *(int*)s.HeldLock, 0);
        s.HeldLock = 0;
    }

    // ---- task, tracing ----

    private static ulong GetCurrentComm(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        if (!c.TryGetMemory(r1, (int)Math.Min(r2, 4096), true, out var buffer)) return 0;
        buffer.Clear();
        if (buffer.IsEmpty) return EINVAL;
        var comm = Encoding.UTF8.GetBytes(s.Collection.Environment.Comm);
        comm.AsSpan(0, Math.Min(Math.Min(comm.Length, 15), buffer.Length - 1)).CopyTo(buffer);
        return 0;
    }

    private static ulong ProbeReadFails(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        // There is no kernel or user address space to read from in a managed run: the helper fails the way it
        // fails on a bad address in the kernel, zeroing the destination and returning -EFAULT.
        if (c.TryGetMemory(r1, (int)Math.Min(r2, int.MaxValue), true, out var destination)) destination.Clear();
        return EFAULT;
    }

    private static ulong TracePrintk(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        if (r2 == 0 || r2 > 4096 || !c.TryGetMemory(r1, (int)r2, false, out var fmt)) return EINVAL;
        if (fmt[^1] != 0) return EINVAL;
        ReadOnlySpan<ulong> args = [r3, r4, r5];
        var line = TraceFormatter.Format(ref c, fmt[..fmt.IndexOf((byte)0)], args, out var ok, out var length);
        if (!ok) return EINVAL;
        s.Collection.Environment.Trace(line.TrimEnd('\n'));
        // bstr_printf's result: the length of the whole line, even when the 512-byte buffer cut it.
        return (ulong)length;
    }

    /// <summary>MAX_BPRINTF_VARARGS: the most arguments bpf_trace_vprintk (and bpf_snprintf) take.</summary>
    private const int MaxPrintfVarargs = 12;

    /// <summary>bpf_trace_vprintk(fmt, fmt_size, data, data_len): trace_printk with its arguments in an array of u64
    /// (the kernel: data_len a multiple of 8, at most 12 arguments, data non-null when data_len is not 0, else -EINVAL;
    /// then the same format checks and the same result, bstr_printf's length).</summary>
    private static ulong TraceVprintk(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        if ((r4 & 7) != 0 || r4 > MaxPrintfVarargs * 8 || (r4 != 0 && r3 == 0)) return EINVAL;
        if (r2 == 0 || r2 > 4096 || !c.TryGetMemory(r1, (int)r2, false, out var fmt)) return EINVAL;
        if (fmt[^1] != 0) return EINVAL;
        Span<ulong> args = stackalloc ulong[MaxPrintfVarargs];
        args = args[..(int)(r4 / 8)];
        if (r4 != 0)
        {
            if (!c.TryGetMemory(r3, (int)r4, false, out var data)) return 0;
            for (var i = 0; i < args.Length; i++) args[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        }
        var line = TraceFormatter.Format(ref c, fmt[..fmt.IndexOf((byte)0)], args, out var ok, out var length);
        if (!ok) return EINVAL;
        s.Collection.Environment.Trace(line.TrimEnd('\n'));
        return (ulong)length;
    }

    /// <summary>bpf_get_attach_cookie: the BPF cookie of the attachment the run stands for
    /// (<see cref="ProgramContext.AttachCookie"/>), 0 for one attached without a cookie, as in the kernel.</summary>
    private static ulong GetAttachCookie(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) =>
        State(ref c)?.Cookie ?? 0;

    /// <summary>bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size), as kernel/bpf/helpers.c: size must be
    /// sizeof(struct bpf_pidns_info) (8) and dev must fit a dev_t, else -EINVAL; dev/ino must name the pid namespace
    /// the task is in (<see cref="BpfEnvironment.PidNamespace"/>), else -EINVAL; on every error nsdata is zeroed. On a
    /// match it holds the task's pid and tgid in that namespace (the environment's <see cref="BpfEnvironment.PidTgid"/>).</summary>
    private static ulong GetNsCurrentPidTgid(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        if (r4 > int.MaxValue || !c.TryGetMemory(r3, (int)r4, true, out var nsdata)) return 0;
        const int PidnsInfoSize = 8;
        var env = s.Collection.Environment;
        if (r4 != PidnsInfoSize || r1 > uint.MaxValue || env.PidNamespace is not { } ns || ns.Device != r1 || ns.Inode != r2)
        {
            nsdata.Clear();
            return EINVAL;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(nsdata, (uint)env.PidTgid);
        BinaryPrimitives.WriteUInt32LittleEndian(nsdata[4..], (uint)(env.PidTgid >> 32));
        return 0;
    }

    /// <summary>
    /// bpf_get_stack(ctx, buf, size, flags) in a run with no kernel and no user stack: the kernel's __bpf_get_stack on
    /// an empty callchain. Flags other than the skip count, BPF_F_USER_STACK and BPF_F_USER_BUILD_ID, build ids
    /// asked for a kernel stack, or a size not a multiple of the element (8 bytes; 32 with build ids): -EINVAL.
    /// Skipping frames of an empty stack (trace->nr &lt; skip): -EFAULT. Otherwise 0 bytes copied, buf zeroed, 0.
    /// </summary>
    private static ulong GetStack(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is null) return 0;
        if (r3 > int.MaxValue || !c.TryGetMemory(r2, (int)r3, true, out var buffer)) return 0;
        const ulong SkipMask = 0xff, UserStack = 1 << 8, UserBuildId = 1 << 11;
        const ulong BuildIdElement = 32; // sizeof(struct bpf_stack_build_id)
        buffer.Clear();
        if ((r4 & ~(SkipMask | UserStack | UserBuildId)) != 0) return EINVAL;
        var buildId = (r4 & UserBuildId) != 0;
        if (buildId && (r4 & UserStack) == 0) return EINVAL;
        if (r3 % (buildId ? BuildIdElement : 8) != 0) return EINVAL;
        return (r4 & SkipMask) != 0 ? EFAULT : 0;
    }

    // ---- tail calls ----

    private static ulong TailCall(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r2) is not { } map) return 0;
        if (map is not ProgramArrayMap array) return EINVAL;
        var target = array.Get((uint)r3);
        if (target is null || s.TailCalls >= MaxTailCalls) return ENOENT; // the program continues after a failed tail call
        s.TailCalls++;
        s.PendingTailCall = target;
        c.Stop(0);
        return 0;
    }

    // ---- ring buffers ----

    private static ulong RingbufOutput(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (map is not RingBufferMap ring) return EINVAL;
        if ((r4 & ~3UL) != 0) return EINVAL;
        if (r3 > int.MaxValue || !c.TryGetMemory(r2, (int)r3, false, out var data)) return 0;
        return unchecked((ulong)ring.Output(data));
    }

    private static ulong RingbufReserve(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        if (map is not RingBufferMap ring || r3 != 0) return 0;
        return ring.Reserve(r2);
    }

    private static ulong RingbufCommit(ref HelperContext c, ulong sample, bool discard)
    {
        if (State(ref c) is not { } s) return 0;
        foreach (var map in s.Collection.RingBuffers)
        {
            if (map.Commit(sample, discard)) return 0;
        }
        c.Fail($"0x{sample:x} is not a record reserved with ringbuf_reserve");
        return 0;
    }

    private static ulong RingbufQuery(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        return map is RingBufferMap ring ? ring.Query(r2) : 0;
    }

    // ---- packet access ----

    private static bool TryPointers(ref HelperContext c, RunState s, ContextKind kind, out Span<byte> block)
    {
        block = default;
        if (s.Kind != kind)
        {
            c.Fail($"needs a {kind} context; this run's context is {s.Kind}");
            return false;
        }
        // The runtime's own context block: programs cannot write its pointer slots, helpers can.
        block = c.Input[..ContextLayout.Size];
        return true;
    }

    /// <summary>Input bytes at virtual address <paramref name="address"/> (already checked against the frame),
    /// headroom and tailroom included, which programs cannot address.</summary>
    private static Span<byte> Frame(ref HelperContext c, ulong address, int length) =>
        c.Input.Slice((int)(address - VmLayout.InputBase), length);

    /// <summary>Moves the window programs address to the packet [data_meta, data_end) the slots now say.</summary>
    private static void UpdatePacketWindow(ref HelperContext c, scoped Span<byte> block)
    {
        if (!c.SetPacketWindow(Read(block, ContextLayout.DataMetaPointer), Read(block, ContextLayout.DataEndPointer)))
        {
            c.Fail("the packet pointers left the frame");
        }
    }

    private static ulong Read(Span<byte> block, int slot) => BinaryPrimitives.ReadUInt64LittleEndian(block[slot..]);

    private static void Write(Span<byte> block, int slot, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(block[slot..], value);

    private static ulong XdpAdjustHead(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TryPointers(ref c, s, ContextKind.Xdp, out var block)) return 0;
        var offset = (long)(int)r2;
        var hard = Read(block, ContextLayout.HardStartPointer);
        var meta = Read(block, ContextLayout.DataMetaPointer);
        var data = Read(block, ContextLayout.DataPointer);
        var end = Read(block, ContextLayout.DataEndPointer);
        var metaLength = data - meta;
        var newData = data + (ulong)offset;
        if ((long)(newData - (hard + ContextLayout.XdpFrameStruct + metaLength)) < 0 || (long)(newData - (end - 14)) > 0) return EINVAL;
        if (metaLength != 0)
        {
            Frame(ref c, meta, (int)metaLength).CopyTo(Frame(ref c, meta + (ulong)offset, (int)metaLength));
        }
        Write(block, ContextLayout.DataMetaPointer, meta + (ulong)offset);
        Write(block, ContextLayout.DataPointer, newData);
        UpdatePacketWindow(ref c, block);
        return 0;
    }

    private static ulong XdpAdjustMeta(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TryPointers(ref c, s, ContextKind.Xdp, out var block)) return 0;
        var offset = (long)(int)r2;
        var hard = Read(block, ContextLayout.HardStartPointer);
        var meta = Read(block, ContextLayout.DataMetaPointer) + (ulong)offset;
        var data = Read(block, ContextLayout.DataPointer);
        if ((long)(meta - (hard + ContextLayout.XdpFrameStruct)) < 0 || meta > data) return EINVAL;
        // The kernel also requires the metadata length to be a multiple of 4.
        if (((data - meta) & 3) != 0) return EINVAL;
        Write(block, ContextLayout.DataMetaPointer, meta);
        UpdatePacketWindow(ref c, block);
        return 0;
    }

    private static ulong XdpAdjustTail(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TryPointers(ref c, s, ContextKind.Xdp, out var block)) return 0;
        var offset = (long)(int)r2;
        var hard = Read(block, ContextLayout.HardStartPointer);
        var data = Read(block, ContextLayout.DataPointer);
        var end = Read(block, ContextLayout.DataEndPointer);
        var hardEnd = hard + ContextLayout.FrameSize - ContextLayout.SharedInfoSize;
        var newEnd = end + (ulong)offset;
        if ((long)(newEnd - hardEnd) > 0 || (long)(newEnd - (data + 14)) < 0) return EINVAL;
        if (offset > 0)
        {
            // The kernel clears the grown area: it may hold stale memory.
            Frame(ref c, end, (int)offset).Clear();
        }
        Write(block, ContextLayout.DataEndPointer, newEnd);
        UpdatePacketWindow(ref c, block);
        return 0;
    }

    private static ulong Redirect(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        if (s.Kind == ContextKind.Xdp)
        {
            if (r2 != 0) return 0; // XDP_ABORTED
            s.Redirect = new RedirectRecord((uint)r1, r2, null);
            return 4; // XDP_REDIRECT
        }
        if ((r2 & ~1UL) != 0) return 2; // TC_ACT_SHOT: only BPF_F_INGRESS is allowed
        s.Redirect = new RedirectRecord((uint)r1, r2, null);
        return 7; // TC_ACT_REDIRECT
    }

    private static ulong RedirectMap(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r1) is not { } map) return 0;
        // The kernel's __bpf_xdp_redirect_map: the low two flag bits are the action when the key has no entry;
        // device maps also take BPF_F_BROADCAST (every entry) and BPF_F_EXCLUDE_INGRESS; other bits abort.
        const ulong ActionMask = 3, Broadcast = 1 << 3, ExcludeIngress = 1 << 4;
        var allowed = ActionMask | (map.Type is MapType.DevMap or MapType.DevMapHash ? Broadcast | ExcludeIngress : 0);
        if ((r3 & ~allowed) != 0) return 0; // XDP_ABORTED
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)r2);
        var found = map is RedirectTargetMap targets && map.Type is not (MapType.SockMap or MapType.SockHash) && targets.Contains(key);
        if (!found && (r3 & Broadcast) == 0)
        {
            s.Redirect = null; // a failed lookup clears an earlier redirect: the last call decides
            return r3 & ActionMask;
        }
        s.Redirect = new RedirectRecord((uint)r2, r3, map);
        return 4; // XDP_REDIRECT
    }

    /// <summary>skb-&gt;data and the linear length, for skb helpers.</summary>
    private static bool TrySkb(ref HelperContext c, RunState s, out ulong data, out uint length)
    {
        data = 0;
        length = 0;
        if (!TryPointers(ref c, s, ContextKind.SkBuff, out var block)) return false;
        data = Read(block, ContextLayout.DataPointer);
        length = (uint)(Read(block, ContextLayout.DataEndPointer) - data);
        return true;
    }

    private static ulong SkbLoadBytes(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out var data, out var length)) return 0;
        if (r4 == 0 || r4 > int.MaxValue || !c.TryGetMemory(r3, (int)r4, true, out var to)) return 0;
        var offset = (uint)r2;
        if (offset > int.MaxValue || (ulong)offset + r4 > length)
        {
            to.Clear();
            return EFAULT;
        }
        if (!c.TryGetMemory(data + offset, (int)r4, false, out var from)) return 0;
        from.CopyTo(to);
        return 0;
    }

    private static ulong SkbStoreBytes(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out var data, out var length)) return 0;
        if ((r5 & ~3UL) != 0) return EINVAL; // BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH
        var offset = (uint)r2;
        if (r4 > int.MaxValue || !c.TryGetMemory(r3, (int)r4, false, out var from)) return 0;
        if (offset > int.MaxValue || (ulong)offset + r4 > length) return EFAULT;
        if (!c.TryGetMemory(data + offset, (int)r4, true, out var to)) return 0;
        from.CopyTo(to);
        return 0;
    }

    private static ulong SkbPullData(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        // Managed skbs are linear: pulling succeeds up to the packet length and fails with ENOMEM beyond it.
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out _, out var length)) return 0;
        return r2 <= length ? 0 : unchecked((ulong)-12L);
    }

    private static ulong PerfEventOutput(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || MapOf(ref c, s, r2) is not { } map) return 0;
        if (map is not PerfEventArrayMap events) return EINVAL;
        const ulong IndexMask = 0xFFFFFFFF, CurrentCpu = 0xFFFFFFFF, ContextLengthMask = 0xFFFFFUL << 32;
        if ((r3 & ~(IndexMask | ContextLengthMask)) != 0) return EINVAL;
        var index = (r3 & IndexMask) == CurrentCpu ? s.Cpu : (int)Math.Min(r3 & IndexMask, int.MaxValue);
        var packetLength = (int)((r3 & ContextLengthMask) >> 32);
        if (r5 > int.MaxValue || !c.TryGetMemory(r4, (int)r5, false, out var data)) return 0;
        Span<byte> packet = default;
        if (packetLength > 0)
        {
            // BPF_F_CTXLEN_MASK: append that many bytes of the packet (skb and XDP programs only).
            if (s.Kind == ContextKind.Memory || !TryPointers(ref c, s, s.Kind, out var block)) return EINVAL;
            var start = Read(block, ContextLayout.DataPointer);
            var end = Read(block, ContextLayout.DataEndPointer);
            if ((ulong)packetLength > end - start) return EFAULT;
            if (!c.TryGetMemory(start, packetLength, false, out packet)) return 0;
        }
        return Errno(events.Output(index, data, packet));
    }

    private static ulong L3CsumReplace(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out var data, out var length)) return 0;
        if ((r5 & ~0xFUL) != 0) return EINVAL;
        var offset = (uint)r2;
        if (offset > 0xFFFF || offset + 2 > length) return EFAULT;
        if (!c.TryGetMemory(data + offset, 2, true, out var field)) return 0;
        var sum = BinaryPrimitives.ReadUInt16LittleEndian(field);
        switch (r5 & 0xF)
        {
            case 0:
                if (r3 != 0) return EINVAL;
                sum = Checksum.ReplaceByDiff(sum, (uint)r4);
                break;
            case 2:
                sum = Checksum.Replace2(sum, (ushort)r3, (ushort)r4);
                break;
            case 4:
                sum = Checksum.Replace4(sum, (uint)r3, (uint)r4);
                break;
            default:
                return EINVAL;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(field, sum);
        return 0;
    }

    private static ulong L4CsumReplace(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out var data, out var length)) return 0;
        const ulong Pseudo = 0x10, MangledZero = 0x20, Enforce = 0x40, Ipv6 = 0x80;
        if ((r5 & ~(MangledZero | Enforce | Pseudo | Ipv6 | 0xF)) != 0) return EINVAL;
        var offset = (uint)r2;
        if (offset > 0xFFFF || offset + 2 > length) return EFAULT;
        if (!c.TryGetMemory(data + offset, 2, true, out var field)) return 0;
        var sum = BinaryPrimitives.ReadUInt16LittleEndian(field);
        var mangledZero = (r5 & MangledZero) != 0;
        if (mangledZero && (r5 & Enforce) == 0 && sum == 0) return 0;
        // A test-run skb is CHECKSUM_NONE, so the pseudo-header flag changes nothing: the field is patched in place.
        switch (r5 & 0xF)
        {
            case 0:
                if (r3 != 0) return EINVAL;
                sum = Checksum.ReplaceByDiff(sum, (uint)r4);
                break;
            case 2:
                sum = Checksum.Replace4(sum, (ushort)r3, (ushort)r4);
                break;
            case 4:
                sum = Checksum.Replace4(sum, (uint)r3, (uint)r4);
                break;
            default:
                return EINVAL;
        }
        if (mangledZero && sum == 0) sum = 0xFFFF; // CSUM_MANGLED_0
        BinaryPrimitives.WriteUInt16LittleEndian(field, sum);
        return 0;
    }

    private static ulong CsumDiff(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (((r2 | r4) & 3) != 0 || r2 + r4 > 512) return EINVAL;
        Span<byte> from = default, to = default;
        if (r2 != 0 && !c.TryGetMemory(r1, (int)r2, false, out from)) return 0;
        if (r4 != 0 && !c.TryGetMemory(r3, (int)r4, false, out to)) return 0;
        return Checksum.Diff(from, to, (uint)r5);
    }

    /// <summary>bpf_fib_lookup(ctx, params, plen, flags) in the environment's network (<see cref="BpfEnvironment.Fib"/>):
    /// the XDP variant always checks the MTU against params-&gt;tot_len; the tc variant checks it when tot_len is not 0
    /// and otherwise the packet's length against the output device's MTU (see <see cref="Fib"/>).</summary>
    private static ulong FibLookup(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s) return 0;
        int? packetLength = null;
        if (s.Kind == ContextKind.SkBuff)
        {
            if (!TrySkb(ref c, s, out _, out var length)) return 0;
            packetLength = (int)length;
        }
        else if (s.Kind != ContextKind.Xdp)
        {
            c.Fail($"needs an XDP or socket buffer context (the kernel offers bpf_fib_lookup to XDP and tc programs); this run's context is {s.Kind}");
            return 0;
        }
        var plen = (long)(int)r3;
        if (plen < Fib.ParamsSize) return EINVAL;
        if (!c.TryGetMemory(r2, Fib.ParamsSize, true, out var parameters)) return 0;
        return unchecked((ulong)s.Collection.Environment.Fib.Lookup(parameters, plen, (uint)r4, packetLength));
    }

    private static ulong LoadPacket(ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (State(ref c) is not { } s || !TrySkb(ref c, s, out var data, out var length)) return 0;
        var offset = (long)(int)r2;
        var size = (int)r3;
        if (offset < 0 || offset + size > length)
        {
            // Out of range (or one of the SKF_*_OFF ancillary offsets, not modelled): the program ends with r0 = 0.
            c.Stop(0);
            return 0;
        }
        if (!c.TryGetMemory(data + (ulong)offset, size, false, out var bytes)) return 0;
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            _ => BinaryPrimitives.ReadUInt32BigEndian(bytes),
        };
    }
}
