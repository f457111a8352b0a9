using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>Boundaries of the queue/stack, perf event array and ring buffer maps that the mutation run found
/// unchecked (docs/testing.md, "Survivors left"): wrap-around, overwrite on full, closed slots, discarded records,
/// the full-ring error and the record-write guard.</summary>
public sealed class MapBoundaryTests
{
    private static ManagedCollection Collection() => new(new CollectionOptions { CpuCount = 2 });

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);

    private static uint Pop(QueueStackMap m)
    {
        var v = new byte[4];
        Assert.Equal(MapError.None, m.Take(v, remove: true));
        return BitConverter.ToUInt32(v);
    }

    private static List<uint> PopAll(QueueStackMap m)
    {
        var list = new List<uint>();
        var v = new byte[4];
        while (m.Take(v, remove: true) == MapError.None) list.Add(BitConverter.ToUInt32(v));
        return list;
    }

    [Theory]
    [InlineData(MapType.Queue, new uint[] { 2, 3, 4 })]
    [InlineData(MapType.Stack, new uint[] { 4, 2, 1 })]
    public void Values_wrap_around_the_end_of_the_storage(MapType type, uint[] expected)
    {
        var m = (QueueStackMap)Collection().CreateMap(new MapSpec("qs", type, 0, 4, 3));
        foreach (var v in new uint[] { 1, 2, 3 }) Assert.Equal(MapError.None, m.Push(U32(v)));
        Assert.Equal(type == MapType.Queue ? 1u : 3u, Pop(m));
        Assert.Equal(MapError.None, m.Push(U32(4)));   // the queue's slot 0 is reused: index (head + count) % 3
        Assert.Equal(3, m.Count);
        Assert.Equal(expected, PopAll(m));
        Assert.Equal(0, m.Count);
    }

    [Theory]
    [InlineData(MapType.Queue, new uint[] { 2, 3, 4 })]
    [InlineData(MapType.Stack, new uint[] { 4, 3, 2 })]
    public void Pushing_onto_a_full_map_with_BPF_EXIST_drops_the_oldest_value(MapType type, uint[] expected)
    {
        // The kernel's queue_stack_map_push_elem: with BPF_EXIST a full map advances its tail (the oldest value).
        var m = (QueueStackMap)Collection().CreateMap(new MapSpec("qs", type, 0, 4, 3));
        foreach (var v in new uint[] { 1, 2, 3 }) Assert.Equal(MapError.None, m.Push(U32(v)));
        Assert.Equal(MapError.TooBig, m.Push(U32(9)));                        // E2BIG without BPF_EXIST
        Assert.Equal(MapError.Invalid, m.Push(U32(9), MapUpdateFlags.NoExist)); // EINVAL: NOEXIST means nothing here
        Assert.Equal(MapError.Invalid, m.Push(U32(9), (MapUpdateFlags)3));
        Assert.Equal(MapError.None, m.Push(U32(4), MapUpdateFlags.Exist));
        Assert.Equal(3, m.Count);
        Assert.Equal(expected, PopAll(m));
    }

    [Theory]
    [InlineData(MapType.Queue, 5u)]
    [InlineData(MapType.Stack, 6u)]
    public void The_syscall_lookup_of_a_queue_or_stack_peeks(MapType type, uint expected)
    {
        // BPF_MAP_LOOKUP_ELEM on a queue or stack is a peek; BPF_MAP_UPDATE_ELEM a push.
        var m = Collection().CreateMap(new MapSpec("qs", type, 0, 4, 3));
        Assert.Equal(MapError.None, m.TryUpdate([], U32(5)));
        Assert.Equal(MapError.None, m.TryUpdate([], U32(6)));
        var v = new byte[4];
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(MapError.None, m.TryLookup([], v));
            Assert.Equal(expected, BitConverter.ToUInt32(v));
        }
        Assert.Equal(2, ((QueueStackMap)m).Count);
    }

    [Fact]
    public void Peek_leaves_the_value_and_clear_empties_the_map()
    {
        var m = (QueueStackMap)Collection().CreateMap(new MapSpec("q", MapType.Queue, 0, 4, 2));
        m.Push(U32(7));
        m.Push(U32(8));
        var v = new byte[4];
        Assert.Equal(MapError.None, m.Take(v, remove: false));
        Assert.Equal(7u, BitConverter.ToUInt32(v));
        Assert.Equal(2, m.Count);
        m.Clear();
        Assert.Equal(0, m.Count);
        Assert.Equal(MapError.NotFound, m.Take(v, remove: false));
        Assert.Equal(MapError.Invalid, m.TryDelete([]));
        Assert.Equal(MapError.Invalid, m.TryGetNextKey([], new byte[4]));
    }

    [Fact]
    public void Perf_event_array_slots_close_reopen_and_bound_their_index()
    {
        var m = (PerfEventArrayMap)Collection().CreateMap(new MapSpec("perf", MapType.PerfEventArray, 4, 4, 2));
        Assert.Equal(MapError.None, m.Output(1, [1, 2], [3]));
        Assert.Equal(MapError.TooBig, m.Output(2, [1], []));
        Assert.Equal(MapError.TooBig, m.Output(-1, [1], []));
        m.Close(0);
        Assert.Equal(MapError.NotFound, m.Output(0, [1], []));
        m.Close(0, closed: false);
        Assert.Equal(MapError.None, m.Output(0, [9], []));
        var records = m.Drain();
        Assert.Equal([(1, "010203"), (0, "09")], records.Select(r => (r.Cpu, Convert.ToHexString(r.Data))));
        Assert.Empty(m.Drain());

        // BPF_MAP_DELETE_ELEM closes the slot's perf event; indexes past max_entries are E2BIG.
        Assert.Equal(MapError.None, m.TryDelete(U32(1)));
        Assert.Equal(MapError.NotFound, m.Output(1, [1], []));
        Assert.Equal(MapError.TooBig, m.TryDelete(U32(2)));
        Assert.Equal(MapError.NotSupported, m.TryLookup(U32(0), new byte[4]));
        Assert.Equal(MapError.NotSupported, m.TryUpdate(U32(0), U32(0)));
        m.Output(0, [1], []);
        m.Clear();
        Assert.Empty(m.Drain());
    }

    [Fact]
    public void Perf_event_array_keys_run_from_zero_to_max_entries()
    {
        // max_entries of a perf event array is fixed up to the possible CPUs (2 here), as libbpf and cilium/ebpf do.
        var m = Collection().CreateMap(new MapSpec("perf", MapType.PerfEventArray, 4, 4, 3));
        Assert.Equal(2, m.MaxEntries);
        var next = new byte[4];
        Assert.Equal(MapError.None, m.TryGetNextKey([], next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.None, m.TryGetNextKey(U32(0), next));
        Assert.Equal(1u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.NotFound, m.TryGetNextKey(U32(1), next));
        Assert.Equal(MapError.None, m.TryGetNextKey(U32(7), next)); // not a key: start over
        Assert.Equal(0u, BitConverter.ToUInt32(next));
    }

    [Fact]
    public void A_discarded_record_is_consumed_but_never_read()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        var a = ring.Reserve(16);
        var b = ring.Reserve(24);
        Assert.NotEqual(0ul, a);
        Assert.Equal(a + 16 + 8, b); // 8-byte header, 8-byte aligned records
        Assert.Equal(16 + 8 + 24 + 8, ring.AvailableData);
        Assert.False(ring.TryRead(out _)); // the first record is still busy: nothing after it is read either
        Assert.True(ring.Commit(b, discard: false));
        Assert.False(ring.TryRead(out _));
        Assert.True(ring.Commit(a, discard: true));
        Assert.True(ring.TryRead(out var record));
        Assert.Equal(24, record.Length);
        Assert.False(ring.TryRead(out _));
        Assert.Equal(0, ring.AvailableData);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void Commit_accepts_only_a_reserved_uncommitted_record()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        var a = ring.Reserve(8);
        Assert.False(ring.Commit(a + 8, discard: false));   // not a record's data address
        Assert.False(ring.Commit(4, discard: false));        // below the header size
        Assert.False(ring.Commit(a + 4096, discard: false)); // past the ring
        Assert.True(ring.Commit(a, discard: false));
        Assert.False(ring.Commit(a, discard: false));        // twice
        Assert.Single(ring.Drain());
    }

    [Fact]
    public void Output_to_a_full_ring_is_EAGAIN_and_query_reports_the_positions()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        var record = new byte[1000];
        var written = 0;
        long result;
        while ((result = ring.Output(record)) == 0) written++;
        Assert.Equal(-11, result); // -EAGAIN, as bpf_ringbuf_output returns
        Assert.Equal(4, written); // 4 × 1008 bytes fit in 4095; a fifth does not
        Assert.Equal((ulong)(4 * 1008), ring.Query(0)); // BPF_RB_AVAIL_DATA
        Assert.Equal(4096ul, ring.Query(1));            // BPF_RB_RING_SIZE
        Assert.Equal(0ul, ring.Query(2));               // BPF_RB_CONS_POS
        Assert.Equal((ulong)(4 * 1008), ring.Query(3)); // BPF_RB_PROD_POS
        Assert.Equal(0ul, ring.Query(4));
        Assert.Equal(4, ring.Drain().Count);
        Assert.Equal((ulong)(4 * 1008), ring.Query(2));
        Assert.Equal(0ul, ring.Query(0));
        ring.Output(record);
        ring.Clear();
        Assert.Equal(0ul, ring.Query(0));
        Assert.Empty(ring.Drain());
    }

    [Fact]
    public void Programs_may_write_exactly_the_data_of_a_reserved_record()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        var guard = (IRegionWriteGuard)ring;
        var first = ring.Reserve(16);
        var region = first - 8; // the record's header is the region's first byte
        ulong Offset(ulong address) => address - region;
        Assert.True(guard.AllowsWrite(Offset(first), 16));
        Assert.True(guard.AllowsWrite(Offset(first) + 15, 1));
        Assert.False(guard.AllowsWrite(Offset(first), 17));
        Assert.False(guard.AllowsWrite(Offset(first) + 16, 1));
        Assert.False(guard.AllowsWrite(Offset(first) - 1, 1)); // the header
        Assert.False(guard.AllowsWrite(Offset(first) + 8, 9));  // starts inside, runs one byte past the end
        Assert.True(guard.AllowsWrite(Offset(first) + 8, 8));
        ring.Commit(first, discard: false);
        Assert.False(guard.AllowsWrite(Offset(first), 1));     // submitted: no longer the program's
    }

    [Fact]
    public void Commit_refuses_an_address_that_aliases_a_record_modulo_4_GiB()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        var a = ring.Reserve(8);
        Assert.False(ring.Commit(a + (1UL << 32), discard: false));
        Assert.False(ring.Commit(a - (1UL << 32), discard: false));
        Assert.Empty(ring.Drain());                               // still reserved: nothing to read
        Assert.True(ring.Commit(a, discard: false));
        Assert.Single(ring.Drain());
    }

    [Fact]
    public void Output_works_in_a_ring_that_is_not_the_collections_first_region()
    {
        // The first region of a collection sits at a 4 GiB boundary; later ones do not.
        var c = Collection();
        c.CreateMap(new MapSpec("before", MapType.Array, 4, 8, 3));
        var ring = (RingBufferMap)c.CreateMap(new MapSpec("rb", MapType.RingBuf, 0, 0, 4096));
        Assert.NotEqual(0ul, ring.Regions.Single().Address % (1UL << 32));
        var read = new List<byte[]>();
        for (var i = 0; i < 100; i++)
        {
            var record = Enumerable.Repeat((byte)i, 1 + i * 7 % 200).ToArray();
            if (ring.Output(record) != 0)
            {
                read.AddRange(ring.Drain());
                Assert.Equal(0, ring.Output(record));
            }
        }
        read.AddRange(ring.Drain());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => Enumerable.Repeat((byte)i, 1 + i * 7 % 200).ToArray()), read);
    }
}

/// <summary>Helpers the verifier knows but the runtime lacks are refused when the program loads, not when a run
/// reaches them.</summary>
public sealed class VerifierOnlyHelperTests
{
    [Theory]
    [InlineData(126, "seq_printf")]
    [InlineData(127, "seq_write")]
    [InlineData(141, "get_task_stack")]
    public void A_program_calling_a_helper_the_runtime_lacks_is_refused_at_load_naming_it(int id, string name)
    {
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var program = Bpf.Asm.Assembler.Assemble($"r0 = 0\nif r0 != 0 goto skip\ncall {id}\nskip:\nexit", Bpf.Asm.AsmDialect.Llvm);
        var e = Assert.Throws<NotSupportedException>(() => collection.LoadProgram("p", ProgramType.Xdp, program));
        Assert.Equal($"insn 2: calls bpf_{name} (helper {id}), which the managed runtime does not implement", e.Message);
        // A helper the runtime has loads as before.
        collection.LoadProgram("q", ProgramType.Xdp, Bpf.Asm.Assembler.Assemble("call 5\nr0 = 0\nexit", Bpf.Asm.AsmDialect.Llvm));
    }
}
