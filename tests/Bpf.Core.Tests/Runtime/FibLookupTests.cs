using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using Bpf.Runtime;
using Bpf.Tests;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Runtime;

/// <summary>bpf_fib_lookup over <see cref="BpfEnvironment.Fib"/>, on the feature object fib_lookup.c (the kernel
/// comparison, in a routed network namespace, is Bpf.Loader.Tests' RuntimeHelperKernelTests).</summary>
public sealed class FibLookupTests
{
    private const uint SkipNeigh = 4, Tbid = 8, Direct = 1, Src = 16;
    private static readonly PhysicalAddress Mac2 = PhysicalAddress.Parse("02-00-00-00-00-02"), Gw = PhysicalAddress.Parse("02-00-00-00-00-FE");

    private static ManagedCollection Load(Fib? fib = null)
    {
        var options = new CollectionOptions { CpuCount = 1 };
        if (fib is not null) options.Environment.Fib = fib;
        return ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject("fib_lookup")), options);
    }

    private static byte[] Request(byte family, int ifindex, string dst, ushort totLen = 0, uint flags = 0, uint tbid = 0)
    {
        var r = new byte[72];
        BinaryPrimitives.WriteUInt32LittleEndian(r, flags);
        var p = r.AsSpan(8);
        p[0] = family;
        BinaryPrimitives.WriteUInt16LittleEndian(p[6..], totLen);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)ifindex);
        IPAddress.Parse(dst).TryWriteBytes(p[32..], out _);
        BinaryPrimitives.WriteUInt32LittleEndian(p[48..], tbid);
        return r;
    }

    private static (long Rc, byte[] Params) Run(ManagedCollection c, byte[] request, string program = "fib_xdp")
    {
        ProgramContext context = program == "fib_xdp" ? new XdpContext(request) : new SkBuffContext(request);
        var r = c.Run(program, context);
        Assert.True(r.Succeeded, r.Fault?.ToString());
        var data = context is XdpContext x ? x.Packet : ((SkBuffContext)context).Packet;
        return ((int)r.ReturnValue, data[8..72]);
    }

    private static Fib Network(params FibRoute[] routes) => new(
        [new FibDevice(2, Mac2) { Ipv4Forwarding = true, Ipv6Forwarding = true, Addresses = [(IPAddress.Parse("10.0.0.1"), 24)] },
         new FibDevice(3, Mac2) { Ipv4Forwarding = true, Mtu = 40 }, new FibDevice(4, Mac2) { Ipv4Forwarding = true }],
        routes, [new FibNeighbour(2, IPAddress.Parse("10.0.0.254"), Gw)]);

    [Theory]
    [InlineData(2, 1, 5L)]     // ifindex 1 is the loopback device, forwarding off: FWD_DISABLED
    [InlineData(10, 1, 5L)]
    [InlineData(2, 2, -19L)]   // no such device: -ENODEV
    [InlineData(10, 7, -19L)]
    [InlineData(0, 1, -97L)]   // not AF_INET/AF_INET6: -EAFNOSUPPORT
    public void The_default_network_is_a_new_namespace(byte family, int ifindex, long expected)
    {
        var c = Load();
        Assert.Same(Fib.NewNamespace, new BpfEnvironment().Fib);
        Assert.Equal(expected, Run(c, Request(family, ifindex, family == 10 ? "fd00::1" : "10.1.2.3", 100)).Rc);
    }

    [Fact]
    public void A_hit_writes_the_next_hop_the_macs_the_metric_and_the_mtu()
    {
        var c = Load(Network(new FibRoute(IPAddress.Parse("10.9.0.0"), 16) { Ifindex = 2, Gateway = IPAddress.Parse("10.0.0.254"), Metric = 5 }));
        var (rc, p) = Run(c, Request(2, 4, "10.9.1.1", 100, Src));
        Assert.Equal(0, rc);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8)));   // ifindex: the output device
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(12)));  // rt_metric
        Assert.Equal("10.0.0.1", new IPAddress(p.AsSpan(16, 4)).ToString());     // SRC: the device's address in the gateway's subnet
        Assert.Equal("10.0.0.254", new IPAddress(p.AsSpan(32, 4)).ToString());   // ipv4_dst: the gateway
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(6))); // mtu_result
        Assert.Equal(Mac2.GetAddressBytes(), p[52..58]);
        Assert.Equal(Gw.GetAddressBytes(), p[58..64]);
        // No neighbour for the next hop: NO_NEIGH, the route's fields written already, no MACs.
        c = Load(Network(new FibRoute(IPAddress.Parse("10.9.0.0"), 16) { Ifindex = 2, Gateway = IPAddress.Parse("10.0.0.253") }));
        (rc, p) = Run(c, Request(2, 4, "10.9.1.1", 100));
        Assert.Equal(7, rc);
        Assert.Equal("10.0.0.253", new IPAddress(p.AsSpan(32, 4)).ToString());
        Assert.Equal(new byte[12], p[52..64]);
    }

    [Fact]
    public void Table_ids_error_routes_local_addresses_and_mtus()
    {
        var c = Load(Network(
            new FibRoute(IPAddress.Parse("10.9.0.0"), 16) { Ifindex = 2, Gateway = IPAddress.Parse("10.0.0.254"), Table = 100 },
            new FibRoute(IPAddress.Parse("10.5.0.0"), 16) { Type = FibRouteType.Blackhole },
            new FibRoute(IPAddress.Parse("10.6.0.0"), 16) { Type = FibRouteType.Unreachable },
            new FibRoute(IPAddress.Parse("10.7.0.0"), 16) { Type = FibRouteType.Prohibit },
            new FibRoute(IPAddress.Parse("10.8.0.0"), 16) { Ifindex = 3 },
            new FibRoute(IPAddress.Parse("10.4.0.0"), 16) { Ifindex = 2, Gateway = IPAddress.Parse("10.0.0.254"), Mtu = 1000 },
            new FibRoute(IPAddress.Parse("10.0.0.0"), 24) { Ifindex = 2 }));
        Assert.Equal(4, Run(c, Request(2, 2, "10.9.0.1", 100)).Rc);                       // no rule reaches table 100
        var (rc, p) = Run(c, Request(2, 2, "10.9.0.1", 100, Direct | Tbid, tbid: 100));
        Assert.Equal(0, rc);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(48)));           // tbid zeroed (the VLAN fields)
        Assert.Equal(4, Run(c, Request(2, 2, "10.9.0.1", 100, Direct | Tbid, tbid: 101)).Rc);
        Assert.Equal((1L, 2L, 3L), (Run(c, Request(2, 2, "10.5.0.1")).Rc, Run(c, Request(2, 2, "10.6.0.1")).Rc, Run(c, Request(2, 2, "10.7.0.1")).Rc));
        Assert.Equal(4, Run(c, Request(2, 2, "10.0.0.1", 100)).Rc);                       // the device's own address: local
        Assert.Equal(0, Run(c, Request(2, 2, "10.0.0.254", 100)).Rc);                     // its neighbour, connected
        Assert.Equal(4, Run(c, Request(2, 2, "10.0.0.1", 100, Direct | SkipNeigh)).Rc);   // DIRECT: main holds local routes too
        (rc, p) = Run(c, Request(2, 2, "10.4.0.1", 1200));
        Assert.Equal(8, rc);                                                               // over the locked route MTU
        Assert.Equal(1000, BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(6)));
        // tc without tot_len: the packet (72 bytes) against the output device's MTU (40) + 18.
        (rc, p) = Run(c, Request(2, 2, "10.8.0.1", 0, SkipNeigh), "fib_tc");
        Assert.Equal(8, rc);
        Assert.Equal(40, BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(6)));
        Assert.Equal(-22, Run(c, Request(2, 2, "10.8.0.1", 0, 1u << 6)).Rc);               // an unknown flag
    }

    [Fact]
    public void Networks_that_cannot_be_are_refused_when_built()
    {
        var dev = new FibDevice(2, Mac2);
        Assert.Throws<ArgumentException>(() => new Fib([dev, dev], [], []));
        Assert.Throws<ArgumentException>(() => new Fib([dev], [new FibRoute(IPAddress.Parse("10.0.0.0"), 33) { Ifindex = 2 }], []));
        Assert.Throws<ArgumentException>(() => new Fib([dev], [new FibRoute(IPAddress.Parse("10.0.0.0"), 8)], []));
        Assert.Throws<ArgumentException>(() => new Fib([dev], [new FibRoute(IPAddress.Parse("10.0.0.0"), 8) { Ifindex = 2, Gateway = IPAddress.Parse("fd00::1") }], []));
        Assert.Throws<ArgumentException>(() => new Fib([new FibDevice(2, PhysicalAddress.Parse("02-00-00-00-00"))], [], []));
    }

    /// <summary>Against a brute-force model: the route a lookup picks is the longest matching prefix, then the lowest
    /// metric, then the first listed; none: NOT_FWDED.</summary>
    [Property(MaxTest = 200)]
    public void The_chosen_route_is_the_longest_prefix_then_the_lowest_metric((byte A, byte B, byte Length, byte Metric, byte Device)[] table, byte x, byte y)
    {
        var routes = table.Take(12).Select(t =>
        {
            var length = new[] { 0, 8, 16, 20, 24, 32 }[t.Length % 6];
            var prefix = (10u << 24 | (uint)(t.A % 4) << 16 | (uint)(t.B % 4) << 8) & (length == 0 ? 0 : uint.MaxValue << (32 - length));
            return (Prefix: prefix, Length: length, Metric: (uint)(t.Metric % 3), Device: 2 + t.Device % 3);
        }).ToArray();
        var fib = Network([.. routes.Select(r => new FibRoute(new IPAddress(BinaryPrimitives.ReverseEndianness(r.Prefix)), r.Length) { Ifindex = r.Device, Metric = r.Metric })]);
        var dst = 10u << 24 | (uint)(x % 4) << 16 | (uint)(y % 4) << 8 | 7;
        var matching = routes.Select((r, i) => (r, i)).Where(m => m.r.Length == 0 || dst >> (32 - m.r.Length) == m.r.Prefix >> (32 - m.r.Length))
            .OrderByDescending(m => m.r.Length).ThenBy(m => m.r.Metric).ThenBy(m => m.i).ToArray();
        var (rc, p) = Run(Load(fib), Request(2, 2, new IPAddress(BinaryPrimitives.ReverseEndianness(dst)).ToString(), 20, SkipNeigh));
        if (matching.Length == 0)
        {
            Assert.Equal(4, rc);
            return;
        }
        var best = matching[0].r;
        var mtu = best.Device == 3 ? 40 : 1500;
        Assert.Equal(mtu < 20 ? 8 : 0, rc);
        Assert.Equal((uint)best.Device, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8)));
        Assert.Equal(best.Metric, BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(12)));
    }
}
