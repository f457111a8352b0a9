namespace Bpf;

/// <summary>What a section name says about a program.</summary>
/// <param name="Type">The program type.</param>
/// <param name="AttachType">The expected attach type, or null when the kernel needs none.</param>
/// <param name="AttachTo">The attach target after the '/' (tracepoint "cat/name", kprobe symbol, BTF name), or null.</param>
/// <param name="Flags">Sleepable, frags, BTF-attach, return probe.</param>
/// <param name="Pattern">The libbpf section pattern that matched ("kprobe+", "xdp.frags", ...).</param>
public sealed record ProgramSectionInfo(ProgramType Type, AttachType? AttachType, string? AttachTo, ProgramFlags Flags, string Pattern);

/// <summary>
/// libbpf's section-name conventions as ONE table. A pattern ending in '+' matches the bare name or the name
/// followed by '/' and an attach target; other patterns match exactly. The first matching row wins, so more
/// specific rows come first (as in libbpf).
/// </summary>
public static class ProgramSections
{
    private readonly record struct Row(string Pattern, ProgramType Type, AttachType? Attach, ProgramFlags Flags);

    private const ProgramFlags S = ProgramFlags.Sleepable;
    private const ProgramFlags Btf = ProgramFlags.AttachBtf;
    private const ProgramFlags Ret = ProgramFlags.ReturnProbe;

    private static readonly Row[] Table =
    [
        new("socket+", ProgramType.SocketFilter, null, 0), // cilium/ebpf and old libbpf objects use socket/N
        new("sk_reuseport/migrate", ProgramType.SkReuseport, AttachType.SkReuseportSelectOrMigrate, 0),
        new("sk_reuseport", ProgramType.SkReuseport, AttachType.SkReuseportSelect, 0),
        new("kprobe+", ProgramType.Kprobe, null, 0),
        new("uprobe+", ProgramType.Kprobe, null, 0),
        new("uprobe.s+", ProgramType.Kprobe, null, S),
        new("kretprobe+", ProgramType.Kprobe, null, Ret),
        new("uretprobe+", ProgramType.Kprobe, null, Ret),
        new("uretprobe.s+", ProgramType.Kprobe, null, Ret | S),
        new("kprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, 0),
        new("kretprobe.multi+", ProgramType.Kprobe, AttachType.TraceKprobeMulti, Ret),
        new("kprobe.session+", ProgramType.Kprobe, AttachType.TraceKprobeSession, 0),
        new("uprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, 0),
        new("uretprobe.multi+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Ret),
        new("uprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, S),
        new("uretprobe.multi.s+", ProgramType.Kprobe, AttachType.TraceUprobeMulti, Ret | S),
        new("uprobe.session+", ProgramType.Kprobe, AttachType.TraceUprobeSession, 0),
        new("uprobe.session.s+", ProgramType.Kprobe, AttachType.TraceUprobeSession, S),
        new("ksyscall+", ProgramType.Kprobe, null, 0),
        new("kretsyscall+", ProgramType.Kprobe, null, Ret),
        new("usdt+", ProgramType.Kprobe, null, ProgramFlags.Usdt),
        new("usdt.s+", ProgramType.Kprobe, null, ProgramFlags.Usdt | S),
        new("tc/ingress", ProgramType.SchedCls, AttachType.TcxIngress, 0),
        new("tc/egress", ProgramType.SchedCls, AttachType.TcxEgress, 0),
        new("tcx/ingress", ProgramType.SchedCls, AttachType.TcxIngress, 0),
        new("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress, 0),
        new("netkit/primary", ProgramType.SchedCls, AttachType.NetkitPrimary, 0),
        new("netkit/peer", ProgramType.SchedCls, AttachType.NetkitPeer, 0),
        new("tc", ProgramType.SchedCls, null, 0),
        new("classifier", ProgramType.SchedCls, null, 0),
        new("action", ProgramType.SchedAct, null, 0),
        new("tracepoint+", ProgramType.Tracepoint, null, 0),
        new("tp+", ProgramType.Tracepoint, null, 0),
        new("raw_tracepoint+", ProgramType.RawTracepoint, null, 0),
        new("raw_tp+", ProgramType.RawTracepoint, null, 0),
        new("raw_tracepoint.w+", ProgramType.RawTracepointWritable, null, 0),
        new("raw_tp.w+", ProgramType.RawTracepointWritable, null, 0),
        new("tp_btf+", ProgramType.Tracing, AttachType.TraceRawTp, Btf),
        new("fentry+", ProgramType.Tracing, AttachType.TraceFentry, Btf),
        new("fmod_ret+", ProgramType.Tracing, AttachType.ModifyReturn, Btf),
        new("fexit+", ProgramType.Tracing, AttachType.TraceFexit, Btf),
        new("fentry.s+", ProgramType.Tracing, AttachType.TraceFentry, Btf | S),
        new("fmod_ret.s+", ProgramType.Tracing, AttachType.ModifyReturn, Btf | S),
        new("fexit.s+", ProgramType.Tracing, AttachType.TraceFexit, Btf | S),
        new("freplace+", ProgramType.Extension, null, Btf),
        new("lsm+", ProgramType.Lsm, AttachType.LsmMac, Btf),
        new("lsm.s+", ProgramType.Lsm, AttachType.LsmMac, Btf | S),
        new("lsm_cgroup+", ProgramType.Lsm, AttachType.LsmCgroup, Btf),
        new("iter+", ProgramType.Tracing, AttachType.TraceIter, Btf),
        new("iter.s+", ProgramType.Tracing, AttachType.TraceIter, Btf | S),
        new("syscall", ProgramType.Syscall, null, S),
        new("xdp.frags/devmap", ProgramType.Xdp, AttachType.XdpDevMap, ProgramFlags.XdpFrags),
        new("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevMap, 0),
        new("xdp.frags/cpumap", ProgramType.Xdp, AttachType.XdpCpuMap, ProgramFlags.XdpFrags),
        new("xdp/cpumap", ProgramType.Xdp, AttachType.XdpCpuMap, 0),
        new("xdp.frags", ProgramType.Xdp, AttachType.Xdp, ProgramFlags.XdpFrags),
        new("xdp", ProgramType.Xdp, AttachType.Xdp, 0),
        new("perf_event", ProgramType.PerfEvent, null, 0),
        new("lwt_in", ProgramType.LwtIn, null, 0),
        new("lwt_out", ProgramType.LwtOut, null, 0),
        new("lwt_xmit", ProgramType.LwtXmit, null, 0),
        new("lwt_seg6local", ProgramType.LwtSeg6Local, null, 0),
        new("sockops", ProgramType.SockOps, AttachType.CgroupSockOps, 0),
        new("sk_skb/stream_parser", ProgramType.SkSkb, AttachType.SkSkbStreamParser, 0),
        new("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict, 0),
        new("sk_skb/verdict", ProgramType.SkSkb, AttachType.SkSkbVerdict, 0),
        new("sk_skb", ProgramType.SkSkb, null, 0),
        new("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict, 0),
        new("lirc_mode2", ProgramType.LircMode2, AttachType.LircMode2, 0),
        new("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector, 0),
        new("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, 0),
        new("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, 0),
        new("cgroup/skb", ProgramType.CgroupSkb, null, 0),
        new("cgroup/sock_create", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, 0),
        new("cgroup/sock_release", ProgramType.CgroupSock, AttachType.CgroupInetSockRelease, 0),
        new("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, 0),
        new("cgroup/post_bind4", ProgramType.CgroupSock, AttachType.CgroupInet4PostBind, 0),
        new("cgroup/post_bind6", ProgramType.CgroupSock, AttachType.CgroupInet6PostBind, 0),
        new("cgroup/bind4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Bind, 0),
        new("cgroup/bind6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Bind, 0),
        new("cgroup/connect4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, 0),
        new("cgroup/connect6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Connect, 0),
        new("cgroup/connect_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixConnect, 0),
        new("cgroup/sendmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Sendmsg, 0),
        new("cgroup/sendmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6Sendmsg, 0),
        new("cgroup/sendmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixSendmsg, 0),
        new("cgroup/recvmsg4", ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Recvmsg, 0),
        new("cgroup/recvmsg6", ProgramType.CgroupSockAddr, AttachType.CgroupUdp6Recvmsg, 0),
        new("cgroup/recvmsg_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixRecvmsg, 0),
        new("cgroup/getpeername4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Getpeername, 0),
        new("cgroup/getpeername6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Getpeername, 0),
        new("cgroup/getpeername_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetpeername, 0),
        new("cgroup/getsockname4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Getsockname, 0),
        new("cgroup/getsockname6", ProgramType.CgroupSockAddr, AttachType.CgroupInet6Getsockname, 0),
        new("cgroup/getsockname_unix", ProgramType.CgroupSockAddr, AttachType.CgroupUnixGetsockname, 0),
        new("cgroup/sysctl", ProgramType.CgroupSysctl, AttachType.CgroupSysctl, 0),
        new("cgroup/getsockopt", ProgramType.CgroupSockopt, AttachType.CgroupGetsockopt, 0),
        new("cgroup/setsockopt", ProgramType.CgroupSockopt, AttachType.CgroupSetsockopt, 0),
        new("cgroup/dev", ProgramType.CgroupDevice, AttachType.CgroupDevice, 0),
        new("struct_ops+", ProgramType.StructOps, null, 0),
        new("struct_ops.s+", ProgramType.StructOps, null, S),
        new("sk_lookup+", ProgramType.SkLookup, AttachType.SkLookup, 0), // "sk_lookup/" is common in the wild
        new("netfilter", ProgramType.Netfilter, AttachType.Netfilter, 0),
    ];

    /// <summary>Every pattern of the table, in match order.</summary>
    public static IEnumerable<string> Patterns => Table.Select(r => r.Pattern);

    /// <summary>
    /// Resolves a section name, or returns null when no convention matches. The table's strict forms are tried
    /// first; then, as libbpf's legacy mode and cilium/ebpf do, a name that merely starts with a pattern
    /// (<c>xdp_drop</c>, <c>kprobe__sys_open</c>) resolves to that pattern's type, its
    /// <see cref="ProgramSectionInfo.Pattern"/> suffixed with " (legacy prefix)".
    /// </summary>
    public static ProgramSectionInfo? Resolve(string sectionName)
    {
        ArgumentNullException.ThrowIfNull(sectionName);
        return ResolveStrict(sectionName) ?? ResolveLegacyPrefix(sectionName);
    }

    private static ProgramSectionInfo? ResolveLegacyPrefix(string sectionName)
    {
        // Longest prefix first, so "xdp.frags_x" is not taken for "xdp", nor "cgroup/sock_create_x" for "cgroup/sock".
        ProgramSectionInfo? best = null;
        var bestLength = 0;
        foreach (var row in Table)
        {
            var prefix = row.Pattern.TrimEnd('+');
            if (prefix.Length > bestLength && sectionName.Length > prefix.Length && sectionName.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = new(row.Type, row.Attach, null, row.Flags, row.Pattern + " (legacy prefix)");
                bestLength = prefix.Length;
            }
        }
        return best;
    }

    private static ProgramSectionInfo? ResolveStrict(string sectionName)
    {
        foreach (var row in Table)
        {
            var p = row.Pattern;
            if (p.EndsWith('+'))
            {
                var prefix = p.AsSpan(0, p.Length - 1);
                if (!sectionName.AsSpan().StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }
                if (sectionName.Length == prefix.Length)
                {
                    return new(row.Type, row.Attach, null, row.Flags, p);
                }
                if (sectionName[prefix.Length] == '/')
                {
                    var target = sectionName[(prefix.Length + 1)..];
                    return new(row.Type, row.Attach, target.Length == 0 ? null : target, row.Flags, p);
                }
            }
            else if (sectionName == p)
            {
                return new(row.Type, row.Attach, null, row.Flags, p);
            }
        }
        return null;
    }
}
