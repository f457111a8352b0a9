using System.Buffers.Binary;
using Bpf.Runtime;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The LPM trie against a brute-force longest-prefix model (prefix lengths from 0 to the full width, not only
/// multiples of 8, bits past the prefix set), then its edges one by one: /0, /32, /128, two prefixes that differ only
/// in length, a lookup matching nothing, the program side and read-only maps.
/// </summary>
public sealed class LpmTrieLawTests
{
    private static ManagedCollection Collection() => new(new CollectionOptions { CpuCount = 2 });

    private static byte[] Key(int prefixLength, ReadOnlySpan<byte> data)
    {
        var key = new byte[4 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)prefixLength);
        data.CopyTo(key.AsSpan(4));
        return key;
    }

    private static byte[] V4(int prefixLength, uint address)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, address);
        return Key(prefixLength, data);
    }

    private static bool PrefixMatches(ReadOnlySpan<byte> prefix, int length, ReadOnlySpan<byte> data)
    {
        for (var bit = 0; bit < length; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((prefix[bit / 8] & mask) != (data[bit / 8] & mask)) return false;
        }
        return true;
    }

    private sealed record Element(int Length, byte[] Data, byte[] UserKey, ulong Value);

    /// <summary>
    /// Random updates (every flag, prefix lengths up to one past the width), deletes, lookups from C# and from a
    /// program, and get_next_key steps agree with a list of elements searched by brute force.
    /// </summary>
    [Property(MaxTest = 150)]
    public Property Lpm_trie_agrees_with_a_brute_force_longest_prefix_model(int seed, byte widthPick)
    {
        var dataSize = (widthPick % 3) switch { 0 => 1, 1 => 4, _ => 16 };
        var maxBits = dataSize * 8;
        const int MaxEntries = 70;   // past the 64 elements backed at creation: the trie grows once
        var map = Collection().CreateMap(new MapDefinition("lpm", MapType.LpmTrie, 4 + dataSize, 8, MaxEntries, MapFlags.NoPrealloc));
        var rng = new Random(seed);
        var model = new List<Element>();
        // A few base addresses, so that prefixes nest and lookups hit several of them.
        var bases = Enumerable.Range(0, 3).Select(_ =>
        {
            var b = new byte[dataSize];
            rng.NextBytes(b);
            return b;
        }).ToArray();
        byte[] Near()
        {
            var data = (byte[])bases[rng.Next(bases.Length)].Clone();
            // Flip a few bits, mostly towards the end, so prefixes of every length share bits with it.
            for (var flips = rng.Next(3); flips > 0; flips--)
            {
                var bit = maxBits - 1 - (int)Math.Min(maxBits - 1, Math.Abs(rng.NextDouble() * rng.NextDouble() * maxBits));
                data[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            }
            return data;
        }
        int Length() => rng.Next(10) == 0 ? rng.Next(2) * maxBits : rng.Next(maxBits + 1);
        Element? Exact(int length, byte[] data) =>
            model.FirstOrDefault(e => e.Length == length && PrefixMatches(e.Data, length, data));

        var log = new List<string>();
        Property Fail(string why) => false.Label(string.Join("\n", log) + "\n" + why);
        for (var step = 0; step < 300; step++)
        {
            var op = rng.Next(10);
            var data = Near();
            if (op < 4)
            {
                var length = rng.Next(40) == 0 ? maxBits + 1 : Length();
                var f = rng.Next(6) switch { 0 => MapUpdateFlags.NoExist, 1 => MapUpdateFlags.Exist, 2 when rng.Next(4) == 0 => (MapUpdateFlags)4, _ => MapUpdateFlags.Any };
                var value = (ulong)rng.NextInt64();
                var key = Key(length, data);
                var got = op < 3 ? map.TryUpdate(key, U64(value), f) : map.ProgramUpdate(key, U64(value), (ulong)f, 0);
                var existing = length <= maxBits ? Exact(length, data) : null;
                var expected = f == (MapUpdateFlags)4 || length > maxBits ? MapError.Invalid
                    : existing is not null ? (f == MapUpdateFlags.NoExist ? MapError.Exists : MapError.None)
                    : f == MapUpdateFlags.Exist ? MapError.NotFound
                    : model.Count == MaxEntries ? MapError.NoSpace : MapError.None;
                log.Add($"update /{length} {Convert.ToHexString(data)} {f} -> {got}");
                if (got != expected) return Fail($"expected {expected}");
                if (got == MapError.None)
                {
                    var element = new Element(length, data, key, value);
                    if (existing is null) model.Add(element);
                    else model[model.IndexOf(existing)] = element;
                }
            }
            else if (op == 4)
            {
                var length = rng.Next(40) == 0 ? maxBits + 1 : Length();
                var got = map.TryDelete(Key(length, data));
                var existing = length <= maxBits ? Exact(length, data) : null;
                log.Add($"delete /{length} {Convert.ToHexString(data)} -> {got}");
                if (got != (existing is null ? MapError.NotFound : MapError.None)) return Fail("delete");
                if (existing is not null) model.Remove(existing);
            }
            else if (op < 9)
            {
                // The lookup key's own prefix length bounds the match (a length past the width means the width).
                var length = rng.Next(3) == 0 ? Length() : rng.Next(5) == 0 ? int.MaxValue : maxBits;
                var key = Key(length, data);
                var best = model.Where(e => e.Length <= Math.Min(length, maxBits) && PrefixMatches(e.Data, e.Length, data)).MaxBy(e => e.Length);
                var value = U64(0xEEEE);
                var got = map.TryLookup(key, value);
                var address = map.ProgramLookup(key, 1);
                log.Add($"lookup /{length} {Convert.ToHexString(data)} -> {got} {BitConverter.ToUInt64(value):x}, 0x{address:x}; model {best?.Length}");
                if (best is null)
                {
                    if (got != MapError.NotFound || BitConverter.ToUInt64(value) != 0xEEEE || address != 0) return Fail("expected no match");
                }
                else
                {
                    if (got != MapError.None || BitConverter.ToUInt64(value) != best.Value) return Fail($"expected /{best.Length} = {best.Value:x}");
                    var region = map.Regions.FirstOrDefault(r => address >= r.Address && address + 8 <= r.Address + (ulong)r.Length);
                    if (region is null || BinaryPrimitives.ReadUInt64LittleEndian(region.Data[(int)(address - region.Address)..]) != best.Value) return Fail("program lookup");
                }
            }
            else
            {
                // get_next_key walks insertion order and returns each key as it was last given (bits past the prefix included).
                var keys = map.Keys();
                if (keys.Count != model.Count || !keys.Zip(model).All(p => p.First.AsSpan().SequenceEqual(p.Second.UserKey)))
                {
                    return Fail($"keys [{string.Join(",", keys.Select(Convert.ToHexString))}] vs model [{string.Join(",", model.Select(e => Convert.ToHexString(e.UserKey)))}]");
                }
            }
        }
        return true.ToProperty();
    }

    private static byte[] U64(ulong v) => BitConverter.GetBytes(v);

    private static ulong? Lookup(ManagedMap map, byte[] key)
    {
        var value = new byte[8];
        return map.TryLookup(key, value) == MapError.None ? BitConverter.ToUInt64(value) : null;
    }

    [Fact]
    public void Ipv4_prefixes_at_the_edges_zero_32_and_between_bytes()
    {
        var map = Collection().CreateMap(new MapDefinition("v4", MapType.LpmTrie, 8, 8, 16, MapFlags.NoPrealloc));
        Assert.Null(Lookup(map, V4(32, 0x0A000001)));                  // empty: nothing matches
        Assert.Equal(0ul, map.ProgramLookup(V4(32, 0x0A000001), 0));
        map.Update(V4(8, 0x0A000000), U64(8));
        map.Update(V4(16, 0x0A000000), U64(16));                     // same data, longer prefix: another element
        map.Update(V4(12, 0xC0AFFFFF), U64(12));                     // 192.160.0.0/12, given with bits past the prefix
        map.Update(V4(32, 0x0A000001), U64(32));
        Assert.Equal(4, map.Keys().Count);
        Assert.Equal(32ul, Lookup(map, V4(32, 0x0A000001)));
        Assert.Equal(16ul, Lookup(map, V4(32, 0x0A000002)));
        Assert.Equal(8ul, Lookup(map, V4(32, 0x0A010002)));
        Assert.Equal(16ul, Lookup(map, V4(31, 0x0A000001)));          // the lookup's own length excludes the /32
        Assert.Equal(12ul, Lookup(map, V4(32, 0xC0A80101)));          // 192.168.1.1 is in 192.160.0.0/12
        Assert.Equal(12ul, Lookup(map, V4(32, 0xC0AF0000)));
        Assert.Null(Lookup(map, V4(32, 0xC0B00000)));                 // 192.176.0.0: just past it
        Assert.Null(Lookup(map, V4(32, 0x0B000000)));
        Assert.Equal(0ul, map.ProgramLookup(V4(32, 0x0B000000), 0));
        map.Update(V4(0, 0xFFFFFFFF), U64(0));                       // the default route, data ignored
        Assert.Equal(0ul, Lookup(map, V4(32, 0x0B000000)));
        Assert.Equal(0ul, Lookup(map, V4(0, 0x0A000001)));            // a /0 lookup only sees /0
        Assert.Equal(MapError.None, map.TryDelete(V4(0, 0x12345678)));
        Assert.Null(Lookup(map, V4(32, 0x0B000000)));
        // The first element inserted can be found, refused with NoExist, replaced with Exist and deleted.
        Assert.Equal(MapError.Exists, map.TryUpdate(V4(8, 0x0AFFFFFF), U64(1), MapUpdateFlags.NoExist));
        Assert.Equal(MapError.None, map.TryUpdate(V4(8, 0x0AFFFFFF), U64(88), MapUpdateFlags.Exist));
        Assert.Equal(4, map.Keys().Count);
        Assert.Equal(88ul, Lookup(map, V4(32, 0x0A010002)));
        Assert.Equal(MapError.None, map.TryDelete(V4(8, 0x0A000000)));
        Assert.Equal(MapError.NotFound, map.TryDelete(V4(8, 0x0A000000)));
        Assert.Null(Lookup(map, V4(32, 0x0A010002)));
        Assert.Equal(MapError.None, map.TryUpdate(V4(24, 0x0A0000FF), U64(24), MapUpdateFlags.NoExist));
        Assert.Equal(24ul, Lookup(map, V4(32, 0x0A000002)));
    }

    [Fact]
    public void Ipv6_prefixes_zero_64_and_128()
    {
        var map = Collection().CreateMap(new MapDefinition("v6", MapType.LpmTrie, 20, 8, 8, MapFlags.NoPrealloc));
        var address = Convert.FromHexString("20010DB8000000000000000000000001");
        var other = Convert.FromHexString("20010DB8000000010000000000000001");
        map.Update(Key(128, address), U64(128));
        map.Update(Key(64, address), U64(64));
        map.Update(Key(127, address), U64(127));
        Assert.Equal(128ul, Lookup(map, Key(128, address)));
        Assert.Equal(127ul, Lookup(map, Key(128, Convert.FromHexString("20010DB8000000000000000000000000"))));
        Assert.Equal(64ul, Lookup(map, Key(128, Convert.FromHexString("20010DB80000000000000000000000FF"))));
        Assert.Null(Lookup(map, Key(128, other)));
        Assert.Equal(MapError.Invalid, map.TryUpdate(Key(129, address), U64(1)));
        map.Update(Key(0, other), U64(0));
        Assert.Equal(0ul, Lookup(map, Key(128, other)));
        Assert.Equal(128ul, Lookup(map, Key(int.MaxValue, address)));  // a lookup longer than the width uses the width
        Assert.Equal(MapError.NotFound, map.TryDelete(Key(129, address)));
    }

    [Fact]
    public void Programs_update_lpm_tries_unless_the_map_is_read_only_for_them()
    {
        var c = Collection();
        var map = c.CreateMap(new MapDefinition("lpm", MapType.LpmTrie, 8, 8, 4, MapFlags.NoPrealloc));
        Assert.Equal(MapError.None, map.ProgramUpdate(V4(24, 0x0A0000FF), U64(24), 0, 1));
        Assert.Equal(MapError.Exists, map.ProgramUpdate(V4(24, 0x0A000000), U64(1), (ulong)MapUpdateFlags.NoExist, 1));
        Assert.Equal(24ul, Lookup(map, V4(32, 0x0A000003)));
        Assert.All(map.Regions, r => Assert.True(r.Writable));

        var readOnly = c.CreateMap(new MapDefinition("ro", MapType.LpmTrie, 8, 8, 4, MapFlags.NoPrealloc | MapFlags.ReadOnlyProgram));
        Assert.Equal(MapError.PermissionDenied, readOnly.ProgramUpdate(V4(24, 0x0A000000), U64(24), 0, 0));
        readOnly.Update(V4(24, 0x0A000000), U64(7));                      // user space still writes it
        Assert.Equal(7ul, Lookup(readOnly, V4(32, 0x0A000009)));
        Assert.NotEqual(0ul, readOnly.ProgramLookup(V4(32, 0x0A000009), 0));
        Assert.All(readOnly.Regions, r => Assert.False(r.Writable));
    }
}
