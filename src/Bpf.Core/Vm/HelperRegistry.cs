namespace Bpf;

/// <summary>
/// A helper function callable from programs with <c>call imm</c> or <c>callx reg</c>. Arguments are r1-r5;
/// the return value goes to r0. Use <paramref name="context"/> to read or write program memory (through the same
/// region checks as the program's own loads and stores), to stop the program early, or to report an error.
/// </summary>
public delegate ulong HelperFunction(ref HelperContext context, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5);

/// <summary>A registered helper: its id, its name (for messages and disassembly) and its implementation.</summary>
/// <param name="Id">The helper id (the call immediate).</param>
/// <param name="Name">A short name such as <c>unwind</c> or <c>bpf_map_lookup_elem</c>.</param>
/// <param name="Function">The implementation.</param>
public sealed record Helper(int Id, string Name, HelperFunction Function);

/// <summary>
/// Maps helper ids to helpers. An <see cref="Interpreter"/> takes a snapshot when it is constructed, so
/// registering a helper later affects only interpreters created afterwards. Not thread-safe for writers.
/// </summary>
public sealed class HelperRegistry
{
    /// <summary>The largest helper id accepted (ids index a dense table at run time).</summary>
    public const int MaxHelperId = 0xFFFF;

    /// <summary>The id of the conformance suite's "unwind" helper.</summary>
    public const int UnwindHelperId = 5;

    private readonly Dictionary<int, Helper> _helpers = new();

    /// <summary>Creates an empty registry.</summary>
    public HelperRegistry()
    {
    }

    /// <summary>A registry holding the helpers the conformance suite expects: id 5, "unwind" (returns r1; when
    /// r1 is 0 the program ends at once with r0 = 0).</summary>
    public static HelperRegistry CreateDefault()
    {
        var registry = new HelperRegistry();
        registry.Register(UnwindHelperId, "unwind", Unwind);
        return registry;
    }

    private static ulong Unwind(ref HelperContext context, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5)
    {
        if (r1 == 0)
        {
            context.Stop(0);
        }
        return r1;
    }

    /// <summary>Adds or replaces a helper.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is negative or above <see cref="MaxHelperId"/>.</exception>
    public HelperRegistry Register(int id, string name, HelperFunction function)
    {
        if ((uint)id > MaxHelperId)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"helper ids must be in 0..{MaxHelperId}");
        }
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(function);
        _helpers[id] = new Helper(id, name, function);
        return this;
    }

    /// <summary>Looks a helper up by id.</summary>
    public bool TryGet(int id, out Helper helper) => _helpers.TryGetValue(id, out helper!);

    /// <summary>The registered helpers, in id order.</summary>
    public IEnumerable<Helper> Helpers => _helpers.Values.OrderBy(h => h.Id);

    /// <summary>A dense id-indexed copy for the interpreter's run loop.</summary>
    internal Helper?[] Snapshot()
    {
        var max = _helpers.Count == 0 ? -1 : _helpers.Keys.Max();
        var table = new Helper?[max + 1];
        foreach (var (id, helper) in _helpers)
        {
            table[id] = helper;
        }
        return table;
    }
}
