using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS: the value is a map. A program's lookup returns the inner map's
/// pointer (usable as the map argument of further helper calls); from C# a value is the inner map's
/// <see cref="ManagedMap.Id"/> (where the syscall takes a map fd). Inner maps must match the template's type,
/// key size, value size and flags, as the kernel requires.
/// </summary>
public sealed class MapOfMaps : ManagedMap
{
    private readonly ManagedMap?[]? _array;
    private readonly SlotTable? _table;
    private readonly ManagedMap?[]? _tableValues;

    internal MapOfMaps(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        if (definition.ValueSize != 4) throw new ArgumentException($"map-in-map '{definition.Name}': value size must be 4");
        if (definition.InnerMap is null) throw new ArgumentException($"map-in-map '{definition.Name}': needs an inner map template");
        if (definition.Type == MapType.ArrayOfMaps)
        {
            if (definition.KeySize != 4) throw new ArgumentException($"array of maps '{definition.Name}': key size must be 4");
            _array = new ManagedMap?[definition.MaxEntries];
        }
        else
        {
            _table = new SlotTable(definition.KeySize, definition.MaxEntries, trackRecency: false);
            _tableValues = new ManagedMap?[definition.MaxEntries];
        }
    }

    internal override IEnumerable<MemoryRegion> Regions => [];

    /// <summary>Puts <paramref name="inner"/> at <paramref name="key"/>; throws <see cref="MapException"/> on the kernel's errors.</summary>
    public void Set(ReadOnlySpan<byte> key, ManagedMap inner, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        var error = Put(key, inner, (ulong)flags);
        if (error != MapError.None) throw new MapException(Name, "update", error);
    }

    /// <summary>The inner map at <paramref name="key"/>, or null.</summary>
    public ManagedMap? Get(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        lock (Gate)
        {
            if (_array is not null)
            {
                var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
                return index < (uint)_array.Length ? _array[index] : null;
            }
            var slot = _table!.Find(key);
            return slot < 0 ? null : _tableValues![slot];
        }
    }

    private MapError Put(ReadOnlySpan<byte> key, ManagedMap? inner, ulong flags)
    {
        CheckKey(key);
        var error = CheckFlags(flags);
        if (error != MapError.None) return error;
        if (inner is null || inner.Space != Space || !inner.Definition.CompatibleInner(Definition.InnerMap!)) return MapError.Invalid;
        lock (Gate)
        {
            if (_array is not null)
            {
                var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
                if (index >= (uint)_array.Length) return MapError.TooBig;
                if ((flags & (ulong)MapUpdateFlags.NoExist) != 0) return MapError.Exists;
                _array[index] = inner;
                return MapError.None;
            }
            var slot = _table!.Find(key);
            if (slot >= 0 && (flags & (ulong)MapUpdateFlags.NoExist) != 0) return MapError.Exists;
            if (slot < 0)
            {
                if ((flags & (ulong)MapUpdateFlags.Exist) != 0) return MapError.NotFound;
                slot = _table.Insert(key);
                if (slot < 0) return MapError.TooBig;
            }
            _tableValues![slot] = inner;
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        var inner = Get(key);
        if (inner is null) return MapError.NotFound;
        BinaryPrimitives.WriteInt32LittleEndian(value, inner.Id);
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckUserValue(value.Length);
        return Put(key, Space.FromId(BinaryPrimitives.ReadInt32LittleEndian(value)), (ulong)flags);
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        lock (Gate)
        {
            if (_array is not null)
            {
                var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
                if (index >= (uint)_array.Length) return MapError.TooBig;
                var had = _array[index] is not null;
                _array[index] = null;
                return had ? MapError.None : MapError.NotFound;
            }
            var slot = _table!.Find(key);
            if (slot < 0) return MapError.NotFound;
            _table.Remove(slot);
            _tableValues![slot] = null;
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        lock (Gate)
        {
            if (_array is not null)
            {
                uint next = 0;
                if (!key.IsEmpty && BinaryPrimitives.ReadUInt32LittleEndian(key) < (uint)_array.Length)
                {
                    var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
                    if (index == (uint)_array.Length - 1) return MapError.NotFound;
                    next = index + 1;
                }
                BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
                return MapError.None;
            }
            var slot = key.IsEmpty ? -1 : _table!.Find(key);
            var table = _table!;
            var n = slot < 0 ? table.First : table.NextInOrder(slot);
            if (n < 0) return MapError.NotFound;
            table.KeyAt(n).CopyTo(nextKey);
            return MapError.None;
        }
    }

    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu) => Get(key)?.Handle ?? 0;
}
