using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Bpf.Runtime;

/// <summary>The type of a route (<c>ip route add TYPE …</c>): what a lookup that lands on it does.</summary>
public enum FibRouteType
{
    /// <summary>A route to forward through (a gateway or a directly connected prefix).</summary>
    Unicast,
    /// <summary><c>blackhole</c>: bpf_fib_lookup returns BPF_FIB_LKUP_RET_BLACKHOLE.</summary>
    Blackhole,
    /// <summary><c>unreachable</c>: BPF_FIB_LKUP_RET_UNREACHABLE.</summary>
    Unreachable,
    /// <summary><c>prohibit</c>: BPF_FIB_LKUP_RET_PROHIBIT.</summary>
    Prohibit,
    /// <summary><c>local</c> (an address of this host): not forwarded, BPF_FIB_LKUP_RET_NOT_FWDED.</summary>
    Local,
}

/// <summary>A network device as bpf_fib_lookup sees it (<c>ip link</c>, <c>ip addr</c> and the forwarding sysctls).</summary>
/// <param name="Ifindex">Its interface index.</param>
/// <param name="Mac">Its own MAC address (the <c>smac</c> a successful lookup returns).</param>
public sealed record FibDevice(int Ifindex, PhysicalAddress Mac)
{
    /// <summary>The device MTU (the forwarding MTU of routes through it without a locked route MTU). Default 1500.</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary><c>net.ipv4.conf.DEV.forwarding</c>: lookups from this device (params-&gt;ifindex) need it, else
    /// BPF_FIB_LKUP_RET_FWD_DISABLED. Default false, as in a new network namespace.</summary>
    public bool Ipv4Forwarding { get; init; }

    /// <summary><c>net.ipv6.conf.DEV.forwarding</c>, likewise for IPv6 lookups. Default false.</summary>
    public bool Ipv6Forwarding { get; init; }

    /// <summary>Its addresses (<c>ip addr add ADDRESS/PREFIX dev …</c>): each is a local route of the local table
    /// (a lookup of it is not forwarded) and a candidate source address for BPF_FIB_LOOKUP_SRC. Connected prefix
    /// routes are not implied: list them in <see cref="Fib.Routes"/> as <c>ip route</c> shows them.</summary>
    public IReadOnlyList<(IPAddress Address, int PrefixLength)> Addresses { get; init; } = [];
}

/// <summary>A route (<c>ip route add [TYPE] PREFIX/LENGTH [via GATEWAY] [dev DEV] [metric M] [mtu lock MTU] [src SRC] [table T]</c>).</summary>
/// <param name="Prefix">The destination prefix (IPv4 or IPv6; the family of the route).</param>
/// <param name="PrefixLength">Its length in bits.</param>
public sealed record FibRoute(IPAddress Prefix, int PrefixLength)
{
    /// <summary>The route type. Default <see cref="FibRouteType.Unicast"/>.</summary>
    public FibRouteType Type { get; init; } = FibRouteType.Unicast;

    /// <summary>The output device (<c>dev</c>); required for unicast and local routes.</summary>
    public int Ifindex { get; init; }

    /// <summary>The next hop (<c>via</c>), of the route's family; null for a directly connected prefix.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>The metric (<c>metric</c>, the kernel's priority): the lower wins among routes of the same prefix, and a
    /// successful lookup returns it in rt_metric. Default 0.</summary>
    public uint Metric { get; init; }

    /// <summary>A locked route MTU (<c>mtu lock N</c>); 0 uses the device MTU. The kernel ignores an unlocked route MTU
    /// when forwarding (net.ipv4.ip_forward_use_pmtu = 0), so only the locked one is modelled.</summary>
    public int Mtu { get; init; }

    /// <summary>The preferred source (<c>src</c>) BPF_FIB_LOOKUP_SRC returns; null picks a device address.</summary>
    public IPAddress? PreferredSource { get; init; }

    /// <summary>The routing table (<c>table</c>). Default 254, the main table.</summary>
    public int Table { get; init; } = Fib.MainTable;
}

/// <summary>A valid neighbour entry (<c>ip neigh add ADDRESS lladdr MAC dev DEV nud permanent|reachable|stale…</c>);
/// entries in the incomplete or failed states are simply absent.</summary>
/// <param name="Ifindex">The device the neighbour is on.</param>
/// <param name="Address">Its IP address (a gateway, or the destination of a connected route).</param>
/// <param name="Mac">Its MAC address (the <c>dmac</c> a successful lookup returns).</param>
public sealed record FibNeighbour(int Ifindex, IPAddress Address, PhysicalAddress Mac);

/// <summary>
/// The network bpf_fib_lookup looks up in a managed run (<see cref="BpfEnvironment.Fib"/>): the devices, routes and
/// neighbours of one network namespace. Immutable once built; replace <see cref="BpfEnvironment.Fib"/> to change it.
/// The default, <see cref="NewNamespace"/>, is a new network namespace: only the loopback device (ifindex 1), with
/// forwarding off, and no route — so a lookup from ifindex 1 returns BPF_FIB_LKUP_RET_FWD_DISABLED and one from any
/// other ifindex -ENODEV, as the kernel answers in a namespace just made with <c>ip netns add</c>.
/// </summary>
/// <remarks>
/// What is modelled: longest-prefix match with the lowest metric among equal prefixes; the tables a lookup without
/// BPF_FIB_LOOKUP_DIRECT consults with the default rules (IPv4: main, which holds the local table's routes too as the
/// kernel's merged trie does, then default when main has no route; IPv6: local, then main) and the one table of DIRECT
/// (main, or params-&gt;tbid with BPF_FIB_LOOKUP_TBID); IPv4 lookups with BPF_FIB_LOOKUP_OUTPUT only
/// use routes through params-&gt;ifindex; route types; locked route MTUs. Not modelled: policy routing rules (so
/// BPF_FIB_LOOKUP_MARK changes nothing), multipath, TOS, lightweight tunnels, VLAN devices, path MTU exceptions,
/// link state. Lookups scan the routes: cost grows with their number; they allocate nothing.
/// </remarks>
public sealed class Fib
{
    /// <summary>RT_TABLE_MAIN.</summary>
    public const int MainTable = 254;
    /// <summary>RT_TABLE_LOCAL.</summary>
    public const int LocalTable = 255;
    /// <summary>RT_TABLE_DEFAULT.</summary>
    public const int DefaultTable = 253;

    private readonly Dictionary<int, Device> _devices = [];
    private readonly Dictionary<(int Ifindex, bool V6, UInt128 Address), byte[]> _neighbours = [];
    private readonly Route[] _routes;
    private readonly FibDevice[] _byIfindex;

    /// <summary>Builds the network from its devices, routes and neighbours.</summary>
    /// <exception cref="ArgumentException">Two devices share an ifindex, a route's prefix length does not fit its family,
    /// a gateway or source is of another family, a unicast or local route names no device, or a MAC is not 6 bytes.</exception>
    public Fib(IEnumerable<FibDevice> devices, IEnumerable<FibRoute> routes, IEnumerable<FibNeighbour> neighbours)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(neighbours);
        Devices = [.. devices];
        Routes = [.. routes];
        Neighbours = [.. neighbours];
        var compiled = new List<Route>();
        foreach (var d in Devices)
        {
            if (d.Ifindex <= 0) throw new ArgumentException($"device ifindex {d.Ifindex} is not positive");
            if (!_devices.TryAdd(d.Ifindex, new Device(d, Mac(d.Mac, $"device {d.Ifindex}")))) throw new ArgumentException($"two devices have ifindex {d.Ifindex}");
            foreach (var (address, length) in d.Addresses)
            {
                var v6 = IsV6(address);
                if (length < 0 || length > (v6 ? 128 : 32)) throw new ArgumentException($"device {d.Ifindex}: address {address}/{length} has a bad prefix length");
                // ip addr add puts a local route of the address in the local table.
                compiled.Add(new Route(v6, Bits(address), v6 ? 128 : 32, LocalTable, FibRouteType.Local, d.Ifindex, false, 0, 0, 0, false, default));
            }
        }
        foreach (var r in Routes)
        {
            var v6 = IsV6(r.Prefix);
            if (r.PrefixLength < 0 || r.PrefixLength > (v6 ? 128 : 32)) throw new ArgumentException($"route {r.Prefix}/{r.PrefixLength}: bad prefix length");
            if (r.Gateway is { } g && IsV6(g) != v6) throw new ArgumentException($"route {r.Prefix}/{r.PrefixLength}: gateway {g} is of another family");
            if (r.PreferredSource is { } s && IsV6(s) != v6) throw new ArgumentException($"route {r.Prefix}/{r.PrefixLength}: source {s} is of another family");
            if (r.Type is FibRouteType.Unicast or FibRouteType.Local && r.Ifindex <= 0) throw new ArgumentException($"route {r.Prefix}/{r.PrefixLength}: a {r.Type} route needs a device (Ifindex)");
            if (r.Mtu < 0) throw new ArgumentException($"route {r.Prefix}/{r.PrefixLength}: negative MTU");
            compiled.Add(new Route(v6, Bits(r.Prefix) & Mask(r.PrefixLength, v6), r.PrefixLength, r.Table, r.Type, r.Ifindex,
                r.Gateway is not null, r.Gateway is { } gw ? Bits(gw) : 0, r.Metric, r.Mtu, r.PreferredSource is not null,
                r.PreferredSource is { } ps ? Bits(ps) : 0));
        }
        _routes = [.. compiled];
        _byIfindex = [.. Devices.OrderBy(d => d.Ifindex)];
        foreach (var n in Neighbours)
        {
            _neighbours[(n.Ifindex, IsV6(n.Address), Bits(n.Address))] = Mac(n.Mac, $"neighbour {n.Address}");
        }
    }

    /// <summary>A new network namespace: the loopback device (ifindex 1, MTU 65536, all-zero MAC, forwarding off),
    /// no address, no route, no neighbour.</summary>
    public static Fib NewNamespace { get; } = new([new FibDevice(1, new PhysicalAddress(new byte[6])) { Mtu = 65536 }], [], []);

    /// <summary>The devices.</summary>
    public IReadOnlyList<FibDevice> Devices { get; }

    /// <summary>The routes (device addresses add their local routes to these).</summary>
    public IReadOnlyList<FibRoute> Routes { get; }

    /// <summary>The valid neighbour entries.</summary>
    public IReadOnlyList<FibNeighbour> Neighbours { get; }

    private static bool IsV6(IPAddress a) => a.AddressFamily switch
    {
        AddressFamily.InterNetwork => false,
        AddressFamily.InterNetworkV6 => true,
        _ => throw new ArgumentException($"{a} is neither IPv4 nor IPv6"),
    };

    private static byte[] Mac(PhysicalAddress mac, string what)
    {
        ArgumentNullException.ThrowIfNull(mac, what);
        var bytes = mac.GetAddressBytes();
        return bytes.Length == 6 ? bytes : throw new ArgumentException($"{what}: MAC {mac} is not 6 bytes");
    }

    /// <summary>An address as a number, most significant byte first (IPv4 in the low 32 bits).</summary>
    private static UInt128 Bits(IPAddress a)
    {
        Span<byte> b = stackalloc byte[16];
        a.TryWriteBytes(b, out var n);
        return n == 4 ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt128BigEndian(b);
    }

    private static UInt128 Mask(int length, bool v6)
    {
        var width = v6 ? 128 : 32;
        if (length == 0) return 0;
        var all = v6 ? UInt128.MaxValue : uint.MaxValue;
        return all & ~((UInt128.One << (width - length)) - 1);
    }

    // ---- the lookup (bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup) ----

    /// <summary>struct bpf_fib_lookup: 64 bytes.</summary>
    internal const int ParamsSize = 64;

    internal const uint FlagDirect = 1, FlagOutput = 2, FlagSkipNeigh = 4, FlagTbid = 8, FlagSrc = 16, FlagMark = 32;
    private const uint AllFlags = FlagDirect | FlagOutput | FlagSkipNeigh | FlagTbid | FlagSrc | FlagMark;

    internal const long Success = 0, Blackhole = 1, Unreachable = 2, Prohibit = 3, NotForwarded = 4, ForwardingDisabled = 5,
        NoNeighbour = 7, FragmentationNeeded = 8, NoSourceAddress = 9;
    private const long EINVAL = -22, ENODEV = -19, EAFNOSUPPORT = -97;
    private const byte AfInet = 2, AfInet6 = 10;

    // Field offsets of struct bpf_fib_lookup.
    private const int OffFamily = 0, OffTotLen = 6, OffIfindex = 8, OffMetric = 12, OffSrc = 16, OffDst = 32, OffVlanProto = 48,
        OffVlanTci = 50, OffTbid = 48, OffSmac = 52, OffDmac = 58;

    /// <summary>bpf_fib_lookup(ctx, params, plen, flags) on this network: the kernel's bpf_xdp_fib_lookup
    /// (<paramref name="packetLength"/> null: the MTU is always checked against tot_len) or bpf_skb_fib_lookup (the
    /// MTU checked against tot_len when it is not 0, else the packet against the output device's MTU after a successful
    /// lookup). <paramref name="plen"/> and <paramref name="flags"/> are checked first (-EINVAL), then the family
    /// (-EAFNOSUPPORT). Writes back into <paramref name="p"/> what the kernel writes, in the same order.</summary>
    internal long Lookup(Span<byte> p, long plen, uint flags, int? packetLength)
    {
        if (plen < ParamsSize) return EINVAL;
        if ((flags & ~AllFlags) != 0) return EINVAL;
        var checkMtu = packetLength is null || BinaryPrimitives.ReadUInt16LittleEndian(p[OffTotLen..]) != 0;
        long rc = p[OffFamily] switch
        {
            AfInet => LookupV4(p, flags, checkMtu),
            AfInet6 => LookupV6(p, flags, checkMtu),
            _ => EAFNOSUPPORT,
        };
        if (rc == Success && !checkMtu && _devices.TryGetValue((int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]), out var dev))
        {
            // is_skb_forwardable: the packet fits the device MTU plus an Ethernet and a VLAN header.
            if (packetLength > dev.Info.Mtu + 14 + 4) rc = FragmentationNeeded;
            BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)dev.Info.Mtu);
        }
        return rc;
    }

    /// <summary>What a route that does not forward answers (blackhole, unreachable, prohibit, local), for both families;
    /// null for a unicast route.</summary>
    private static long? RouteOutcome(in Route route) => route.Type switch
    {
        FibRouteType.Blackhole => Blackhole,
        FibRouteType.Unreachable => Unreachable,
        FibRouteType.Prohibit => Prohibit,
        FibRouteType.Local => NotForwarded,
        _ => null,
    };

    private long LookupV4(Span<byte> p, uint flags, bool checkMtu)
    {
        var ifindex = (int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]);
        if (!_devices.TryGetValue(ifindex, out var dev)) return ENODEV;
        if (!dev.Info.Ipv4Forwarding) return ForwardingDisabled;
        var dst = (UInt128)BinaryPrimitives.ReadUInt32BigEndian(p[OffDst..]);
        var oif = (flags & FlagOutput) != 0 ? ifindex : 0;
        // Without policy rules the kernel keeps the local table in the main table's trie (fib_new_table aliases
        // them), so a lookup of either sees both; the default table is consulted only when main has no route.
        int best;
        if ((flags & FlagDirect) != 0)
        {
            var table = MainTable;
            if ((flags & FlagTbid) != 0)
            {
                table = (int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffTbid..]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[OffTbid..], 0);
            }
            best = table is MainTable or LocalTable ? Find(false, dst, MainTable, oif, also: LocalTable) : Find(false, dst, table, oif);
        }
        else
        {
            best = Find(false, dst, MainTable, oif, also: LocalTable);
            if (best < 0) best = Find(false, dst, DefaultTable, oif);
        }
        if (best < 0) return NotForwarded;
        ref readonly var route = ref _routes[best];
        if (RouteOutcome(route) is long refused) return refused;
        if (!_devices.TryGetValue(route.Ifindex, out var outDev)) return NotForwarded;
        var mtu = 0;
        if (checkMtu)
        {
            mtu = route.Mtu != 0 ? route.Mtu : Math.Min(outDev.Info.Mtu, 0xFFFF);
            if (BinaryPrimitives.ReadUInt16LittleEndian(p[OffTotLen..]) > mtu)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)mtu);
                return FragmentationNeeded;
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffMetric..], route.Metric);
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffIfindex..], (uint)route.Ifindex);
        if ((flags & FlagSrc) != 0) BinaryPrimitives.WriteUInt32BigEndian(p[OffSrc..], (uint)SourceV4(route, outDev));
        if (route.HasGateway) BinaryPrimitives.WriteUInt32BigEndian(p[OffDst..], (uint)route.Gateway);
        if ((flags & FlagSkipNeigh) == 0)
        {
            var nexthop = route.HasGateway ? route.Gateway : dst;
            if (!_neighbours.TryGetValue((route.Ifindex, false, nexthop), out var mac)) return NoNeighbour;
            mac.CopyTo(p[OffDmac..]);
            outDev.Mac.CopyTo(p[OffSmac..]);
        }
        return SetForwardParameters(p, mtu);
    }

    private long LookupV6(Span<byte> p, uint flags, bool checkMtu)
    {
        var dst = BinaryPrimitives.ReadUInt128BigEndian(p[OffDst..]);
        var src = BinaryPrimitives.ReadUInt128BigEndian(p[OffSrc..]);
        // Link-local, multicast and loopback addresses are never forwarded (rt6_need_strict).
        if (NeedsStrict(dst) || NeedsStrict(src)) return NotForwarded;
        var ifindex = (int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffIfindex..]);
        if (!_devices.TryGetValue(ifindex, out var dev)) return ENODEV;
        if (!dev.Info.Ipv6Forwarding) return ForwardingDisabled;
        int best;
        // IPv6 prefers routes through params->ifindex among equal prefixes, in both directions, but does not require it.
        if ((flags & FlagDirect) != 0)
        {
            var table = MainTable;
            if ((flags & FlagTbid) != 0)
            {
                table = (int)BinaryPrimitives.ReadUInt32LittleEndian(p[OffTbid..]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[OffTbid..], 0);
            }
            best = Find(true, dst, table, 0, ifindex);
        }
        else
        {
            best = Find(true, dst, LocalTable, 0, ifindex);
            if (best < 0) best = Find(true, dst, MainTable, 0, ifindex);
        }
        if (best < 0) return NotForwarded;
        ref readonly var route = ref _routes[best];
        if (RouteOutcome(route) is long refused) return refused;
        if (!_devices.TryGetValue(route.Ifindex, out var outDev)) return NotForwarded;
        var mtu = 0;
        if (checkMtu)
        {
            // ip6_mtu_from_fib6: the locked route MTU, else the device's (at least IPV6_MIN_MTU).
            mtu = route.Mtu != 0 ? route.Mtu : Math.Max(1280, outDev.Info.Mtu);
            if (BinaryPrimitives.ReadUInt16LittleEndian(p[OffTotLen..]) > mtu)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)mtu);
                return FragmentationNeeded;
            }
        }
        if (route.HasGateway) BinaryPrimitives.WriteUInt128BigEndian(p[OffDst..], route.Gateway);
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffMetric..], route.Metric);
        BinaryPrimitives.WriteUInt32LittleEndian(p[OffIfindex..], (uint)route.Ifindex);
        if ((flags & FlagSrc) != 0)
        {
            if (SourceV6(route, outDev) is not { } source) return NoSourceAddress;
            BinaryPrimitives.WriteUInt128BigEndian(p[OffSrc..], source);
        }
        if ((flags & FlagSkipNeigh) == 0)
        {
            var nexthop = route.HasGateway ? route.Gateway : dst;
            if (!_neighbours.TryGetValue((route.Ifindex, true, nexthop), out var mac)) return NoNeighbour;
            mac.CopyTo(p[OffDmac..]);
            outDev.Mac.CopyTo(p[OffSmac..]);
        }
        return SetForwardParameters(p, mtu);
    }

    /// <summary>bpf_fib_set_fwd_params: no VLAN, and the MTU when it was checked.</summary>
    private static long SetForwardParameters(Span<byte> p, int mtu)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(p[OffVlanTci..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(p[OffVlanProto..], 0);
        if (mtu != 0) BinaryPrimitives.WriteUInt16LittleEndian(p[OffTotLen..], (ushort)mtu);
        return Success;
    }

    private static bool NeedsStrict(UInt128 a)
    {
        var top = (ulong)(a >> 64);
        return (top >> 56) == 0xFF || (top >> 54) == (0xFE80UL >> 6) || a == 1;
    }

    /// <summary>The best route of <paramref name="table"/> for <paramref name="dst"/>: the longest prefix, then the lowest
    /// metric, then (IPv6) one through <paramref name="preferred"/>, then the first listed; with <paramref name="oif"/>
    /// (IPv4 output lookups) routes through another device are passed over, error routes are not. -1 when none.</summary>
    private int Find(bool v6, UInt128 dst, int table, int oif, int preferred = 0, int also = -1)
    {
        var best = -1;
        for (var i = 0; i < _routes.Length; i++)
        {
            ref readonly var r = ref _routes[i];
            if (r.V6 != v6 || (r.Table != table && r.Table != also) || (dst & Mask(r.Length, v6)) != r.Prefix) continue;
            if (oif != 0 && r.Type is FibRouteType.Unicast or FibRouteType.Local && r.Ifindex != oif) continue;
            if (best >= 0)
            {
                ref readonly var b = ref _routes[best];
                if (r.Length < b.Length) continue;
                if (r.Length == b.Length)
                {
                    if (r.Metric > b.Metric) continue;
                    if (r.Metric == b.Metric && !(preferred != 0 && r.Ifindex == preferred && b.Ifindex != preferred)) continue;
                }
            }
            best = i;
        }
        return best;
    }

    /// <summary>fib_result_prefsrc: the route's source, else (inet_select_addr) the first address of the output device in
    /// the gateway's subnet, else its first address, else the first address of any device, else 0.0.0.0.</summary>
    private UInt128 SourceV4(in Route route, Device outDev)
    {
        if (route.HasSource) return route.Source;
        UInt128 first = 0;
        foreach (var (address, length) in outDev.Info.Addresses)
        {
            if (IsV6(address)) continue;
            var a = Bits(address);
            if (route.HasGateway && (a & Mask(length, false)) == (route.Gateway & Mask(length, false))) return a;
            if (first == 0) first = a;
        }
        if (first != 0) return first;
        foreach (var d in _byIfindex)
        {
            foreach (var (address, _) in d.Addresses)
            {
                if (!IsV6(address)) return Bits(address);
            }
        }
        return 0;
    }

    /// <summary>The route's source, else the first IPv6 address of the output device that is not link-local, else of
    /// any device; null when there is none (BPF_FIB_LKUP_RET_NO_SRC_ADDR). A simplification of ipv6_dev_get_saddr.</summary>
    private UInt128? SourceV6(in Route route, Device outDev)
    {
        if (route.HasSource) return route.Source;
        if (GlobalV6(outDev.Info) is { } own) return own;
        foreach (var d in _byIfindex)
        {
            if (GlobalV6(d) is { } any) return any;
        }
        return null;
    }

    private static UInt128? GlobalV6(FibDevice d)
    {
        foreach (var (address, _) in d.Addresses)
        {
            if (IsV6(address) && !NeedsStrict(Bits(address))) return Bits(address);
        }
        return null;
    }

    private sealed record Device(FibDevice Info, byte[] Mac);

    private readonly record struct Route(bool V6, UInt128 Prefix, int Length, int Table, FibRouteType Type, int Ifindex,
        bool HasGateway, UInt128 Gateway, uint Metric, int Mtu, bool HasSource, UInt128 Source);
}
