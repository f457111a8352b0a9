using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Runtime;

namespace Bpf;

// Typed views of an IBpfMap, one per kind of map, for code that knows the map's key and value types (the classes
// Bpf.Generators emits hold these). Each view is a thin wrapper: sizes are checked once when it is made, and every
// operation goes through the BpfMapExtensions typed helpers or the IBpfMap members, so both engines behave the same.

/// <summary>A map with typed keys and values (hash, array, LRU, LPM trie, ... — not per-CPU: see <see cref="IBpfPerCpuMap{TKey, TValue}"/>).</summary>
/// <typeparam name="TKey">The key type, exactly the map's key size.</typeparam>
/// <typeparam name="TValue">The value type, exactly the map's value size.</typeparam>
public interface IBpfMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>Looks up a key; false if absent.</summary>
    bool TryLookup(in TKey key, out TValue value);

    /// <summary>Looks up a key; <see cref="KeyNotFoundException"/> if absent.</summary>
    TValue Lookup(in TKey key);

    /// <summary>Creates or replaces an element.</summary>
    void Update(in TKey key, in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>Deletes a key; false if absent.</summary>
    bool TryDelete(in TKey key);

    /// <summary>Deletes a key; <see cref="KeyNotFoundException"/> if absent.</summary>
    void Delete(in TKey key);

    /// <summary>Every key, in next-key order.</summary>
    IReadOnlyList<TKey> Keys();

    /// <summary>Every entry (keys deleted between the key walk and their lookup are left out).</summary>
    IReadOnlyList<KeyValuePair<TKey, TValue>> Entries();
}

/// <summary>A per-CPU map (PERCPU_ARRAY, PERCPU_HASH, LRU_PERCPU_HASH) with typed keys and one typed value per CPU.</summary>
/// <typeparam name="TKey">The key type, exactly the map's key size.</typeparam>
/// <typeparam name="TValue">One CPU's value, exactly the map's value size.</typeparam>
public interface IBpfPerCpuMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>The number of values per key (the possible CPUs).</summary>
    int CpuCount { get; }

    /// <summary>Looks up a key: one value per CPU; false if absent.</summary>
    bool TryLookup(in TKey key, out PerCpu<TValue> values);

    /// <summary>Looks up a key; <see cref="KeyNotFoundException"/> if absent.</summary>
    PerCpu<TValue> Lookup(in TKey key);

    /// <summary>Sets every CPU's value of a key (<paramref name="values"/> has <see cref="CpuCount"/> values).</summary>
    void Update(in TKey key, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>Deletes a key; false if absent (per-CPU arrays refuse deletion with EINVAL, as the kernel does).</summary>
    bool TryDelete(in TKey key);

    /// <summary>Every key, in next-key order.</summary>
    IReadOnlyList<TKey> Keys();

    /// <summary>Every entry with its per-CPU values.</summary>
    IReadOnlyList<KeyValuePair<TKey, PerCpu<TValue>>> Entries();
}

/// <summary>A QUEUE (first in, first out) or STACK (last in, first out) map of typed values.</summary>
/// <typeparam name="TValue">The value type, exactly the map's value size.</typeparam>
public interface IBpfQueue<TValue> where TValue : unmanaged
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>Pushes a value; a full map refuses with E2BIG unless <paramref name="flags"/> is
    /// <see cref="MapUpdateFlags.Exist"/>, which drops the oldest value.</summary>
    void Push(in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>The value a pop would return, left in place; false when empty.</summary>
    bool TryPeek(out TValue value);

    /// <summary>Removes and returns the next value (the oldest for a queue, the newest for a stack); false when empty.</summary>
    bool TryPop(out TValue value);
}

/// <summary>A RINGBUF map whose records are read as <typeparamref name="TEvent"/>.</summary>
/// <typeparam name="TEvent">The record type the programs submit.</typeparam>
public interface IBpfRingBuffer<TEvent> where TEvent : unmanaged
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>Consumes the next record; false when none is waiting. Never blocks.</summary>
    /// <exception cref="InvalidDataException">The record is shorter than <typeparamref name="TEvent"/> (it is consumed).</exception>
    bool TryRead(out TEvent value);

    /// <summary>Consumes every record waiting now, in order.</summary>
    IReadOnlyList<TEvent> ReadAvailable();
}

/// <summary>A PROG_ARRAY map: the slots <c>bpf_tail_call</c> jumps through, filled with programs of the same collection.</summary>
public interface IBpfProgramArray
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>Puts <paramref name="program"/> in slot <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentException">The program is not one of an engine's loaded programs.</exception>
    void Set(uint index, IBpfProgram program);

    /// <summary>Empties a slot; false if it was empty.</summary>
    bool Clear(uint index);

    /// <summary>True when slot <paramref name="index"/> holds a program.</summary>
    bool IsSet(uint index);
}

/// <summary>An ARRAY_OF_MAPS or HASH_OF_MAPS map: typed keys, inner maps as values.</summary>
/// <typeparam name="TKey">The key type, exactly the map's key size.</typeparam>
public interface IBpfMapOfMaps<TKey> where TKey : unmanaged
{
    /// <summary>The untyped map.</summary>
    IBpfMap Map { get; }

    /// <summary>Puts <paramref name="inner"/> at <paramref name="key"/> (the inner map must match the template's type and sizes).</summary>
    /// <exception cref="ArgumentException">The map is not one of an engine's loaded maps.</exception>
    void Set(in TKey key, IBpfMap inner, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>Removes the inner map at <paramref name="key"/>; false if none.</summary>
    bool TryDelete(in TKey key);

    /// <summary>True when <paramref name="key"/> holds an inner map.</summary>
    bool Contains(in TKey key);
}

/// <summary>What an engine's map or program stores in a program array or map-of-maps slot to refer to it: the
/// kernel's file descriptor, the interpreter's object id (BPF_MAP_UPDATE_ELEM takes an fd; the interpreter an id).</summary>
internal interface IEngineReference
{
    /// <summary>The 4-byte value a slot holds for this object.</summary>
    uint SlotValue { get; }
}

/// <summary>Makes the typed views of <see cref="IBpfMap"/>; each checks the map's type and sizes once, with a
/// message naming the map.</summary>
public static class BpfMapViews
{
    /// <summary>A typed view of a map that is not per-CPU, queue/stack, ring buffer, program array or map-of-maps.</summary>
    /// <exception cref="ArgumentException">The sizes differ from the map's, or the map is of a kind with its own view.</exception>
    public static IBpfMap<TKey, TValue> As<TKey, TValue>(this IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        RefuseKinds(map, "As<TKey, TValue>");
        BpfMapExtensions.CheckSizes<TKey, TValue>(map);
        return new TypedMap<TKey, TValue>(map);
    }

    /// <summary>A typed view of a per-CPU map.</summary>
    /// <exception cref="ArgumentException">Not a per-CPU map, or the sizes differ.</exception>
    public static IBpfPerCpuMap<TKey, TValue> AsPerCpu<TKey, TValue>(this IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        BpfMapExtensions.CheckPerCpu<TKey, TValue>(map);
        return new PerCpuMap<TKey, TValue>(map);
    }

    /// <summary>A typed view of a QUEUE or STACK map.</summary>
    /// <exception cref="ArgumentException">Not a queue or stack, or the value size differs.</exception>
    public static IBpfQueue<TValue> AsQueue<TValue>(this IBpfMap map) where TValue : unmanaged
    {
        Require(map, "a queue or stack", MapType.Queue, MapType.Stack);
        CheckValue<TValue>(map);
        return new QueueView<TValue>(map);
    }

    /// <summary>A view of a RINGBUF map whose records are <typeparamref name="TEvent"/>.</summary>
    /// <exception cref="ArgumentException">Not a ring buffer.</exception>
    public static IBpfRingBuffer<TEvent> AsRingBuffer<TEvent>(this IBpfMap map) where TEvent : unmanaged
    {
        Require(map, "a ring buffer", MapType.RingBuf);
        return new RingBufferView<TEvent>(map);
    }

    /// <summary>A view of a PROG_ARRAY map.</summary>
    /// <exception cref="ArgumentException">Not a program array.</exception>
    public static IBpfProgramArray AsProgramArray(this IBpfMap map)
    {
        Require(map, "a program array", MapType.ProgArray);
        return new ProgramArrayView(map);
    }

    /// <summary>A view of an ARRAY_OF_MAPS or HASH_OF_MAPS map with typed keys.</summary>
    /// <exception cref="ArgumentException">Not a map of maps, or the key size differs.</exception>
    public static IBpfMapOfMaps<TKey> AsMapOfMaps<TKey>(this IBpfMap map) where TKey : unmanaged
    {
        Require(map, "a map of maps", MapType.ArrayOfMaps, MapType.HashOfMaps);
        BpfMapExtensions.CheckKey<TKey>(map);
        return new MapOfMapsView<TKey>(map);
    }

    private static void Require(IBpfMap map, string what, params MapType[] types)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Array.IndexOf(types, map.Type) < 0) throw new ArgumentException($"map '{map.Name}' ({map.Type}) is not {what}");
    }

    private static void RefuseKinds(IBpfMap map, string view)
    {
        var better = map.Type switch
        {
            _ when map.IsPerCpu() => "AsPerCpu",
            MapType.Queue or MapType.Stack => "AsQueue",
            MapType.RingBuf => "AsRingBuffer",
            MapType.ProgArray => "AsProgramArray",
            MapType.ArrayOfMaps or MapType.HashOfMaps => "AsMapOfMaps",
            _ => null,
        };
        if (better is not null) throw new ArgumentException($"map '{map.Name}' is a {map.Type} map: use {better}, not {view}");
    }

    private static void CheckValue<TValue>(IBpfMap map) where TValue : unmanaged
    {
        if (Unsafe.SizeOf<TValue>() != map.UserValueSize)
            throw new ArgumentException($"{typeof(TValue).Name} is {Unsafe.SizeOf<TValue>()} bytes; map '{map.Name}' has {map.UserValueSize}-byte values");
    }

    internal static Span<byte> Bytes<T>(ref T value) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));

    internal static ReadOnlySpan<byte> ReadOnlyBytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));

    internal static uint SlotValue(object o, string what) => o is IEngineReference r ? r.SlotValue
        : throw new ArgumentException($"{what} {o} is not an engine's loaded {what} (from an IBpfCollection)");
}

internal sealed class TypedMap<TKey, TValue>(IBpfMap map) : IBpfMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    public IBpfMap Map { get; } = map;

    public bool TryLookup(in TKey key, out TValue value) => Map.TryLookup(in key, out value);

    public TValue Lookup(in TKey key) => Map.Lookup<TKey, TValue>(in key);

    public void Update(in TKey key, in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) => Map.Update(in key, in value, flags);

    public bool TryDelete(in TKey key) => Map.TryDelete(in key);

    public void Delete(in TKey key) => Map.Delete(in key);

    public IReadOnlyList<TKey> Keys() => Map.Keys<TKey>();

    public IReadOnlyList<KeyValuePair<TKey, TValue>> Entries() => Map.Entries<TKey, TValue>();

    public override string ToString() => $"{Map} as <{typeof(TKey).Name}, {typeof(TValue).Name}>";
}

internal sealed class PerCpuMap<TKey, TValue>(IBpfMap map) : IBpfPerCpuMap<TKey, TValue> where TKey : unmanaged where TValue : unmanaged
{
    public IBpfMap Map { get; } = map;

    public int CpuCount => Map.CpuCount();

    public bool TryLookup(in TKey key, out PerCpu<TValue> values) => Map.TryLookupPerCpu(in key, out values);

    public PerCpu<TValue> Lookup(in TKey key) => Map.LookupPerCpu<TKey, TValue>(in key);

    public void Update(in TKey key, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any) => Map.UpdatePerCpu(in key, values, flags);

    public bool TryDelete(in TKey key) => Map.TryDelete(in key);

    public IReadOnlyList<TKey> Keys() => Map.Keys<TKey>();

    public IReadOnlyList<KeyValuePair<TKey, PerCpu<TValue>>> Entries() => Map.EntriesPerCpu<TKey, TValue>();

    public override string ToString() => $"{Map} as per-CPU <{typeof(TKey).Name}, {typeof(TValue).Name}>";
}

internal sealed class QueueView<TValue>(IBpfMap map) : IBpfQueue<TValue> where TValue : unmanaged
{
    public IBpfMap Map { get; } = map;

    public void Push(in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) => Map.Update([], BpfMapViews.ReadOnlyBytes(in value), flags);

    public bool TryPeek(out TValue value)
    {
        value = default;
        return Map.TryLookup([], BpfMapViews.Bytes(ref value));
    }

    public bool TryPop(out TValue value)
    {
        value = default;
        return Map.TryLookupAndDelete([], BpfMapViews.Bytes(ref value));
    }

    public override string ToString() => $"{Map} of {typeof(TValue).Name}";
}

internal sealed class RingBufferView<TEvent>(IBpfMap map) : IBpfRingBuffer<TEvent> where TEvent : unmanaged
{
    public IBpfMap Map { get; } = map;

    public bool TryRead(out TEvent value)
    {
        value = default;
        if (!Map.TryReadRecord(out var record)) return false;
        if (record.Length < Unsafe.SizeOf<TEvent>())
            throw new InvalidDataException($"ring buffer '{Map.Name}': a {record.Length}-byte record is shorter than {typeof(TEvent).Name} ({Unsafe.SizeOf<TEvent>()} bytes)");
        value = MemoryMarshal.Read<TEvent>(record);
        return true;
    }

    public IReadOnlyList<TEvent> ReadAvailable()
    {
        var list = new List<TEvent>();
        while (TryRead(out var e)) list.Add(e);
        return list;
    }

    public override string ToString() => $"{Map} of {typeof(TEvent).Name}";
}

internal sealed class ProgramArrayView(IBpfMap map) : IBpfProgramArray
{
    public IBpfMap Map { get; } = map;

    public void Set(uint index, IBpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        Map.Update(in index, BpfMapViews.SlotValue(program, "program"));
    }

    public bool Clear(uint index) => Map.TryDelete(in index);

    public bool IsSet(uint index) => Map.TryLookup<uint, uint>(in index, out _);

    public override string ToString() => Map.ToString() ?? Map.Name;
}

internal sealed class MapOfMapsView<TKey>(IBpfMap map) : IBpfMapOfMaps<TKey> where TKey : unmanaged
{
    public IBpfMap Map { get; } = map;

    public void Set(in TKey key, IBpfMap inner, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Map.Update(in key, BpfMapViews.SlotValue(inner, "map"), flags);
    }

    public bool TryDelete(in TKey key) => Map.TryDelete(in key);

    public bool Contains(in TKey key) => Map.TryLookup<TKey, uint>(in key, out _);

    public override string ToString() => Map.ToString() ?? Map.Name;
}
