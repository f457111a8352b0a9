using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using Bpf.Loader.Interop;
using Bpf.Runtime;
using Bpf.Tests;
using static Bpf.Loader.Tests.AttachTests;

namespace Bpf.Loader.Tests;

/// <summary>bpf_for_each_map_elem and bpf_fib_lookup: the managed runtime against the kernel, on the feature objects
/// for_each_map.c and fib_lookup.c. The routes of the fib comparison are a network namespace's (a veth pair,
/// addresses, routes of every type, a permanent neighbour) and the same facts given to <see cref="BpfEnvironment.Fib"/>.</summary>
public sealed class RuntimeHelperKernelTests : KernelTest
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    /// <summary>fib_lookup.o on both engines, the interpreter's FIB being <paramref name="ns"/>'s routes and neighbours.</summary>
    private static (IBpfCollection Kernel, IBpfCollection Interpreter) FibEngines(RoutedNamespace ns)
    {
        var options = new BpfEngineOptions { Interpreter = new CollectionOptions { CpuCount = 1 } };
        options.Interpreter.Environment.Fib = ns.ToFib();
        return BothEngines("fib_lookup", options);
    }

    private static (IBpfCollection Kernel, IBpfCollection Interpreter) BothEngines(string feature, BpfEngineOptions? options = null) =>
        (BpfEngine.Open(Read(feature), EngineChoice.Kernel, options), BpfEngine.Open(Read(feature), EngineChoice.Interpreter, options));

    // ---- bpf_for_each_map_elem ----

    private static void Set(IBpfCollection c, string name, ulong value)
    {
        var bytes = c.ReadVariable(name);
        if (bytes.Length == 4) BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
        else BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        c.WriteVariable(name, bytes);
    }

    private static (long Visited, uint Calls, ulong Sum, uint[] Order) Walk(IBpfCollection c, string program)
    {
        Assert.Equal(2u, c.Program(program).Run(new byte[64]).ReturnValue);
        var calls = BinaryPrimitives.ReadUInt32LittleEndian(c.ReadVariable("calls"));
        var order = c.ReadVariable("order");
        return (BinaryPrimitives.ReadInt64LittleEndian(c.ReadVariable("visited")), calls, BinaryPrimitives.ReadUInt64LittleEndian(c.ReadVariable("sum")),
            [.. Enumerable.Range(0, (int)Math.Min(calls, 64)).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(order.AsSpan(i * 4)))]);
    }

    private static void Put(IBpfMap map, uint key, ulong value)
    {
        Span<byte> k = stackalloc byte[4], v = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(k, key);
        BinaryPrimitives.WriteUInt64LittleEndian(v, value);
        map.Update(k, v);
    }

    private static int Count(IBpfMap map)
    {
        var n = 0;
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (map.TryGetNextKey(key, next) && n <= map.MaxEntries)
        {
            n++;
            key = [.. next];
        }
        return n;
    }

    [KernelFact]
    public void For_each_over_a_hash_map_visits_what_the_kernel_visits_and_counts_as_it_does()
    {
        var (k, i) = BothEngines("for_each_map");
        using (k)
        using (i)
        {
            var keys = Enumerable.Range(0, 40).Select(n => (uint)(n * 37 % 101)).ToArray();
            foreach (var c in new[] { k, i })
            {
                foreach (var key in keys) Put(c.Map("table"), key, key * 3UL);
            }
            // Unchanged map: the same elements, each once (the kernel's order is its buckets', ours insertion order).
            var kernel = Walk(k, "walk_table");
            var managed = Walk(i, "walk_table");
            Assert.Equal((40L, 40u), (kernel.Visited, kernel.Calls));
            Assert.Equal((kernel.Visited, kernel.Calls, kernel.Sum), (managed.Visited, managed.Calls, managed.Sum));
            Assert.Equal(kernel.Order.Order(), managed.Order.Order());
            Assert.Equal(keys, managed.Order);

            // Stopping: the result counts the element whose callback returned 1, in each engine's own order.
            var stop = keys[17];
            Set(k, "stop_at", stop);
            Set(i, "stop_at", stop);
            var kernelStop = Walk(k, "walk_table");
            var managedStop = Walk(i, "walk_table");
            Assert.Equal(Array.IndexOf(kernel.Order, stop) + 1, kernelStop.Visited);
            Assert.Equal(Array.IndexOf(managed.Order, stop) + 1, managedStop.Visited);

            // Flags: -EINVAL before any callback.
            Set(k, "stop_at", uint.MaxValue);
            Set(i, "stop_at", uint.MaxValue);
            Set(k, "call_flags", 1);
            Set(i, "call_flags", 1);
            Assert.Equal((-22L, 0u), (Walk(k, "walk_table").Visited, Walk(k, "walk_table").Calls));
            Assert.Equal((-22L, 0u), (Walk(i, "walk_table").Visited, Walk(i, "walk_table").Calls));
            Set(k, "call_flags", 0);
            Set(i, "call_flags", 0);

            // A callback deleting the element it is given: every element visited, the map left empty.
            Set(k, "mode", 1);
            Set(i, "mode", 1);
            Assert.Equal(40L, Walk(k, "walk_table").Visited);
            Assert.Equal(40L, Walk(i, "walk_table").Visited);
            Assert.Equal((0, 0), (Count(k.Map("table")), Count(i.Map("table"))));
        }
    }

    [KernelFact]
    public void For_each_over_an_array_agrees_with_the_kernel_exactly()
    {
        var (k, i) = BothEngines("for_each_map");
        using (k)
        using (i)
        {
            foreach (var c in new[] { k, i })
            {
                for (uint n = 0; n < 8; n++) Put(c.Map("cells"), n, (n + 1) * 100UL);
                Set(c, "mode", 2); // the callback adds 1 to each value through its pointer
            }
            Assert.Equal(Walk(k, "walk_cells"), Walk(i, "walk_cells"), new WalkComparer());
            Set(k, "stop_at", 4);
            Set(i, "stop_at", 4);
            var kernel = Walk(k, "walk_cells");
            Assert.Equal(5L, kernel.Visited);
            Assert.Equal(kernel, Walk(i, "walk_cells"), new WalkComparer());
        }
    }

    [KernelFact]
    public void For_each_over_a_per_cpu_hash_gives_the_running_cpus_values_as_the_kernel()
    {
        var (k, i) = BothEngines("for_each_map");
        using (k)
        using (i)
        {
            ulong Total(IBpfCollection c, uint key)
            {
                var map = c.Map("per_cpu");
                var value = new byte[map.UserValueSize];
                Assert.True(map.TryLookup(BitConverter.GetBytes(key), value));
                var total = 0UL;
                for (var at = 0; at < value.Length; at += 8) total += BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(at));
                return total;
            }
            var before = new Dictionary<(IBpfCollection, uint), ulong>();
            foreach (var c in new[] { k, i })
            {
                var map = c.Map("per_cpu");
                for (uint key = 1; key <= 5; key++)
                {
                    // Every CPU's value the same, so the sum the walk sees does not depend on the CPU the run is on.
                    var value = new byte[map.UserValueSize];
                    for (var at = 0; at < value.Length; at += 8) BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(at), key * 10);
                    map.Update(BitConverter.GetBytes(key), value);
                    before[(c, key)] = Total(c, key);
                }
                Set(c, "mode", 2);
            }
            var kernel = Walk(k, "walk_per_cpu");
            var managed = Walk(i, "walk_per_cpu");
            Assert.Equal((5L, 150UL), (kernel.Visited, kernel.Sum));
            Assert.Equal((kernel.Visited, kernel.Sum), (managed.Visited, managed.Sum));
            // The callback added 1 to one CPU's value of each element (the running CPU's) on both engines.
            for (uint key = 1; key <= 5; key++)
            {
                Assert.Equal(before[(k, key)] + 1, Total(k, key));
                Assert.Equal(before[(i, key)] + 1, Total(i, key));
            }
        }
    }

    private sealed class WalkComparer : IEqualityComparer<(long, uint, ulong, uint[])>
    {
        public bool Equals((long, uint, ulong, uint[]) x, (long, uint, ulong, uint[]) y) =>
            x.Item1 == y.Item1 && x.Item2 == y.Item2 && x.Item3 == y.Item3 && x.Item4.SequenceEqual(y.Item4);

        public int GetHashCode((long, uint, ulong, uint[]) obj) => obj.Item1.GetHashCode();
    }

    // ---- bpf_fib_lookup ----

    private const uint Direct = 1, Output = 2, SkipNeigh = 4, Tbid = 8, Src = 16;

    /// <summary>A network namespace holding a veth pair (v0 10.1.0.1/24 and fd00:1::1/64, v1 10.8.0.1/24), routes of
    /// every type through v0, a permanent neighbour 10.1.0.2 / fd00:1::2, IPv4 and IPv6 forwarding on everywhere but
    /// on v1 for IPv4; and the same facts as a <see cref="Fib"/>.</summary>
    internal sealed class RoutedNamespace : IDisposable
    {
        public static readonly PhysicalAddress V0Mac = PhysicalAddress.Parse("02-00-00-00-00-01"), V1Mac = PhysicalAddress.Parse("02-00-00-00-00-02"),
            NeighbourMac = PhysicalAddress.Parse("02-00-00-00-00-AA");

        public RoutedNamespace(bool empty = false, bool defaultTable = false)
        {
            Need.Capabilities("a network namespace with a veth pair, routes and neighbours (ip netns add, setns, ip route)", Capability.SysAdmin, Capability.NetAdmin);
            Name = $"bpfnet-fib-{Environment.ProcessId % 10000}{Random.Shared.Next(1000):D3}";
            try
            {
                Sh("ip", $"netns add {Name}");
                if (empty) return;
                Ip("link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02");
                Sh("ip", $"netns exec {Name} sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1");
                Sh("ip", $"netns exec {Name} sysctl -qw net.ipv4.conf.v1.forwarding=0");
                Ip("addr add 10.1.0.1/24 dev v0");
                Ip("addr add 10.8.0.1/24 dev v1");
                Ip("addr add fd00:1::1/64 dev v0 nodad");
                Ip("link set v0 up");
                Ip("link set v1 mtu 68");
                Ip("link set v1 up");
                Ip("route add 10.2.0.0/16 via 10.1.0.2 dev v0 metric 7");
                Ip("route add 10.3.0.0/16 via 10.1.0.3 dev v0");
                Ip("route add 10.4.0.0/16 via 10.1.0.2 dev v0 mtu lock 1000");
                Ip("route add blackhole 10.5.0.0/16");
                Ip("route add unreachable 10.6.0.0/16");
                Ip("route add prohibit 10.7.0.0/16");
                Ip("route add 10.9.0.0/16 via 10.1.0.2 dev v0 table 100");
                Ip("route add 10.12.0.0/16 dev v1");
                Ip("route add fd00:2::/64 via fd00:1::2 dev v0");
                if (defaultTable)
                {
                    Ip("route add 10.6.1.0/24 via 10.1.0.2 dev v0 table default");
                    Ip("route add 10.11.0.0/16 via 10.1.0.2 dev v0 table default");
                }
                DefaultTable = defaultTable;
                Ip("neigh add 10.1.0.2 lladdr 02:00:00:00:00:aa dev v0 nud permanent");
                Ip("neigh add fd00:1::2 lladdr 02:00:00:00:00:aa dev v0 nud permanent");
                V0 = Index("v0");
                V1 = Index("v1");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string Name { get; }
        public bool DefaultTable { get; }
        public int V0 { get; }
        public int V1 { get; }

        private void Ip(string args) => Sh("ip", $"-n {Name} {args}");

        private int Index(string device) => int.Parse(Sh("ip", $"-n {Name} -o link show {device}").Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>What <c>ip route</c> / <c>ip neigh</c> show in the namespace, as the interpreter's network.</summary>
        public Fib ToFib()
        {
            // lo is down (no address, no route); all.forwarding=1 set its forwarding too.
            var lo = new FibDevice(1, new PhysicalAddress(new byte[6])) { Mtu = 65536, Ipv4Forwarding = true, Ipv6Forwarding = true };
            var v0 = new FibDevice(V0, V0Mac)
            {
                Ipv4Forwarding = true, Ipv6Forwarding = true,
                Addresses = [(IPAddress.Parse("10.1.0.1"), 24), (IPAddress.Parse("fd00:1::1"), 64)],
            };
            var v1 = new FibDevice(V1, V1Mac) { Mtu = 68, Ipv6Forwarding = true, Addresses = [(IPAddress.Parse("10.8.0.1"), 24)] };
            FibRoute R(string prefix, int length) => new(IPAddress.Parse(prefix), length);
            FibRoute[] routes =
            [
                R("10.1.0.0", 24) with { Ifindex = V0, PreferredSource = IPAddress.Parse("10.1.0.1") },
                R("10.8.0.0", 24) with { Ifindex = V1, PreferredSource = IPAddress.Parse("10.8.0.1") },
                R("10.2.0.0", 16) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.2"), Metric = 7 },
                R("10.3.0.0", 16) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.3") },
                R("10.4.0.0", 16) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.2"), Mtu = 1000 },
                R("10.5.0.0", 16) with { Type = FibRouteType.Blackhole },
                R("10.6.0.0", 16) with { Type = FibRouteType.Unreachable },
                R("10.7.0.0", 16) with { Type = FibRouteType.Prohibit },
                R("10.9.0.0", 16) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.2"), Table = 100 },
                R("10.12.0.0", 16) with { Ifindex = V1 },
                // IPv6: the kernel's connected route has metric 256, a route added by hand 1024.
                R("fd00:1::", 64) with { Ifindex = V0, Metric = 256 },
                R("fd00:2::", 64) with { Ifindex = V0, Gateway = IPAddress.Parse("fd00:1::2"), Metric = 1024 },
            ];
            if (DefaultTable)
            {
                routes = [.. routes, R("10.6.1.0", 24) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.2"), Table = Fib.DefaultTable },
                    R("10.11.0.0", 16) with { Ifindex = V0, Gateway = IPAddress.Parse("10.1.0.2"), Table = Fib.DefaultTable }];
            }
            FibNeighbour[] neighbours =
            [
                new(V0, IPAddress.Parse("10.1.0.2"), NeighbourMac),
                new(V0, IPAddress.Parse("fd00:1::2"), NeighbourMac),
            ];
            return new Fib([lo, v0, v1], routes, neighbours);
        }

        public void Dispose() => Sh("ip", $"netns del {Name}", check: false);
    }

    /// <summary>Runs <paramref name="run"/> on a thread in network namespace <paramref name="ns"/> (BPF_PROG_TEST_RUN
    /// looks routes up in the namespace of the task that runs it).</summary>
    internal static T InNamespace<T>(string ns, Func<T> run)
    {
        T result = default!;
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                var fd = Libc.Open($"/var/run/netns/{ns}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                if (fd < 0) throw new IOException($"open netns {ns}: errno {Marshal.GetLastPInvokeError()}");
                using var nsFd = BpfFd.FromNew(fd);
                if (Libc.Syscall3(SyscallNumbers.SetNs, nsFd.Value, 0x40000000 /* CLONE_NEWNET */, 0) < 0)
                    throw new IOException($"setns: errno {Marshal.GetLastPInvokeError()}");
                result = run();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw new Exception($"running in network namespace {ns} failed", failure);
        return result;
    }

    /// <summary>A request of fib_lookup.c: flags, whether plen is short (32 bytes), then struct bpf_fib_lookup.</summary>
    private static byte[] Request(byte family, int ifindex, string dst, ushort totLen = 0, uint flags = 0, bool shortPlen = false, string? src = null, uint tbid = 0, int pad = 0)
    {
        var r = new byte[8 + 64 + pad];
        BinaryPrimitives.WriteUInt32LittleEndian(r, flags);
        BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), shortPlen ? 1u : 0u);
        var p = r.AsSpan(8);
        p[0] = family;
        p[1] = 17; // UDP
        BinaryPrimitives.WriteUInt16LittleEndian(p[6..], totLen);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)ifindex);
        IPAddress.Parse(dst).TryWriteBytes(p[32..], out _);
        if (src is not null) IPAddress.Parse(src).TryWriteBytes(p[16..], out _);
        BinaryPrimitives.WriteUInt32LittleEndian(p[48..], tbid);
        // Output fields start as garbage, so a field the helper leaves alone shows.
        p[52..64].Fill(0xEE);
        return r;
    }

    private static (long Rc, string Params) Lookup(IBpfCollection c, string program, byte[] request)
    {
        var r = c.Program(program).Run(request);
        return ((int)r.ReturnValue, Convert.ToHexString(r.Data.AsSpan(8, 64)));
    }

    public static TheoryData<string, byte, string, ushort, uint, bool, string?, uint, long> FibCases => new()
    {
        // name, family, dst, tot_len, flags, short plen, src, tbid, the kernel's result
        { "hit with a neighbour", 2, "10.2.3.4", 100, 0, false, null, 0, 0 },
        { "hit, tot_len 0", 2, "10.2.3.4", 0, 0, false, null, 0, 0 },
        { "connected, the destination is the neighbour", 2, "10.1.0.2", 100, 0, false, null, 0, 0 },
        { "hit without a neighbour", 2, "10.3.0.9", 100, 0, false, null, 0, 7 },
        { "no neighbour, SKIP_NEIGH", 2, "10.3.0.9", 100, SkipNeigh, false, null, 0, 0 },
        { "no route", 2, "192.0.2.1", 100, 0, false, null, 0, 4 },
        { "a local address", 2, "10.1.0.1", 100, 0, false, null, 0, 4 },
        { "a local address, DIRECT", 2, "10.1.0.1", 100, Direct, false, null, 0, 4 },
        { "a local address, DIRECT|TBID local table", 2, "10.1.0.1", 100, Direct | Tbid, false, null, 255, 4 },
        { "IPv6 local address", 10, "fd00:1::1", 100, 0, false, null, 0, 4 },
        { "IPv6 local address, DIRECT", 10, "fd00:1::1", 100, Direct, false, null, 0, 7 },
        { "MTU exceeded (device)", 2, "10.2.0.1", 1600, 0, false, null, 0, 8 },
        { "MTU exceeded (locked route MTU)", 2, "10.4.0.1", 1200, 0, false, null, 0, 8 },
        { "within the locked route MTU", 2, "10.4.0.1", 900, 0, false, null, 0, 0 },
        { "blackhole", 2, "10.5.0.1", 100, 0, false, null, 0, 1 },
        { "unreachable", 2, "10.6.0.1", 100, 0, false, null, 0, 2 },
        { "prohibit", 2, "10.7.0.1", 100, 0, false, null, 0, 3 },
        { "SRC", 2, "10.2.0.1", 100, Src, false, null, 0, 0 },
        { "OUTPUT", 2, "10.2.0.1", 100, Output, false, null, 0, 0 },
        { "DIRECT", 2, "10.2.0.1", 100, Direct, false, null, 0, 0 },
        { "DIRECT|TBID table 100", 2, "10.9.0.1", 100, Direct | Tbid, false, null, 100, 0 },
        { "table 100 without DIRECT: no rule reaches it", 2, "10.9.0.1", 100, 0, false, null, 0, 4 },
        { "bad family", 7, "10.2.0.1", 100, 0, false, null, 0, -97 },
        { "short plen", 2, "10.2.0.1", 100, 0, true, null, 0, -22 },
        { "unknown flag", 2, "10.2.0.1", 100, 1u << 7, false, null, 0, -22 },
        { "IPv6 hit", 10, "fd00:2::5", 100, 0, false, null, 0, 0 },
        { "IPv6 connected, SRC", 10, "fd00:1::2", 100, Src, false, null, 0, 0 },
        { "IPv6 no route", 10, "2001:db8::1", 100, 0, false, null, 0, 4 },
        { "IPv6 link-local destination", 10, "fe80::1", 100, 0, false, null, 0, 4 },
        { "IPv6 MTU exceeded", 10, "fd00:2::5", 1600, 0, false, null, 0, 8 },
    };

    [KernelTheory]
    [MemberData(nameof(FibCases))]
    public void Fib_lookup_returns_and_writes_back_what_the_kernel_does_in_a_routed_namespace(string name, byte family, string dst, ushort totLen, uint flags, bool shortPlen, string? src, uint tbid, long expected)
    {
        using var ns = new RoutedNamespace();
        var (k, i) = FibEngines(ns);
        using (k)
        using (i)
        {
            foreach (var program in new[] { "fib_xdp", "fib_tc" })
            {
                var request = Request(family, ns.V0, dst, totLen, flags, shortPlen, src, tbid);
                var kernel = InNamespace(ns.Name, () => Lookup(k, program, request));
                Assert.True(expected == kernel.Rc, $"{name} ({program}): the kernel returned {kernel.Rc}, the test expects {expected}");
                Assert.Equal((name, program, kernel), (name, program, Lookup(i, program, request)));
            }
        }
    }

    [KernelFact]
    public void Fib_lookup_from_a_device_without_forwarding_or_an_unknown_one_agrees_with_the_kernel()
    {
        using var ns = new RoutedNamespace();
        var (k, i) = FibEngines(ns);
        using (k)
        using (i)
        {
            foreach (var (ifindex, family, dst, expected) in new[] { (ns.V1, (byte)2, "10.2.0.1", 5L), (99, (byte)2, "10.2.0.1", -19L), (99, (byte)10, "fd00:2::1", -19L) })
            {
                var request = Request(family, ifindex, dst, 100);
                var kernel = InNamespace(ns.Name, () => Lookup(k, "fib_xdp", request));
                Assert.Equal(expected, kernel.Rc);
                Assert.Equal(kernel, Lookup(i, "fib_xdp", request));
            }
        }
    }

    [KernelFact]
    public void Fib_lookup_from_tc_without_tot_len_checks_the_packet_against_the_output_devices_mtu_as_the_kernel()
    {
        using var ns = new RoutedNamespace();
        var (k, i) = FibEngines(ns);
        using (k)
        using (i)
        {
            // 10.12.0.0/16 leaves through v1, MTU 68: a 72-byte packet fits 68 + 18 (is_skb_forwardable), 172 does not.
            foreach (var (program, pad, expected) in new[] { ("fib_tc", 0, 0L), ("fib_tc", 100, 8L), ("fib_xdp", 100, 0L) })
            {
                var request = Request(2, ns.V0, "10.12.0.1", 0, SkipNeigh, pad: pad);
                var kernel = InNamespace(ns.Name, () => Lookup(k, program, request));
                Assert.True(expected == kernel.Rc, $"{program} +{pad}: the kernel returned {kernel.Rc}, the test expects {expected}");
                Assert.Equal((program, pad, kernel), (program, pad, Lookup(i, program, request)));
            }
        }
    }

    [KernelFact]
    public void The_default_table_is_consulted_when_main_has_no_route_as_in_the_kernel()
    {
        using var ns = new RoutedNamespace(defaultTable: true);
        var (k, i) = FibEngines(ns);
        using (k)
        using (i)
        {
            // Main's routes win, error routes included (10.6.0.0/16 unreachable hides the default table's 10.6.1.0/24);
            // the default table answers what main has no route for (10.11.0.0/16).
            foreach (var (dst, expected) in new[] { ("10.6.1.1", 2L), ("10.5.0.1", 1L), ("10.11.0.1", 0L), ("10.2.0.1", 0L), ("192.0.2.1", 4L) })
            {
                var request = Request(2, ns.V0, dst, 100);
                var kernel = InNamespace(ns.Name, () => Lookup(k, "fib_xdp", request));
                Assert.True(expected == kernel.Rc, $"{dst}: the kernel returned {kernel.Rc}, the test expects {expected}");
                Assert.Equal((dst, kernel), (dst, Lookup(i, "fib_xdp", request)));
            }
        }
    }

    [KernelFact]
    public void The_default_network_is_what_a_new_namespace_answers()
    {
        using var ns = new RoutedNamespace(empty: true);
        var (k, i) = BothEngines("fib_lookup", new BpfEngineOptions { Interpreter = new CollectionOptions { CpuCount = 1 } });
        using (k)
        using (i)
        {
            foreach (var (ifindex, family, dst, expected) in new[] { (1, (byte)2, "10.2.0.1", 5L), (1, (byte)10, "fd00::1", 5L), (2, (byte)2, "10.2.0.1", -19L), (1, (byte)0, "10.2.0.1", -97L) })
            {
                var request = Request(family, ifindex, dst, 100);
                var kernel = InNamespace(ns.Name, () => Lookup(k, "fib_xdp", request));
                Assert.Equal(expected, kernel.Rc);
                Assert.Equal(kernel, Lookup(i, "fib_xdp", request));
            }
        }
    }
}
