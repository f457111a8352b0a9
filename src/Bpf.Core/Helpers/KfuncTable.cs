namespace Bpf.Helpers;

/// <summary>The kernel's per-kfunc flags (include/linux/btf.h <c>KF_*</c>), which its BTF does not carry: the
/// kernel attaches them where it registers a kfunc (<c>BTF_ID_FLAGS(func, name, flags)</c>).</summary>
[Flags]
internal enum KfuncFlags
{
    None = 0,
    /// <summary>KF_ACQUIRE: returns a referenced pointer the program must release.</summary>
    Acquire = 1 << 0,
    /// <summary>KF_RELEASE: releases the referenced pointer passed to it (its arguments must be trusted).</summary>
    Release = 1 << 1,
    /// <summary>KF_RET_NULL: the returned pointer may be null.</summary>
    RetNull = 1 << 2,
    /// <summary>KF_TRUSTED_ARGS: pointer arguments must be referenced or trusted.</summary>
    TrustedArgs = 1 << 4,
    /// <summary>KF_SLEEPABLE: only sleepable programs may call it.</summary>
    Sleepable = 1 << 5,
    /// <summary>KF_DESTRUCTIVE: needs CAP_SYS_BOOT.</summary>
    Destructive = 1 << 6,
    /// <summary>KF_RCU: pointer arguments must be trusted or RCU-protected.</summary>
    Rcu = 1 << 7,
}

/// <summary>The kernel's kfunc hooks (<c>enum btf_kfunc_hook</c>): a kfunc set is registered for a program type,
/// which stands for its hook; <c>bpf_prog_type_to_kfunc_hook</c> maps every program type to one.</summary>
[Flags]
internal enum KfuncHooks
{
    None = 0,
    /// <summary>BTF_KFUNC_HOOK_COMMON (registered for BPF_PROG_TYPE_UNSPEC): every program type.</summary>
    Common = 1 << 0,
    Xdp = 1 << 1,
    Tc = 1 << 2,
    StructOps = 1 << 3,
    /// <summary>Tracing, tracepoint, raw tracepoint, perf event and LSM programs.</summary>
    Tracing = 1 << 4,
    Syscall = 1 << 5,
    /// <summary>cgroup skb, sock, device, sock_addr, sockopt, sysctl and sock_ops programs.</summary>
    Cgroup = 1 << 6,
    SchedAct = 1 << 7,
    SkSkb = 1 << 8,
    SocketFilter = 1 << 9,
    /// <summary>The LWT program types.</summary>
    Lwt = 1 << 10,
    Netfilter = 1 << 11,
    Kprobe = 1 << 12,
}

/// <summary>One kfunc as the kernel registers it: its name (as in the kernel's BTF), flags and hooks.</summary>
internal sealed record KfuncEntry(string Name, KfuncFlags Flags, KfuncHooks Hooks)
{
    public bool Has(KfuncFlags f) => (Flags & f) == f;
}

/// <summary>
/// The one table of kernel functions (kfuncs) the verifier judges calls to. A kfunc's prototype comes from the
/// kernel's BTF (its FUNC and FUNC_PROTO); what BTF does not say — the <c>KF_*</c> flags and the program types
/// allowed to call it (the kernel's <c>register_btf_kfunc_id_set</c> calls) — is here, from Linux 6.18:
/// net/netfilter/nf_conntrack_bpf.c (nf_ct_kfunc_set: XDP and SCHED_CLS), kernel/bpf/cpumask.c
/// (cpumask_kfunc_btf_ids: TRACING, STRUCT_OPS, SYSCALL), kernel/bpf/helpers.c (generic_btf_ids: TRACING,
/// SCHED_CLS, XDP, STRUCT_OPS, SYSCALL, CGROUP_SKB; common_btf_ids: every type). A kfunc absent from the table
/// is not judged (the verifier reports it as not supported, naming it), never guessed.
/// </summary>
internal static class KfuncTable
{
    private const KfuncHooks Conntrack = KfuncHooks.Xdp | KfuncHooks.Tc;
    private const KfuncHooks Cpumask = KfuncHooks.Tracing | KfuncHooks.StructOps | KfuncHooks.Syscall;
    private const KfuncHooks Generic = KfuncHooks.Tracing | KfuncHooks.Tc | KfuncHooks.Xdp | KfuncHooks.StructOps | KfuncHooks.Syscall | KfuncHooks.Cgroup;

    private const KfuncFlags AcqNull = KfuncFlags.Acquire | KfuncFlags.RetNull;

    private static readonly KfuncEntry[] All =
    [
        // net/netfilter/nf_conntrack_bpf.c
        new("bpf_xdp_ct_alloc", AcqNull, Conntrack),
        new("bpf_xdp_ct_lookup", AcqNull, Conntrack),
        new("bpf_skb_ct_alloc", AcqNull, Conntrack),
        new("bpf_skb_ct_lookup", AcqNull, Conntrack),
        new("bpf_ct_insert_entry", AcqNull | KfuncFlags.Release, Conntrack),
        new("bpf_ct_release", KfuncFlags.Release, Conntrack),
        new("bpf_ct_set_timeout", KfuncFlags.TrustedArgs, Conntrack),
        new("bpf_ct_change_timeout", KfuncFlags.TrustedArgs, Conntrack),
        new("bpf_ct_set_status", KfuncFlags.TrustedArgs, Conntrack),
        new("bpf_ct_change_status", KfuncFlags.TrustedArgs, Conntrack),

        // kernel/bpf/cpumask.c
        new("bpf_cpumask_create", AcqNull, Cpumask),
        new("bpf_cpumask_release", KfuncFlags.Release, Cpumask),
        new("bpf_cpumask_acquire", KfuncFlags.Acquire | KfuncFlags.TrustedArgs, Cpumask),
        new("bpf_cpumask_first", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_first_zero", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_first_and", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_set_cpu", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_clear_cpu", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_test_cpu", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_test_and_set_cpu", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_test_and_clear_cpu", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_setall", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_clear", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_and", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_or", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_xor", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_equal", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_intersects", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_subset", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_empty", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_full", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_copy", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_any_distribute", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_any_and_distribute", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_weight", KfuncFlags.Rcu, Cpumask),
        new("bpf_cpumask_populate", KfuncFlags.Rcu, Cpumask),

        // kernel/bpf/helpers.c, generic_btf_ids
        new("bpf_task_acquire", AcqNull | KfuncFlags.Rcu, Generic),
        new("bpf_task_release", KfuncFlags.Release, Generic),
        new("bpf_task_from_pid", AcqNull, Generic),
        new("bpf_task_from_vpid", AcqNull, Generic),
        new("bpf_cgroup_acquire", AcqNull | KfuncFlags.Rcu, Generic),
        new("bpf_cgroup_release", KfuncFlags.Release, Generic),
        new("bpf_cgroup_ancestor", AcqNull | KfuncFlags.Rcu, Generic),
        new("bpf_cgroup_from_id", AcqNull, Generic),
        new("bpf_task_under_cgroup", KfuncFlags.Rcu, Generic),
        new("bpf_task_get_cgroup1", AcqNull | KfuncFlags.Rcu, Generic),

        // kernel/bpf/helpers.c, common_btf_ids (judged as the kernel does only on a BTF without the "rcu" type tag)
        new("bpf_rcu_read_lock", KfuncFlags.None, KfuncHooks.Common),
        new("bpf_rcu_read_unlock", KfuncFlags.None, KfuncHooks.Common),
    ];

    private static readonly Dictionary<string, KfuncEntry> ByName = BuildIndex();

    /// <summary>The kfunc with this name, or null when the table does not describe it.</summary>
    public static KfuncEntry? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Every kfunc the table describes.</summary>
    public static IReadOnlyList<KfuncEntry> Entries => All;

    /// <summary>The kernel's bpf_prog_type_to_kfunc_hook (None: BTF_KFUNC_HOOK_MAX, only common kfuncs).</summary>
    public static KfuncHooks HookOf(ProgramType type) => type switch
    {
        ProgramType.Xdp => KfuncHooks.Xdp,
        ProgramType.SchedCls => KfuncHooks.Tc,
        ProgramType.StructOps => KfuncHooks.StructOps,
        ProgramType.Tracing or ProgramType.Tracepoint or ProgramType.RawTracepoint or ProgramType.PerfEvent or ProgramType.Lsm => KfuncHooks.Tracing,
        ProgramType.Syscall => KfuncHooks.Syscall,
        ProgramType.CgroupSkb or ProgramType.CgroupSock or ProgramType.CgroupDevice or ProgramType.CgroupSockAddr
            or ProgramType.CgroupSockopt or ProgramType.CgroupSysctl or ProgramType.SockOps => KfuncHooks.Cgroup,
        ProgramType.SchedAct => KfuncHooks.SchedAct,
        ProgramType.SkSkb => KfuncHooks.SkSkb,
        ProgramType.SocketFilter => KfuncHooks.SocketFilter,
        ProgramType.LwtIn or ProgramType.LwtOut or ProgramType.LwtXmit or ProgramType.LwtSeg6Local => KfuncHooks.Lwt,
        ProgramType.Netfilter => KfuncHooks.Netfilter,
        ProgramType.Kprobe => KfuncHooks.Kprobe,
        _ => KfuncHooks.None,
    };

    /// <summary>Whether a program of <paramref name="type"/> may call the kfunc (btf_kfunc_id_set_contains).</summary>
    public static bool Allowed(KfuncEntry k, ProgramType type) =>
        (k.Hooks & KfuncHooks.Common) != 0 || (k.Hooks & HookOf(type)) != 0;

    private static Dictionary<string, KfuncEntry> BuildIndex()
    {
        var d = new Dictionary<string, KfuncEntry>(StringComparer.Ordinal);
        foreach (var k in All)
        {
            if (!d.TryAdd(k.Name, k)) throw new InvalidOperationException($"kfunc {k.Name} is in the kfunc table twice");
        }
        return d;
    }
}
