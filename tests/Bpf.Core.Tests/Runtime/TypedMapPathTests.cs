using System.Runtime.InteropServices;
using Bpf.Runtime;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The typed lookups and updates from C# (<c>TryLookup&lt;TKey, TValue&gt;</c>, <c>Update&lt;TKey, TValue&gt;</c>) take a
/// word-sized fast path for 4- and 8-byte keys and read preallocated values from one array; the byte-span API (and
/// programs) take the general path. Both must find the same elements, with and without growth.
/// </summary>
public class TypedMapPathTests
{
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private readonly record struct Key12(uint A, uint B, uint C);

    public static IEnumerable<object[]> Flags => [[MapFlags.None], [MapFlags.NoPrealloc]];

    [Property(MaxTest = 300)]
    public void Word_hash_equals_the_byte_hash(ulong word)
    {
        Assert.Equal(SlotTable.Hash(BitConverter.GetBytes(word)), SlotTable.HashWord(word, 8));
        Assert.Equal(SlotTable.Hash(BitConverter.GetBytes((uint)word)), SlotTable.HashWord((uint)word, 4));
    }

    [Property(MaxTest = 200)]
    public Property Typed_and_byte_paths_agree_with_a_dictionary_model_for_8_byte_keys(bool noPrealloc) =>
        Prop.ForAll(Operations(), ops =>
        {
            var map = NewMap(8, noPrealloc);
            var model = new Dictionary<ulong, ulong>();
            foreach (var (key, value, kind) in ops)
            {
                Apply(map, model, key, value, kind, k => BitConverter.GetBytes(k), (m, k, v, f) => m.Update(k, v, f));
                AssertSame(map, model, key, BitConverter.GetBytes(key), m => (m.TryLookup(key, out ulong v), v));
            }
            foreach (var key in model.Keys) AssertSame(map, model, key, BitConverter.GetBytes(key), m => (m.TryLookup(key, out ulong v), v));
        });

    [Property(MaxTest = 200)]
    public Property Typed_and_byte_paths_agree_with_a_dictionary_model_for_4_byte_keys(bool noPrealloc) =>
        Prop.ForAll(Operations(), ops =>
        {
            var map = NewMap(4, noPrealloc);
            var model = new Dictionary<ulong, ulong>();
            foreach (var (key, value, kind) in ops)
            {
                var k32 = (uint)key;
                Apply(map, model, k32, value, kind, k => BitConverter.GetBytes((uint)k), (m, k, v, f) => m.Update((uint)k, v, f));
                AssertSame(map, model, k32, BitConverter.GetBytes(k32), m => (m.TryLookup(k32, out ulong v), v));
            }
        });

    [Theory]
    [MemberData(nameof(Flags))]
    public void Keys_of_other_sizes_take_the_general_path_and_agree(MapFlags flags)
    {
        var map = new ManagedCollection(new CollectionOptions { CpuCount = 2 })
            .CreateMap(new MapDefinition("h12", MapType.Hash, 12, 8, 64, flags));
        for (var i = 0u; i < 64; i++) map.Update(new Key12(i, ~i, i * 7), (ulong)i * 3);
        for (var i = 0u; i < 64; i++)
        {
            Assert.True(map.TryLookup(new Key12(i, ~i, i * 7), out ulong typed));
            var bytes = new byte[8];
            Assert.Equal(MapError.None, map.TryLookup(MemoryMarshal.AsBytes([new Key12(i, ~i, i * 7)]), bytes));
            Assert.Equal((ulong)i * 3, typed);
            Assert.Equal(typed, BitConverter.ToUInt64(bytes));
        }
        Assert.False(map.TryLookup(new Key12(1, 2, 3), out ulong missing));
        Assert.Equal(0ul, missing);
    }

    /// <summary>A growing map (BPF_F_NO_PREALLOC) keeps every value readable through both paths as regions are added.</summary>
    [Fact]
    public void Growth_keeps_typed_reads_and_writes_on_the_right_slot()
    {
        var map = new ManagedCollection(new CollectionOptions { CpuCount = 2 })
            .CreateMap(new MapDefinition("grows", MapType.Hash, 8, 8, 500, MapFlags.NoPrealloc));
        for (var i = 0ul; i < 500; i++)
        {
            map.Update(i << 32 | i, i + 1);
            for (var j = 0ul; j <= i; j += 37)
            {
                Assert.True(map.TryLookup(j << 32 | j, out ulong v), $"key {j} after {i + 1} inserts");
                Assert.Equal(j + 1, v);
            }
        }
        var bytes = new byte[8];
        Assert.Equal(MapError.None, map.TryLookup(BitConverter.GetBytes(499ul << 32 | 499), bytes));
        Assert.Equal(500ul, BitConverter.ToUInt64(bytes));
    }

    private static ManagedMap NewMap(int keySize, bool noPrealloc) =>
        new ManagedCollection(new CollectionOptions { CpuCount = 2 })
            .CreateMap(new MapDefinition("h", MapType.Hash, keySize, 8, 40, noPrealloc ? MapFlags.NoPrealloc : MapFlags.None));

    private enum Kind { TypedUpdate, ByteUpdate, TypedNoExist, ByteExist, Delete }

    private static Arbitrary<(ulong Key, ulong Value, Kind Kind)[]> Operations() =>
        (from k in Gen.Choose(0, 60)
         from v in ArbMap.Default.GeneratorFor<ulong>()
         from kind in Gen.Elements(Enum.GetValues<Kind>())
         select ((ulong)k * 0x1_0000_0001UL, v, kind)).ArrayOf().ToArbitrary();

    private static void Apply(ManagedMap map, Dictionary<ulong, ulong> model, ulong key, ulong value, Kind kind,
        Func<ulong, byte[]> keyBytes, Action<ManagedMap, ulong, ulong, MapUpdateFlags> typedUpdate)
    {
        switch (kind)
        {
            case Kind.TypedUpdate:
                if (model.Count < 40 || model.ContainsKey(key))
                {
                    typedUpdate(map, key, value, MapUpdateFlags.Any);
                    model[key] = value;
                }
                break;
            case Kind.ByteUpdate:
                var error = map.TryUpdate(keyBytes(key), BitConverter.GetBytes(value));
                Assert.Equal(model.Count < 40 || model.ContainsKey(key) ? MapError.None : MapError.TooBig, error);
                if (error == MapError.None) model[key] = value;
                break;
            case Kind.TypedNoExist:
                var failure = Record.Exception(() => typedUpdate(map, key, value, MapUpdateFlags.NoExist));
                Assert.Equal(!model.ContainsKey(key) && model.Count < 40, failure is null);
                if (failure is null) model[key] = value;
                else Assert.IsType<MapException>(failure);
                break;
            case Kind.ByteExist:
                var exist = map.TryUpdate(keyBytes(key), BitConverter.GetBytes(value), MapUpdateFlags.Exist);
                Assert.Equal(model.ContainsKey(key) ? MapError.None : MapError.NotFound, exist);
                if (exist == MapError.None) model[key] = value;
                break;
            case Kind.Delete:
                Assert.Equal(model.Remove(key) ? MapError.None : MapError.NotFound, map.TryDelete(keyBytes(key)));
                break;
        }
    }

    private static void AssertSame(ManagedMap map, Dictionary<ulong, ulong> model, ulong key, byte[] keyBytes,
        Func<ManagedMap, (bool Found, ulong Value)> typedLookup)
    {
        var (found, value) = typedLookup(map);
        var bytes = new byte[8];
        var error = map.TryLookup(keyBytes, bytes);
        Assert.Equal(model.TryGetValue(key, out var expected), found);
        Assert.Equal(found ? MapError.None : MapError.NotFound, error);
        Assert.Equal(found ? expected : 0, value);
        if (found) Assert.Equal(expected, BitConverter.ToUInt64(bytes));
    }
}
