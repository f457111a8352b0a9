using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The syscall side of the device, CPU, XSK and socket maps (<see cref="RedirectTargetMap"/>) at their edges: update
/// flags, indices at max_entries, the CPU count, the kernel's value checks, per-type delete errors, get_next_key over
/// the indices that hold an entry, reuse of a hashed map's slots, Clear, and the address a program's lookup returns.
/// </summary>
public sealed class RedirectTargetMapTests
{
    private static ManagedCollection Collection() => new(new CollectionOptions { CpuCount = 2 });

    private static byte[] U32(uint v) => BitConverter.GetBytes(v);
    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    private static List<uint> Keys(ManagedMap map) => map.Keys().Select(k => BitConverter.ToUInt32(k)).ToList();

    private static byte[]? ProgramView(ManagedMap map, ulong address, int length)
    {
        var region = map.Regions.Single();
        return address >= region.Address && address + (ulong)length <= region.Address + (ulong)region.Length
            ? region.Data.Slice((int)(address - region.Address), length).ToArray()
            : null;
    }

    [Theory]
    [InlineData(MapType.DevMap)]
    [InlineData(MapType.XskMap)]
    [InlineData(MapType.SockMap)]
    public void Indexed_maps_follow_the_update_flags_and_bound_the_index(MapType type)
    {
        var map = Collection().CreateMap(new MapDefinition("m", type, 4, 4, 4));
        Assert.Equal(MapError.NotFound, map.TryUpdate(U32(1), U32(7), MapUpdateFlags.Exist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(1), U32(7), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.Exists, map.TryUpdate(U32(1), U32(8), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(1), U32(9), MapUpdateFlags.Exist));
        Assert.Equal(MapError.Invalid, map.TryUpdate(U32(1), U32(9), (MapUpdateFlags)8));
        Assert.Equal(MapError.None, map.TryUpdate(U32(3), U32(33)));
        Assert.Equal(MapError.TooBig, map.TryUpdate(U32(4), U32(44)));
        Assert.Equal(MapError.Invalid, map.TryDelete(U32(4)));
        Assert.Equal(new uint[] { 1, 3 }, Keys(map));
        if (type != MapType.XskMap)
        {
            var value = new byte[4];
            Assert.Equal(MapError.None, map.TryLookup(U32(1), value));
            Assert.Equal(9u, BitConverter.ToUInt32(value));
            Assert.Equal(MapError.NotFound, map.TryLookup(U32(2), value));
            Assert.Equal(MapError.NotFound, map.TryLookup(U32(4), value));
        }
        else Assert.Equal(MapError.NotSupported, map.TryLookup(U32(1), new byte[4]));
        // A program's lookup: the entry's value, in a region programs cannot write.
        Assert.Equal(9u, BitConverter.ToUInt32(ProgramView(map, map.ProgramLookup(U32(1), 0), 4)!));
        Assert.Equal(33u, BitConverter.ToUInt32(ProgramView(map, map.ProgramLookup(U32(3), 1), 4)!));
        Assert.Equal(0ul, map.ProgramLookup(U32(2), 0));
        Assert.Equal(0ul, map.ProgramLookup(U32(4), 0));
        Assert.False(map.Regions.Single().Writable);
    }

    [Fact]
    public void Get_next_key_of_an_indexed_map_lists_only_the_indices_holding_an_entry()
    {
        var map = Collection().CreateMap(new MapDefinition("dev", MapType.DevMap, 4, 4, 6));
        map.Update(U32(0), U32(10));
        Assert.True(map.TryLookup(0u, out uint first));
        Assert.Equal(10u, first);
        Assert.Equal(MapError.Exists, map.TryUpdate(U32(0), U32(1), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(U32(0), U32(10), MapUpdateFlags.Exist));
        map.Update(U32(2), U32(12));
        map.Update(U32(5), U32(15));
        var next = new byte[4];
        Assert.Equal(MapError.None, map.TryGetNextKey([], next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(0), next));
        Assert.Equal(2u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(3), next));   // an empty index: the next that holds one
        Assert.Equal(5u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.NotFound, map.TryGetNextKey(U32(5), next));
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(6), next));   // past the end: restarts
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.Equal(MapError.None, map.TryGetNextKey(U32(uint.MaxValue), next));
        Assert.Equal(0u, BitConverter.ToUInt32(next));
        Assert.True(map.Delete(0u));
        Assert.Equal(MapError.None, map.TryDelete(U32(0)));             // an empty device index: no complaint
        Assert.Equal(new uint[] { 2, 5 }, Keys(map));
        Assert.Equal(0ul, map.ProgramLookup(U32(0), 0));
        map.Clear();
        Assert.Empty(Keys(map));
        Assert.Equal(0ul, map.ProgramLookup(U32(2), 0));
    }

    [Fact]
    public void Cpu_maps_take_only_existing_cpus_and_the_kernels_queue_sizes()
    {
        var map = Collection().CreateMap(new MapDefinition("cpus", MapType.CpuMap, 4, 4, 8));
        Assert.Equal(MapError.None, map.TryUpdate(U32(1), U32(16384)));          // the largest qsize
        Assert.Equal(MapError.Invalid, map.TryUpdate(U32(0), U32(16385)));
        Assert.Equal(MapError.Invalid, map.TryUpdate(U32(2), U32(64)));          // two CPUs: no CPU 2
        Assert.Equal(MapError.TooBig, map.TryUpdate(U32(8), U32(64)));
        Assert.Equal(MapError.None, map.TryDelete(U32(0)));                      // an empty CPU: no complaint
        Assert.Equal(new uint[] { 1 }, Keys(map));
        var withProgram = Collection().CreateMap(new MapDefinition("cpus8", MapType.CpuMap, 4, 8, 2));
        Assert.Equal(MapError.NotSupported, withProgram.TryUpdate(U32(0), U64(64 | 3ul << 32)));
        Assert.Equal(MapError.None, withProgram.TryUpdate(U32(0), U64(64 | 0xFFFF_FFFFul << 32)));   // fd −1: none
        Assert.Equal(new uint[] { 0 }, Keys(withProgram));
    }

    [Fact]
    public void Device_values_name_a_device_and_optionally_no_program()
    {
        var c = Collection();
        var dev = c.CreateMap(new MapDefinition("dev8", MapType.DevMap, 4, 8, 2));
        Assert.Equal(MapError.NotSupported, dev.TryUpdate(U32(0), U64(3 | 1ul << 32)));
        Assert.Equal(MapError.None, dev.TryUpdate(U32(0), U64(3)));
        Assert.Equal(MapError.None, dev.TryUpdate(U32(0), U64(0)));              // ifindex 0: removes the entry
        Assert.Empty(Keys(dev));
        var hash = c.CreateMap(new MapDefinition("devh", MapType.DevMapHash, 4, 4, 2));
        Assert.Equal(MapError.Invalid, hash.TryUpdate(U32(5), U32(0)));           // no device has ifindex 0
        Assert.Equal(MapError.None, hash.TryUpdate(U32(5), U32(1)));
        Assert.Equal(MapError.NotFound, hash.TryDelete(U32(6)));
    }

    [Fact]
    public void Hashed_maps_reuse_freed_slots_and_keep_insertion_order()
    {
        var map = Collection().CreateMap(new MapDefinition("sh", MapType.SockHash, 8, 8, 3));
        foreach (var k in new ulong[] { 30, 10, 20 }) Assert.Equal(MapError.None, map.TryUpdate(U64(k), U64(k + 1)));
        Assert.Equal(MapError.TooBig, map.TryUpdate(U64(40), U64(41)));
        Assert.Equal(MapError.Exists, map.TryUpdate(U64(10), U64(1), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.NotFound, map.TryUpdate(U64(40), U64(1), MapUpdateFlags.Exist));
        var address = map.ProgramLookup(U64(10), 0);
        Assert.Equal(11ul, BitConverter.ToUInt64(ProgramView(map, address, 8)!));
        Assert.Equal(MapError.None, map.TryDelete(U64(10)));
        Assert.Equal(MapError.NotFound, map.TryDelete(U64(10)));
        Assert.Equal(0ul, map.ProgramLookup(U64(10), 0));
        Assert.Equal(0ul, BitConverter.ToUInt64(ProgramView(map, address, 8)!));   // the freed slot is cleared
        Assert.Equal(MapError.None, map.TryUpdate(U64(40), U64(41)));                 // takes the freed slot
        Assert.Equal(address, map.ProgramLookup(U64(40), 0));
        Assert.Equal(new ulong[] { 30, 20, 40 }, map.Keys().Select(k => BitConverter.ToUInt64(k)));
        var next = new byte[8];
        Assert.Equal(MapError.None, map.TryGetNextKey(U64(20), next));
        Assert.Equal(40ul, BitConverter.ToUInt64(next));
        Assert.Equal(MapError.NotFound, map.TryGetNextKey(U64(40), next));
        Assert.Equal(MapError.None, map.TryGetNextKey(U64(99), next));              // a missing key restarts
        Assert.Equal(30ul, BitConverter.ToUInt64(next));
        var value = new byte[8];
        Assert.Equal(MapError.None, map.TryLookup(U64(20), value));
        Assert.Equal(21ul, BitConverter.ToUInt64(value));
        // The first key inserted (slot 0) is found, refused with NoExist, replaced with Exist, not duplicated.
        Assert.Equal(MapError.None, map.TryLookup(U64(30), value));
        Assert.Equal(31ul, BitConverter.ToUInt64(value));
        Assert.Equal(MapError.Exists, map.TryUpdate(U64(30), U64(1), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(U64(30), U64(32), MapUpdateFlags.Exist));
        Assert.Equal(MapError.None, map.TryUpdate(U64(30), U64(33)));
        Assert.Equal(MapError.None, map.TryLookup(U64(30), value));
        Assert.Equal(33ul, BitConverter.ToUInt64(value));
        Assert.Equal(3, map.Keys().Count);
        Assert.Equal(MapError.None, map.TryDelete(U64(20)));   // one slot free when the map is cleared
        map.Clear();
        Assert.Empty(map.Keys());
        Assert.Equal(MapError.NotFound, map.TryLookup(U64(30), value));
        Assert.Equal(0ul, map.ProgramLookup(U64(30), 0));
        foreach (var k in new ulong[] { 1, 2, 3 }) Assert.Equal(MapError.None, map.TryUpdate(U64(k), U64(k)));   // every slot free again
        Assert.Equal(MapError.TooBig, map.TryUpdate(U64(4), U64(4)));
        Assert.Equal(new ulong[] { 1, 2, 3 }, new ulong[] { 1, 2, 3 }.Select(k => map.TryLookup(U64(k), value) == MapError.None ? BitConverter.ToUInt64(value) : 0));
    }

    [Fact]
    public void Socket_maps_report_deleting_an_empty_index()
    {
        var map = Collection().CreateMap(new MapDefinition("socks", MapType.SockMap, 4, 8, 2));
        Assert.Equal(MapError.Invalid, map.TryDelete(U32(1)));
        map.Update(U32(1), U64(5));
        Assert.Equal(MapError.None, map.TryDelete(U32(1)));
        Assert.Equal(MapError.Invalid, map.TryDelete(U32(1)));
        var xsk = Collection().CreateMap(new MapDefinition("xsk", MapType.XskMap, 4, 4, 2));
        Assert.Equal(MapError.None, xsk.TryDelete(U32(1)));                          // the XSK array does not
        Assert.Throws<ArgumentException>(() => map.TryUpdate(U32(1), new byte[4]));
        Assert.Throws<ArgumentException>(() => map.TryUpdate(new byte[5], U64(1)));
        Assert.Throws<ArgumentException>(() => map.TryLookup(U32(1), new byte[9]));
        Assert.Throws<ArgumentException>(() => map.TryDelete(new byte[5]));
        Assert.Throws<ArgumentException>(() => map.TryLookup(new byte[5], new byte[8]));
    }

    [Theory]
    [InlineData(MapType.DevMap, 8, 4, 4, "device map")]
    [InlineData(MapType.DevMapHash, 4, 12, 4, "device map")]
    [InlineData(MapType.CpuMap, 8, 4, 4, "CPU map")]
    [InlineData(MapType.CpuMap, 4, 12, 4, "CPU map")]
    [InlineData(MapType.XskMap, 8, 4, 4, "XSK map")]
    [InlineData(MapType.XskMap, 4, 8, 4, "XSK map")]
    [InlineData(MapType.SockMap, 8, 4, 4, "socket map")]
    [InlineData(MapType.SockMap, 4, 12, 4, "socket map")]
    [InlineData(MapType.SockHash, 0, 4, 4, "socket hash")]
    [InlineData(MapType.SockHash, 4, 12, 4, "socket hash")]
    [InlineData(MapType.DevMap, 4, 4, 0, "max_entries")]
    public void Sizes_the_kernel_refuses_are_refused_at_creation_with_its_reason(MapType type, int keySize, int valueSize, int maxEntries, string reason)
    {
        var error = Assert.Throws<MapException>(() => Collection().CreateMap(new MapDefinition("bad", type, keySize, valueSize, maxEntries)));
        Assert.Equal(MapError.Invalid, error.Error);
        Assert.Contains(reason, error.Message);
    }
}
