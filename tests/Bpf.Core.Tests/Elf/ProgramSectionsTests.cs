
namespace Bpf.Tests.Elf;

public class ProgramSectionsTests
{
    [Theory]
    [InlineData("socket", ProgramType.SocketFilter, null, null, ProgramFlags.None)]
    [InlineData("xdp", ProgramType.Xdp, AttachType.Xdp, null, ProgramFlags.None)]
    [InlineData("xdp.frags", ProgramType.Xdp, AttachType.Xdp, null, ProgramFlags.XdpFrags)]
    [InlineData("xdp/devmap", ProgramType.Xdp, AttachType.XdpDevMap, null, ProgramFlags.None)]
    [InlineData("tc", ProgramType.SchedCls, null, null, ProgramFlags.None)]
    [InlineData("classifier", ProgramType.SchedCls, null, null, ProgramFlags.None)]
    [InlineData("tcx/ingress", ProgramType.SchedCls, AttachType.TcxIngress, null, ProgramFlags.None)]
    [InlineData("tcx/egress", ProgramType.SchedCls, AttachType.TcxEgress, null, ProgramFlags.None)]
    [InlineData("action", ProgramType.SchedAct, null, null, ProgramFlags.None)]
    [InlineData("tracepoint/syscalls/sys_enter_openat", ProgramType.Tracepoint, null, "syscalls/sys_enter_openat", ProgramFlags.None)]
    [InlineData("tp/sched/sched_switch", ProgramType.Tracepoint, null, "sched/sched_switch", ProgramFlags.None)]
    [InlineData("kprobe/do_sys_open", ProgramType.Kprobe, null, "do_sys_open", ProgramFlags.None)]
    [InlineData("kretprobe/do_sys_open", ProgramType.Kprobe, null, "do_sys_open", ProgramFlags.ReturnProbe)]
    [InlineData("uprobe//bin/bash:readline", ProgramType.Kprobe, null, "/bin/bash:readline", ProgramFlags.None)]
    [InlineData("kprobe.multi/tcp_*", ProgramType.Kprobe, AttachType.TraceKprobeMulti, "tcp_*", ProgramFlags.None)]
    [InlineData("cgroup_skb/ingress", ProgramType.CgroupSkb, AttachType.CgroupInetIngress, null, ProgramFlags.None)]
    [InlineData("cgroup_skb/egress", ProgramType.CgroupSkb, AttachType.CgroupInetEgress, null, ProgramFlags.None)]
    [InlineData("cgroup/connect4", ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, null, ProgramFlags.None)]
    [InlineData("cgroup/sock", ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, null, ProgramFlags.None)]
    [InlineData("cgroup/dev", ProgramType.CgroupDevice, AttachType.CgroupDevice, null, ProgramFlags.None)]
    [InlineData("cgroup/getsockopt", ProgramType.CgroupSockopt, AttachType.CgroupGetsockopt, null, ProgramFlags.None)]
    [InlineData("fentry/tcp_connect", ProgramType.Tracing, AttachType.TraceFentry, "tcp_connect", ProgramFlags.AttachBtf)]
    [InlineData("fexit/tcp_connect", ProgramType.Tracing, AttachType.TraceFexit, "tcp_connect", ProgramFlags.AttachBtf)]
    [InlineData("fentry.s/do_open", ProgramType.Tracing, AttachType.TraceFentry, "do_open", ProgramFlags.AttachBtf | ProgramFlags.Sleepable)]
    [InlineData("lsm/file_open", ProgramType.Lsm, AttachType.LsmMac, "file_open", ProgramFlags.AttachBtf)]
    [InlineData("iter/task", ProgramType.Tracing, AttachType.TraceIter, "task", ProgramFlags.AttachBtf)]
    [InlineData("uprobe.session.s//bin/sh:main", ProgramType.Kprobe, AttachType.TraceUprobeSession, "/bin/sh:main", ProgramFlags.Sleepable)]
    [InlineData("raw_tracepoint/sched_switch", ProgramType.RawTracepoint, null, "sched_switch", ProgramFlags.None)]
    [InlineData("raw_tp/sched_switch", ProgramType.RawTracepoint, null, "sched_switch", ProgramFlags.None)]
    [InlineData("raw_tp.w/sched_switch", ProgramType.RawTracepointWritable, null, "sched_switch", ProgramFlags.None)]
    [InlineData("sk_skb/stream_parser", ProgramType.SkSkb, AttachType.SkSkbStreamParser, null, ProgramFlags.None)]
    [InlineData("sk_skb/stream_verdict", ProgramType.SkSkb, AttachType.SkSkbStreamVerdict, null, ProgramFlags.None)]
    [InlineData("sk_skb", ProgramType.SkSkb, null, null, ProgramFlags.None)]
    [InlineData("sk_msg", ProgramType.SkMsg, AttachType.SkMsgVerdict, null, ProgramFlags.None)]
    [InlineData("flow_dissector", ProgramType.FlowDissector, AttachType.FlowDissector, null, ProgramFlags.None)]
    [InlineData("struct_ops/tcp_init", ProgramType.StructOps, null, "tcp_init", ProgramFlags.None)]
    [InlineData("syscall", ProgramType.Syscall, null, null, ProgramFlags.Sleepable)]
    [InlineData("perf_event", ProgramType.PerfEvent, null, null, ProgramFlags.None)]
    [InlineData("netfilter", ProgramType.Netfilter, AttachType.Netfilter, null, ProgramFlags.None)]
    [InlineData("sk_lookup", ProgramType.SkLookup, AttachType.SkLookup, null, ProgramFlags.None)]
    [InlineData("lwt_xmit", ProgramType.LwtXmit, null, null, ProgramFlags.None)]
    public void Section_names_resolve_like_libbpf(string section, ProgramType type, AttachType? attach, string? target, ProgramFlags flags)
    {
        var info = ProgramSections.Resolve(section)!;
        Assert.Equal((type, attach, target, flags), (info.Type, info.AttachType, info.AttachTo, info.Flags));
    }

    [Theory]
    [InlineData("socket/extra", ProgramType.SocketFilter, "socket+", "extra")]
    [InlineData("socket/1", ProgramType.SocketFilter, "socket+", "1")]
    [InlineData("sk_lookup/", ProgramType.SkLookup, "sk_lookup+", null)]
    public void Prefix_forms_in_the_wild_resolve(string section, ProgramType type, string pattern, string? target)
    {
        var info = ProgramSections.Resolve(section)!;
        Assert.Equal((type, pattern, target), (info.Type, info.Pattern, info.AttachTo));
    }

    [Theory]
    [InlineData("xdp_foo", ProgramType.Xdp, "xdp")]
    [InlineData("kprobex", ProgramType.Kprobe, "kprobe+")]
    [InlineData("xdp.frags_x", ProgramType.Xdp, "xdp.frags")]
    [InlineData("cgroup/sock_create_x", ProgramType.CgroupSock, "cgroup/sock_create")]
    [InlineData("classifier_ingress", ProgramType.SchedCls, "classifier")]
    public void Legacy_prefixes_resolve_to_the_longest_pattern(string section, ProgramType type, string pattern)
    {
        var info = ProgramSections.Resolve(section)!;
        Assert.Equal((type, pattern + " (legacy prefix)"), (info.Type, info.Pattern));
    }

    [Theory]
    [InlineData(".text")]
    [InlineData("license")]
    [InlineData("maps_extra")]
    [InlineData("")]
    public void Unknown_sections_do_not_resolve(string section) => Assert.Null(ProgramSections.Resolve(section));

    [Fact]
    public void The_table_has_no_duplicate_patterns() =>
        Assert.Equal(ProgramSections.Patterns.Count(), ProgramSections.Patterns.Distinct().Count());
}
