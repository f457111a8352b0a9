using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// The maps whose entries name where a packet goes — BPF_MAP_TYPE_DEVMAP and DEVMAP_HASH (network devices),
/// CPUMAP (CPUs), XSKMAP (AF_XDP sockets), SOCKMAP and SOCKHASH (sockets) — kept so that redirect programs run:
/// <c>bpf_redirect_map</c> (and <c>bpf_sk_redirect_map</c>/<c>_hash</c>) finds the entry, records the redirect in the
/// run result (<see cref="RedirectRecord"/>) and returns XDP_REDIRECT (SK_PASS), or the fallback action when the key
/// has no entry, as the kernel does. Nothing is transmitted: the managed runtime has no devices, CPUs' queues or
/// sockets, so a value is taken as given — an ifindex (DEVMAP), a queue size (CPUMAP) or a number standing for a
/// socket (XSKMAP, SOCKMAP, SOCKHASH), where the kernel checks that the device, CPU or socket exists; ifindex 0
/// (DEVMAP) and qsize 0 (CPUMAP) remove the entry, as in the kernel; a program attached to a DEVMAP/CPUMAP entry (the value's second word) is
/// refused as not supported. Programs may look entries up (read-only: the kernel gives them no write access);
/// DEVMAP, CPUMAP, XSKMAP and SOCKMAP are indexed by a u32 below max_entries, DEVMAP_HASH and SOCKHASH by any key.
/// </summary>
public sealed class RedirectTargetMap : ManagedMap
{
    private readonly MemoryRegion _region;
    private readonly int _stride;
    private readonly bool _hashed;
    private readonly bool[] _present;
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal); // hashed maps: key (one char a byte) → slot
    private readonly List<string> _order = [];                                     // hashed maps: keys in insertion order
    private readonly Stack<int> _free = new();

    internal RedirectTargetMap(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        _hashed = definition.Type is MapType.DevMapHash or MapType.SockHash;
        _stride = RoundUp8(definition.ValueSize);
        _present = new bool[definition.MaxEntries];
        for (var i = definition.MaxEntries - 1; i >= 0; i--) _free.Push(i);
        _region = space.Allocate($"map '{definition.Name}' values", (long)_stride * definition.MaxEntries, writable: false);
    }

    internal override IEnumerable<MemoryRegion> Regions => [_region];

    /// <summary>Whether <paramref name="type"/> is one of the maps this class keeps.</summary>
    internal static bool Handles(MapType type) =>
        type is MapType.DevMap or MapType.DevMapHash or MapType.CpuMap or MapType.XskMap or MapType.SockMap or MapType.SockHash;

    /// <summary>The kernel's size rules for these map types (<c>dev_map_alloc_check</c>, <c>cpu_map_alloc</c>, …).</summary>
    internal static string? CheckSizes(MapType type, ulong keySize, ulong valueSize, ulong maxEntries) => type switch
    {
        _ when maxEntries == 0 => "needs max_entries",
        MapType.DevMap or MapType.DevMapHash when keySize != 4 || valueSize is not (4 or 8) => "a device map needs key size 4 and value size 4 (ifindex) or 8 (struct bpf_devmap_val)",
        MapType.CpuMap when keySize != 4 || valueSize is not (4 or 8) => "a CPU map needs key size 4 and value size 4 (qsize) or 8 (struct bpf_cpumap_val)",
        MapType.XskMap when keySize != 4 || valueSize != 4 => "an XSK map needs key and value size 4",
        MapType.SockMap when keySize != 4 || valueSize is not (4 or 8) => "a socket map needs key size 4 and value size 4 or 8",
        MapType.SockHash when keySize == 0 || valueSize is not (4 or 8) => "a socket hash needs a key size and value size 4 or 8",
        _ => null,
    };

    private static string KeyString(ReadOnlySpan<byte> key)
    {
        Span<char> chars = stackalloc char[key.Length];
        for (var i = 0; i < key.Length; i++) chars[i] = (char)key[i];
        return new string(chars);
    }

    /// <summary>The slot of <paramref name="key"/>'s entry, or -1. Lock-free for indexed maps; hashed maps hold the gate.</summary>
    private int Find(ReadOnlySpan<byte> key)
    {
        if (!_hashed)
        {
            var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
            return index < (uint)MaxEntries && Volatile.Read(ref _present[index]) ? (int)index : -1;
        }
        Span<char> chars = stackalloc char[key.Length];
        for (var i = 0; i < key.Length; i++) chars[i] = (char)key[i];
        lock (Gate)
        {
            return _slots.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var slot) ? slot : -1;
        }
    }

    private Span<byte> Slot(int slot) => _region.Data.Slice(slot * _stride, ValueSize);

    /// <summary>The kernel's checks on a value from user space.</summary>
    private MapError CheckValue(ReadOnlySpan<byte> value)
    {
        var first = BinaryPrimitives.ReadUInt32LittleEndian(value);
        var program = value.Length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(value[4..]) : 0;
        switch (Type)
        {
            case MapType.DevMap or MapType.DevMapHash:
                if (first == 0 && Type == MapType.DevMapHash) return MapError.Invalid; // no device has ifindex 0 (the array takes it as a delete)
                if (program > 0) return MapError.NotSupported; // an XDP program on the entry: not modelled
                return MapError.None;
            case MapType.CpuMap:
                if (first > 16384) return MapError.Invalid; // the kernel's sanity limit on qsize
                if (program > 0) return MapError.NotSupported;
                return MapError.None;
            default:
                return MapError.None; // a socket: any number stands for one
        }
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        if (Type == MapType.XskMap) return MapError.NotSupported; // the kernel has no user-space lookup of AF_XDP sockets
        var slot = Find(key);
        if (slot < 0) return MapError.NotFound;
        Slot(slot).CopyTo(value);
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        var error = CheckFlags((ulong)flags);
        if (error != MapError.None) return error;
        if (!_hashed && BinaryPrimitives.ReadUInt32LittleEndian(key) >= (uint)MaxEntries) return MapError.TooBig;
        if (Type == MapType.CpuMap && BinaryPrimitives.ReadUInt32LittleEndian(key) >= (uint)CpuCount) return MapError.Invalid; // no such CPU
        error = CheckValue(value);
        if (error != MapError.None) return error;
        if (Type is MapType.CpuMap or MapType.DevMap && BinaryPrimitives.ReadUInt32LittleEndian(value) == 0)
        {
            TryDelete(key); // qsize 0 removes the CPU's entry, ifindex 0 the device array's
            return MapError.None;
        }
        lock (Gate)
        {
            var slot = Find(key);
            if (slot >= 0 && flags == MapUpdateFlags.NoExist) return MapError.Exists;
            if (slot < 0 && flags == MapUpdateFlags.Exist) return MapError.NotFound;
            if (slot < 0)
            {
                if (_hashed)
                {
                    if (_free.Count == 0) return MapError.TooBig;
                    slot = _free.Pop();
                    var k = KeyString(key);
                    _slots[k] = slot;
                    _order.Add(k);
                }
                else
                {
                    slot = (int)BinaryPrimitives.ReadUInt32LittleEndian(key);
                }
            }
            value.CopyTo(Slot(slot));
            Volatile.Write(ref _present[slot], true);
        }
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        if (!_hashed && BinaryPrimitives.ReadUInt32LittleEndian(key) >= (uint)MaxEntries) return MapError.Invalid;
        lock (Gate)
        {
            var slot = Find(key);
            if (slot < 0)
            {
                // The kernel's device, CPU and XSK arrays delete an empty index without complaint; the rest report it.
                return Type is MapType.DevMap or MapType.CpuMap or MapType.XskMap ? MapError.None : _hashed ? MapError.NotFound : MapError.Invalid;
            }
            Volatile.Write(ref _present[slot], false);
            Slot(slot).Clear();
            if (_hashed)
            {
                var k = KeyString(key);
                _slots.Remove(k);
                _order.Remove(k);
                _free.Push(slot);
            }
        }
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (_hashed)
        {
            lock (Gate)
            {
                var at = key.IsEmpty ? -1 : _order.IndexOf(KeyString(key));
                if (at + 1 >= _order.Count) return MapError.NotFound;
                var k = _order[at + 1];
                for (var i = 0; i < k.Length; i++) nextKey[i] = (byte)k[i];
                return MapError.None;
            }
        }
        // The kernel's device, CPU and socket arrays list only the indexes that hold an entry.
        var start = key.IsEmpty || BinaryPrimitives.ReadUInt32LittleEndian(key) >= (uint)MaxEntries ? 0 : (long)BinaryPrimitives.ReadUInt32LittleEndian(key) + 1;
        for (var i = start; i < MaxEntries; i++)
        {
            if (Volatile.Read(ref _present[i]))
            {
                BinaryPrimitives.WriteUInt32LittleEndian(nextKey, (uint)i);
                return MapError.None;
            }
        }
        return MapError.NotFound;
    }

    /// <summary>Removes every entry.</summary>
    public override void Clear()
    {
        lock (Gate)
        {
            Array.Clear(_present);
            _region.Data.Clear();
            _slots.Clear();
            _order.Clear();
            _free.Clear();
            for (var i = MaxEntries - 1; i >= 0; i--) _free.Push(i);
        }
    }

    /// <summary>Whether <paramref name="key"/> has an entry (the lookup of bpf_redirect_map and bpf_sk_redirect_*).</summary>
    internal bool Contains(ReadOnlySpan<byte> key) => Find(key) >= 0;

    /// <summary>bpf_map_lookup_elem from a program: the entry's value, read-only.</summary>
    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu)
    {
        var slot = Find(key);
        return slot < 0 ? 0 : _region.Address + (ulong)slot * (ulong)_stride;
    }
}
