using System.Buffers.Binary;
using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

public class MapSemanticsTests
{
    private static ManagedCollection Collection(int cpus = 2) => new(new CollectionOptions { CpuCount = cpus });

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    [Fact]
    public void Array_updates_in_range_refuses_noexist_and_delete_and_iterates_every_index()
    {
        var map = Collection().CreateMap(new MapDefinition("a", MapType.Array, 4, 8, 3));
        Assert.Equal(MapError.None, map.TryUpdate(U32(2), U64(7)));
        Assert.Equal(MapError.TooBig, map.TryUpdate(U32(3), U64(7)));
        Assert.Equal(MapError.Exists, map.TryUpdate(U32(0), U64(1), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(0), U64(1), MapUpdateFlags.Exist));
        Assert.Equal(MapError.Invalid, map.TryUpdate(U32(0), U64(1), (MapUpdateFlags)8));
        Assert.Equal(MapError.Invalid, map.TryDelete(U32(0)));
        Assert.Equal(new[] { 0u, 1u, 2u }, map.Keys().Select(k => BitConverter.ToUInt32(k)));
        // A key past the end restarts at 0; the last key ends the iteration.
        var next = new byte[4];
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(99), next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.NotFound, map.TryGetNextKey(U32(2), next));
        Assert.True(map.TryLookup(2u, out ulong v));
        Assert.Equal(7ul, v);
    }

    [Fact]
    public void Hash_follows_kernel_flags_and_capacity()
    {
        var map = Collection().CreateMap(new MapDefinition("h", MapType.Hash, 4, 4, 2));
        Assert.Equal(MapError.NotFound, map.TryUpdate(U32(1), U32(10), MapUpdateFlags.Exist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(1), U32(10), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.Exists, map.TryUpdate(U32(1), U32(11), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(2), U32(20)));
        Assert.Equal(MapError.TooBig, map.TryUpdate(U32(3), U32(30)));
        // Replacing an existing key works even when full.
        Assert.Equal(MapError.None, map.TryUpdate(U32(1), U32(12)));
        Assert.Equal(MapError.NotFound, map.TryDelete(U32(3)));
        Assert.Equal(MapError.None, map.TryDelete(U32(1)));
        Assert.Equal(MapError.None, map.TryUpdate(U32(3), U32(30)));
        Assert.Equal(new[] { 2u, 3u }, map.Keys().Select(k => BitConverter.ToUInt32(k)));
        Assert.Throws<MapException>(() => map.Update(4u, 40u));
    }

    [Fact]
    public void Hash_iteration_is_stable_under_deletes_and_a_missing_key_restarts()
    {
        var map = Collection().CreateMap(new MapDefinition("h", MapType.Hash, 4, 4, 100));
        for (var i = 0u; i < 50; i++) map.Update(i * 7919, i);
        var order = map.Keys().Select(k => BitConverter.ToUInt32(k)).ToList();
        Assert.Equal(50, order.Count);
        // Delete every other key while walking: the walk still visits the survivors in the same order.
        var next = new byte[4];
        var current = order[0];
        var visited = new List<uint> { current };
        while (map.TryGetNextKey(U32(current), next) == MapError.None)
        {
            var n = BitConverter.ToUInt32(next);
            if (visited.Count % 2 == 0) map.TryDelete(U32(current));
            visited.Add(n);
            current = n;
        }
        Assert.Equal(order, visited);
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(123456), next));
        Assert.Equal(map.Keys()[0], next);
    }

    [Fact]
    public void Lru_hash_evicts_the_least_recently_used_element()
    {
        var c = Collection();
        var map = (HashMap)c.CreateMap(new MapDefinition("lru", MapType.LruHash, 4, 4, 3));
        map.Update(1u, 1u);
        map.Update(2u, 2u);
        map.Update(3u, 3u);
        map.Update(1u, 11u); // 1 is now the most recent; 2 the least
        map.Update(4u, 4u);
        Assert.False(map.TryLookup(2u, out uint _));
        Assert.Equal(3, map.Count);
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("bad", MapType.LruHash, 4, 4, 3, MapFlags.NoPrealloc)));
    }

    [Fact]
    public void Lpm_trie_matches_the_longest_prefix()
    {
        var c = Collection();
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("nopre", MapType.LpmTrie, 8, 4, 8)));
        var map = c.CreateMap(new MapDefinition("lpm", MapType.LpmTrie, 8, 4, 8, MapFlags.NoPrealloc));
        static byte[] Key(int len, uint addr)
        {
            var k = new byte[8];
            BinaryPrimitives.WriteUInt32LittleEndian(k, (uint)len);
            BinaryPrimitives.WriteUInt32BigEndian(k.AsSpan(4), addr);
            return k;
        }
        map.Update(Key(8, 0x0A000000), U32(8));
        map.Update(Key(16, 0x0A010000), U32(16));
        map.Update(Key(0, 0), U32(0));
        var value = new byte[4];
        Assert.Equal(MapError.None, map.TryLookup(Key(32, 0x0A010203), value));
        Assert.Equal(16u, BitConverter.ToUInt32(value));
        Assert.Equal(MapError.None, map.TryLookup(Key(32, 0x0A020203), value));
        Assert.Equal(8u, BitConverter.ToUInt32(value));
        Assert.Equal(MapError.None, map.TryLookup(Key(32, 0x0B000000), value));
        Assert.Equal(0u, BitConverter.ToUInt32(value));
        // A lookup key with a shorter prefix length only sees prefixes up to it.
        Assert.Equal(MapError.None, map.TryLookup(Key(12, 0x0A010203), value));
        Assert.Equal(8u, BitConverter.ToUInt32(value));
        Assert.Equal(MapError.Invalid, map.TryUpdate(Key(33, 0), U32(1)));
        Assert.Equal(MapError.NotFound, map.TryDelete(Key(24, 0x0A010200)));
        Assert.Equal(MapError.None, map.TryDelete(Key(16, 0x0A01FFFF))); // bits past the prefix do not matter
        Assert.Equal(MapError.None, map.TryLookup(Key(32, 0x0A010203), value));
        Assert.Equal(8u, BitConverter.ToUInt32(value));
    }

    [Fact]
    public void Array_of_maps_takes_inner_map_ids_checks_the_template_and_iterates_every_index()
    {
        var c = Collection();
        var template = new MapDefinition("inner", MapType.Array, 4, 8, 2);
        var outer = (MapOfMaps)c.CreateMap(new MapDefinition("aom", MapType.ArrayOfMaps, 4, 4, 3, 0, template));
        var a = c.CreateMap(template with { Name = "a" });
        var b = c.CreateMap(template with { Name = "b" });
        var wrongValueSize = c.CreateMap(template with { Name = "w", ValueSize = 4 });

        Assert.Equal(MapError.None, outer.TryUpdate(U32(1), BitConverter.GetBytes(a.Id)));
        Assert.Equal(MapError.None, outer.TryUpdate(U32(2), BitConverter.GetBytes(b.Id), MapUpdateFlags.Exist));
        Assert.Equal(MapError.Exists, outer.TryUpdate(U32(0), BitConverter.GetBytes(a.Id), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.TooBig, outer.TryUpdate(U32(3), BitConverter.GetBytes(a.Id)));
        Assert.Equal(MapError.Invalid, outer.TryUpdate(U32(0), BitConverter.GetBytes(wrongValueSize.Id)));
        Assert.Equal(MapError.Invalid, outer.TryUpdate(U32(0), BitConverter.GetBytes(999_999)));
        Assert.Equal(MapError.Invalid, outer.TryUpdate(U32(0), BitConverter.GetBytes(a.Id), (MapUpdateFlags)8));

        var value = new byte[4];
        Assert.Equal(MapError.None, outer.TryLookup(U32(1), value));
        Assert.Equal(a.Id, BitConverter.ToInt32(value));
        Assert.Same(b, outer.Get(U32(2)));
        Assert.Null(outer.Get(U32(0)));
        Assert.Null(outer.Get(U32(7)));
        Assert.Equal(MapError.NotFound, outer.TryLookup(U32(0), value));
        Assert.Equal(a.Handle, outer.ProgramLookup(U32(1), 0));
        Assert.Equal(0ul, outer.ProgramLookup(U32(0), 0));

        // Every index is a key, as for an array; a key past the end restarts at 0.
        Assert.Equal(new[] { 0u, 1u, 2u }, outer.Keys().Select(k => BitConverter.ToUInt32(k)));
        var next = new byte[4];
        Assert.Equal(MapError.None, outer.TryGetNextKey(U32(99), next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.NotFound, outer.TryGetNextKey(U32(2), next));

        Assert.Equal(MapError.None, outer.TryDelete(U32(1)));
        Assert.Equal(MapError.NotFound, outer.TryDelete(U32(1)));
        Assert.Equal(MapError.TooBig, outer.TryDelete(U32(3)));
        Assert.Null(outer.Get(U32(1)));
        Assert.Throws<MapException>(() => outer.Set(U32(5), a));
    }

    [Fact]
    public void Hash_of_maps_follows_the_hash_flags_and_capacity()
    {
        var c = Collection();
        var template = new MapDefinition("inner", MapType.Hash, 4, 4, 4);
        var outer = (MapOfMaps)c.CreateMap(new MapDefinition("hom", MapType.HashOfMaps, 8, 4, 2, 0, template));
        var a = c.CreateMap(template with { Name = "a" });
        var b = c.CreateMap(template with { Name = "b" });
        var other = c.CreateMap(new MapDefinition("arr", MapType.Array, 4, 4, 4));
        var foreign = Collection().CreateMap(template with { Name = "elsewhere" });

        Assert.Equal(MapError.NotFound, outer.TryUpdate(U64(10), BitConverter.GetBytes(a.Id), MapUpdateFlags.Exist));
        Assert.Equal(MapError.None, outer.TryUpdate(U64(10), BitConverter.GetBytes(a.Id), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.Exists, outer.TryUpdate(U64(10), BitConverter.GetBytes(b.Id), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, outer.TryUpdate(U64(10), BitConverter.GetBytes(b.Id), MapUpdateFlags.Exist));
        Assert.Equal(MapError.None, outer.TryUpdate(U64(20), BitConverter.GetBytes(a.Id)));
        Assert.Equal(MapError.TooBig, outer.TryUpdate(U64(30), BitConverter.GetBytes(a.Id)));
        Assert.Equal(MapError.Invalid, outer.TryUpdate(U64(10), BitConverter.GetBytes(other.Id)));
        Assert.Throws<MapException>(() => outer.Set(U64(10), foreign)); // another collection's map is not a value here

        Assert.Same(b, outer.Get(U64(10)));
        Assert.Same(a, outer.Get(U64(20)));
        Assert.Null(outer.Get(U64(30)));
        var value = new byte[4];
        Assert.Equal(MapError.None, outer.TryLookup(U64(20), value));
        Assert.Equal(a.Id, BitConverter.ToInt32(value));
        Assert.Equal(new[] { 10ul, 20ul }, outer.Keys().Select(k => BitConverter.ToUInt64(k)));
        var next = new byte[8];
        Assert.Equal(MapError.None, outer.TryGetNextKey(U64(12345), next)); // a missing key restarts
        Assert.Equal(10ul, BitConverter.ToUInt64(next));
        Assert.Equal(MapError.NotFound, outer.TryGetNextKey(U64(20), next));

        Assert.Equal(MapError.None, outer.TryDelete(U64(10)));
        Assert.Equal(MapError.NotFound, outer.TryDelete(U64(10)));
        Assert.Null(outer.Get(U64(10)));
        Assert.Equal(MapError.None, outer.TryUpdate(U64(30), BitConverter.GetBytes(a.Id))); // the freed entry is reusable
        Assert.Equal(new[] { 20ul, 30ul }, outer.Keys().Select(k => BitConverter.ToUInt64(k)).Order());
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("novalue", MapType.HashOfMaps, 8, 8, 2, 0, template)));
        Assert.Throws<ArgumentException>(() => c.CreateMap(new MapDefinition("notemplate", MapType.HashOfMaps, 8, 4, 2)));
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("aomkey", MapType.ArrayOfMaps, 8, 4, 2, 0, template)));
    }

    [Fact]
    public void Program_array_takes_program_ids_like_the_syscall()
    {
        var c = Collection();
        var jump = (ProgramArrayMap)c.CreateMap(new MapDefinition("jt", MapType.ProgArray, 4, 4, 3));
        var p = c.LoadProgram("p", ProgramType.Xdp, Bpf.Asm.Assembler.Assemble("r0 = 2\nexit", Bpf.Asm.AsmDialect.Llvm));

        Assert.Equal(MapError.None, jump.TryUpdate(U32(1), BitConverter.GetBytes(p.Id)));
        Assert.Equal(MapError.None, jump.TryUpdate(U32(2), BitConverter.GetBytes(p.Id), MapUpdateFlags.Exist));
        Assert.Equal(MapError.Invalid, jump.TryUpdate(U32(0), BitConverter.GetBytes(p.Id), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.TooBig, jump.TryUpdate(U32(3), BitConverter.GetBytes(p.Id)));
        Assert.Equal(MapError.Invalid, jump.TryUpdate(U32(0), BitConverter.GetBytes(424242)));
        Assert.Same(p, jump.Get(1));
        Assert.Null(jump.Get(0));
        Assert.Null(jump.Get(3));
        var value = new byte[4];
        Assert.Equal(MapError.None, jump.TryLookup(U32(2), value));
        Assert.Equal(p.Id, BitConverter.ToInt32(value));
        Assert.Equal(MapError.NotFound, jump.TryLookup(U32(0), value));

        Assert.Equal(new[] { 0u, 1u, 2u }, jump.Keys().Select(k => BitConverter.ToUInt32(k)));
        var next = new byte[4];
        Assert.Equal(MapError.None, jump.TryGetNextKey(U32(77), next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.NotFound, jump.TryGetNextKey(U32(2), next));

        Assert.Equal(MapError.None, jump.TryDelete(U32(1)));
        Assert.Equal(MapError.NotFound, jump.TryDelete(U32(1)));
        Assert.Equal(MapError.TooBig, jump.TryDelete(U32(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => jump.Set(-1, p));
        Assert.Throws<ArgumentOutOfRangeException>(() => jump.Set(3, p));
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("bad", MapType.ProgArray, 4, 8, 3)));
        Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("badkey", MapType.ProgArray, 8, 4, 3)));
    }

    /// <summary>The bytes a program sees at <paramref name="address"/>: inside one of the map's regions, or null.</summary>
    private static byte[]? ProgramView(ManagedMap map, ulong address, int length)
    {
        foreach (var region in map.Regions)
        {
            if (address >= region.Address && address + (ulong)length <= region.Address + (ulong)region.Length)
            {
                return region.Data.Slice((int)(address - region.Address), length).ToArray();
            }
        }
        return null;
    }

    [Theory]
    [InlineData(MapType.Hash, 0u)]
    [InlineData(MapType.Hash, MapFlags.NoPrealloc)]
    [InlineData(MapType.PerCpuHash, 0u)]
    [InlineData(MapType.LruHash, 0u)]
    [InlineData(MapType.LruPerCpuHash, 0u)]
    [InlineData(MapType.Array, 0u)]
    [InlineData(MapType.PerCpuArray, 0u)]
    public void A_program_sees_each_element_and_cpu_at_its_own_address_holding_its_value(MapType type, uint flags)
    {
        // Two maps filled to max_entries (a lazily allocated hash grows in chunks on the way), every element
        // holding distinct bytes per CPU: the address a program's lookup returns for (key, cpu) holds exactly that
        // element's value for that CPU, and no two such values overlap, within one map or across the two.
        const int cpus = 3, entries = 40, size = 12;
        var c = Collection(cpus);
        var perCpu = type is MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash;
        var maps = new[] { c.CreateMap(new MapDefinition("first", type, 4, size, entries, (MapFlags)flags)), c.CreateMap(new MapDefinition("second", type, 4, size, entries, (MapFlags)flags)) };
        var ranges = new List<(ulong Start, ulong End)>();
        for (var m = 0; m < maps.Length; m++)
        {
            var map = maps[m];
            byte Fill(uint key, int cpu) => (byte)(1 + m * 100 + key + (perCpu ? cpu * 41 : 0));
            var userValue = new byte[map.UserValueSize];
            for (var k = 0u; k < entries; k++)
            {
                for (var cpu = 0; cpu < (perCpu ? cpus : 1); cpu++) userValue.AsSpan(cpu * (perCpu ? 16 : 0), size).Fill(Fill(k, cpu));
                Assert.Equal(MapError.None, map.TryUpdate(U32(k), userValue));
            }
            for (var k = 0u; k < entries; k++)
            {
                for (var cpu = 0; cpu < cpus; cpu++)
                {
                    var address = map.ProgramLookup(U32(k), cpu);
                    var seen = ProgramView(map, address, size);
                    Assert.NotNull(seen);
                    Assert.All(seen, b => Assert.Equal(Fill(k, cpu), b));
                    if (perCpu || cpu == 0) ranges.Add((address, address + size));
                    else Assert.Equal(map.ProgramLookup(U32(k), 0), address); // one value shared by every CPU
                }
            }
        }
        ranges.Sort();
        for (var i = 1; i < ranges.Count; i++) Assert.True(ranges[i - 1].End <= ranges[i].Start, $"values overlap at 0x{ranges[i].Start:x}");
    }

    [Theory]
    [InlineData(MapType.PerCpuHash)]
    [InlineData(MapType.PerCpuArray)]
    public void A_program_update_writes_only_its_cpu_slice(MapType type)
    {
        var map = Collection(cpus: 3).CreateMap(new MapDefinition("pc", type, 4, 4, 4));
        Assert.Equal(MapError.None, map.ProgramUpdate(U32(2), U32(0xAABBCCDD), 0, cpu: 1));
        var value = new byte[map.UserValueSize];
        Assert.Equal(MapError.None, map.TryLookup(U32(2), value));
        Assert.Equal(new uint[] { 0, 0xAABBCCDD, 0 }, Enumerable.Range(0, 3).Select(cpu => BitConverter.ToUInt32(value, cpu * 8)));
    }

    [Fact]
    public void Keys_and_values_of_the_wrong_size_are_refused_by_every_operation()
    {
        var c = Collection();
        foreach (var map in new[]
        {
            c.CreateMap(new MapDefinition("a", MapType.Array, 4, 8, 2)),
            c.CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, 2)),
            c.CreateMap(new MapDefinition("lpm", MapType.LpmTrie, 8, 8, 2, MapFlags.NoPrealloc)),
        })
        {
            var key = new byte[map.KeySize];
            Assert.Throws<ArgumentException>(() => map.TryLookup(new byte[3], new byte[8]));
            Assert.Throws<ArgumentException>(() => map.TryLookup(key, new byte[7]));
            Assert.Throws<ArgumentException>(() => map.TryUpdate(new byte[3], new byte[8]));
            Assert.Throws<ArgumentException>(() => map.TryUpdate(key, new byte[9]));
            if (map.Definition.Type != MapType.Array) Assert.Throws<ArgumentException>(() => map.TryDelete(new byte[3]));
        }
    }

    [Fact]
    public void Per_cpu_values_are_padded_per_cpu_like_the_syscall()
    {
        var map = Collection(cpus: 3).CreateMap(new MapDefinition("pc", MapType.PerCpuArray, 4, 4, 2));
        Assert.Equal(24, map.UserValueSize);
        var value = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(value.AsSpan(8), 5);
        map.Update(U32(1), value);
        var back = new byte[24];
        map.TryLookup(U32(1), back);
        Assert.Equal(value, back);
    }

    [Fact]
    public void Queue_and_stack_push_pop_peek_with_kernel_errors()
    {
        var c = Collection();
        var q = (QueueStackMap)c.CreateMap(new MapDefinition("q", MapType.Queue, 0, 4, 2));
        var s = (QueueStackMap)c.CreateMap(new MapDefinition("s", MapType.Stack, 0, 4, 2));
        foreach (var m in new[] { q, s })
        {
            Assert.Equal(MapError.None, m.Push(U32(1)));
            Assert.Equal(MapError.None, m.Push(U32(2)));
            Assert.Equal(MapError.TooBig, m.Push(U32(3)));
            Assert.Equal(MapError.None, m.Push(U32(3), MapUpdateFlags.Exist)); // drops the oldest
        }
        var v = new byte[4];
        q.Take(v, remove: true);
        Assert.Equal(2u, BitConverter.ToUInt32(v));
        s.Take(v, remove: false);
        Assert.Equal(3u, BitConverter.ToUInt32(v));
        s.Take(v, remove: true);
        s.Take(v, remove: true);
        Assert.Equal(2u, BitConverter.ToUInt32(v));
        Assert.Equal(MapError.NotFound, s.Take(v, remove: true));
    }

    [Fact]
    public void Ring_buffer_records_wrap_and_the_reader_sees_them_in_order()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapDefinition("rb", MapType.RingBuf, 0, 0, 4096));
        var written = new List<byte[]>();
        var read = new List<byte[]>();
        var rng = new Random(5);
        for (var i = 0; i < 500; i++)
        {
            var record = new byte[rng.Next(1, 300)];
            rng.NextBytes(record);
            if (ring.Output(record) != 0)
            {
                read.AddRange(ring.Drain());
                Assert.Equal(0, ring.Output(record));
            }
            written.Add(record);
        }
        read.AddRange(ring.Drain());
        Assert.Equal(written.Count, read.Count);
        for (var i = 0; i < written.Count; i++) Assert.Equal(written[i], read[i]);
        Assert.True(ring.ProducerPosition > 4096 * 10);
    }

    [Fact]
    public void Ring_buffer_refuses_a_reservation_that_would_fill_it_completely()
    {
        var ring = (RingBufferMap)Collection().CreateMap(new MapDefinition("rb", MapType.RingBuf, 0, 0, 4096));
        Assert.Equal(0ul, ring.Reserve(4096 - 8)); // 4096 bytes with the header: not strictly less than the size
        Assert.NotEqual(0ul, ring.Reserve(4096 - 16));
        Assert.Equal(0ul, ring.Reserve(1));
    }

    [Fact]
    public void Concurrent_updates_and_deletes_keep_the_hash_consistent()
    {
        var map = (HashMap)Collection().CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, 1000));
        Parallel.For(0, 4, t =>
        {
            for (var i = 0u; i < 20_000; i++)
            {
                var key = (uint)(t * 100 + (i % 200));
                if (i % 3 == 0) map.Delete(key);
                else map.TryUpdate(U32(key), U64(i));
            }
        });
        var keys = map.Keys();
        Assert.Equal(map.Count, keys.Count);
        Assert.Equal(keys.Count, keys.Select(Convert.ToHexString).Distinct().Count());
    }
}
