using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Bpf.Generators.Consumer.Objects;
using Bpf.Runtime;

namespace Bpf.Generators.Tests;

/// <summary>
/// Compile-and-run: the classes the BpfProgram build generated in tests/Bpf.Generators.Consumer open their embedded
/// objects on each engine and read and write maps (hash, LRU hash, LPM trie, per-CPU array, queue, ring buffer,
/// program array, map of maps) and globals (.data, .bss, .rodata set before loading), with the same assertions on the
/// interpreter and on the kernel. The kernel half skips naming why, or fails under BPFNET_REQUIRE_KERNEL=1.
/// </summary>
public sealed class GeneratedClassTests
{
    public static TheoryData<string> Engines => new() { "interpreter", "kernel" };

    private static EngineChoice Choose(string engine)
    {
        if (engine == "interpreter") return EngineChoice.Interpreter;
        Need.Kernel();
        return EngineChoice.Kernel;
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void XdpFilter_HashAndLruMaps_Typed(string engine)
    {
        using var filter = QuickstartFilter.Open(Choose(engine));
        Assert.Equal(engine, filter.Collection.Engine == Engine.Kernel ? "kernel" : "interpreter");
        uint allowed = Ipv4(10, 0, 0, 1), blocked = Ipv4(10, 0, 0, 66);
        filter.Blocked.Update(blocked, 1);
        var verdicts = new[] { allowed, blocked, allowed }.Select(src => filter.XdpFilter.Run(Frame(src, 0x0a000002)).ReturnValue).ToArray();
        Assert.Equal([2u, 1u, 2u], verdicts); // PASS, DROP, PASS
        Assert.Equal(2ul, filter.PacketCounts.Lookup(allowed));
        Assert.False(filter.PacketCounts.TryLookup(blocked, out _));
        Assert.Equal([allowed], filter.PacketCounts.Keys());
        Assert.Equal([new KeyValuePair<uint, byte>(blocked, 1)], filter.Blocked.Entries());
        filter.PacketCounts.Update(allowed, 40);
        filter.XdpFilter.Run(Frame(allowed, 0x0a000002));
        Assert.Equal(41ul, filter.PacketCounts.Lookup(allowed));
        Assert.True(filter.PacketCounts.TryDelete(allowed));
        Assert.Throws<KeyNotFoundException>(() => filter.PacketCounts.Delete(allowed));
        Assert.Equal(BpfErrno.EEXIST, Assert.Throws<MapException>(() => filter.Blocked.Update(blocked, 2, MapUpdateFlags.NoExist)).Code);
        // A view of the wrong shape says which map and why.
        Assert.Contains("packet_counts", Assert.Throws<ArgumentException>(() => filter.PacketCounts.Map.As<uint, uint>()).Message);
        Assert.Contains("not a per-CPU map", Assert.Throws<ArgumentException>(() => filter.PacketCounts.Map.AsPerCpu<uint, ulong>()).Message);
        var counts = filter.PacketCounts;
        filter.Dispose();
        Assert.Contains("packet_counts", Assert.Throws<ObjectDisposedException>(() => counts.Lookup(allowed)).Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Globals_DataAndBss_ReadWrite_RodataSetBeforeLoad(string engine)
    {
        var skb = new byte[100];
        using (var g = Globals.Open(Choose(engine)))
        {
            Assert.Equal(443u, g.FilterPort);
            Assert.Equal((ushort)1500, g.CustomLimit);
            Assert.Equal((sbyte)'e', g.Greeting[1]);
            Assert.Equal(7ul, g.PacketsSeen);
            Assert.Equal(-1, g.LastLen);
            var len = g.UseGlobals.Run(skb).ReturnValue; // filter_port == 443: returns skb->len (the frame past its Ethernet header)
            Assert.Equal(86u, len);
            Assert.Equal(8ul, g.PacketsSeen);
            Assert.Equal((int)len, g.LastLen);
            Assert.Equal(3u + 'e', g.CustomCounter);
            g.PacketsSeen = 1000;
            g.Pair = new Globals.PairType { A = 5, B = 6 };
            g.UseGlobals.Run(skb);
            Assert.Equal(1001ul, g.PacketsSeen);
            Assert.Equal((5u, (ushort)6), (g.Pair.A, g.Pair.B));
        }
        // .rodata is set on the object before it loads; the programs see the new constants.
        using (var g = Globals.Open(Choose(engine), configure: c =>
        {
            Assert.Equal(443u, c.FilterPort);
            c.FilterPort = 53;
            c.CustomLimit = 50;
        }))
        {
            Assert.Equal(53u, g.FilterPort);
            Assert.Equal(0u, g.UseGlobals.Run(skb).ReturnValue); // longer than custom_limit: dropped
            Assert.Equal(1ul, g.Drops);
            Assert.Equal(1u, g.Pair.A);
            Assert.Equal(0u, g.UseGlobals.Run(new byte[40]).ReturnValue); // filter_port != 443
            Assert.Equal(1ul, g.Drops);
            Assert.Equal(BpfErrno.EPERM, Assert.Throws<BpfException>(() => g.Collection.SetVariable("filter_port", 1u)).Code);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RewriteEvent
    {
        public uint Saddr, Daddr, Verdict, Len;
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void RtXdp_PerCpu_LpmTrie_RingBuffer(string engine)
    {
        using var x = RtXdp.Open(ObjectSpec.Read(RtXdp.ReadObject(), RtXdp.ObjectFileName), Choose(engine));
        uint src = Ipv4(192, 168, 1, 1), dst = Ipv4(10, 1, 2, 3);
        x.Routes.Update(new RtXdp.BpfLpmKey4 { Prefixlen = 32, Addr = dst }, 1); // XDP_DROP for this destination
        var cpus = x.Verdicts.CpuCount;
        Assert.True(cpus >= 1);
        x.Verdicts.Update(1u, Enumerable.Repeat(10ul, cpus).ToArray());

        Assert.Equal(1u, x.XdpRewrite.Run(Frame(src, dst)).ReturnValue);
        Assert.Equal(3u, x.XdpRewrite.Run(Frame(src, Ipv4(10, 9, 9, 9))).ReturnValue); // no route: XDP_TX

        Assert.Equal(10ul * (ulong)cpus + 1, x.Verdicts.Lookup(1u).Aggregate(0ul, (a, v) => a + v));
        Assert.Equal(1ul, x.Verdicts.Lookup(3u).Aggregate(0ul, (a, v) => a + v));
        Assert.Equal(4, x.Verdicts.Entries().Count);
        Assert.Equal(128ul, x.BytesByLen.Lookup(64u)); // two 64-byte frames
        Assert.Equal(1u, x.Routes.Lookup(new RtXdp.BpfLpmKey4 { Prefixlen = 32, Addr = dst }));

        // The ring buffer's record type is a local struct in C (not in the BTF): the caller names it.
        var events = x.Events.AsRingBuffer<RewriteEvent>();
        Assert.True(events.TryRead(out var first));
        Assert.Equal((src, dst, 1u, 64u), (first.Saddr, first.Daddr, first.Verdict, first.Len));
        var rest = events.ReadAvailable();
        Assert.Equal([3u], rest.Select(e => e.Verdict));
        Assert.False(events.TryRead(out _));
        Assert.Throws<NotSupportedException>(() => x.BytesByLen.Map.TryReadRecord(out _));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void RtSkb_Queue_PushPeekPop(string engine)
    {
        using var s = RtSkb.Open(ObjectSpec.Read(RtSkb.ReadObject(), RtSkb.ObjectFileName), Choose(engine));
        Assert.False(s.Recent.TryPop(out _));
        s.Recent.Push(11);
        s.Recent.Push(22);
        Assert.True(s.Recent.TryPeek(out var head) && head == 11);
        Assert.True(s.Recent.TryPop(out var popped) && popped == 11);
        Assert.True(s.Recent.TryPop(out popped) && popped == 22);
        Assert.False(s.Recent.TryPeek(out _));
        for (uint i = 0; i < 8; i++) s.Recent.Push(i);
        Assert.Equal(BpfErrno.E2BIG, Assert.Throws<MapException>(() => s.Recent.Push(99)).Code);
        s.Recent.Push(99, MapUpdateFlags.Exist); // drops the oldest
        Assert.True(s.Recent.TryPop(out popped) && popped == 1);
        while (s.Recent.TryPop(out _)) { }

        // The program pushes the IPv4 source-address word it reads (load_word at 12 of the IP header).
        // A socket filter's data starts past the Ethernet header, as in the kernel's test run.
        var packet = new byte[74];
        packet[12] = 0x08;
        packet[14] = 0x45;
        packet[14 + 9] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(14 + 12), 0x0a000001);
        s.SockLdabs.Run(packet);
        Assert.True(s.Recent.TryPop(out popped));
        Assert.Equal(0x0a000001u, popped);
        Assert.Equal(0x0a000001ul, s.Stats.Lookup(0u));
        Assert.Contains("not a queue", Assert.Throws<ArgumentException>(() => s.Stats.Map.AsQueue<ulong>()).Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void ProgArray_SetAndClearSlots(string engine)
    {
        using var p = ProgArray.Open(ObjectSpec.Read(ProgArray.ReadObject(), ProgArray.ObjectFileName), Choose(engine));
        var frame = Frame(1, 2);
        Assert.True(p.JumpTable.IsSet(0));      // .values: [0] = stage_one, [2] = stage_two
        Assert.False(p.JumpTable.IsSet(1));
        Assert.True(p.JumpTable.IsSet(2));
        Assert.Equal(2u, p.Dispatch.Run(frame).ReturnValue); // rx_queue_index 0: stage_one, XDP_PASS
        p.JumpTable.Set(0, p.StageTwo);
        Assert.Equal(1u, p.Dispatch.Run(frame).ReturnValue); // stage_two: XDP_DROP
        Assert.True(p.JumpTable.Clear(0));
        Assert.False(p.JumpTable.Clear(0));
        Assert.Equal(0u, p.Dispatch.Run(frame).ReturnValue); // empty slot: the tail call falls through, XDP_ABORTED
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void MapInMap_InnerMapsBySlot(string engine)
    {
        using var m = MapInMap.Open(ObjectSpec.Read(MapInMap.ReadObject(), MapInMap.ObjectFileName), Choose(engine));
        Assert.True(m.Outer.Contains(1u));       // .values: [1] = inner_a, [3] = inner_b
        Assert.False(m.Outer.Contains(0u));
        m.InnerA.Update(7u, 77u);
        var context = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(context.AsSpan(8), 7); // __sk_buff.mark
        Assert.Equal(77u, m.LookupNested.Run(new byte[64], context).ReturnValue);
        m.Outer.Set(1u, m.InnerB.Map);           // slot 1 now holds inner_b, where key 7 is absent
        Assert.Equal(0u, m.LookupNested.Run(new byte[64], context).ReturnValue);
        m.InnerB.Update(7u, 5u);
        Assert.Equal(5u, m.LookupNested.Run(new byte[64], context).ReturnValue);
        Assert.True(m.Outer.TryDelete(1u));
        Assert.False(m.Outer.Contains(1u));
        Assert.Equal(0u, m.LookupNested.Run(new byte[64], context).ReturnValue);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Layouts_StructKeysAndValues_BitfieldsUnions_Globals(string engine)
    {
        // bpf/layouts.c: the program looks up flows[{ v4 = ingress_ifindex (1 in a test run), vlan = config_port }] and,
        // when found, sets bitfields in the value and copies its pid into a union member of the global 'counters'.
        using var l = Bpf.Generators.Consumer.LayoutProgram.Open(Choose(engine), configure: c => c.ConfigPort = 7);
        Assert.Equal(7u, l.ConfigPort);
        var key = new Bpf.Generators.Consumer.LayoutProgram.FlowKey { V4 = 1, Vlan = 7 };
        var value = Bpf.Generators.Consumer.Uses.SampleEvent();
        l.Flows.Update(key, value);
        Assert.Equal(1ul, l.Started);
        l.Layouts.Run(new byte[64]);
        var after = l.Flows.Lookup(key);
        Assert.Equal((1u, 5ul), (after.Fl.A, after.Fl.Big));
        Assert.Equal(value.Cookie, after.Cookie);
        Assert.Equal(8080, after.Hops[1].Port);
        Assert.Equal((1u, 42u), (l.Counters.Hits, l.Counters.Last.Parts.Hi));
        Assert.Equal(2ul, l.Started);
        l.Counters = default;
        l.Started = 100;
        l.Layouts.Run(new byte[64]);
        Assert.Equal((1u, 101ul), (l.Counters.Hits, l.Started));
        var only = Assert.Single(l.Flows.Keys()); // (structs holding InlineArrays have no built-in Equals: compare members)
        Assert.Equal((1u, (ushort)7), (only.V4, only.Vlan));
        Assert.Equal(4, l.Stats.Entries().Count);
    }

    // An Ethernet + IPv4 frame (TTL 64) from source to destination (the four wire bytes as a little-endian u32).
    private static byte[] Frame(uint source, uint destination)
    {
        var f = new byte[64];
        f[12] = 0x08;
        f[14] = 0x45;
        f[22] = 64;
        f[23] = 17;
        BitConverter.TryWriteBytes(f.AsSpan(26, 4), source);
        BitConverter.TryWriteBytes(f.AsSpan(30, 4), destination);
        return f;
    }

    private static uint Ipv4(byte a, byte b, byte c, byte d) => BitConverter.ToUInt32([a, b, c, d]);
}
