namespace Bpf.Runtime;

/// <summary>What the runtime's helpers need to know about the run in progress on this thread.</summary>
internal sealed class RunState
{
    [ThreadStatic] private static RunState? t_current;

    public static RunState? Current => t_current;

    public required ManagedCollection Collection { get; init; }
    public required ContextKind Kind { get; init; }
    public int Cpu { get; init; }
    public ManagedProgram? PendingTailCall { get; set; }
    public int TailCalls { get; set; }
    public RedirectRecord? Redirect { get; set; }
    /// <summary>The host address of the bpf_spin_lock this run holds, or 0.</summary>
    public nint HeldLock { get; set; }

    public RunState? Enter()
    {
        var previous = t_current;
        t_current = this;
        return previous;
    }

    public static void Leave(RunState? previous) => t_current = previous;
}

/// <summary>A redirect a program requested with bpf_redirect or bpf_redirect_map (recorded, not performed).</summary>
/// <param name="Target">The ifindex (redirect) or the map key (redirect_map).</param>
/// <param name="Flags">The flags argument.</param>
/// <param name="Map">The map of a redirect_map, or null.</param>
public sealed record RedirectRecord(ulong Target, ulong Flags, ManagedMap? Map);
