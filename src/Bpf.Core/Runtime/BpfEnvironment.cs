using System.Collections.Concurrent;
using System.Diagnostics;

namespace Bpf.Runtime;

/// <summary>
/// What helpers observe of the "kernel": clocks, random numbers, the current task, and where trace_printk output
/// goes. Every part is injectable so program runs are deterministic in tests. Shared by every run of a
/// collection; the members are safe to call from several threads.
/// </summary>
public sealed class BpfEnvironment
{
    private static readonly long Origin = Stopwatch.GetTimestamp();
    private long _randomCounter;
    private ulong _seed;

    /// <summary>Creates an environment with real clocks, a random seed and the current process as the task.</summary>
    public BpfEnvironment()
    {
        _seed = (ulong)Random.Shared.NextInt64();
        var pid = (ulong)(uint)Environment.ProcessId;
        PidTgid = pid << 32 | pid;
    }

    /// <summary>bpf_ktime_get_ns: monotonic nanoseconds. Defaults to a Stopwatch clock.</summary>
    public Func<ulong> MonotonicNanoseconds { get; set; } = static () => (ulong)((Stopwatch.GetTimestamp() - Origin) * (1e9 / Stopwatch.Frequency));

    /// <summary>bpf_ktime_get_boot_ns. Defaults to <see cref="MonotonicNanoseconds"/>.</summary>
    public Func<ulong>? BootNanoseconds { get; set; }

    /// <summary>Seeds bpf_get_prandom_u32: the n-th call of the collection returns a fixed function of (seed, n).</summary>
    public ulong RandomSeed
    {
        get => _seed;
        set
        {
            _seed = value;
            Interlocked.Exchange(ref _randomCounter, 0);
        }
    }

    /// <summary>bpf_get_current_pid_tgid: tgid in the high 32 bits, pid in the low.</summary>
    public ulong PidTgid { get; set; }

    /// <summary>
    /// bpf_get_ns_current_pid_tgid: the pid namespace the current task is in, as user space names it (<c>st_dev</c> and
    /// <c>st_ino</c> of <c>stat("/proc/self/ns/pid")</c>). A program's dev/ino must equal these for the helper to fill
    /// its <c>bpf_pidns_info</c> (with <see cref="PidTgid"/>'s pid and tgid); any other pair gets -EINVAL, as in the
    /// kernel. Null (default): the managed task is in no namespace a program can name, so every call gets -EINVAL.
    /// </summary>
    public (ulong Device, ulong Inode)? PidNamespace { get; set; }

    /// <summary>bpf_get_current_uid_gid: gid in the high 32 bits, uid in the low.</summary>
    public ulong UidGid { get; set; }

    /// <summary>
    /// bpf_get_current_task: the "address" of the current <c>task_struct</c>. A managed run has no kernel and no
    /// task_struct, so this is an opaque value (default 0, the way a program sees a null task). Programs typically
    /// pass it, plus a field offset, to probe_read_kernel, which in a managed run always fails with -EFAULT and
    /// zeroes its destination (see docs/runtime.md) — whatever value is set here.
    /// </summary>
    public ulong CurrentTask { get; set; }

    /// <summary>bpf_fib_lookup: the devices, routes and neighbours lookups see. Default <see cref="Fib.NewNamespace"/>
    /// (a new network namespace: loopback only, forwarding off, no route — lookups return
    /// BPF_FIB_LKUP_RET_FWD_DISABLED from ifindex 1 and -ENODEV from any other).</summary>
    public Fib Fib { get; set; } = Fib.NewNamespace;

    /// <summary>The connection tracking table bpf_skb_ct_lookup and bpf_xdp_ct_lookup look up. Default
    /// <see cref="Conntrack.Empty"/> (a new network namespace: no entry, so lookups fail with -ENOENT).</summary>
    public Conntrack Conntrack
    {
        get => _conntrack;
        set => _conntrack = value ?? throw new ArgumentNullException(nameof(value), "the conntrack table cannot be null: use Conntrack.Empty");
    }

    private Conntrack _conntrack = Conntrack.Empty;

    /// <summary>bpf_get_current_comm: the task name (at most 15 bytes are used).</summary>
    public string Comm { get; set; } = "bpfnet";

    /// <summary>Receives every trace_printk line (without the trailing newline). By default lines go to <see cref="TraceLog"/>.</summary>
    public Action<string>? TraceSink { get; set; }

    /// <summary>The trace_printk lines written while <see cref="TraceSink"/> is null (a bounded queue of the last 10,000).</summary>
    public ConcurrentQueue<string> TraceLog { get; } = new();

    internal uint NextRandom()
    {
        var n = (ulong)Interlocked.Increment(ref _randomCounter);
        // SplitMix64 of (seed, n): independent of thread interleaving except for which call gets which n.
        var z = _seed + n * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (uint)(z ^ (z >> 31));
    }

    internal void Trace(string line)
    {
        if (TraceSink is { } sink)
        {
            sink(line);
            return;
        }
        TraceLog.Enqueue(line);
        while (TraceLog.Count > 10_000 && TraceLog.TryDequeue(out _))
        {
        }
    }
}
