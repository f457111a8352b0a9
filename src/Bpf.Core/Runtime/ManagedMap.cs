using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf.Runtime;

/// <summary>
/// A map with the kernel's semantics, kept in managed memory that programs address directly: a lookup from a
/// program returns the virtual address of the value slot (no copy), as the kernel returns a pointer.
/// </summary>
/// <remarks>
/// <para><b>Consistency model.</b> Structural operations (insert, delete, eviction, iteration step, ring buffer
/// reserve/commit, queue push/pop) are serialised per map and linearizable. Hash maps use a sequence lock: writers
/// (C# updates and deletes, program update/delete helpers, LRU lookups from programs, which record recency) exclude each
/// other, while lookups from C# and non-LRU lookups from programs take no lock at all — they read, then retry if a
/// writer ran meanwhile — so readers never block and a C# lookup never returns a value torn by a concurrent C# or
/// helper update. Value bytes a program writes through the pointer a lookup returned are plain shared memory, as in
/// the kernel: no lock orders them, and only the program's atomic instructions are atomic. Array maps take no lock;
/// <see cref="TryUpdate"/> on an array copies in place, so values wider than 8 bytes may be seen half-written by a
/// concurrent reader (as with the kernel's arrays). Slots of deleted hash elements are reused by later inserts, so a
/// program still holding a pointer to a deleted element may see another element's value (the kernel's
/// preallocated maps behave the same).</para>
/// <para><b>Per-CPU maps</b> have <see cref="CpuCount"/> value slots per element; a program sees the slot of the
/// CPU its run is bound to. From C#, values of per-CPU maps are <see cref="CpuCount"/> copies, each padded to a
/// multiple of 8 bytes (<see cref="UserValueSize"/>), exactly as the bpf syscall lays them out.</para>
/// </remarks>
public abstract class ManagedMap
{
    private protected readonly object Gate = new();

    private protected ManagedMap(MapDefinition definition, int cpuCount, AddressSpace space)
    {
        Definition = definition;
        CpuCount = cpuCount;
        // Cached once: the C# paths check sizes on every call.
        IsPerCpu = definition.Type is MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash;
        KeySize = definition.KeySize;
        ValueSize = definition.ValueSize;
        MaxEntries = definition.MaxEntries;
        UserValueSize = IsPerCpu ? cpuCount * RoundUp8(definition.ValueSize) : definition.ValueSize;
        Space = space;
        Id = space.Register(this);
        Handle = AddressSpace.HandleOf(Id);
    }

    /// <summary>Creates a map of the definition's type in a collection's address space.</summary>
    internal static ManagedMap Create(MapDefinition definition, int cpuCount, AddressSpace space, Func<int, ManagedProgram?> programs, long maxMapMemory)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.KeySize < 0 || definition.ValueSize < 0 || definition.MaxEntries < 0)
        {
            throw new ArgumentException($"map '{definition.Name}': key size {definition.KeySize}, value size {definition.ValueSize} and max_entries {definition.MaxEntries} must be non-negative");
        }
        // The kernel's creation-time checks that decide whether an object loads at all.
        var noPrealloc = (definition.Flags & MapFlags.NoPrealloc) != 0;
        if (definition.Type is MapType.LruHash or MapType.LruPerCpuHash && noPrealloc)
        {
            throw new MapException(definition.Name, "create (LRU maps are always preallocated; BPF_F_NO_PREALLOC is refused)", MapError.KernelNotSupported);
        }
        if (definition.Type == MapType.LpmTrie && !noPrealloc)
        {
            throw new MapException(definition.Name, "create (LPM tries need BPF_F_NO_PREALLOC)", MapError.Invalid);
        }
        if (definition.Type is MapType.Array or MapType.PerCpuArray or MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash or MapType.LpmTrie
            && (definition.ValueSize == 0 || (definition.KeySize == 0 && definition.Type is not (MapType.Array or MapType.PerCpuArray))))
        {
            throw new MapException(definition.Name, $"create (key size {definition.KeySize}, value size {definition.ValueSize})", MapError.Invalid);
        }
        // The kernel's size limits, then the runtime's memory limit: both before anything is allocated.
        for (var d = definition; d is not null; d = d.InnerMap)
        {
            var error = MapLimits.Check(d.Type, (ulong)d.KeySize, (ulong)d.ValueSize, (ulong)d.MaxEntries, d.Flags, out var reason);
            if (error != MapError.None)
            {
                throw new MapException(d.Name, $"create ({(d == definition ? "" : $"inner map of '{definition.Name}': ")}{reason})", error);
            }
        }
        var bytes = MapLimits.ManagedBytes(definition, cpuCount);
        if (bytes > maxMapMemory || bytes > Array.MaxLength)
        {
            throw new MapException(definition.Name, $"create (key size {definition.KeySize}, value size {definition.ValueSize}, max_entries {definition.MaxEntries} need {bytes} bytes{(MapLimits.IsLazy(definition) ? "" : " up front")}, more than the managed runtime's limit of {Math.Min(maxMapMemory, Array.MaxLength)} per map: CollectionOptions.MaxMapMemory)", MapError.NoMemory);
        }
        return definition.Type switch
        {
            MapType.Array or MapType.PerCpuArray => new ArrayMap(definition, cpuCount, space),
            MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash => new HashMap(definition, cpuCount, space, maxMapMemory),
            MapType.LpmTrie => new LpmTrieMap(definition, cpuCount, space, maxMapMemory),
            MapType.RingBuf => new RingBufferMap(definition, cpuCount, space),
            MapType.ProgArray => new ProgramArrayMap(definition, cpuCount, space, programs),
            MapType.ArrayOfMaps or MapType.HashOfMaps => new MapOfMaps(definition, cpuCount, space),
            MapType.Queue or MapType.Stack => new QueueStackMap(definition, cpuCount, space),
            MapType.PerfEventArray => new PerfEventArrayMap(definition, cpuCount, space),
            _ when RedirectTargetMap.Handles(definition.Type) => new RedirectTargetMap(definition, cpuCount, space),
            _ => throw new NotSupportedException($"map '{definition.Name}': the managed runtime does not implement map type {definition.Type}"),
        };
    }

    /// <summary>The map's id in its collection (where the kernel would use a file descriptor).</summary>
    public int Id { get; }

    internal AddressSpace Space { get; }

    /// <summary>The attributes it was created with.</summary>
    public MapDefinition Definition { get; }

    /// <summary>The map's name.</summary>
    public string Name => Definition.Name;

    /// <summary>The map type.</summary>
    public MapType Type => Definition.Type;

    /// <summary>Key size in bytes.</summary>
    public int KeySize { get; }

    /// <summary>Value size in bytes (of one CPU's value for per-CPU maps).</summary>
    public int ValueSize { get; }

    /// <summary>Maximum number of entries.</summary>
    public int MaxEntries { get; }

    /// <summary>The number of CPUs per-CPU maps keep values for.</summary>
    public int CpuCount { get; }

    /// <summary>The pointer value an lddw of this map puts in a register (opaque; dereferencing it faults).</summary>
    public ulong Handle { get; }

    /// <summary>Whether values are per CPU.</summary>
    public bool IsPerCpu { get; }

    /// <summary>Whether programs may only read the map (BPF_F_RDONLY_PROG).</summary>
    public bool ReadOnlyForPrograms => (Definition.Flags & MapFlags.ReadOnlyProgram) != 0;

    /// <summary>The size of a value as C# reads and writes it: <see cref="ValueSize"/>, or for per-CPU maps
    /// <see cref="CpuCount"/> × <see cref="ValueSize"/> rounded up to 8.</summary>
    public int UserValueSize { get; }

    internal static int RoundUp8(int n) => (n + 7) & ~7;

    /// <summary>Copies the value of <paramref name="key"/> into <paramref name="value"/> (<see cref="UserValueSize"/> bytes).</summary>
    public abstract MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value);

    /// <summary>Creates or replaces an element as BPF_MAP_UPDATE_ELEM does.</summary>
    public abstract MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>Deletes an element as BPF_MAP_DELETE_ELEM does.</summary>
    public abstract MapError TryDelete(ReadOnlySpan<byte> key);

    /// <summary>BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/>, or the first key when <paramref name="key"/>
    /// is empty or not in the map. <see cref="MapError.NotFound"/> after the last key.</summary>
    public abstract MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey);

    /// <summary>Looks a value up; throws nothing, returns false when missing.</summary>
    public bool TryLookup<TKey, TValue>(TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>();
        if (TryLookupDirect(ref key, out value, out var found)) return found;
        value = default;
        var error = TryLookup(AsBytes(ref key), MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
        return error == MapError.None;
    }

    /// <summary>The direct lookup of the common maps (hash and array, not per-CPU: no virtual call, no span round trip,
    /// no error other than absence), the sizes checked by the caller; false when this map needs the general path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryLookupDirect<TKey, TValue>(ref TKey key, out TValue value, out bool found) where TKey : unmanaged where TValue : unmanaged
    {
        if (!IsPerCpu)
        {
            if (this is HashMap hash)
            {
                found = hash.TryLookupDirect(ref key, out value);
                return true;
            }
            if (this is ArrayMap array)
            {
                found = array.TryLookupDirect(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<TKey, byte>(ref key)), out value);
                return true;
            }
        }
        value = default;
        found = false;
        return false;
    }

    /// <summary>Whether <typeparamref name="TKey"/> and <typeparamref name="TValue"/> are exactly the key and (user) value sizes.</summary>
    internal bool SizesMatch<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged =>
        Unsafe.SizeOf<TKey>() == KeySize && Unsafe.SizeOf<TValue>() == UserValueSize;

    /// <summary>Creates or replaces an element; throws <see cref="MapException"/> on the kernel's errors.</summary>
    public void Update<TKey, TValue>(TKey key, TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>();
        if (!IsPerCpu && this is HashMap hash)
        {
            Check(hash.UpdateDirect(ref key, value, (ulong)flags), "update");
            return;
        }
        Check(TryUpdate(AsBytes(ref key), AsBytes(ref value), flags), "update");
    }

    /// <summary>Creates or replaces an element; throws <see cref="MapException"/> on the kernel's errors.</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) =>
        Check(TryUpdate(key, value, flags), "update");

    /// <summary>Deletes a key; false when it was missing.</summary>
    public bool Delete<TKey>(TKey key) where TKey : unmanaged => TryDelete(AsBytes(ref key)) == MapError.None;

    /// <summary>Every key, in get_next_key order (a snapshot taken one step at a time, like the syscall loop).</summary>
    public IReadOnlyList<byte[]> Keys()
    {
        var keys = new List<byte[]>();
        var current = Array.Empty<byte>();
        var next = new byte[KeySize];
        var guard = 0L;
        while (TryGetNextKey(current, next) == MapError.None && guard++ <= (long)MaxEntries + 1)
        {
            keys.Add(next.ToArray());
            current = keys[^1];
        }
        return keys;
    }

    /// <summary>Every element as (key, value) copies, in get_next_key order.</summary>
    public IReadOnlyList<KeyValuePair<byte[], byte[]>> Entries()
    {
        var list = new List<KeyValuePair<byte[], byte[]>>();
        foreach (var key in Keys())
        {
            var value = new byte[UserValueSize];
            if (TryLookup(key, value) == MapError.None) list.Add(new(key, value));
        }
        return list;
    }

    /// <summary>Removes every element (arrays: zeroes every value).</summary>
    public virtual void Clear()
    {
        foreach (var key in Keys()) TryDelete(key);
    }

    // ---- program side (called by helpers on the running thread) ----

    /// <summary>bpf_map_lookup_elem: the value's virtual address for <paramref name="cpu"/>, or 0.</summary>
    internal virtual ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu) => 0;

    /// <summary>bpf_map_update_elem from a program: updates only <paramref name="cpu"/>'s value of per-CPU maps.</summary>
    internal virtual MapError ProgramUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu) => MapError.Invalid;

    /// <summary>bpf_map_delete_elem from a program.</summary>
    internal virtual MapError ProgramDelete(ReadOnlySpan<byte> key) => TryDelete(key);

    /// <summary>Whether bpf_for_each_map_elem walks this map: the map types whose kernel ops have
    /// <c>map_for_each_callback</c> (arrays, hash maps, their per-CPU and LRU variants).</summary>
    internal virtual bool HasForEach => false;

    /// <summary><see cref="ForEachNext"/>'s cursor once the walk is over.</summary>
    internal const ulong ForEachEnd = ulong.MaxValue;

    /// <summary>One step of bpf_for_each_map_elem: the element at <paramref name="cursor"/> (0 = the first), its key
    /// copied into <paramref name="key"/> (<see cref="KeySize"/> bytes) and the virtual address of its value (of
    /// <paramref name="cpu"/>'s value for per-CPU maps) returned; the cursor then names the element after it, read
    /// before the callback runs (the kernel's walks do the same). 0 when no element is left.</summary>
    internal virtual ulong ForEachNext(ref ulong cursor, Span<byte> key, int cpu) => 0;

    /// <summary>The regions holding the map's memory.</summary>
    internal abstract IEnumerable<MemoryRegion> Regions { get; }

    /// <summary>Copies a value a program stores with bpf_map_update_elem, leaving the value's bpf_spin_lock word as it
    /// is (the kernel's copy_map_value skips the lock, so an update never releases or takes it).</summary>
    private protected void CopyProgramValue(ReadOnlySpan<byte> value, Span<byte> target)
    {
        var lockAt = Definition.SpinLockOffset;
        if (lockAt < 0 || lockAt + MapDefinition.SpinLockSize > value.Length)
        {
            value.CopyTo(target);
            return;
        }
        value[..lockAt].CopyTo(target);
        value[(lockAt + MapDefinition.SpinLockSize)..].CopyTo(target[(lockAt + MapDefinition.SpinLockSize)..]);
    }

    private protected static MapError CheckFlags(ulong flags, bool allowLock = false)
    {
        var f = flags & ~(ulong)MapUpdateFlags.Lock;
        if (f > (ulong)MapUpdateFlags.Exist) return MapError.Invalid;
        // BPF_F_LOCK (an update under the value's bpf_spin_lock) is not implemented by the managed maps.
        if ((flags & (ulong)MapUpdateFlags.Lock) != 0 && !allowLock) return MapError.Invalid;
        return MapError.None;
    }

    private protected void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize) throw new ArgumentException($"map '{Name}': key is {key.Length} bytes, the map's key size is {KeySize}", nameof(key));
    }

    private protected void CheckUserValue(int length)
    {
        if (length != UserValueSize) throw new ArgumentException($"map '{Name}': value is {length} bytes, expected {UserValueSize}", "value");
    }

    private void CheckSizes<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
    {
        if (Unsafe.SizeOf<TKey>() != KeySize || Unsafe.SizeOf<TValue>() != UserValueSize)
        {
            throw new ArgumentException($"map '{Name}': {typeof(TKey).Name}/{typeof(TValue).Name} are {Unsafe.SizeOf<TKey>()}/{Unsafe.SizeOf<TValue>()} bytes; the map's key/value sizes are {KeySize}/{UserValueSize}");
        }
    }

    private static ReadOnlySpan<byte> AsBytes<T>(ref T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1));

    private void Check(MapError error, string operation)
    {
        if (error != MapError.None) throw new MapException(Name, operation, error);
    }

    /// <summary>Copies a user value (<see cref="UserValueSize"/> bytes) into the per-CPU slots at <paramref name="slot"/>.</summary>
    private protected void WriteAllCpus(Span<byte> slot, ReadOnlySpan<byte> user)
    {
        if (!IsPerCpu)
        {
            user.CopyTo(slot);
            return;
        }
        var stride = RoundUp8(ValueSize);
        for (var cpu = 0; cpu < CpuCount; cpu++)
        {
            user.Slice(cpu * stride, ValueSize).CopyTo(slot.Slice(cpu * stride, ValueSize));
        }
    }

    private protected void ReadAllCpus(ReadOnlySpan<byte> slot, Span<byte> user)
    {
        if (!IsPerCpu)
        {
            slot[..ValueSize].CopyTo(user);
            return;
        }
        user.Clear();
        var stride = RoundUp8(ValueSize);
        for (var cpu = 0; cpu < CpuCount; cpu++)
        {
            slot.Slice(cpu * stride, ValueSize).CopyTo(user.Slice(cpu * stride, ValueSize));
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} map '{Name}' (key {KeySize}, value {ValueSize}, max {MaxEntries})";
}
