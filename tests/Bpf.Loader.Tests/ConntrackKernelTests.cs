using System.Buffers.Binary;
using System.Net;
using Bpf.Runtime;
using Bpf.Tests;
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
        return $"r0={r.ReturnValue} found={U("found")} error={U("error_out")} dir=0x{U("dir_out"):x} zone_dir={U("zone_dir_out")}";
    }

    private static (IBpfCollection Kernel, IBpfCollection Interpreter) Open()
    {
        var options = new BpfEngineOptions { Interpreter = new CollectionOptions { CpuCount = 1 } };
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
}
