using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Bpf.Runtime;

namespace Bpf.Bench;

/// <summary>
/// Map operation cost against the number of entries (issue 12, goal 6), from C# through the public typed API
/// (<see cref="ManagedMap.TryLookup{TKey, TValue}"/>, <see cref="ManagedMap.Update{TKey, TValue}"/>,
/// <see cref="ManagedMap.Delete{TKey}"/>): the managed hash, LRU hash and LPM trie maps holding <see cref="Entries"/>
/// entries (max_entries = <see cref="Entries"/>, u32 → u64; the LPM trie's keys are
/// <c>struct { u32 prefixlen; u32 addr; }</c> holding /32 prefixes), and a <c>Dictionary&lt;uint, ulong&gt;</c> of the same
/// keys as the reference for what the memory hierarchy alone costs at that size. Each invocation performs 1,024
/// operations on present keys in a fixed pseudo-random order (so at 1,000,000 entries most touch memory not in
/// cache); Delete removes a key and inserts it again (two operations, reported as one pair).
/// </summary>
[MemoryDiagnoser]
public class MapScaleBenchmarks
{
    private const int Operations = 1024;

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct LpmKey(uint PrefixLength, uint Address);

    [Params("hash", "lru-hash", "lpm-trie", "dictionary")]
    public string Map { get; set; } = "hash";

    [Params(1, 100, 10_000, 1_000_000)]
    public int Entries { get; set; } = 1;

    private ManagedMap? _map;
    private Dictionary<uint, ulong>? _dictionary;
    private uint[] _keys = null!;
    private LpmKey[] _lpmKeys = null!;
    private uint[] _firstKeys = null!;

    /// <summary>The i-th key present: spread over the u32 space (a multiplicative hash of i, distinct for every i).</summary>
    private static uint Key(int i) => (uint)i * 2654435761u;

    [GlobalSetup]
    public void Setup()
    {
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 2 });
        switch (Map)
        {
            case "hash":
                _map = collection.CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, Entries));
                break;
            case "lru-hash":
                _map = collection.CreateMap(new MapDefinition("l", MapType.LruHash, 4, 8, Entries));
                break;
            case "lpm-trie":
                _map = collection.CreateMap(new MapDefinition("t", MapType.LpmTrie, 8, 8, Entries, MapFlags.NoPrealloc));
                break;
            case "dictionary":
                _dictionary = new Dictionary<uint, ulong>(Entries);
                break;
            default:
                throw new ArgumentException($"unknown map '{Map}'");
        }
        for (var i = 0; i < Entries; i++)
        {
            if (_dictionary is not null) _dictionary[Key(i)] = (ulong)i;
            else if (Map == "lpm-trie") _map!.Update(new LpmKey(32, Key(i)), (ulong)i, MapUpdateFlags.NoExist);
            else _map!.Update(Key(i), (ulong)i, MapUpdateFlags.NoExist);
        }
        var random = new Random(12);
        _keys = new uint[Operations];
        _lpmKeys = new LpmKey[Operations];
        for (var i = 0; i < Operations; i++)
        {
            _keys[i] = Key(random.Next(Entries));
            _lpmKeys[i] = new LpmKey(32, _keys[i]);
        }
        _firstKeys = new uint[Operations];
        for (var i = 0; i < Operations; i++) _firstKeys[i] = Key(i % Entries);
        if (Lookup() != Operations || LookupFirstKeys() != Operations)
        {
            throw new InvalidOperationException($"{Map} with {Entries} entries: a present key was not found");
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public int Lookup()
    {
        var found = 0;
        if (_dictionary is not null)
        {
            foreach (var key in _keys) found += _dictionary.TryGetValue(key, out _) ? 1 : 0;
        }
        else if (Map == "lpm-trie")
        {
            foreach (var key in _lpmKeys) found += _map!.TryLookup(key, out ulong _) ? 1 : 0;
        }
        else
        {
            foreach (var key in _keys) found += _map!.TryLookup(key, out ulong _) ? 1 : 0;
        }
        return found;
    }

    /// <summary><see cref="Lookup"/> over the first 1,024 keys inserted (fewer when the map holds fewer) instead of
    /// random ones: their index and value slots are adjacent (only the bucket heads are spread), which separates
    /// what the map's size costs from what the spread of the touched memory costs.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public int LookupFirstKeys()
    {
        var found = 0;
        if (_dictionary is not null)
        {
            foreach (var key in _firstKeys) found += _dictionary.TryGetValue(key, out _) ? 1 : 0;
        }
        else if (Map == "lpm-trie")
        {
            foreach (var key in _firstKeys) found += _map!.TryLookup(new LpmKey(32, key), out ulong _) ? 1 : 0;
        }
        else
        {
            foreach (var key in _firstKeys) found += _map!.TryLookup(key, out ulong _) ? 1 : 0;
        }
        return found;
    }

    /// <summary>Overwrites the value of a present key.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void Update()
    {
        if (_dictionary is not null)
        {
            foreach (var key in _keys) _dictionary[key] = key;
        }
        else if (Map == "lpm-trie")
        {
            foreach (var key in _lpmKeys) _map!.Update(key, (ulong)key.Address);
        }
        else
        {
            foreach (var key in _keys) _map!.Update(key, (ulong)key);
        }
    }

    /// <summary>Deletes a present key and inserts it again (a pair of operations; the map stays the same size).</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void DeleteInsert()
    {
        if (_dictionary is not null)
        {
            foreach (var key in _keys)
            {
                _dictionary.Remove(key);
                _dictionary[key] = key;
            }
        }
        else if (Map == "lpm-trie")
        {
            foreach (var key in _lpmKeys)
            {
                _map!.Delete(key);
                _map!.Update(key, (ulong)key.Address);
            }
        }
        else
        {
            foreach (var key in _keys)
            {
                _map!.Delete(key);
                _map!.Update(key, (ulong)key);
            }
        }
    }
}

/// <summary>
/// The LPM trie's lookup cost against prefix length (issue 12, goal 6), from C# through the public typed API. The
/// map holds 10,000 prefixes (fewer when the length allows fewer distinct ones: 256 at /8) of exactly
/// <see cref="PrefixLength"/> bits, IPv4 (4-byte data) up to /32 and IPv6 (16-byte data) for /64 and /128, and each
/// lookup is a full-length address inside one of them. <see cref="Routes"/> = "one-length" holds only that length;
/// "every-length" adds one prefix of every other length 1..max that covers the looked-up addresses (a routing table
/// where a more specific route may exist), so a lookup has to consider every longer length first.
/// </summary>
[MemoryDiagnoser]
public class LpmPrefixBenchmarks
{
    private const int Operations = 1024;
    private const int Prefixes = 10_000;

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Ipv4Key(uint PrefixLength, uint Address);

    /// <summary>20 bytes: the prefix length, then the 16 address bytes (high half first, each in network byte order).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private readonly record struct Ipv6Key(uint PrefixLength, ulong High, ulong Low);

    [Params(8, 16, 24, 32, 64, 128)]
    public int PrefixLength { get; set; } = 32;

    [Params("one-length", "every-length")]
    public string Routes { get; set; } = "one-length";

    private ManagedMap _map = null!;
    private Ipv4Key[] _v4 = [];
    private Ipv6Key[] _v6 = [];

    private bool IsV6 => PrefixLength > 32;

    private int Bits => IsV6 ? 128 : 32;

    [GlobalSetup]
    public void Setup()
    {
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 2 });
        _map = collection.CreateMap(new MapDefinition("t", MapType.LpmTrie, 4 + Bits / 8, 8, Prefixes + Bits, MapFlags.NoPrealloc));
        var count = PrefixLength >= 14 ? Prefixes : Math.Min(Prefixes, 1 << PrefixLength);
        for (var i = 0; i < count; i++) Insert(PrefixLength, Prefix(i), (ulong)i);
        var everyLength = Routes == "every-length";
        if (everyLength)
        {
            // Prefix 0 (all zero bits) at every other length: the longer ones do not cover the looked-up addresses
            // (their bit just past PrefixLength is 1), but a lookup has to rule them out first.
            for (var length = 1; length <= Bits; length++)
            {
                if (length != PrefixLength) Insert(length, UInt128.Zero, (ulong)length);
            }
        }
        var random = new Random(12);
        _v4 = new Ipv4Key[IsV6 ? 0 : Operations];
        _v6 = new Ipv6Key[IsV6 ? Operations : 0];
        for (var i = 0; i < Operations; i++)
        {
            var host = ((UInt128)(ulong)random.NextInt64() << 64 | (ulong)random.NextInt64()) & LowBits(Bits - PrefixLength);
            if (everyLength && PrefixLength < Bits) host |= UInt128.One << (Bits - PrefixLength - 1);
            var address = Prefix(everyLength ? 0 : random.Next(count)) | host;
            if (IsV6) _v6[i] = V6(Bits, address);
            else _v4[i] = V4(Bits, address);
        }
        if (Lookup() != Operations) throw new InvalidOperationException($"/{PrefixLength} {Routes}: a covered address was not found");
    }

    /// <summary>The i-th prefix of PrefixLength bits, as the address's leading bits (a Bits-wide number): i spread by a
    /// multiplicative hash when the length allows, distinct for distinct i below min(2^PrefixLength, 10,000).</summary>
    private UInt128 Prefix(int i)
    {
        var value = PrefixLength >= 32 ? (UInt128)((uint)i * 2654435761u) : (UInt128)(uint)i;
        return (value << (Bits - PrefixLength)) & ~LowBits(Bits - PrefixLength) & LowBits(Bits);
    }

    private static UInt128 LowBits(int n) => n >= 128 ? UInt128.MaxValue : (UInt128.One << n) - 1;

    private void Insert(int length, UInt128 address, ulong value)
    {
        if (IsV6) _map.Update(V6(length, address), value, MapUpdateFlags.NoExist);
        else _map.Update(V4(length, address), value, MapUpdateFlags.NoExist);
    }

    /// <summary>The key as the kernel reads it: prefix length (host order), then the address in network byte order.</summary>
    private static Ipv4Key V4(int length, UInt128 address) =>
        new((uint)length, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)address));

    private static Ipv6Key V6(int length, UInt128 address) =>
        new((uint)length, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ulong)(address >> 64)),
            System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ulong)address));

    [Benchmark(OperationsPerInvoke = Operations)]
    public int Lookup()
    {
        var found = 0;
        if (IsV6)
        {
            foreach (var key in _v6) found += _map.TryLookup(key, out ulong _) ? 1 : 0;
        }
        else
        {
            foreach (var key in _v4) found += _map.TryLookup(key, out ulong _) ? 1 : 0;
        }
        return found;
    }
}
