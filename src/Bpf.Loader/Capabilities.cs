using System.Globalization;

namespace Bpf.Loader;

/// <summary>A Linux capability that matters to bpf(): the number is the kernel's bit in the capability sets.</summary>
public enum Capability
{
    /// <summary>CAP_NET_ADMIN: networking program types (XDP, tc, cgroup skb) and their attach points.</summary>
    NetAdmin = 12,
    /// <summary>CAP_SYS_ADMIN: everything bpf() can do, on kernels before 5.8 the only way in.</summary>
    SysAdmin = 21,
    /// <summary>CAP_SYS_RESOURCE: some map types' memory (e.g. arena) and resource limits.</summary>
    SysResource = 24,
    /// <summary>CAP_PERFMON: tracing program types and pointer arithmetic the verifier allows only to them.</summary>
    Perfmon = 38,
    /// <summary>CAP_BPF: bpf() itself (5.8+).</summary>
    Bpf = 39,
}

/// <summary>
/// The effective capabilities of this process, read once from <c>/proc/self/status</c>. Used to say which
/// capability a refused operation likely needed — a probe of the process, never a guess about the machine.
/// </summary>
public static class ProcessCapabilities
{
    private static readonly Lazy<ulong?> Effective = new(Read);

    /// <summary>The effective capability mask, or null when it cannot be read (not Linux, no procfs).</summary>
    public static ulong? EffectiveMask => Effective.Value;

    /// <summary>Whether the process has <paramref name="cap"/>; null when unknown.</summary>
    public static bool? Has(Capability cap) => EffectiveMask is ulong m ? (m & (1UL << (int)cap)) != 0 : null;

    /// <summary>The capabilities relevant to bpf() that this process lacks (empty when it has all, or when unknown).</summary>
    public static IReadOnlyList<Capability> MissingForBpf() =>
        Enum.GetValues<Capability>().Where(c => Has(c) == false).ToArray();

    /// <summary>The kernel's spelling, e.g. <c>CAP_SYS_RESOURCE</c>.</summary>
    public static string Name(Capability cap) => cap switch
    {
        Capability.NetAdmin => "CAP_NET_ADMIN",
        Capability.SysAdmin => "CAP_SYS_ADMIN",
        Capability.SysResource => "CAP_SYS_RESOURCE",
        Capability.Perfmon => "CAP_PERFMON",
        Capability.Bpf => "CAP_BPF",
        _ => "CAP_" + ((int)cap).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// One sentence for an EPERM: which of the capabilities bpf() cares about the process lacks, or that it has
    /// them all (then something else refused: a sysctl, an LSM, a type-specific rule).
    /// </summary>
    public static string DescribeForEperm()
    {
        if (EffectiveMask is null)
            return "the process's capabilities could not be read; bpf() needs CAP_BPF (plus CAP_PERFMON for tracing, " +
                   "CAP_NET_ADMIN for networking) or CAP_SYS_ADMIN";
        var missing = MissingForBpf();
        if (missing.Count == 0)
            return "the process has CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_SYS_RESOURCE, so something " +
                   "else refused (kernel.unprivileged_bpf_disabled, an LSM, or a rule of this kernel for this object type)";
        return "the process lacks " + string.Join(", ", missing.Select(Name)) +
               " (effective set 0x" + EffectiveMask.Value.ToString("x", CultureInfo.InvariantCulture) + "); " +
               "bpf() needs CAP_BPF (plus CAP_PERFMON for tracing, CAP_NET_ADMIN for networking) or CAP_SYS_ADMIN, and " +
               "some map types need CAP_SYS_RESOURCE or CAP_SYS_ADMIN";
    }

    /// <summary>
    /// One sentence for an EPERM without a verifier log from BPF_PROG_LOAD of a <paramref name="type"/> program: the
    /// capabilities the kernel's checks in <c>bpf_prog_load</c> require for that type that the process lacks, or — when
    /// it has them — that the refusal came from something the kernel does not report, without guessing what.
    /// </summary>
    public static string DescribeForProgramLoadEperm(ProgramType type)
    {
        if (EffectiveMask is null) return DescribeForEperm();
        var needed = new List<Capability>();
        if (type is not (ProgramType.SocketFilter or ProgramType.CgroupSkb)) needed.Add(Capability.Bpf);
        if (type is ProgramType.Kprobe or ProgramType.Tracepoint or ProgramType.PerfEvent or ProgramType.RawTracepoint
            or ProgramType.RawTracepointWritable or ProgramType.Tracing or ProgramType.Lsm or ProgramType.StructOps or ProgramType.Extension)
        {
            needed.Add(Capability.Perfmon);
        }
        if (type is ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.Xdp or ProgramType.LwtIn or ProgramType.LwtOut
            or ProgramType.LwtXmit or ProgramType.SkSkb or ProgramType.SkMsg or ProgramType.FlowDissector or ProgramType.CgroupDevice
            or ProgramType.CgroupSock or ProgramType.CgroupSockAddr or ProgramType.CgroupSockopt or ProgramType.CgroupSysctl
            or ProgramType.SockOps or ProgramType.Netfilter)
        {
            needed.Add(Capability.NetAdmin);
        }
        var missing = Has(Capability.SysAdmin) == true ? [] : needed.Where(c => Has(c) == false).ToList();
        if (missing.Count > 0)
        {
            return $"the process lacks {string.Join(", ", missing.Select(Name))}, which loading a {type} program needs (or CAP_SYS_ADMIN)";
        }
        var held = needed.Count == 0 ? "no capability" : string.Join(", ", needed.Select(Name));
        return $"the process has what the kernel's capability checks ask of a {type} program ({held}" +
               (Has(Capability.SysAdmin) == true ? ", and CAP_SYS_ADMIN" : "") + "), so something else refused it and the kernel " +
               "did not say what (no verifier log): a policy of this kernel or an LSM, not a missing capability";
    }

    private static ulong? Read()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal) &&
                    ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong m))
                    return m;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
