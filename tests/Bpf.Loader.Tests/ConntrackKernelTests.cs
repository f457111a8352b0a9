using System.Buffers.Binary;
using System.Net;
using Bpf.Runtime;
using Bpf.Tests;
using static Bpf.Loader.Tests.AttachTests;
using static Bpf.Loader.Tests.RuntimeHelperKernelTests;

namespace Bpf.Loader.Tests;

/// <summary>The conntrack lookup kfuncs (bpf_skb_ct_lookup, bpf_xdp_ct_lookup, bpf_ct_release): the managed runtime
/// with its default table (<see cref="Conntrack.Empty"/>) against the kernel in a new network namespace
/// (an empty conntrack table), on the feature object ct_lookup.c: arguments good and bad, what each engine returns and
/// writes into the opts (error, dir, ct_zone_dir).</summary>
public sealed class ConntrackKernelTests : KernelTest
{
    private const byte Tcp = 6, Udp = 17, Icmp = 1;

    /// <summary>One lookup's arguments: the tuple and opts sizes passed, l4proto, netns_id, and bytes 10..15 of the
    /// opts (ct_zone_id, ct_zone_dir, reserved in the 16-byte struct; ct_zone_id was reserved in the 12-byte one).</summary>
    public static TheoryData<string, bool, uint, uint, byte, int, byte[]> Cases => new()
    {
        { "IPv4 TCP, the struct's size", false, 12, 16, Tcp, -1, new byte[6] },
        { "IPv6 UDP", true, 36, 16, Udp, -1, new byte[6] },
        { "the old 12-byte opts", false, 12, 12, Tcp, -1, new byte[6] },
        { "opts__sz 8", false, 12, 8, Tcp, -1, new byte[6] },
        { "opts__sz 15", false, 12, 15, Tcp, -1, new byte[6] },
        { "tuple__sz 8", false, 8, 16, Tcp, -1, new byte[6] },
        { "tuple__sz 0", false, 0, 16, Tcp, -1, new byte[6] },
        { "tuple__sz 16", true, 16, 16, Udp, -1, new byte[6] },
        { "l4proto ICMP", false, 12, 16, Icmp, -1, new byte[6] },
        { "netns_id -2", false, 12, 16, Tcp, -2, new byte[6] },
        { "netns_id 0 (no peer namespace)", false, 12, 16, Tcp, 0, new byte[6] },
        { "a reserved byte set", false, 12, 16, Tcp, -1, new byte[] { 0, 0, 0, 1, 0, 0 } },
        { "the last reserved byte set", false, 12, 16, Tcp, -1, new byte[] { 0, 0, 0, 0, 0, 1 } },
        { "ct_zone_id in the old 12-byte opts", false, 12, 12, Tcp, -1, new byte[] { 5, 0, 0, 0, 0, 0 } },
        { "ct_zone_id 5", false, 12, 16, Tcp, -1, new byte[] { 5, 0, 0, 0, 0, 0 } },
        { "ct_zone_dir 1", false, 12, 16, Tcp, -1, new byte[] { 0, 0, 1, 0, 0, 0 } },
        { "bad opts__sz and l4proto: size first", false, 12, 8, Icmp, -1, new byte[6] },
        { "bad l4proto and tuple__sz: l4proto first", false, 8, 16, Icmp, -1, new byte[6] },
        { "bad netns_id and tuple__sz: tuple first", false, 8, 16, Tcp, 0, new byte[6] },
        { "bad netns_id -2 and tuple__sz: netns first", false, 8, 16, Tcp, -2, new byte[6] },
        { "bad reserved and l4proto: reserved first", false, 12, 16, Icmp, -1, new byte[] { 0, 0, 0, 1, 0, 0 } },
    };

    private static void Set(IBpfCollection c, string name, ReadOnlySpan<byte> value) => c.WriteVariable(name, value.ToArray());

    private static void Arguments(IBpfCollection c, bool v6, uint tupleSize, uint optsSize, byte l4proto, int netns, byte[] tail)
    {
        var tuple = new byte[36];
        if (v6)
        {
            IPAddress.Parse("fd00::1").TryWriteBytes(tuple, out _);
            IPAddress.Parse("fd00::2").TryWriteBytes(tuple.AsSpan(16), out _);
            BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(32), 4000);
            BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(34), 53);
        }
        else
        {
            IPAddress.Parse("10.0.0.1").TryWriteBytes(tuple, out _);
            IPAddress.Parse("10.0.0.2").TryWriteBytes(tuple.AsSpan(4), out _);
            BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(8), 4000);
            BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(10), 80);
        }
        var opts = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(opts, netns);
        BinaryPrimitives.WriteInt32LittleEndian(opts.AsSpan(4), 0x5a5a); // error: garbage, so an untouched field shows
        opts[8] = l4proto;
        opts[9] = 0x77; // dir: likewise
        tail.CopyTo(opts.AsSpan(10));
        Set(c, "tuple_in", tuple);
        Set(c, "opts_in", opts);
        Set(c, "tuple_size", BitConverter.GetBytes(tupleSize));
        Set(c, "opts_size", BitConverter.GetBytes(optsSize));
    }

    private static string Outcome(IBpfCollection c, string program)
    {
        var r = c.Program(program).Run(new byte[64]);
        int U(string n) => BinaryPrimitives.ReadInt32LittleEndian(c.ReadVariable(n));
        return $"r0={r.ReturnValue} found={U("found")} error={U("error_out")} dir=0x{U("dir_out"):x} zone_dir={U("zone_dir_out")}" +
            $" status=0x{BinaryPrimitives.ReadUInt64LittleEndian(c.ReadVariable("status_out")):x} mark={U("mark_out")} timeout={(uint)U("timeout_out")}";
    }

    private static (IBpfCollection Kernel, IBpfCollection Interpreter) Open(Conntrack? table = null)
    {
        var options = new BpfEngineOptions { Interpreter = new CollectionOptions { CpuCount = 1 } };
        if (table is not null) options.Interpreter.Environment.Conntrack = table;
        IBpfCollection kernel;
        try
        {
            kernel = BpfEngine.Open(ObjectSpec.ReadFile(RepoPaths.FeatureObject("ct_lookup")), EngineChoice.Kernel, options);
        }
        catch (ExternResolutionException e) when (e.Message.Contains("not a function of the kernel's BTF", StringComparison.Ordinal))
        {
            Assert.Skip($"this kernel has no conntrack kfuncs in its BTF (nf_conntrack not built in): {e.Message}");
            throw;
        }
        return (kernel, BpfEngine.Open(ObjectSpec.ReadFile(RepoPaths.FeatureObject("ct_lookup")), EngineChoice.Interpreter, options));
    }

    [KernelTheory]
    [MemberData(nameof(Cases))]
    public void A_lookup_in_a_new_namespace_returns_and_writes_what_the_kernel_does(string name, bool v6, uint tupleSize, uint optsSize, byte l4proto, int netns, byte[] tail)
    {
        using var ns = new RoutedNamespace(empty: true);
        var (k, i) = Open();
        using (k)
        using (i)
        {
            foreach (var c in new[] { k, i }) Arguments(c, v6, tupleSize, optsSize, l4proto, netns, tail);
            foreach (var program in new[] { "ct_skb", "ct_xdp" })
            {
                var kernel = InNamespace(ns.Name, () => Outcome(k, program));
                Assert.Equal((name, program, kernel), (name, program, Outcome(i, program)));
            }
        }
    }

    [KernelFact]
    public void A_connection_the_kernel_tracks_is_found_in_both_directions_as_in_the_kernel()
    {
        // A new namespace whose loopback output goes through nftables with a conntrack expression (so the namespace
        // tracks connections) that marks UDP to port 9 with 42; one datagram 127.0.0.1:4000 -> 127.0.0.1:9 makes an entry.
        Need.Tools("nft");
        using var ns = new RoutedNamespace(empty: true);
        Sh("ip", $"-n {ns.Name} link set lo up");
        try
        {
            Sh("ip", $"netns exec {ns.Name} nft add table ip bpfnet");
        }
        catch (Exception e)
        {
            Assert.Skip($"nftables is not usable here (nft add table failed), so no connection can be tracked: {e.Message}");
        }
        Sh("ip", $"netns exec {ns.Name} nft add chain ip bpfnet out {{ type filter hook output priority 0 ; }}");
        Sh("ip", $"netns exec {ns.Name} nft add rule ip bpfnet out udp dport 9 ct mark set 42");
        InNamespace(ns.Name, () =>
        {
            using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 4000));
            return udp.Send([1], new IPEndPoint(IPAddress.Loopback, 9));
        });
        var source = new IPEndPoint(IPAddress.Loopback, 4000);
        var destination = new IPEndPoint(IPAddress.Loopback, 9);

        // The kernel's entry first (its status bits and expiry jiffies are the kernel's to know); its mark is the rule's.
        var (probe, _) = Open();
        string kernelHit;
        using (probe)
        {
            Arguments(probe, source, destination, Udp);
            kernelHit = InNamespace(ns.Name, () => Outcome(probe, "ct_skb"));
        }
        Assert.StartsWith("r0=1 found=1 error=23130 dir=0x0 zone_dir=3 ", kernelHit);
        Assert.Contains(" mark=42 ", kernelHit);
        var status = ulong.Parse(kernelHit.Split(" status=0x")[1].Split(' ')[0], System.Globalization.NumberStyles.HexNumber);
        var timeout = uint.Parse(kernelHit.Split(" timeout=")[1], System.Globalization.CultureInfo.InvariantCulture);
        var table = new Conntrack([new ConntrackEntry(System.Net.Sockets.ProtocolType.Udp, source, destination) { Status = status, Mark = 42, Timeout = timeout }]);

        var (k, i) = Open(table);
        using (k)
        using (i)
        {
            foreach (var (from, to, l4proto, size) in new[] { (source, destination, Udp, 16u), (destination, source, Udp, 16u), (destination, source, Udp, 12u),
                (source, new IPEndPoint(IPAddress.Loopback, 10), Udp, 16u), (source, destination, Tcp, 16u) })
            {
                foreach (var c in new[] { k, i }) Arguments(c, from, to, l4proto, size);
                foreach (var program in new[] { "ct_skb", "ct_xdp" })
                {
                    var kernel = InNamespace(ns.Name, () => Outcome(k, program));
                    Assert.Equal((from, to, l4proto, size, program, kernel), (from, to, l4proto, size, program, Outcome(i, program)));
                }
            }
        }
    }

    private static void Arguments(IBpfCollection c, IPEndPoint from, IPEndPoint to, byte l4proto, uint optsSize = 16)
    {
        var tuple = new byte[36];
        from.Address.TryWriteBytes(tuple, out _);
        to.Address.TryWriteBytes(tuple.AsSpan(4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(8), (ushort)from.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tuple.AsSpan(10), (ushort)to.Port);
        var opts = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(opts, -1);
        BinaryPrimitives.WriteInt32LittleEndian(opts.AsSpan(4), 0x5a5a);
        opts[8] = l4proto;
        opts[9] = 0x77;
        Set(c, "tuple_in", tuple);
        Set(c, "opts_in", opts);
        Set(c, "tuple_size", BitConverter.GetBytes(12u));
        Set(c, "opts_size", BitConverter.GetBytes(optsSize));
        foreach (var output in new[] { "status_out", "mark_out", "timeout_out", "found" }) Set(c, output, new byte[c.ReadVariable(output).Length]);
    }
}
