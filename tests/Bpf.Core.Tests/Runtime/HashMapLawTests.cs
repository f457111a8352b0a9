using System.Buffers.Binary;
using Bpf.Runtime;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The hash maps against models: a plain hash behaves like a dictionary with the kernel's update flags, capacity
/// and insertion-order iteration; an LRU hash evicts exactly the least recently used element, where updates and
/// program lookups count as uses and C# lookups do not. Then the edges the models do not reach: keys whose 32-bit
/// hashes collide, key sizes that are not a multiple of 4, the program side (per-CPU slices, reused slots), the
/// memory limit at its exact value and the value layout the limit accounts for.
/// </summary>
public sealed class HashMapLawTests
{
    private static ManagedCollection Collection(int cpus = 2) => new(new CollectionOptions { CpuCount = cpus });

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    /// <summary>The bytes a program sees at <paramref name="address"/>, or null when no region of the map holds them.</summary>
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

    private static readonly MapUpdateFlags[] FlagChoices =
        [MapUpdateFlags.Any, MapUpdateFlags.Any, MapUpdateFlags.NoExist, MapUpdateFlags.Exist, MapUpdateFlags.Lock, (MapUpdateFlags)8];

    /// <summary>
    /// A random sequence of updates (every flag, invalid ones included), deletes, lookups from C# (both paths),
    /// program lookups and get_next_key steps gives the results of a model: a dictionary, the keys in insertion
    /// order and, for an LRU map, the keys by recency.
    /// </summary>
    [Property(MaxTest = 120)]
    public Property Hash_maps_behave_like_their_model(int seed, byte configPick)
    {
        var (type, flags, maxEntries, keyRange) = (configPick % 4) switch
        {
            0 => (MapType.Hash, MapFlags.None, 8, 14u),
            1 => (MapType.Hash, MapFlags.NoPrealloc, 100, 160u),   // grows 64 → 100 on the way
            2 => (MapType.LruHash, MapFlags.None, 8, 14u),
            _ => (MapType.LruHash, MapFlags.None, 1, 3u),
        };
        var lru = type == MapType.LruHash;
        var map = (HashMap)Collection().CreateMap(new MapDefinition("model", type, 4, 8, maxEntries, flags));
        var values = new Dictionary<uint, ulong>();
        var order = new List<uint>();     // insertion order: get_next_key's
        var recency = new List<uint>();   // least recent first (LRU only)
        var rng = new Random(seed);
        var log = new List<string>();

        void Use(uint key)
        {
            recency.Remove(key);
            recency.Add(key);
        }

        void Forget(uint key)
        {
            values.Remove(key);
            order.Remove(key);
            recency.Remove(key);
        }

        for (var step = 0; step < 250; step++)
        {
            var key = (uint)rng.Next((int)keyRange);
            var op = rng.Next(6);
            if (op <= 1)
            {
                var value = (ulong)rng.NextInt64();
                var f = FlagChoices[rng.Next(FlagChoices.Length)];
                var got = op == 0 ? map.TryUpdate(U32(key), U64(value), f) : map.ProgramUpdate(U32(key), U64(value), (ulong)f, cpu: rng.Next(2));
                MapError expected;
                if ((ulong)f > (ulong)MapUpdateFlags.Exist) expected = MapError.Invalid;
                else if (values.ContainsKey(key)) expected = f == MapUpdateFlags.NoExist ? MapError.Exists : MapError.None;
                else if (f == MapUpdateFlags.Exist) expected = MapError.NotFound;
                else if (values.Count == maxEntries && !lru) expected = MapError.TooBig;
                else expected = MapError.None;
                log.Add($"update {key}={value:x} {f} via {(op == 0 ? "C#" : "program")} -> {got}");
                if (got != expected) return false.Label(string.Join("\n", log) + $"\nexpected {expected}");
                if (expected == MapError.None)
                {
                    if (!values.ContainsKey(key))
                    {
                        if (values.Count == maxEntries) Forget(recency[0]);
                        order.Add(key);
                    }
                    values[key] = value;
                    if (lru) Use(key);
                }
            }
            else if (op == 2)
            {
                var got = map.TryDelete(U32(key));
                log.Add($"delete {key} -> {got}");
                if (got != (values.ContainsKey(key) ? MapError.None : MapError.NotFound)) return false.Label(string.Join("\n", log));
                Forget(key);
            }
            else if (op == 3)
            {
                // C# lookups, both paths; they do not count as uses of an LRU element (the kernel's syscall lookup neither).
                var buffer = U64(0xEEEE_EEEE_EEEE_EEEE);
                var error = map.TryLookup(U32(key), buffer);
                var found = map.TryLookup(key, out ulong direct);
                log.Add($"lookup {key} -> {error} {BitConverter.ToUInt64(buffer):x}, {found} {direct:x}");
                var ok = values.TryGetValue(key, out var v)
                    ? error == MapError.None && BitConverter.ToUInt64(buffer) == v && found && direct == v
                    : error == MapError.NotFound && BitConverter.ToUInt64(buffer) == 0xEEEE_EEEE_EEEE_EEEE && !found && direct == 0;
                if (!ok) return false.Label(string.Join("\n", log));
            }
            else if (op == 4)
            {
                // A program's lookup: the address of the value; an LRU element becomes the most recent.
                var address = map.ProgramLookup(U32(key), rng.Next(2));
                var seen = address == 0 ? null : ProgramView(map, address, 8);
                log.Add($"program lookup {key} -> 0x{address:x} {(seen is null ? "-" : BitConverter.ToUInt64(seen).ToString("x"))}");
                if (values.TryGetValue(key, out var v))
                {
                    if (seen is null || BitConverter.ToUInt64(seen) != v) return false.Label(string.Join("\n", log));
                    if (lru) Use(key);
                }
                else if (address != 0) return false.Label(string.Join("\n", log));
            }
            else
            {
                var next = new byte[4];
                var error = map.TryGetNextKey(U32(key), next);
                var at = order.IndexOf(key);
                var expected = at < 0 ? (order.Count > 0 ? order[0] : (uint?)null) : (at + 1 < order.Count ? order[at + 1] : null);
                log.Add($"next {key} -> {error} {BitConverter.ToUInt32(next)}");
                if (expected is null ? error != MapError.NotFound : error != MapError.None || BitConverter.ToUInt32(next) != expected) return false.Label(string.Join("\n", log));
            }
            if (step % 10 == 0 && (map.Count != values.Count || !map.Keys().Select(k => BitConverter.ToUInt32(k)).SequenceEqual(order)))
            {
                return false.Label(string.Join("\n", log) + $"\ncount {map.Count}, keys [{string.Join(",", map.Keys().Select(k => BitConverter.ToUInt32(k)))}] vs model [{string.Join(",", order)}]");
            }
        }
        return map.Keys().Select(k => BitConverter.ToUInt32(k)).SequenceEqual(order).Label("final keys");
    }

    [Fact]
    public void Lru_eviction_follows_updates_and_program_lookups_not_csharp_lookups_nor_deleted_elements()
    {
        var map = (HashMap)Collection().CreateMap(new MapDefinition("lru", MapType.LruHash, 4, 8, 3));
        foreach (var k in new uint[] { 1, 2, 3 }) map.Update(k, (ulong)k);
        Assert.NotEqual(0ul, map.ProgramLookup(U32(1), 0)); // 1 is now the most recent: 2, 3, 1
        Assert.True(map.TryLookup(2u, out ulong _));        // a C# lookup is not a use
        map.Update(4u, 4ul);                                // evicts 2
        Assert.Equal(new uint[] { 1, 3, 4 }, map.Keys().Select(k => BitConverter.ToUInt32(k)).Order());
        Assert.True(map.Delete(3u));                        // deleted: no longer a candidate: 1, 4
        map.Update(5u, 5ul);                                // a free slot: no eviction
        map.Update(6u, 6ul);                                // evicts 1
        Assert.Equal(new uint[] { 4, 5, 6 }, map.Keys().Select(k => BitConverter.ToUInt32(k)).Order());
        map.Update(4u, 44ul);                               // an update is a use: 5, 6, 4
        Assert.NotEqual(0ul, map.ProgramLookup(U32(5), 1)); // 6, 4, 5
        map.Update(7u, 7ul);                                // evicts 6
        Assert.Equal(new uint[] { 4, 5, 7 }, map.Keys().Select(k => BitConverter.ToUInt32(k)).Order());
        Assert.True(map.TryLookup(4u, out ulong v));
        Assert.Equal(44ul, v);
    }

    /// <summary>Two 8-byte keys with the same first 4 bytes whose 32-bit hashes are equal (a birthday search).</summary>
    private static (ulong A, ulong B) CollidingKeys()
    {
        var seen = new Dictionary<uint, ulong>();
        Span<byte> bytes = stackalloc byte[8];
        for (ulong hi = 0; hi < 1 << 24; hi++)
        {
            var key = hi << 32 | 0x0102_0304;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, key);
            var hash = SlotTable.Hash(bytes);
            if (seen.TryGetValue(hash, out var other)) return (other, key);
            seen[hash] = key;
        }
        throw new InvalidOperationException("no two of 2^24 keys share a 32-bit hash");
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public void Keys_whose_hashes_collide_stay_distinct_elements(MapType type)
    {
        var (a, b) = CollidingKeys();
        Assert.Equal(SlotTable.Hash(U64(a)), SlotTable.Hash(U64(b)));
        var map = (HashMap)Collection().CreateMap(new MapDefinition("collide", type, 8, 8, 4));
        map.Update(a, 1ul);
        map.Update(b, 2ul);
        Assert.Equal(MapError.None, map.TryUpdate(U64(a), U64(11), MapUpdateFlags.Exist));
        Assert.Equal(MapError.Exists, map.TryUpdate(U64(b), U64(99), MapUpdateFlags.NoExist));
        Assert.True(map.TryLookup(a, out ulong va));
        Assert.True(map.TryLookup(b, out ulong vb));
        Assert.Equal((11ul, 2ul), (va, vb));
        var buffer = new byte[8];
        Assert.Equal(MapError.None, map.TryLookup(U64(a), buffer));
        Assert.Equal(11ul, BitConverter.ToUInt64(buffer));
        Assert.Equal(MapError.None, map.TryLookup(U64(b), buffer));
        Assert.Equal(2ul, BitConverter.ToUInt64(buffer));
        Assert.Equal(11ul, BitConverter.ToUInt64(ProgramView(map, map.ProgramLookup(U64(a), 0), 8)!));
        Assert.Equal(2ul, BitConverter.ToUInt64(ProgramView(map, map.ProgramLookup(U64(b), 0), 8)!));

        Assert.True(map.Delete(a));
        Assert.False(map.TryLookup(a, out ulong _));
        Assert.True(map.TryLookup(b, out vb));
        Assert.Equal(2ul, vb);
        Assert.Equal(MapError.None, map.TryUpdate(U64(a), U64(3), MapUpdateFlags.NoExist));
        Assert.Equal(new[] { b, a }, map.Keys().Select(k => BitConverter.ToUInt64(k)));
        Assert.True(map.Delete(b));
        Assert.True(map.TryLookup(a, out va));
        Assert.Equal(3ul, va);
        Assert.Equal(1, map.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(12)]
    [InlineData(16)]
    public void Keys_of_any_size_are_found_by_every_lookup_path(int keySize)
    {
        const int N = 200;
        var map = (HashMap)Collection().CreateMap(new MapDefinition("odd", MapType.Hash, keySize, 4, N + 10));
        // Keys differ in their first byte and, when there is room, in their last one.
        byte[] Key(int i)
        {
            var k = new byte[keySize];
            k[0] = (byte)i;
            if (keySize > 1) k[^1] = (byte)(i * 7 + 1);
            return k;
        }
        for (var i = 0; i < N; i++) Assert.Equal(MapError.None, map.TryUpdate(Key(i), U32((uint)i), MapUpdateFlags.NoExist));
        var value = new byte[4];
        for (var i = 0; i < N; i++)
        {
            Assert.Equal(MapError.None, map.TryLookup(Key(i), value));
            Assert.Equal((uint)i, BitConverter.ToUInt32(value));
            Assert.Equal((uint)i, BitConverter.ToUInt32(ProgramView(map, map.ProgramLookup(Key(i), 0), 4)!));
        }
        Assert.Equal(MapError.NotFound, map.TryLookup(Key(N + 5), value));
        for (var i = 0; i < N; i += 2) Assert.True(map.TryDelete(Key(i)) == MapError.None);
        for (var i = 0; i < N; i++) Assert.Equal(i % 2 == 0 ? MapError.NotFound : MapError.None, map.TryLookup(Key(i), value));
        Assert.Equal(N / 2, map.Count);
        // Iteration hands back the keys themselves, in insertion order, whatever their size (keys of more than 8 bytes
        // are stored apart from the slot table's entries).
        string Hex(ReadOnlySpan<byte> k) => Convert.ToHexString(k);
        var expected = Enumerable.Range(0, N).Where(i => i % 2 == 1).Select(i => Hex(Key(i))).ToArray();
        Assert.Equal(expected, map.Keys().Select(k => Hex(k)).ToArray());
        var walked = new List<string>();
        var next = new byte[keySize];
        for (var error = map.TryGetNextKey(default, next); error == MapError.None; error = map.TryGetNextKey(next.ToArray(), next))
        {
            walked.Add(Hex(next));
        }
        Assert.Equal(expected, walked);
    }

    [Fact]
    public void A_failed_lookup_leaves_the_callers_buffer_as_it_was()
    {
        foreach (var type in new[] { MapType.Hash, MapType.PerCpuHash, MapType.LruHash })
        {
            var map = Collection().CreateMap(new MapDefinition("h", type, 4, 8, 4));
            map.Update(U32(1), new byte[map.UserValueSize]);
            var buffer = Enumerable.Repeat((byte)0xEE, map.UserValueSize).ToArray();
            Assert.Equal(MapError.NotFound, map.TryLookup(U32(2), buffer));
            Assert.All(buffer, b => Assert.Equal(0xEE, b));
            Assert.Equal(MapError.None, map.TryLookup(U32(1), buffer));
            Assert.All(buffer, b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Count_and_clear_leave_the_map_usable()
    {
        var map = (HashMap)Collection().CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, 8));
        Assert.Equal(0, map.Count);
        for (var k = 0u; k < 5; k++) map.Update(k, (ulong)k + 10);
        Assert.Equal(5, map.Count);
        map.Clear();
        Assert.Equal(0, map.Count);
        Assert.Empty(map.Keys());
        for (var k = 0u; k < 5; k++) Assert.False(map.TryLookup(k, out ulong _));
        Assert.Equal(0ul, map.ProgramLookup(U32(1), 0));
        for (var k = 10u; k < 18; k++) map.Update(k, (ulong)k);   // all 8 slots free again
        Assert.Equal(8, map.Count);
        Assert.True(map.TryLookup(17u, out ulong v));
        Assert.Equal(17ul, v);
        map.Clear();
        map.Clear();
        Assert.Equal(0, map.Count);
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.PerCpuHash)]
    [InlineData(MapType.LruHash)]
    public void An_update_with_invalid_flags_changes_nothing(MapType type)
    {
        var map = Collection().CreateMap(new MapDefinition("h", type, 4, 8, 4));
        var one = new byte[map.UserValueSize];
        one.AsSpan().Fill(1);
        var two = new byte[map.UserValueSize];
        two.AsSpan().Fill(2);
        map.Update(U32(1), one);
        map.Update(U32(2), two);
        var bad = new byte[map.UserValueSize];
        bad.AsSpan().Fill(9);
        foreach (var flags in new[] { MapUpdateFlags.Lock, (MapUpdateFlags)8, (MapUpdateFlags)3 })
        {
            Assert.Equal(MapError.Invalid, map.TryUpdate(U32(3), bad, flags));
            Assert.Equal(MapError.Invalid, map.TryUpdate(U32(2), bad, flags));
            Assert.Equal(MapError.Invalid, map.ProgramUpdate(U32(1), bad.AsSpan(0, 8), (ulong)flags, 0));
        }
        var value = new byte[map.UserValueSize];
        Assert.Equal(MapError.None, map.TryLookup(U32(1), value));
        Assert.Equal(one, value);
        Assert.Equal(MapError.None, map.TryLookup(U32(2), value));
        Assert.Equal(two, value);
        Assert.Equal(2, map.Keys().Count);
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public void Program_updates_write_the_whole_value_of_a_map_that_is_not_per_cpu(MapType type)
    {
        var map = Collection(cpus: 3).CreateMap(new MapDefinition("h", type, 4, 8, 8));
        for (var k = 1u; k <= 5; k++) Assert.Equal(MapError.None, map.ProgramUpdate(U32(k), U64(k * 100), 0, cpu: (int)k % 3));
        Assert.Equal(MapError.Exists, map.ProgramUpdate(U32(3), U64(1), (ulong)MapUpdateFlags.NoExist, cpu: 2));
        Assert.Equal(MapError.NotFound, map.ProgramUpdate(U32(9), U64(1), (ulong)MapUpdateFlags.Exist, cpu: 2));
        Assert.Equal(MapError.None, map.ProgramUpdate(U32(4), U64(444), (ulong)MapUpdateFlags.Exist, cpu: 2));
        for (var k = 1u; k <= 5; k++)
        {
            Assert.True(map.TryLookup(k, out ulong v));
            Assert.Equal(k == 4 ? 444ul : k * 100, v);
            for (var cpu = 0; cpu < 3; cpu++) Assert.Equal(v, BitConverter.ToUInt64(ProgramView(map, map.ProgramLookup(U32(k), cpu), 8)!));
        }
        Assert.False(map.TryLookup(9u, out ulong _));
    }

    [Theory]
    [InlineData(MapType.PerCpuHash)]
    [InlineData(MapType.LruPerCpuHash)]
    public void A_new_per_cpu_element_in_a_reused_slot_starts_at_zero_on_the_other_cpus(MapType type)
    {
        var map = Collection(cpus: 3).CreateMap(new MapDefinition("pc", type, 4, 4, 1));
        var all = new byte[map.UserValueSize];
        all.AsSpan().Fill(0x77);
        map.Update(U32(1), all);
        if (type == MapType.PerCpuHash) Assert.True(map.TryDelete(U32(1)) == MapError.None);
        // The slot of key 1 is taken again (freed above, or evicted by the LRU map).
        Assert.Equal(MapError.None, map.ProgramUpdate(U32(2), U32(0xAABBCCDD), 0, cpu: 1));
        var value = new byte[map.UserValueSize];
        Assert.Equal(MapError.None, map.TryLookup(U32(2), value));
        Assert.Equal(new uint[] { 0, 0xAABBCCDD, 0 }, Enumerable.Range(0, 3).Select(cpu => BitConverter.ToUInt32(value, cpu * 8)));
        Assert.Equal(MapError.NotFound, map.TryLookup(U32(1), value));
    }

    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LpmTrie)]
    public void A_lazily_allocated_map_grows_up_to_the_memory_limit_inclusive(MapType type)
    {
        var definition = new MapDefinition("grow", type, 8, 8, 1000, MapFlags.NoPrealloc);
        var limit = MapLimits.ManagedBytes(definition, 2, 128);
        var map = new ManagedCollection(new CollectionOptions { CpuCount = 2, MaxMapMemory = limit }).CreateMap(definition);
        byte[] Key(uint i) => type == MapType.LpmTrie ? [.. U32(32), .. BitConverter.GetBytes(i)] : U64(i);
        for (var i = 0u; i < 128; i++) Assert.Equal(MapError.None, map.TryUpdate(Key(i), U64(i)));   // 64 → 128: exactly the limit
        Assert.Equal(MapError.NoMemory, map.TryUpdate(Key(128), U64(128)));                           // 256 would pass it
        Assert.Equal(128, map.Keys().Count);
        Assert.Equal(MapError.None, map.TryUpdate(Key(5), U64(55)));                                  // replacing needs no room
        var value = new byte[8];
        Assert.Equal(MapError.None, map.TryLookup(Key(127), value));
        Assert.Equal(127ul, BitConverter.ToUInt64(value));
    }

    [Fact]
    public void Values_take_the_memory_the_limit_accounts_for()
    {
        // Element i at i × RoundUp8(value size); per-CPU maps CpuCount times that (MapLimits.ManagedBytes).
        var c = Collection(cpus: 3);
        var array = (ArrayMap)c.CreateMap(new MapDefinition("a", MapType.Array, 4, 12, 5));
        Assert.Equal(5 * 16, array.Memory.Length);
        var value = Enumerable.Range(1, 12).Select(i => (byte)i).ToArray();
        array.Update(U32(3), value);
        Assert.Equal(value, array.Memory.Slice(3 * 16, 12).ToArray());
        Assert.Equal(5 * 16 * 3, ((ArrayMap)c.CreateMap(new MapDefinition("pa", MapType.PerCpuArray, 4, 12, 5))).Memory.Length);
        Assert.Equal(5 * 16, c.CreateMap(new MapDefinition("h", MapType.Hash, 4, 12, 5)).Regions.Sum(r => r.Length));
        Assert.Equal(5 * 16 * 3, c.CreateMap(new MapDefinition("ph", MapType.PerCpuHash, 4, 12, 5)).Regions.Sum(r => r.Length));
        Assert.Equal(5 * 16, c.CreateMap(new MapDefinition("lru", MapType.LruHash, 4, 12, 5)).Regions.Sum(r => r.Length));
    }

    [Fact]
    public void A_program_update_of_an_array_that_is_not_per_cpu_writes_the_element_on_any_cpu()
    {
        var map = Collection(cpus: 3).CreateMap(new MapDefinition("a", MapType.Array, 4, 8, 4));
        Assert.Equal(MapError.None, map.ProgramUpdate(U32(1), U64(0x1111), 0, cpu: 2));
        Assert.Equal(MapError.None, map.ProgramUpdate(U32(3), U64(0x3333), 0, cpu: 1));
        Assert.Equal(new ulong[] { 0, 0x1111, 0, 0x3333 }, Enumerable.Range(0, 4).Select(i => map.TryLookup((uint)i, out ulong v) ? v : ulong.MaxValue));
    }

    [Fact]
    public void A_map_whose_reservation_exceeds_the_address_space_is_refused_naming_it()
    {
        // 2^28 lazily allocated elements of 1 MiB: within the kernel's limits and the memory limit (64 backed at
        // first), but 2^48 bytes of addresses, more than the collection's address space below the map handles.
        var error = Assert.Throws<MapException>(() => Collection().CreateMap(new MapDefinition("huge", MapType.Hash, 4, 1 << 20, 1 << 28, MapFlags.NoPrealloc)));
        Assert.Equal(MapError.NoMemory, error.Error);
        Assert.Contains("huge", error.Message);
        Assert.Contains("address space", error.Message);
    }
}
