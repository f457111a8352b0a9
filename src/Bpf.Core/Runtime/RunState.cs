namespace Bpf.Runtime;

/// <summary>What the runtime's helpers need to know about the run in progress: the interpreter hands it to them
/// (<see cref="HelperContext.Host"/>), so finding it costs no thread-local lookup. One per thread is reused from run
/// to run (<see cref="Start"/> resets it), so a run allocates nothing for it.</summary>
internal sealed class RunState
{
    public ManagedCollection Collection { get; private set; } = null!;
    public ContextKind Kind { get; private set; }
    public int Cpu { get; private set; }
    /// <summary>The BPF cookie of the attachment the run stands for (bpf_get_attach_cookie).</summary>
    public ulong Cookie { get; private set; }
    public ManagedProgram? PendingTailCall { get; set; }
    public int TailCalls { get; set; }
    public RedirectRecord? Redirect { get; set; }
    /// <summary>The host address of the bpf_spin_lock this run holds, or 0.</summary>
    public nint HeldLock { get; set; }

    /// <summary>Makes this state describe a new run: no tail call, no redirect, no lock held.</summary>
    public void Start(ManagedCollection collection, ContextKind kind, int cpu, ulong cookie = 0)
    {
        Cookie = cookie;
        Collection = collection;
        Kind = kind;
        Cpu = cpu;
        PendingTailCall = null;
        TailCalls = 0;
        Redirect = null;
        HeldLock = 0;
    }
}

/// <summary>A redirect a program requested with bpf_redirect or bpf_redirect_map (recorded, not performed).</summary>
/// <param name="Target">The ifindex (redirect) or the map key (redirect_map).</param>
/// <param name="Flags">The flags argument.</param>
/// <param name="Map">The map of a redirect_map, or null.</param>
public sealed record RedirectRecord(ulong Target, ulong Flags, ManagedMap? Map);
