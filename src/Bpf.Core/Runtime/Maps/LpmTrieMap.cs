using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// BPF_MAP_TYPE_LPM_TRIE: keys are <c>struct bpf_lpm_trie_key { u32 prefixlen; u8 data[]; }</c>; a lookup returns
/// the element with the longest prefix that matches the key's first <c>prefixlen</c> bits.
/// </summary>
/// <remarks>
/// Elements are indexed by (prefix length, data masked to it) in a hash table and a lookup probes only the
/// prefix lengths present, longest first: at most 8 × (key size − 4) + 1 probes, each O(1), instead of walking
/// a trie. Errors follow the kernel: EINVAL for a prefix longer than the data, ENOSPC when full, ENOENT for a
/// delete without an exact (length, prefix) match. get_next_key follows insertion order (the kernel walks its
/// trie in post-order), so only the set of keys, not their order, matches the kernel.
/// </remarks>
public sealed class LpmTrieMap : ManagedMap
{
    private readonly SlotTable _table;
    private readonly ValueSlots _values;
    private readonly long _maxMemory;
    private readonly int _stride;
    private readonly int _maxBits;
    private readonly int[] _countByLength;
    private byte[] _userKeys;

    internal LpmTrieMap(MapDefinition definition, int cpuCount, AddressSpace space, long maxMemory = long.MaxValue)
        : base(definition, cpuCount, space)
    {
        _maxMemory = maxMemory;
        if (definition.KeySize < 5 || definition.KeySize > 4 + 256)
        {
            throw new ArgumentException($"LPM trie '{definition.Name}': key size must be 5..260 (u32 prefixlen + data), not {definition.KeySize}");
        }
        _maxBits = (definition.KeySize - 4) * 8;
        _countByLength = new int[_maxBits + 1];
        // The kernel keeps the key as given (bits past the prefix included) and returns it from get_next_key.
        // Like the kernel's trie, elements are allocated as they are inserted: the slots double as needed.
        var initial = MapLimits.InitialEntries(definition);
        _userKeys = new byte[(long)definition.KeySize * initial];
        _stride = RoundUp8(definition.ValueSize);
        _table = new SlotTable(definition.KeySize, initial, trackRecency: false);
        _values = new ValueSlots(space, definition.Name, _stride, definition.MaxEntries, initial, writable: !ReadOnlyForPrograms);
    }

    internal override IEnumerable<MemoryRegion> Regions => _values.Regions;

    /// <summary>Writes the canonical form of (length, data): the data masked to <paramref name="length"/> bits.</summary>
    private void Normalize(ReadOnlySpan<byte> data, int length, Span<byte> canonical)
    {
        canonical.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(canonical, (uint)length);
        var full = length / 8;
        data[..full].CopyTo(canonical[4..]);
        if (length % 8 != 0) canonical[4 + full] = (byte)(data[full] & (0xFF << (8 - length % 8)));
    }

    /// <summary>The slot of the longest matching prefix, or -1. Caller holds the lock.</summary>
    private int Match(ReadOnlySpan<byte> key)
    {
        var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(key), (uint)_maxBits);
        Span<byte> probe = stackalloc byte[KeySize];
        for (var len = length; len >= 0; len--)
        {
            if (_countByLength[len] == 0) continue;
            Normalize(key[4..], len, probe);
            var slot = _table.Find(probe);
            if (slot >= 0) return slot;
        }
        return -1;
    }

    private bool TryCanonical(ReadOnlySpan<byte> key, Span<byte> canonical, out int length)
    {
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(key);
        length = (int)Math.Min(raw, int.MaxValue);
        if (raw > (uint)_maxBits) return false;
        Normalize(key[4..], length, canonical);
        return true;
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        lock (Gate)
        {
            var slot = Match(key);
            if (slot < 0) return MapError.NotFound;
            _values.Slot(slot)[..ValueSize].CopyTo(value);
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        return Update(key, value, (ulong)flags);
    }

    private MapError Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        var error = CheckFlags(flags);
        if (error != MapError.None) return error;
        Span<byte> canonical = stackalloc byte[KeySize];
        if (!TryCanonical(key, canonical, out var length)) return MapError.Invalid;
        lock (Gate)
        {
            var slot = _table.Find(canonical);
            if (slot >= 0 && (flags & (ulong)MapUpdateFlags.NoExist) != 0) return MapError.Exists;
            if (slot < 0)
            {
                if ((flags & (ulong)MapUpdateFlags.Exist) != 0) return MapError.NotFound;
                if (_table.Count == _table.Capacity && _table.Capacity < MaxEntries)
                {
                    var grown = (int)Math.Min((long)_table.Capacity * 2, MaxEntries);
                    if (MapLimits.ManagedBytes(Definition, CpuCount, grown) > Math.Min(_maxMemory, Array.MaxLength)) return MapError.NoMemory;
                    _table.Grow(grown);
                    _values.Grow(grown);
                    Array.Resize(ref _userKeys, checked(KeySize * grown));
                }
                if (_table.Count == _table.Capacity) return MapError.NoSpace;
                slot = _table.Insert(canonical);
                _countByLength[length]++;
            }
            key.CopyTo(_userKeys.AsSpan(slot * KeySize, KeySize));
            var target = _values.Slot(slot);
            target.Clear();
            value.CopyTo(target);
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        Span<byte> canonical = stackalloc byte[KeySize];
        if (!TryCanonical(key, canonical, out var length)) return MapError.NotFound;
        lock (Gate)
        {
            var slot = _table.Find(canonical);
            if (slot < 0) return MapError.NotFound;
            _table.Remove(slot);
            _countByLength[length]--;
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        Span<byte> canonical = stackalloc byte[KeySize];
        lock (Gate)
        {
            var slot = key.IsEmpty || !TryCanonical(key, canonical, out _) ? -1 : _table.Find(canonical);
            var next = slot < 0 ? _table.First : _table.NextInOrder(slot);
            if (next < 0) return MapError.NotFound;
            _userKeys.AsSpan(next * KeySize, KeySize).CopyTo(nextKey);
            return MapError.None;
        }
    }

    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu)
    {
        lock (Gate)
        {
            var slot = Match(key);
            return slot < 0 ? 0 : _values.Address(slot);
        }
    }

    internal override MapError ProgramUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) =>
        ReadOnlyForPrograms ? MapError.PermissionDenied : Update(key, value, flags);
}
