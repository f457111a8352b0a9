using System.Buffers.Binary;
using Bpf.Runtime;

namespace Bpf;

/// <summary>
/// The managed runtime behind the engine-neutral interfaces: a <see cref="ManagedCollection"/> whose maps and programs
/// answer like the kernel collection's. Runs take the same inputs as BPF_PROG_TEST_RUN (an Ethernet frame for socket,
/// tc and XDP programs; an optional <c>__sk_buff</c> / <c>xdp_md</c> context) and build the context the kernel's test
/// run would.
/// </summary>
internal sealed class InterpreterCollection : IBpfCollection
{
    private readonly Dictionary<string, IBpfMap> _maps;
    private readonly Dictionary<string, IBpfProgram> _programs;

    private readonly IReadOnlyList<string> _loadDiagnostics;

    /// <summary>Wraps a loaded managed collection.</summary>
    /// <param name="collection">The managed collection.</param>
    /// <param name="reason">Why this engine.</param>
    /// <param name="loadDiagnostics">What the loader did that a user should know (e.g. programs the verifier could not judge).</param>
    public InterpreterCollection(ManagedCollection collection, string reason = "the interpreter was asked for", IReadOnlyList<string>? loadDiagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        Managed = collection;
        EngineReason = reason;
        _loadDiagnostics = loadDiagnostics ?? [];
        _maps = collection.Maps.ToDictionary(kv => kv.Key, kv => (IBpfMap)new InterpreterMap(kv.Value, this), StringComparer.Ordinal);
        _programs = collection.Programs.ToDictionary(kv => kv.Key, kv => (IBpfProgram)new InterpreterProgram(kv.Value, this), StringComparer.Ordinal);
    }

    /// <summary>What loading did that a user should know: the loader's notes (programs BpfNet's verifier could not
    /// judge) and the runtime's (poisoned CO-RE relocations).</summary>
    public IReadOnlyList<string> Diagnostics => [.. _loadDiagnostics, .. Managed.Diagnostics];

    /// <summary>The managed collection (helpers, environment, typed maps, variables).</summary>
    public ManagedCollection Managed { get; }

    /// <summary>Always <see cref="Engine.Interpreter"/>.</summary>
    public Engine Engine => Engine.Interpreter;

    /// <inheritdoc/>
    public string EngineReason { get; }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, IBpfMap> Maps => _maps;

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, IBpfProgram> Programs => _programs;

    /// <inheritdoc/>
    public IBpfMap Map(string name) => _maps.TryGetValue(name, out var m) ? m
        : throw new KeyNotFoundException($"no map '{name}' (maps: {string.Join(", ", _maps.Keys.Order(StringComparer.Ordinal))})");

    /// <inheritdoc/>
    public IBpfProgram Program(string name) => _programs.TryGetValue(name, out var p) ? p
        : Managed.UnsupportedPrograms.TryGetValue(name, out var why) ? throw new NotSupportedException($"program '{name}': {why}")
        : Managed.FailedPrograms.TryGetValue(name, out var failure) ? throw ManagedCollection.LeftOut(name, failure)
        : throw new KeyNotFoundException($"no program '{name}' (programs: {string.Join(", ", _programs.Keys.Order(StringComparer.Ordinal))})");

    /// <summary>Ends the collection's life as the kernel's does: its maps and programs (and the variables) throw
    /// <see cref="ObjectDisposedException"/> naming them from now on. The memory is managed: nothing else to release.</summary>
    public void Dispose() => IsDisposed = true;

    internal bool IsDisposed { get; private set; }

    /// <inheritdoc/>
    public IReadOnlyList<string> VariableNames => Managed.VariableNames;

    /// <inheritdoc/>
    public byte[] ReadVariable(string name) => FindVariable(name).ToArray();

    /// <inheritdoc/>
    public void WriteVariable(string name, ReadOnlySpan<byte> value)
    {
        var bytes = FindVariable(name, out var readOnly);
        if (readOnly)
            throw new BpfException(BpfErrno.EPERM, $"variable '{name}' is in a read-only section, which is frozen after loading; set it on the ObjectSpec before loading (VariableSpec.Set)");
        if (value.Length != bytes.Length) throw new ArgumentException($"variable '{name}' has {bytes.Length} bytes; {value.Length} given", nameof(value));
        value.CopyTo(bytes);
    }

    private Span<byte> FindVariable(string name) => FindVariable(name, out _);

    private Span<byte> FindVariable(string name, out bool readOnly)
    {
        if (IsDisposed) throw new ObjectDisposedException($"variable '{name}'", "the collection was disposed");
        if (!Managed.TryGetVariable(name, out var map, out var offset, out var size))
            throw new KeyNotFoundException($"no global variable '{name}' (variables: {string.Join(", ", VariableNames)})");
        readOnly = map.ReadOnlyForPrograms;
        return map.Memory.Slice(offset, size);
    }

    /// <inheritdoc/>
    public override string ToString() => $"interpreter collection: {_programs.Count} programs, {_maps.Count} maps";
}

/// <summary>A managed map behind <see cref="IBpfMap"/>; errors surface as <see cref="MapException"/> with the kernel's errno.</summary>
internal sealed class InterpreterMap : IBpfMap, IEngineReference
{
    private readonly InterpreterCollection _owner;

    internal InterpreterMap(ManagedMap map, InterpreterCollection owner)
    {
        Managed = map;
        _owner = owner;
    }

    internal ManagedMap Live => _owner.IsDisposed ? throw new ObjectDisposedException($"map '{Managed.Name}'", "the collection was disposed") : Managed;

    /// <summary>The managed map.</summary>
    public ManagedMap Managed { get; }

    /// <inheritdoc/>
    public string Name => Managed.Name;

    /// <inheritdoc/>
    public MapType Type => Managed.Type;

    /// <inheritdoc/>
    public int KeySize => Managed.KeySize;

    /// <inheritdoc/>
    public int ValueSize => Managed.ValueSize;

    /// <inheritdoc/>
    public int MaxEntries => Managed.MaxEntries;

    /// <inheritdoc/>
    public int UserValueSize => Managed.UserValueSize;

    /// <inheritdoc/>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value) => Check(Live.TryLookup(key, value), "lookup");

    /// <inheritdoc/>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) =>
        Live.Update(key, value, flags);

    /// <inheritdoc/>
    public bool TryDelete(ReadOnlySpan<byte> key) => Check(Live.TryDelete(key), "delete");

    /// <inheritdoc/>
    public bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => Check(Live.TryGetNextKey(key, nextKey), "get next key");

    /// <inheritdoc/>
    public bool TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value)
    {
        const string operation = "lookup and delete";
        var map = Live;
        switch (map)
        {
            case QueueStackMap queue:
                if (!key.IsEmpty) throw new MapException(Name, operation, MapError.Invalid);
                return Check(queue.Take(value, remove: true), operation);
            case HashMap:
                // The kernel does this atomically under the bucket lock; here the lookup and the delete are two steps,
                // which only a program running concurrently on another thread could observe.
                if (!Check(map.TryLookup(key, value), operation)) return false;
                return Check(map.TryDelete(key), operation);
            default:
                // What the kernel answers for every other map type (ENOTSUPP, 524).
                throw new MapException(Name, operation, MapError.KernelNotSupported);
        }
    }

    /// <inheritdoc/>
    public bool TryReadRecord(out byte[] record) => Live is RingBufferMap ring
        ? ring.TryRead(out record)
        : throw new NotSupportedException($"map '{Name}' ({Type}) is not a ring buffer");

    uint IEngineReference.SlotValue => (uint)Live.Id;

    // ENOENT is the "absent" answer these Try methods report as false; anything else is an error, as on the kernel side.
    private bool Check(MapError error, string operation) => error switch
    {
        MapError.None => true,
        MapError.NotFound => false,
        _ => throw new MapException(Name, operation, error),
    };

    /// <inheritdoc/>
    public override string ToString() => Managed.ToString();
}

/// <summary>A managed program behind <see cref="IBpfProgram"/>.</summary>
internal sealed class InterpreterProgram : IBpfProgram, IEngineReference
{
    private const int EthernetHeader = 14;

    private readonly InterpreterCollection _owner;

    internal InterpreterProgram(ManagedProgram program, InterpreterCollection owner)
    {
        Managed = program;
        _owner = owner;
    }

    /// <summary>The managed program.</summary>
    public ManagedProgram Managed { get; }

    /// <inheritdoc/>
    public string Name => Managed.Name;

    /// <inheritdoc/>
    public ProgramType Type => Managed.Type;

    uint IEngineReference.SlotValue => _owner.IsDisposed
        ? throw new ObjectDisposedException($"program '{Name}'", "the collection was disposed")
        : (uint)Managed.Id;

    /// <summary>
    /// Runs the program in the interpreter on the context BPF_PROG_TEST_RUN would build. For socket/tc programs the
    /// context may set <c>mark</c>, <c>priority</c>, <c>ingress_ifindex</c>, <c>ifindex</c> and <c>cb[]</c>; for XDP,
    /// <c>ingress_ifindex</c> and <c>rx_queue_index</c>. The returned context is the <c>__sk_buff</c> cut to the input
    /// context's length (socket/tc), or the input context unchanged (other kinds).
    /// </summary>
    /// <exception cref="BpfProgramFaultException">The program faulted (a helper failed, or it was loaded unverified).</exception>
    public RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default) => Run(data, context, 1);

    /// <inheritdoc/>
    public RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context, int repeat)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeat);
        if (_owner.IsDisposed) throw new ObjectDisposedException($"program '{Name}'", "the collection was disposed");
        // One context for every run, as the kernel's test run keeps one packet and context for its repeat loop.
        var ctx = ContextFor(data, context);
        var result = Managed.RunRepeated(ctx, 0, repeat, out var ticks);
        if (!result.Succeeded) throw new BpfProgramFaultException(Name, result.Fault!.InstructionIndex, result.Fault.Message);
        var last = Output(ctx, result, data, context);
        return repeat == 1 ? last : last with { Runs = repeat, NanosecondsPerRun = ticks * 1e9 / System.Diagnostics.Stopwatch.Frequency / repeat };
    }

    private ProgramContext ContextFor(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context)
    {
        ProgramContext ctx;
        switch (Managed.Kind)
        {
            case ContextKind.Xdp:
                ctx = new XdpContext(data, Field(context, XdpMdOffsets.IngressIfindex, 1), Field(context, XdpMdOffsets.RxQueueIndex, 0));
                break;
            case ContextKind.SkBuff:
            {
                var skb = SkBuffContext.ForTestRun(data, Type);
                if (!context.IsEmpty) ApplySkbFields(skb, context);
                ctx = skb;
                break;
            }
            default:
                if (Type == ProgramType.RawTracepoint) MemoryContext.CheckRawTracepointArguments(context.IsEmpty ? data : context, Name);
                ctx = new MemoryContext(context.IsEmpty ? data : context);
                break;
        }
        return ctx;
    }

    private static RunResult Output(ProgramContext ctx, RunResult result, ReadOnlySpan<byte> data, ReadOnlySpan<byte> context) => ctx switch
    {
        XdpContext x => result with { Data = x.Packet, Context = context.ToArray() },
        SkBuffContext s => result with { Data = s.TestRunOutput(), Context = s.Fields[..Math.Min(context.Length, s.Fields.Length)].ToArray() },
        MemoryContext m => result with { Data = context.IsEmpty ? m.Memory : data.ToArray(), Context = context.IsEmpty ? [] : m.Memory },
        _ => result,
    };

    private static uint Field(ReadOnlySpan<byte> context, int offset, uint fallback) =>
        context.Length >= offset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(context[offset..]) : fallback;

    private static void ApplySkbFields(SkBuffContext skb, ReadOnlySpan<byte> context)
    {
        // The fields BPF_PROG_TEST_RUN accepts from user space; the rest must be zero there too.
        if (context.Length > SkBuffOffsets.Mark) skb.Mark = Field(context, SkBuffOffsets.Mark, 0);
        if (context.Length > SkBuffOffsets.Priority) skb.Priority = Field(context, SkBuffOffsets.Priority, 0);
        if (context.Length > SkBuffOffsets.IngressIfindex) skb.IngressIfindex = Field(context, SkBuffOffsets.IngressIfindex, 0);
        if (context.Length > SkBuffOffsets.Ifindex && Field(context, SkBuffOffsets.Ifindex, 0) != 0) skb.Ifindex = Field(context, SkBuffOffsets.Ifindex, 0);
        for (int i = 0; i < 5 && context.Length > SkBuffOffsets.Cb0 + 4 * i; i++) skb.SetCb(i, Field(context, SkBuffOffsets.Cb0 + 4 * i, 0));
    }

    /// <inheritdoc/>
    public override string ToString() => Managed.ToString();
}
