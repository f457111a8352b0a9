using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// The sequence lock: even when no writer is inside, odd while one is. Writers (every structural operation and
    /// every value copy from C# or a program's update helper) take it with a compare-and-swap and publish the next
    /// even number; readers from C# never take it, they read, then retry if the number changed.
    /// </summary>
    private int _sequence;

    internal HashMap(MapDefinition definition, int cpuCount, AddressSpace space, long maxMemory = long.MaxValue)
        : base(definition, cpuCount, space)
    {
        _maxMemory = maxMemory;
        if (definition.KeySize <= 0) throw new ArgumentException($"hash map '{definition.Name}': key size must be positive");
        IsLru = definition.Type is MapType.LruHash or MapType.LruPerCpuHash;
        _cpuStride = RoundUp8(definition.ValueSize);
        _slotStride = IsPerCpu ? _cpuStride * cpuCount : _cpuStride;
        var initial = MapLimits.InitialEntries(definition);
        _table = new SlotTable(definition.KeySize, initial, IsLru);
        _values = new ValueSlots(space, definition.Name, _slotStride, definition.MaxEntries, initial, writable: !ReadOnlyForPrograms);
    }

    /// <summary>Whether the map evicts its least recently used element when full.</summary>
    public bool IsLru { get; }

    /// <summary>The number of elements.</summary>
    public int Count
    {
        get
        {
            EnterWrite();
            try
            {
                return _table.Count;
            }
            finally
            {
                ExitWrite();
            }
        }
    }

    internal override IEnumerable<MemoryRegion> Regions => _values.Regions;

    private Span<byte> Slot(int slot) => _values.Slot(slot);

    /// <inheritdoc/>
    /// <remarks>Lock-free: reads optimistically and retries when a writer ran meanwhile (see <see cref="_sequence"/>),
    /// so a lookup never returns a value torn by a concurrent update from C# or never blocks behind a reader.</remarks>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        var dirty = false;
        var spin = new SpinWait();
        while (true)
        {
            var sequence = Volatile.Read(ref _sequence);
            if ((sequence & 1) == 0)
            {
                var slot = _table.FindConcurrent(key);
                var found = false;
                if (slot >= 0 && _values.TrySlot(slot, out var bytes))
                {
                    ReadAllCpus(bytes, value);
                    dirty = found = true;
                }
                if (slot >= SlotTable.NotFound && ReadsValidated(sequence))
                {
                    if (found) return MapError.None;
                    if (slot == SlotTable.NotFound)
                    {
                        if (dirty) value.Clear();
                        return MapError.NotFound;
                    }
                }
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>A lookup from C# of a map that is not per-CPU, <typeparamref name="TKey"/> and <typeparamref name="TValue"/>
    /// being the map's key and value sizes (the caller checked): the same lock-free read as <see cref="TryLookup"/>.</summary>
    internal bool TryLookupDirect<TKey, TValue>(ref TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        var spin = new SpinWait();
        while (true)
        {
            var sequence = Volatile.Read(ref _sequence);
            if ((sequence & 1) == 0)
            {
                var slot = FindTyped(ref key);
                if (slot >= 0)
                {
                    // Preallocated maps: one array; the bound is checked against the array read, so a racing growth
                    // cannot make the read fault (the sequence check below discards what it read).
                    var flat = _values.Flat;
                    if (flat is not null && (ulong)(uint)slot * (uint)_slotStride + (uint)Unsafe.SizeOf<TValue>() <= (ulong)flat.Length)
                    {
                        value = Unsafe.ReadUnaligned<TValue>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(flat), (nint)slot * _slotStride));
                        if (ReadsValidated(sequence)) return true;
                    }
                    else if (_values.TrySlot(slot, out var bytes))
                    {
                        value = Unsafe.ReadUnaligned<TValue>(ref MemoryMarshal.GetReference(bytes));
                        if (ReadsValidated(sequence)) return true;
                    }
                }
                else if (slot == SlotTable.NotFound && ReadsValidated(sequence))
                {
                    value = default;
                    return false;
                }
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The slot of a typed key (a reader's find, also correct under the lock): 4- and 8-byte keys as words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindTyped<TKey>(ref TKey key) where TKey : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            if (Unsafe.SizeOf<TKey>() == 4) return _table.FindConcurrent(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<TKey, byte>(ref key)), 4);
            if (Unsafe.SizeOf<TKey>() == 8) return _table.FindConcurrent(Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<TKey, byte>(ref key)), 8);
        }
        return _table.FindConcurrent(MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref key, 1)));
    }

    /// <summary>An update from C# of a map that is not per-CPU, the sizes checked by the caller: as <see cref="TryUpdate"/>
    /// without the virtual call and the byte-span copy.</summary>
    internal MapError UpdateDirect<TKey, TValue>(ref TKey key, TValue value, ulong flags) where TKey : unmanaged where TValue : unmanaged
    {
        var keyBytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref key, 1));
        EnterWrite();
        try
        {
            var slot = Place(keyBytes, FindTyped(ref key), flags, out var error);
            if (slot < 0) return error;
            Unsafe.WriteUnaligned(ref _values.SlotStart(slot), value);
            return MapError.None;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Whether no writer ran since <paramref name="sequence"/> was read: the reads in between are consistent.</summary>
    private bool ReadsValidated(int sequence)
    {
        // x86 keeps loads in order; weaker architectures need a barrier so the data reads complete first.
        if (!X86Base.IsSupported) Interlocked.MemoryBarrier();
        return Volatile.Read(ref _sequence) == sequence;
    }

    /// <summary>Takes the writer side of the sequence lock (writers exclude each other; readers retry instead).</summary>
    private void EnterWrite()
    {
        var spin = new SpinWait();
        while (true)
        {
            var sequence = Volatile.Read(ref _sequence);
            if ((sequence & 1) == 0 && Interlocked.CompareExchange(ref _sequence, sequence + 1, sequence) == sequence) return;
            spin.SpinOnce();
        }
    }

    /// <summary>Publishes the writer's changes and releases the writer side.</summary>
    private void ExitWrite() => Volatile.Write(ref _sequence, _sequence + 1);

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        EnterWrite();
        try
        {
            var slot = Place(key, (ulong)flags, out var error);
            if (slot < 0) return error;
            WriteAllCpus(Slot(slot), value);
            return MapError.None;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Finds or inserts the key under the update flags; -1 with the error otherwise. Caller holds the lock.</summary>
    private int Place(ReadOnlySpan<byte> key, ulong flags, out MapError error) => Place(key, _table.Find(key), flags, out error);

    /// <summary><see cref="Place(ReadOnlySpan{byte}, ulong, out MapError)"/> with the key's slot already found (-1: absent).</summary>
    private int Place(ReadOnlySpan<byte> key, int slot, ulong flags, out MapError error)
    {
        error = CheckFlags(flags);
        if (error != MapError.None) return -1;
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
        EnterWrite();
        try
        {
            var slot = _table.Find(key);
            if (slot < 0) return MapError.NotFound;
            _table.Remove(slot);
            return MapError.None;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        EnterWrite();
        try
        {
            var slot = key.IsEmpty ? -1 : _table.Find(key);
            var next = slot < 0 ? _table.First : _table.NextInOrder(slot);
            if (next < 0) return MapError.NotFound;
            _table.KeyAt(next).CopyTo(nextKey);
            return MapError.None;
        }
        finally
        {
            ExitWrite();
        }
    }

    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu)
    {
        if (!IsLru)
        {
            // Nothing to record: the same optimistic read as a lookup from C#.
            var spin = new SpinWait();
            while (true)
            {
                var sequence = Volatile.Read(ref _sequence);
                if ((sequence & 1) == 0)
                {
                    var found = _table.FindConcurrent(key);
                    if (found >= SlotTable.NotFound && ReadsValidated(sequence))
                    {
                        return found < 0 ? 0 : _values.Address(found) + (ulong)(IsPerCpu ? cpu * _cpuStride : 0);
                    }
                }
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        EnterWrite();
        try
        {
            var slot = _table.Find(key);
            if (slot < 0) return 0;
            _table.Touch(slot);
            return _values.Address(slot) + (ulong)(IsPerCpu ? cpu * _cpuStride : 0);
        }
        finally
        {
            ExitWrite();
        }
    }

    internal override bool HasForEach => true;

    /// <summary>
    /// The kernel's bpf_for_each_hash_elem over this map's order (insertion order, the order of get_next_key and of
    /// C# iteration; the kernel walks its buckets, which is its get_next_key order). As the kernel's walk
    /// (<c>hlist_nulls_for_each_entry_safe</c>), the next element is read before the callback runs, so the callback may
    /// update or delete the element it is given. Elements it inserts come after the last one and are visited. An element
    /// it deletes that the walk has not reached yet is skipped (the kernel, whose RCU list keeps the deleted node, may
    /// still visit it once); when that element's slot is reused by an insert in the same callback, the walk continues
    /// from the new element, at the end (as the kernel's preallocated maps reuse a freed element).
    /// </summary>
    internal override ulong ForEachNext(ref ulong cursor, Span<byte> key, int cpu)
    {
        if (cursor == ForEachEnd) return 0;
        EnterWrite();
        try
        {
            var slot = _table.LiveFrom(cursor == 0 ? _table.First : (int)Math.Min(cursor - 1, int.MaxValue));
            if (slot < 0)
            {
                cursor = ForEachEnd;
                return 0;
            }
            _table.KeyAt(slot).CopyTo(key);
            var next = _table.NextInOrder(slot);
            cursor = next < 0 ? ForEachEnd : (ulong)next + 1;
            return _values.Address(slot) + (ulong)(IsPerCpu ? cpu * _cpuStride : 0);
        }
        finally
        {
            ExitWrite();
        }
    }

    internal override MapError ProgramUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        if (ReadOnlyForPrograms) return MapError.PermissionDenied;
        EnterWrite();
        try
        {
            var slot = Place(key, flags, out var error);
            if (slot < 0) return error;
            // A new per-CPU element gets this CPU's value and zeros elsewhere (Place cleared it), as in the kernel.
            CopyProgramValue(value, Slot(slot).Slice(IsPerCpu ? cpu * _cpuStride : 0, ValueSize));
            return MapError.None;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Removes every element.</summary>
    public override void Clear()
    {
        EnterWrite();
        try
        {
            while (_table.First >= 0) _table.Remove(_table.First);
        }
        finally
        {
            ExitWrite();
        }
    }
}
