using System.Buffers.Binary;
using Bpf.Objects;
using Bpf.Runtime;

namespace Bpf.Engines;

/// <summary>
/// The managed runtime behind the engine-neutral interfaces: a <see cref="ManagedCollection"/> whose maps and programs
/// answer like the kernel collection's. Runs take the same inputs as BPF_PROG_TEST_RUN (an Ethernet frame for socket,
/// tc and XDP programs; an optional <c>__sk_buff</c> / <c>xdp_md</c> context) and build the context the kernel's test
/// run would.
/// </summary>
public sealed class InterpreterCollection : IBpfCollection
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
        _maps = collection.Maps.ToDictionary(kv => kv.Key, kv => (IBpfMap)new InterpreterMap(kv.Value), StringComparer.Ordinal);
        _programs = collection.Programs.ToDictionary(kv => kv.Key, kv => (IBpfProgram)new InterpreterProgram(kv.Value), StringComparer.Ordinal);
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
        : throw new KeyNotFoundException($"no program '{name}' (programs: {string.Join(", ", _programs.Keys.Order(StringComparer.Ordinal))})");

    /// <summary>Nothing to release: the maps and programs are managed memory.</summary>
    public void Dispose()
    {
    }

    /// <inheritdoc/>
    public override string ToString() => $"interpreter collection: {_programs.Count} programs, {_maps.Count} maps";
}

/// <summary>A managed map behind <see cref="IBpfMap"/>; errors surface as <see cref="MapException"/> with the kernel's errno.</summary>
public sealed class InterpreterMap : IBpfMap
{
    internal InterpreterMap(ManagedMap map) => Managed = map;

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
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value) => Check(Managed.TryLookup(key, value), "lookup");

    /// <inheritdoc/>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) =>
        Managed.Update(key, value, flags);

    /// <inheritdoc/>
    public bool TryDelete(ReadOnlySpan<byte> key) => Check(Managed.TryDelete(key), "delete");

    /// <inheritdoc/>
    public bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => Check(Managed.TryGetNextKey(key, nextKey), "get next key");

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
public sealed class InterpreterProgram : IBpfProgram
{
    private const int EthernetHeader = 14;

    internal InterpreterProgram(ManagedProgram program) => Managed = program;

    /// <summary>The managed program.</summary>
    public ManagedProgram Managed { get; }

    /// <inheritdoc/>
    public string Name => Managed.Name;

    /// <inheritdoc/>
    public ProgramType Type => Managed.Type;

    /// <summary>
    /// Runs the program in the interpreter on the context BPF_PROG_TEST_RUN would build. For socket/tc programs the
    /// context may set <c>mark</c>, <c>priority</c>, <c>ingress_ifindex</c>, <c>ifindex</c> and <c>cb[]</c>; for XDP,
    /// <c>ingress_ifindex</c> and <c>rx_queue_index</c>. The returned context is the <c>__sk_buff</c> cut to the input
    /// context's length (socket/tc), or the input context unchanged (other kinds).
    /// </summary>
    /// <exception cref="InvalidOperationException">The program faulted (the kernel's verifier would have refused it, or a helper failed).</exception>
    public BpfRunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default)
    {
        ProgramContext ctx;
        switch (Managed.Kind)
        {
            case ContextKind.Xdp:
                ctx = new XdpContext(data, Field(context, 12, 1), Field(context, 16, 0));
                break;
            case ContextKind.SkBuff:
            {
                var skb = SkBuffContext.ForTestRun(data, Type);
                if (!context.IsEmpty) ApplySkbFields(skb, context);
                ctx = skb;
                break;
            }
            default:
                ctx = new MemoryContext(context.IsEmpty ? data : context);
                break;
        }
        var result = Managed.Run(ctx);
        if (!result.Succeeded) throw new InvalidOperationException($"program '{Name}' faulted in the interpreter: {result.Fault!.Message}");
        return ctx switch
        {
            XdpContext x => new BpfRunResult(result.ReturnValue, x.Packet, context.ToArray()),
            SkBuffContext s => new BpfRunResult(result.ReturnValue, s.TestRunOutput(), s.Fields[..Math.Min(context.Length, s.Fields.Length)].ToArray()),
            MemoryContext m => new BpfRunResult(result.ReturnValue, context.IsEmpty ? m.Memory : data.ToArray(), context.IsEmpty ? [] : m.Memory),
            _ => new BpfRunResult(result.ReturnValue, [], []),
        };
    }

    private static uint Field(ReadOnlySpan<byte> context, int offset, uint fallback) =>
        context.Length >= offset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(context[offset..]) : fallback;

    private static void ApplySkbFields(SkBuffContext skb, ReadOnlySpan<byte> context)
    {
        // The fields BPF_PROG_TEST_RUN accepts from user space; the rest must be zero there too.
        if (context.Length > 8) skb.Mark = Field(context, 8, 0);
        if (context.Length > 32) skb.Priority = Field(context, 32, 0);
        if (context.Length > 36) skb.IngressIfindex = Field(context, 36, 0);
        if (context.Length > 40 && Field(context, 40, 0) != 0) skb.Ifindex = Field(context, 40, 0);
        for (int i = 0; i < 5 && context.Length > 48 + 4 * i; i++) skb.SetCb(i, Field(context, 48 + 4 * i, 0));
    }

    /// <inheritdoc/>
    public override string ToString() => Managed.ToString();
}
