using System.Buffers.Binary;
using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

public class CollectionTests
{
    [Fact]
    public void Xdp_filter_counts_sources_and_drops_blocked_ones()
    {
        var c = RuntimeCorpus.Load("rt_xdp_filter.o");
        var counts = c.Map("packet_counts");
        var packet = RuntimeCorpus.Udp(0x0A000001, 0x0A000002);
        for (var i = 0; i < 3; i++)
        {
            var r = c.Run("xdp_filter", new XdpContext(packet));
            Assert.True(r.Succeeded, r.ToString());
            Assert.Equal(2u, r.ReturnValue); // XDP_PASS
        }
        var key = BinaryPrimitives.ReverseEndianness(0x0A000001u); // saddr as the program reads it (network order)
        Assert.True(counts.TryLookup(key, out ulong seen));
        Assert.Equal(3ul, seen);

        c.Map("blocked").Update(key, (byte)1);
        var dropped = c.Run("xdp_filter", new XdpContext(packet));
        Assert.Equal(1u, dropped.ReturnValue); // XDP_DROP
        Assert.True(counts.TryLookup(key, out seen));
        Assert.Equal(3ul, seen);
    }

    [Fact]
    public void Xdp_filter_passes_short_and_non_ip_packets_without_touching_maps()
    {
        var c = RuntimeCorpus.Load("rt_xdp_filter.o");
        Assert.Equal(2u, c.Run("xdp_filter", new XdpContext(new byte[10])).ReturnValue);
        var arp = RuntimeCorpus.Udp(1, 2);
        arp[12] = 0x08; arp[13] = 0x06;
        Assert.Equal(2u, c.Run("xdp_filter", new XdpContext(arp)).ReturnValue);
        Assert.Empty(c.Map("packet_counts").Keys());
    }

    [Fact]
    public void Socket_filter_reads_len_and_uses_skb_load_bytes()
    {
        var c = RuntimeCorpus.Load("socket_filter.o");
        var tcp = RuntimeCorpus.Udp(1, 2);
        tcp[14 + 9] = 6;
        Assert.Equal((uint)tcp.Length, c.Run("tcp_only", new SkBuffContext(tcp)).ReturnValue);
        Assert.Equal(0u, c.Run("tcp_only", new SkBuffContext(RuntimeCorpus.Udp(1, 2))).ReturnValue);
    }

    [Fact]
    public void Tc_program_writes_mark_and_classid_back_to_the_context()
    {
        var c = RuntimeCorpus.Load("tc_classifier.o");
        var small = new SkBuffContext(new byte[59]);
        Assert.Equal(2u, c.Run("tc_mark", small).ReturnValue); // TC_ACT_SHOT
        var ctx = new SkBuffContext(new byte[1200]);
        Assert.Equal(0u, c.Run("tc_mark", ctx).ReturnValue);
        Assert.Equal(2u, ctx.Mark);
        Assert.Equal(0x10001u, ctx.TcClassid);
        var prio = new SkBuffContext(new byte[64]) { Priority = 4 };
        Assert.Equal(2u, c.Run("tcx_egress", prio).ReturnValue);
    }

    [Fact]
    public void Global_variables_live_in_data_maps_and_rodata_is_read_only_for_programs()
    {
        var c = RuntimeCorpus.Load("globals.o");
        Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("packets_seen")));
        var r = c.Run("use_globals", new SkBuffContext(new byte[100]));
        Assert.True(r.Succeeded, r.ToString());
        Assert.Equal(100u, r.ReturnValue);
        Assert.Equal(8ul, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("packets_seen")));
        Assert.Equal(100, BinaryPrimitives.ReadInt32LittleEndian(c.Variable("last_len")));
        Assert.Equal(3u + (byte)'e', BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("custom_counter")));
        // Changing a .rodata constant from C# changes the program's behaviour, as setting it before load does.
        BinaryPrimitives.WriteUInt32LittleEndian(c.Variable("filter_port"), 80);
        Assert.Equal(0u, c.Run("use_globals", new SkBuffContext(new byte[100])).ReturnValue);
        var big = c.Run("use_globals", new SkBuffContext(new byte[1600]));
        Assert.Equal(0u, big.ReturnValue);
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("drops")));
    }

    [Fact]
    public void Tail_calls_follow_the_program_array()
    {
        var c = RuntimeCorpus.Load("prog_array.o");
        var r0 = c.Run("dispatch", new XdpContext(new byte[64], rxQueueIndex: 0));
        Assert.Equal(2u, r0.ReturnValue);
        Assert.Equal(1, r0.TailCalls);
        Assert.Equal(1u, c.Run("dispatch", new XdpContext(new byte[64], rxQueueIndex: 2)).ReturnValue);
        var missing = c.Run("dispatch", new XdpContext(new byte[64], rxQueueIndex: 1));
        Assert.Equal(0u, missing.ReturnValue); // falls through to XDP_ABORTED
        Assert.Equal(0, missing.TailCalls);
        c.Map<ProgramArrayMap>("jump_table").Set(1, c.Program("stage_two"));
        Assert.Equal(1u, c.Run("dispatch", new XdpContext(new byte[64], rxQueueIndex: 1)).ReturnValue);
    }

    [Fact]
    public void Map_in_map_lookup_returns_the_inner_map()
    {
        var c = RuntimeCorpus.Load("map_in_map.o");
        c.Map("inner_a").Update(7u, 1234u);
        c.Map("inner_b").Update(7u, 99u);
        Assert.Equal(1234u, c.Run("lookup_nested", new SkBuffContext(new byte[20]) { Mark = 7 }).ReturnValue);
        Assert.Equal(0u, c.Run("lookup_nested", new SkBuffContext(new byte[20]) { Mark = 8 }).ReturnValue);
        var outer = c.Map<MapOfMaps>("outer");
        outer.Set(BitConverter.GetBytes(1u), c.Map("inner_b"));
        Assert.Equal(99u, c.Run("lookup_nested", new SkBuffContext(new byte[20]) { Mark = 7 }).ReturnValue);
    }

    [Fact]
    public void Bpf_loop_calls_the_callback_like_the_kernels_inlined_loop()
    {
        var c = RuntimeCorpus.Load("bpf2bpf.o");
        // acc = (len * 31) ^ 1, then the callback adds 0 + 1 + 2 + 3; the program returns acc & 1.
        foreach (var len in new[] { 10, 11, 64, 99 })
        {
            var r = c.Run("tc_sum", new SkBuffContext(new byte[len]));
            Assert.True(r.Succeeded, r.ToString());
            Assert.Equal((uint)((((len * 31) ^ 1) + 6) & 1), r.ReturnValue);
        }
    }

    [Fact]
    public void An_lru_map_with_no_prealloc_is_refused_as_the_kernel_refuses_it()
    {
        var e = Assert.Throws<MapException>(() => RuntimeCorpus.Load("xdp_filter.o"));
        Assert.Equal(MapError.KernelNotSupported, e.Error);
        Assert.Contains("blocked", e.Message);
    }

    [Fact]
    public void Every_corpus_program_loads()
    {
        foreach (var file in Directory.GetFiles(RuntimeCorpus.ElfDir, "*.o").Concat(Directory.GetFiles(RuntimeCorpus.RuntimeDir, "*.o")))
        {
            if (Path.GetFileName(file) == "xdp_filter.o") continue; // refused, see above
            var spec = ObjectSpec.ReadFile(file);
            // CO-RE programs need a target BTF; without one they are left out with the reason, never run unrelocated.
            var core = spec.Programs.Where(p => p.CoreRelocations.Count > 0).Select(p => p.Name).Order().ToList();
            var c = ManagedCollection.Load(spec);
            Assert.Equal(core, c.UnsupportedPrograms.Keys.Order());
            Assert.All(c.UnsupportedPrograms.Values, reason => Assert.Contains("CO-RE", reason));
            // With the object's own BTF as the target every program loads.
            var withTarget = ManagedCollection.Load(spec, new CollectionOptions { TargetBtf = spec.Btf });
            Assert.Equal(spec.Programs.Count, withTarget.Programs.Count);
            Assert.Empty(withTarget.UnsupportedPrograms);
        }
    }
}
