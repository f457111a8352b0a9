using System.Net;
using System.Net.Sockets;
using Bpf.Loader;
using static Bpf.Loader.Tests.AttachTests;

namespace Bpf.Loader.Tests;

/// <summary>A veth pair: one end (with an address) in this namespace, the peer in a network namespace of its own. Disposing removes both.</summary>
internal sealed class VethPair : IDisposable
{
    public VethPair()
    {
        // `ip netns add` mounts /run/netns and the peer end is used through setns: both need CAP_SYS_ADMIN.
        Need.Capabilities("a network namespace (ip netns add, setns)", Capability.SysAdmin);
        string tag = $"{Environment.ProcessId % 10000}{Random.Shared.Next(1000):D3}";
        Namespace = $"bpfnet-{tag}";
        HostName = $"bnA{tag}";
        PeerName = $"bnB{tag}";
        int subnet = Random.Shared.Next(10, 250);
        HostIp = IPAddress.Parse($"10.214.{subnet}.1");
        PeerIp = IPAddress.Parse($"10.214.{subnet}.2");
        try
        {
            Sh("ip", $"netns add {Namespace}");
            Sh("ip", $"link add {HostName} type veth peer name {PeerName} netns {Namespace}");
            Sh("ip", $"addr add {HostIp}/24 dev {HostName}");
            Sh("ip", $"link set {HostName} up");
            Sh("ip", $"-n {Namespace} addr add {PeerIp}/24 dev {PeerName}");
            Sh("ip", $"-n {Namespace} link set {PeerName} up");
            Sh("ip", $"-n {Namespace} link set lo up");
            HostIndex = BpfLink.InterfaceIndex(HostName);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Namespace { get; }
    public string HostName { get; }
    public string PeerName { get; }
    public IPAddress HostIp { get; }
    public IPAddress PeerIp { get; }
    public int HostIndex { get; }

    /// <summary>Sends <paramref name="packets"/> UDP datagrams from the namespace to the host end and waits until all arrive.</summary>
    public void SendAndReceive(ushort port, int packets)
    {
        using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rx.Bind(new IPEndPoint(HostIp, port));
        rx.ReceiveTimeout = 2000;
        SendFromNamespace(Namespace, new IPEndPoint(HostIp, port), packets);
        var buf = new byte[64];
        for (int got = 0; got < packets; got++) rx.Receive(buf);
    }

    public string LinkDetails() => Sh("ip", $"-d link show {HostName}");

    public void Dispose()
    {
        Sh("ip", $"netns del {Namespace}", check: false);
        Sh("ip", $"link del {HostName}", check: false);
    }
}

public sealed class NetlinkAttachTests : KernelTest
{
    private const ushort Port = 40151;

    private static (BpfMap Counts, BpfProgram Xdp) UdpCountingXdp()
    {
        var counts = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "nl_counts" });
        var (insns, li) = UdpCounter(0, 4, 14, Port, key: 0, ret: 2 /* XDP_PASS */);
        return (counts, BpfProgram.Load(ProgramType.Xdp, insns, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(li, counts)] }));
    }

    [KernelFact]
    public void XdpOverNetlink_CountsRealPackets_AndDetachesOnDispose()
    {
        using var veth = new VethPair();
        var (counts, xdp) = UdpCountingXdp();
        using (counts)
        using (xdp)
        {
            Assert.Equal(XdpAttachedMode.None, NetlinkXdpAttachment.Query(veth.HostIndex).Mode);
            var attachment = BpfLink.AttachXdp(xdp, veth.HostIndex, XdpFlags.None, XdpAttachMethod.Netlink);
            try
            {
                var nl = Assert.IsType<NetlinkXdpAttachment>(attachment);
                Assert.Equal(xdp.Id, nl.ProgramId);
                var state = NetlinkXdpAttachment.Query(veth.HostIndex);
                Assert.Equal(XdpAttachedMode.Driver, state.Mode); // veth has native XDP
                Assert.Equal(xdp.Id, state.ProgramId);
                Assert.Contains($"prog/xdp id {xdp.Id}", veth.LinkDetails());

                veth.SendAndReceive(Port, 9);
                Assert.Equal(9ul, counts.Lookup<uint, ulong>(0));
            }
            finally
            {
                attachment.Dispose();
            }
            Assert.Equal(new XdpState(XdpAttachedMode.None, 0, 0, 0), NetlinkXdpAttachment.Query(veth.HostIndex));
            Assert.DoesNotContain("prog/xdp", veth.LinkDetails());
            veth.SendAndReceive(Port, 3);
            Assert.Equal(9ul, counts.Lookup<uint, ulong>(0)); // detached: no longer counted
            attachment.Dispose(); // twice is harmless
        }
    }

    [KernelFact]
    public void XdpOverNetlink_GenericMode_AttachesAndDetachesInThatMode()
    {
        using var veth = new VethPair();
        var (counts, xdp) = UdpCountingXdp();
        using (counts)
        using (xdp)
        {
            using (var nl = NetlinkXdpAttachment.Attach(xdp, veth.HostIndex, XdpFlags.Generic))
            {
                var state = NetlinkXdpAttachment.Query(veth.HostIndex);
                Assert.Equal(XdpAttachedMode.Generic, state.Mode);
                Assert.Equal(xdp.Id, state.GenericProgramId);
                Assert.Equal(0u, state.DriverProgramId);
                Assert.Contains("xdpgeneric", veth.LinkDetails());
                veth.SendAndReceive(Port, 4);
                Assert.Equal(4ul, counts.Lookup<uint, ulong>(0));
            }
            Assert.Equal(XdpAttachedMode.None, NetlinkXdpAttachment.Query(veth.HostIndex).Mode);
        }
    }

    [KernelFact]
    public void XdpOverNetlink_SecondAttach_IsRefusedWithTheKernelsExtendedAck()
    {
        using var veth = new VethPair();
        var (counts, xdp) = UdpCountingXdp();
        using (counts)
        using (xdp)
        using (NetlinkXdpAttachment.Attach(xdp, veth.HostIndex))
        {
            var e = Assert.Throws<NetlinkException>(() => NetlinkXdpAttachment.Attach(xdp, veth.HostIndex));
            Assert.Equal("EBUSY", e.ErrnoName);
            Assert.False(string.IsNullOrWhiteSpace(e.ExtendedAckMessage), e.Message);
            Assert.Contains(e.ExtendedAckMessage!, e.Message);
            // A bpf_link cannot take the device over from a netlink attachment either, and Auto does not fall back on EBUSY.
            var linkError = Assert.ThrowsAny<BpfSyscallException>(() => BpfLink.AttachXdp(xdp, veth.HostIndex));
            Assert.Equal("EBUSY", linkError.ErrnoName);
            Assert.Equal(xdp.Id, NetlinkXdpAttachment.Query(veth.HostIndex).ProgramId); // the first one is untouched
        }
        Assert.Equal(XdpAttachedMode.None, NetlinkXdpAttachment.Query(veth.HostIndex).Mode);
    }

    [KernelFact]
    public void XdpOverNetlink_DisposeLeavesAProgramThatReplacedOurs()
    {
        using var veth = new VethPair();
        var (counts, xdp) = UdpCountingXdp();
        var (counts2, other) = UdpCountingXdp();
        string pin = Path.Combine("/sys/fs/bpf", $"bpfnet-nl-{Environment.ProcessId}-{Random.Shared.Next(100000)}");
        using (counts)
        using (xdp)
        using (counts2)
        using (other)
        {
            BpfFs.EnsureMounted("/sys/fs/bpf");
            other.Pin(pin);
            try
            {
                var ours = NetlinkXdpAttachment.Attach(xdp, veth.HostIndex);
                // Someone else forces their program onto the device.
                Sh("ip", $"-force link set dev {veth.HostName} xdp pinned {pin}");
                Assert.Equal(other.Id, NetlinkXdpAttachment.Query(veth.HostIndex).ProgramId);
                ours.Dispose(); // ours is gone already: theirs must stay
                Assert.Equal(other.Id, NetlinkXdpAttachment.Query(veth.HostIndex).ProgramId);
                veth.SendAndReceive(Port, 2);
                Assert.Equal(0ul, counts.Lookup<uint, ulong>(0));
                Assert.Equal(2ul, counts2.Lookup<uint, ulong>(0));
            }
            finally
            {
                Sh("ip", $"link set dev {veth.HostName} xdp off", check: false);
                File.Delete(pin);
            }
        }
    }

    private static (BpfMap Counts, BpfProgram Tc) UdpCountingTc()
    {
        var counts = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "nl_tc_counts" });
        var (insns, li) = UdpCounter(76, 80, 14, Port, key: 0, ret: 0 /* TC_ACT_OK */);
        return (counts, BpfProgram.Load(ProgramType.SchedCls, insns, "GPL", new LoadOptions { Name = "nl_tc_count", MapRelocations = [new MapRelocation(li, counts)] }));
    }

    [KernelFact]
    public void TcOverNetlink_IngressClsBpf_CountsRealPackets_AndIsDeletedOnDispose()
    {
        using var veth = new VethPair();
        var (counts, tc) = UdpCountingTc();
        using (counts)
        using (tc)
        {
            var attachment = BpfLink.AttachTcx(tc, veth.HostIndex, ingress: true, TcAttachMethod.Netlink);
            try
            {
                var nl = Assert.IsType<NetlinkTcAttachment>(attachment);
                Assert.True(nl.CreatedQdisc);
                Assert.Contains("clsact", Sh("tc", $"qdisc show dev {veth.HostName}"));
                string filters = Sh("tc", $"filter show dev {veth.HostName} ingress");
                Assert.Contains("direct-action", filters);
                Assert.Contains($"id {tc.Id}", filters);
                Assert.Equal("", Sh("tc", $"filter show dev {veth.HostName} egress").Trim());

                // The same priority and handle again: refused, the first filter stays.
                var e = Assert.Throws<NetlinkException>(() => NetlinkTcAttachment.Attach(tc, veth.HostIndex, ingress: true));
                Assert.Equal("EEXIST", e.ErrnoName);

                veth.SendAndReceive(Port, 6);
                Assert.Equal(6ul, counts.Lookup<uint, ulong>(0));
            }
            finally
            {
                attachment.Dispose();
            }
            Assert.DoesNotContain("bpf", Sh("tc", $"filter show dev {veth.HostName} ingress"));
            veth.SendAndReceive(Port, 2);
            Assert.Equal(6ul, counts.Lookup<uint, ulong>(0));
        }
    }

    [KernelFact]
    public void TcOverNetlink_Egress_CountsPacketsLeavingTheHost()
    {
        using var veth = new VethPair();
        var (counts, tc) = UdpCountingTc();
        using (counts)
        using (tc)
        {
            using (var nl = NetlinkTcAttachment.Attach(tc, veth.HostIndex, ingress: false, priority: 7, handle: 3))
            {
                Assert.Contains("pref 7", Sh("tc", $"filter show dev {veth.HostName} egress"));
                using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                for (int i = 0; i < 5; i++) tx.SendTo(new byte[8], new IPEndPoint(veth.PeerIp, Port));
                for (int i = 0; i < 100 && counts.Lookup<uint, ulong>(0) < 5; i++) Thread.Sleep(20); // the first waits for ARP
                Assert.Equal(5ul, counts.Lookup<uint, ulong>(0));
            }
            Assert.Equal("", Sh("tc", $"filter show dev {veth.HostName} egress").Trim());
        }
    }

    [KernelFact]
    public void XdpAuto_WhenTheLinkIsRefusedAsUnsupported_TriesNetlink_AndReportsBoth()
    {
        // veth has no hardware offload: BPF_LINK_CREATE refuses HW mode as unsupported, which is what Auto falls back
        // on; netlink then refuses too, and the error names both attempts.
        using var veth = new VethPair();
        var (counts, xdp) = UdpCountingXdp();
        using (counts)
        using (xdp)
        {
            var e = Assert.Throws<NetlinkException>(() => BpfLink.AttachXdp(xdp, veth.HostIndex, XdpFlags.Hardware));
            Assert.Contains("tried after BPF_LINK_CREATE failed", e.Message);
            Assert.Equal(XdpAttachedMode.None, NetlinkXdpAttachment.Query(veth.HostIndex).Mode);
            // Link only: the link's own error, no netlink attempt.
            var linkOnly = Assert.Throws<BpfSyscallException>(() => BpfLink.AttachXdp(xdp, veth.HostIndex, XdpFlags.Hardware, XdpAttachMethod.Link));
            Assert.Equal("BPF_LINK_CREATE", linkOnly.Command);
        }
    }

    [KernelFact]
    public void XdpOverNetlink_UnknownInterface_IsRefused()
    {
        var (counts, xdp) = UdpCountingXdp();
        using (counts)
        using (xdp)
        {
            var e = Assert.Throws<NetlinkException>(() => NetlinkXdpAttachment.Attach(xdp, 0x7fff_fff0));
            Assert.Equal("ENODEV", e.ErrnoName);
        }
    }
}
