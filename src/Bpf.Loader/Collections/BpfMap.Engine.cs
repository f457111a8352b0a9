using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>The BTF type ids a kernel map was created with (0 = none).</summary>
/// <param name="BtfId">The kernel's id of the BTF object.</param>
/// <param name="KeyTypeId">Key type id in that BTF.</param>
/// <param name="ValueTypeId">Value type id in that BTF.</param>
public readonly record struct MapBtfIds(uint BtfId, uint KeyTypeId, uint ValueTypeId);

// The kernel side of the engine-neutral map interface.
public sealed partial class BpfMap : IBpfMap, IEngineReference
{
    /// <summary>The name in the object file when the map came from one (kernel names are cut to 15 characters).</summary>
    internal string? ObjectName { get; set; }

    string IBpfMap.Name => ObjectName ?? Name;

    int IBpfMap.KeySize => (int)KeySize;

    int IBpfMap.ValueSize => (int)ValueSize;

    int IBpfMap.MaxEntries => (int)MaxEntries;

    // Through the engine-neutral interface the kernel's map answers as the interpreter's does: a refused operation is a
    // MapException with the errno, use after Dispose an ObjectDisposedException naming the map.
    bool IBpfMap.TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        ThrowIfDisposed();
        try
        {
            return TryLookup(key, value);
        }
        catch (BpfSyscallException e)
        {
            throw AsMapException(e, "lookup");
        }
    }

    void IBpfMap.Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags)
    {
        ThrowIfDisposed();
        try
        {
            Update(key, value, flags);
        }
        catch (BpfSyscallException e)
        {
            throw AsMapException(e, "update");
        }
    }

    bool IBpfMap.TryDelete(ReadOnlySpan<byte> key)
    {
        ThrowIfDisposed();
        try
        {
            return TryDelete(key);
        }
        catch (BpfSyscallException e)
        {
            throw AsMapException(e, "delete");
        }
    }

    bool IBpfMap.TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        ThrowIfDisposed();
        try
        {
            return TryGetNextKey(key, nextKey);
        }
        catch (BpfSyscallException e)
        {
            throw AsMapException(e, "get next key");
        }
    }

    bool IBpfMap.TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        ThrowIfDisposed();
        try
        {
            return TryLookupAndDelete(key, value);
        }
        catch (BpfSyscallException e)
        {
            throw AsMapException(e, "lookup and delete");
        }
    }

    // The ring buffer's pages, mapped on the first read through the engine-neutral interface; Dispose unmaps them.
    private RingBufReader? _ringReader;

    bool IBpfMap.TryReadRecord(out byte[] record)
    {
        ThrowIfDisposed();
        if (Type != MapType.RingBuf) throw new NotSupportedException($"map '{ObjectName ?? Name}' ({Type}) is not a ring buffer");
        if (_ringReader is null)
        {
            var reader = new RingBufReader(this);
            if (Interlocked.CompareExchange(ref _ringReader, reader, null) is not null) reader.Dispose();
        }
        return _ringReader.TryRead(out record);
    }

    uint IEngineReference.SlotValue
    {
        get
        {
            ThrowIfDisposed();
            return (uint)Fd.Value;
        }
    }

    private void ThrowIfDisposed()
    {
        if (Fd.IsClosed) throw new ObjectDisposedException($"map '{ObjectName ?? Name}'", "the map (or its collection) was disposed");
    }

    private Runtime.MapException AsMapException(BpfSyscallException e, string operation) =>
        new(ObjectName ?? Name, operation, (Runtime.MapError)e.Errno, e);

    /// <summary>The BTF object and key/value type ids the kernel recorded for this map (BPF_OBJ_GET_INFO_BY_FD).</summary>
    public MapBtfIds BtfIds
    {
        get
        {
            var info = new BpfMapInfo();
            ObjectInfo.Get(Fd, ref info);
            return new MapBtfIds(info.btf_id, info.btf_key_type_id, info.btf_value_type_id);
        }
    }
}

// The kernel side of the engine-neutral program interface.
public sealed partial class BpfProgram : IBpfProgram, IEngineReference
{
    /// <summary>The function name in the object file when the program came from one.</summary>
    internal string? ObjectName { get; set; }

    string IBpfProgram.Name => ObjectName ?? Name;

    uint IEngineReference.SlotValue => Fd.IsClosed
        ? throw new ObjectDisposedException($"program '{ObjectName ?? Name}'", "the program (or its collection) was disposed")
        : (uint)Fd.Value;

    /// <summary>Runs the program once with BPF_PROG_TEST_RUN (see <see cref="TestRun"/>).</summary>
    public RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default) => Run(data, context, 1);

    /// <summary>Runs the program <paramref name="repeat"/> times with one BPF_PROG_TEST_RUN (the kernel's repeat) and
    /// returns the last run's outcome with the kernel's mean time per run.</summary>
    public RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context, int repeat)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeat);
        if (Fd.IsClosed) throw new ObjectDisposedException($"program '{ObjectName ?? Name}'", "the program (or its collection) was disposed");
        if (Type == ProgramType.RawTracepoint)
        {
            // The kernel test-runs a raw tracepoint on its context (the u64 arguments) alone: no packet, no repeat, no
            // context out, no duration (bpf_prog_test_run_raw_tp refuses each with EINVAL). As on the interpreter, a
            // program that takes no packet runs on the context, or on the data when no context is given; repeat in
            // user space; the data and context come back as they were given (a raw tracepoint's arguments are read-only
            // to the program), as the interpreter gives them back.
            var args = context.IsEmpty ? data : context;
            Bpf.Runtime.MemoryContext.CheckRawTracepointArguments(args, ObjectName ?? Name);
            RunResult last = default;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < repeat; i++) last = TestRun(default, args, new TestRunOptions { Repeat = 0, ContextOutCapacity = 0 });
            var elapsed = System.Diagnostics.Stopwatch.GetTimestamp() - started;
            return last with
            {
                Data = data.ToArray(),
                Context = context.ToArray(),
                Runs = repeat,
                NanosecondsPerRun = repeat > 1 ? elapsed * 1e9 / System.Diagnostics.Stopwatch.Frequency / repeat : null,
            };
        }
        var r = TestRun(data, context, new TestRunOptions { Repeat = (uint)repeat });
        return r with { Runs = repeat, NanosecondsPerRun = repeat > 1 ? r.NanosecondsPerRun : null };
    }
}
