using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// Argument validation of the managed maps: each map type's constructor refuses a definition it cannot hold (naming
/// the map) on its own, not only behind <c>MapLimits.Check</c>; every operation refuses a key or value one byte too
/// short or too long and leaves the map as it was; indices equal to max_entries are outside every array-like map.
/// </summary>
public sealed class MapArgumentTests
{
    private static ManagedCollection Collection(int cpus = 2) => new(new CollectionOptions { CpuCount = cpus });

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    private static ManagedMap Construct(MapDefinition d)
    {
        var space = new AddressSpace();
        return d.Type switch
        {
            MapType.Array or MapType.PerCpuArray => new ArrayMap(d, 2, space),
            MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash => new HashMap(d, 2, space),
            MapType.LpmTrie => new LpmTrieMap(d, 2, space),
            MapType.RingBuf => new RingBufferMap(d, 2, space),
            MapType.ProgArray => new ProgramArrayMap(d, 2, space, _ => null),
            MapType.ArrayOfMaps or MapType.HashOfMaps => new MapOfMaps(d, 2, space),
            MapType.Queue or MapType.Stack => new QueueStackMap(d, 2, space),
            MapType.PerfEventArray => new PerfEventArrayMap(d, 2, space),
            _ => throw new NotSupportedException(d.Type.ToString()),
        };
    }

    private static readonly MapDefinition Inner = new("inner", MapType.Array, 4, 4, 1);

    private static readonly MapDefinition[] Refusals =
    [
        new MapDefinition("array_key8", MapType.Array, 8, 4, 4),
        new MapDefinition("hash_key0", MapType.Hash, 0, 4, 4),
        new MapDefinition("lpm_key4", MapType.LpmTrie, 4, 4, 4, MapFlags.NoPrealloc),
        new MapDefinition("lpm_key261", MapType.LpmTrie, 261, 4, 4, MapFlags.NoPrealloc),
        new MapDefinition("aom_value8", MapType.ArrayOfMaps, 4, 8, 4, 0, Inner),
        new MapDefinition("hom_no_template", MapType.HashOfMaps, 4, 4, 4),
        new MapDefinition("aom_key8", MapType.ArrayOfMaps, 8, 4, 4, 0, Inner),
        new MapDefinition("perf_key8", MapType.PerfEventArray, 8, 4, 4),
        new MapDefinition("perf_value8", MapType.PerfEventArray, 4, 8, 4),
        new MapDefinition("jt_key8", MapType.ProgArray, 8, 4, 4),
        new MapDefinition("jt_value8", MapType.ProgArray, 4, 8, 4),
        new MapDefinition("queue_key4", MapType.Queue, 4, 4, 4),
        new MapDefinition("ring_key4", MapType.RingBuf, 4, 0, 4096),
        new MapDefinition("ring_value4", MapType.RingBuf, 0, 4, 4096),
        new MapDefinition("ring_2048", MapType.RingBuf, 0, 0, 2048),
        new MapDefinition("ring_12288", MapType.RingBuf, 0, 0, 12288),
        new MapDefinition("ring_4097", MapType.RingBuf, 0, 0, 4097),
    ];

    public static TheoryData<string> RefusedDefinitions => new(Refusals.Select(d => d.Name));

    [Theory]
    [MemberData(nameof(RefusedDefinitions))]
    public void A_map_type_refuses_a_definition_it_cannot_hold_naming_the_map(string name)
    {
        var definition = Refusals.Single(d => d.Name == name);
        var error = Assert.ThrowsAny<ArgumentException>(() => Construct(definition));
        Assert.Contains($"'{definition.Name}'", error.Message);
    }

    private static readonly MapDefinition[] Acceptances =
    [
        new MapDefinition("lpm_key5", MapType.LpmTrie, 5, 4, 4, MapFlags.NoPrealloc),
        new MapDefinition("lpm_key260", MapType.LpmTrie, 260, 4, 4, MapFlags.NoPrealloc),
        new MapDefinition("hash_key1", MapType.Hash, 1, 4, 4),
        new MapDefinition("ring_4096", MapType.RingBuf, 0, 0, 4096),
        new MapDefinition("ring_8192", MapType.RingBuf, 0, 0, 8192),
        new MapDefinition("aom", MapType.ArrayOfMaps, 4, 4, 4, 0, Inner),
        new MapDefinition("hom_key8", MapType.HashOfMaps, 8, 4, 4, 0, Inner),
    ];

    public static TheoryData<string> AcceptedEdgeDefinitions => new(Acceptances.Select(d => d.Name));

    [Theory]
    [MemberData(nameof(AcceptedEdgeDefinitions))]
    public void A_map_type_accepts_the_sizes_at_the_edges_of_its_range(string name)
    {
        var definition = Acceptances.Single(d => d.Name == name);
        var map = Construct(definition);
        Assert.Equal(definition.KeySize, map.KeySize);
        Assert.Equal(definition.MaxEntries, map.MaxEntries);
    }

    /// <summary>Asserts the call throws <see cref="ArgumentException"/> and the map's elements did not change.</summary>
    private static void Refused(ManagedMap map, Action call)
    {
        var before = Snapshot(map);
        Assert.Contains($"'{map.Name}'", Assert.Throws<ArgumentException>(call).Message);
        Assert.Equal(before, Snapshot(map));
    }

    private static string Snapshot(ManagedMap map) => map switch
    {
        QueueStackMap q => $"count {q.Count}",
        _ => string.Join(";", map.Entries().Select(e => Convert.ToHexString(e.Key) + "=" + Convert.ToHexString(e.Value))),
    };

    [Fact]
    public void Array_refuses_keys_and_values_one_byte_off_on_every_operation()
    {
        var map = Collection().CreateMap(new MapDefinition("a", MapType.Array, 4, 8, 3));
        map.Update(U32(1), U64(11));
        Refused(map, () => map.TryLookup(U32(1), new byte[9]));
        Refused(map, () => map.TryLookup(U32(1), new byte[7]));
        Refused(map, () => map.TryLookup(new byte[5], new byte[8]));
        Refused(map, () => map.TryUpdate(U32(1), new byte[7]));
        Refused(map, () => map.TryUpdate(U32(1), new byte[9]));
        Refused(map, () => map.TryUpdate(new byte[5], U64(3)));
        Refused(map, () => map.TryDelete(new byte[5]));
        Refused(map, () => map.TryDelete(new byte[3]));
    }

    [Theory]
    [InlineData(MapType.Hash, 0u)]
    [InlineData(MapType.Hash, MapFlags.NoPrealloc)]
    [InlineData(MapType.LruHash, 0u)]
    [InlineData(MapType.PerCpuHash, 0u)]
    public void Hash_refuses_keys_and_values_one_byte_off_on_every_operation(MapType type, uint flags)
    {
        var map = Collection().CreateMap(new MapDefinition("h", type, 4, 8, 3, (MapFlags)flags));
        var value = new byte[map.UserValueSize];
        map.Update(U32(1), value);
        foreach (var size in new[] { map.UserValueSize - 1, map.UserValueSize + 1 })
        {
            Refused(map, () => map.TryUpdate(U32(2), new byte[size]));
            Refused(map, () => map.TryUpdate(U32(1), new byte[size]));
            Refused(map, () => map.TryLookup(U32(1), new byte[size]));
        }
        foreach (var size in new[] { 3, 5 })
        {
            Refused(map, () => map.TryUpdate(new byte[size], value));
            Refused(map, () => map.TryLookup(new byte[size], value));
            Refused(map, () => map.TryDelete(new byte[size]));
        }
    }

    [Fact]
    public void Lpm_trie_refuses_keys_and_values_one_byte_off_on_every_operation()
    {
        var map = Collection().CreateMap(new MapDefinition("lpm", MapType.LpmTrie, 8, 8, 3, MapFlags.NoPrealloc));
        map.Update([32, 0, 0, 0, 10, 0, 0, 1], U64(5));
        byte[] key = [32, 0, 0, 0, 10, 0, 0, 2];
        foreach (var size in new[] { 7, 9 })
        {
            Refused(map, () => map.TryUpdate(key, new byte[size]));
            Refused(map, () => map.TryLookup(key, new byte[size]));
            Refused(map, () => map.TryUpdate(new byte[size], U64(1)));
            Refused(map, () => map.TryLookup(new byte[size], new byte[8]));
            Refused(map, () => map.TryDelete(new byte[size]));
        }
    }

    [Fact]
    public void Maps_of_maps_refuse_keys_and_values_one_byte_off_on_every_operation()
    {
        var c = Collection();
        var template = new MapDefinition("inner", MapType.Array, 4, 4, 1);
        var inner = c.CreateMap(template with { Name = "i" });
        var id = BitConverter.GetBytes(inner.Id);
        foreach (var outer in new[]
        {
            (MapOfMaps)c.CreateMap(new MapDefinition("aom", MapType.ArrayOfMaps, 4, 4, 3, 0, template)),
            (MapOfMaps)c.CreateMap(new MapDefinition("hom", MapType.HashOfMaps, 4, 4, 3, 0, template)),
        })
        {
            outer.Update(U32(1), id);
            Refused(outer, () => outer.Get(new byte[5]));
            Refused(outer, () => outer.TryLookup(new byte[5], new byte[4]));
            Refused(outer, () => outer.TryUpdate(new byte[5], id));
            Refused(outer, () => outer.Set(new byte[5], inner));
            Refused(outer, () => outer.TryUpdate(U32(2), [.. id, 0]));
            Refused(outer, () => outer.TryUpdate(U32(2), id[..3]));
            Refused(outer, () => outer.TryDelete(new byte[5]));
            Refused(outer, () => outer.TryDelete(new byte[3]));
            Assert.Contains("update", Assert.Throws<MapException>(() => outer.Set(U32(2), inner, MapUpdateFlags.Exist | MapUpdateFlags.NoExist)).Message);
        }
    }

    [Fact]
    public void Program_array_refuses_keys_and_values_one_byte_off_on_every_operation()
    {
        var c = Collection();
        var jump = (ProgramArrayMap)c.CreateMap(new MapDefinition("jt", MapType.ProgArray, 4, 4, 3));
        var p = c.LoadProgram("p", ProgramType.Xdp, Bpf.Asm.Assembler.Assemble("r0 = 2\nexit", Bpf.Asm.AsmDialect.Llvm));
        var id = BitConverter.GetBytes(p.Id);
        jump.Update(U32(1), id);
        Refused(jump, () => jump.TryLookup(new byte[5], new byte[4]));
        Refused(jump, () => jump.TryUpdate(new byte[5], id));
        Refused(jump, () => jump.TryUpdate(U32(2), [.. id, 0]));
        Refused(jump, () => jump.TryUpdate(U32(2), id[..3]));
        Refused(jump, () => jump.TryDelete(new byte[5]));
    }

    [Fact]
    public void Perf_event_array_and_queue_refuse_keys_and_values_one_byte_off()
    {
        var c = Collection();
        var perf = c.CreateMap(new MapDefinition("perf", MapType.PerfEventArray, 4, 4, 2));
        Refused(perf, () => perf.TryDelete(new byte[5]));
        Refused(perf, () => perf.TryDelete(new byte[3]));

        var queue = (QueueStackMap)c.CreateMap(new MapDefinition("q", MapType.Queue, 0, 4, 2));
        queue.Push(U32(7));
        Refused(queue, () => queue.Push(new byte[3]));
        Refused(queue, () => queue.Push(new byte[5]));
        Refused(queue, () => queue.Take(new byte[5], remove: true));
        Refused(queue, () => queue.Take(new byte[3], remove: false));
        var v = new byte[4];
        Assert.Equal(MapError.None, queue.Take(v, remove: true));
        Assert.Equal(7u, BitConverter.ToUInt32(v));
    }

    [Fact]
    public void The_index_max_entries_is_outside_every_array_like_map()
    {
        var c = Collection();
        var template = new MapDefinition("inner", MapType.Array, 4, 4, 1);
        var array = c.CreateMap(new MapDefinition("a", MapType.Array, 4, 8, 3));
        var aom = (MapOfMaps)c.CreateMap(new MapDefinition("aom", MapType.ArrayOfMaps, 4, 4, 3, 0, template));
        var jump = c.CreateMap(new MapDefinition("jt", MapType.ProgArray, 4, 4, 3));
        var perf = c.CreateMap(new MapDefinition("perf", MapType.PerfEventArray, 4, 4, 3));
        array.Update(U32(2), U64(0x2222));

        // Lookup at max_entries: nothing, through the typed (direct) path as through the byte path.
        Assert.False(array.TryLookup(3u, out ulong _));
        Assert.False(array.TryLookup(uint.MaxValue, out ulong _));
        Assert.True(array.TryLookup(2u, out ulong last));
        Assert.Equal(0x2222ul, last);
        Assert.Equal(MapError.NotFound, array.TryLookup(U32(3), new byte[8]));
        Assert.Equal(0ul, array.ProgramLookup(U32(3), 0));
        Assert.Null(aom.Get(U32(3)));
        Assert.Equal(MapError.NotFound, aom.TryLookup(U32(3), new byte[4]));

        // get_next_key from max_entries restarts at 0, like any key out of range; from max_entries - 1 it ends.
        foreach (var map in new ManagedMap[] { array, aom, jump, perf })
        {
            var next = new byte[4];
            Assert.Equal(MapError.None, map.TryGetNextKey(U32(3), next));
            Assert.Equal(0u, BitConverter.ToUInt32(next));
            Assert.Equal(MapError.None, map.TryGetNextKey(U32(1), next));
            Assert.Equal(2u, BitConverter.ToUInt32(next));
            Assert.Equal(MapError.NotFound, map.TryGetNextKey(U32(2), next));
            Assert.Equal(MapError.None, map.TryGetNextKey([], next));
            Assert.Equal(0u, BitConverter.ToUInt32(next));
        }
    }
}
