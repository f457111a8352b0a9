using Bpf.Objects;
using Bpf.Vm;

namespace Bpf.Runtime;

/// <summary>
/// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH. Lookups are O(1) (chained buckets over a slot
/// table); values live in fixed slots of one pinned region, so a program's lookup returns the slot's address.
/// </summary>
/// <remarks>
/// Errors follow the kernel: EEXIST for BPF_NOEXIST on an existing key, ENOENT for BPF_EXIST on a missing one,
/// E2BIG when a non-LRU map is full. An LRU map evicts its least recently used element (lookups and updates count
/// as uses) instead of failing; the kernel's LRU is approximate (per-CPU lists), this one is exact, so which
/// element goes first can differ from the kernel once the map is full. get_next_key follows insertion order; a
/// key that is not in the map restarts at the first key, as the kernel does.
/// </remarks>
public sealed class HashMap : ManagedMap
{
    private readonly SlotTable _table;
    private readonly ValueSlots _values;
    private readonly int _cpuStride;
    private readonly int _slotStride;
    private readonly long _maxMemory;

    internal HashMap(MapDefinition definition, int cpuCount, AddressSpace space, long maxMemory = long.MaxValue)
        : base(definition, cpuCount, space)
    {
        _maxMemory = maxMemory;
        if (definition.KeySize <= 0) throw new ArgumentException($"hash map '{definition.Name}': key size must be positive");
        IsPerCpu = definition.Type is MapType.PerCpuHash or MapType.LruPerCpuHash;
        IsLru = definition.Type is MapType.LruHash or MapType.LruPerCpuHash;
        _cpuStride = RoundUp8(definition.ValueSize);
        _slotStride = IsPerCpu ? _cpuStride * cpuCount : _cpuStride;
        var initial = MapLimits.InitialEntries(definition);
        _table = new SlotTable(definition.KeySize, initial, IsLru);
        _values = new ValueSlots(space, $"map '{definition.Name}' values", _slotStride, definition.MaxEntries, initial, writable: !ReadOnlyForPrograms);
    }

    /// <inheritdoc/>
    public override bool IsPerCpu { get; }

    /// <summary>Whether the map evicts its least recently used element when full.</summary>
    public bool IsLru { get; }

    /// <summary>The number of elements.</summary>
    public int Count
    {
        get
        {
            lock (Gate) return _table.Count;
        }
    }

    internal override IEnumerable<MemoryRegion> Regions => _values.Regions;

    private Span<byte> Slot(int slot) => _values.Slot(slot);

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        lock (Gate)
        {
            var slot = _table.Find(key);
            if (slot < 0) return MapError.NotFound;
            ReadAllCpus(Slot(slot), value);
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        lock (Gate)
        {
            var slot = Place(key, (ulong)flags, out var error);
            if (slot < 0) return error;
            WriteAllCpus(Slot(slot), value);
            return MapError.None;
        }
    }

    /// <summary>Finds or inserts the key under the update flags; -1 with the error otherwise. Caller holds the lock.</summary>
    private int Place(ReadOnlySpan<byte> key, ulong flags, out MapError error)
    {
        error = CheckFlags(flags);
        if (error != MapError.None) return -1;
        var slot = _table.Find(key);
        if (slot >= 0)
        {
            if ((flags & (ulong)MapUpdateFlags.NoExist) != 0)
            {
                error = MapError.Exists;
                return -1;
            }
            _table.Touch(slot);
            return slot;
        }
        if ((flags & (ulong)MapUpdateFlags.Exist) != 0)
        {
            error = MapError.NotFound;
            return -1;
        }
        if (_table.Count == _table.Capacity && _table.Capacity < MaxEntries)
        {
            // BPF_F_NO_PREALLOC: the kernel allocates each element on insert; here the slots double, up to
            // max_entries and the collection's per-map memory limit (beyond it: ENOMEM, as a failed allocation).
            var grown = (int)Math.Min((long)_table.Capacity * 2, MaxEntries);
            if (MapLimits.ManagedBytes(Definition, CpuCount, grown) > Math.Min(_maxMemory, Array.MaxLength))
            {
                error = MapError.NoMemory;
                return -1;
            }
            _table.Grow(grown);
            _values.Grow(grown);
        }
        if (_table.Count == _table.Capacity)
        {
            if (!IsLru)
            {
                error = MapError.TooBig;
                return -1;
            }
            _table.Remove(_table.LeastRecent);
        }
        slot = _table.Insert(key);
        Slot(slot).Clear();
        return slot;
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        lock (Gate)
        {
            var slot = _table.Find(key);
            if (slot < 0) return MapError.NotFound;
            _table.Remove(slot);
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        lock (Gate)
        {
            var slot = key.IsEmpty ? -1 : _table.Find(key);
            var next = slot < 0 ? _table.First : _table.NextInOrder(slot);
            if (next < 0) return MapError.NotFound;
            _table.KeyAt(next).CopyTo(nextKey);
            return MapError.None;
        }
    }

    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu)
    {
        lock (Gate)
        {
            var slot = _table.Find(key);
            if (slot < 0) return 0;
            _table.Touch(slot);
            return _values.Address(slot) + (ulong)(IsPerCpu ? cpu * _cpuStride : 0);
        }
    }

    internal override MapError ProgramUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        if (ReadOnlyForPrograms) return MapError.PermissionDenied;
        lock (Gate)
        {
            var slot = Place(key, flags, out var error);
            if (slot < 0) return error;
            // A new per-CPU element gets this CPU's value and zeros elsewhere (Place cleared it), as in the kernel.
            CopyProgramValue(value, Slot(slot).Slice(IsPerCpu ? cpu * _cpuStride : 0, ValueSize));
            return MapError.None;
        }
    }

    /// <summary>Removes every element.</summary>
    public override void Clear()
    {
        lock (Gate)
        {
            while (_table.First >= 0) _table.Remove(_table.First);
        }
    }
}
