using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf;

// "One API, two engines": the same user code opens an object, gets a map, updates it and runs a program,
// whether the programs live in the Linux kernel (Bpf.Loader's KernelCollection) or in the managed runtime's
// interpreter. These interfaces are that common surface; each engine adds its own extras on its concrete types.

/// <summary>Which engine runs a collection's programs.</summary>
public enum Engine
{
    /// <summary>The Linux kernel: programs verified and JIT-compiled by the kernel, maps are kernel maps.</summary>
    Kernel,
    /// <summary>The managed interpreter: programs and maps live in this process.</summary>
    Interpreter,
}

/// <summary>Which engine the caller wants.</summary>
public enum EngineChoice
{
    /// <summary>The kernel when this process can load programs there; otherwise the interpreter (and the result says why).</summary>
    Auto,
    /// <summary>The kernel, or an error; never falls back.</summary>
    Kernel,
    /// <summary>The managed interpreter, even where the kernel is available.</summary>
    Interpreter,
}

/// <summary>A map of a loaded collection, whichever engine holds it. Keys and values are raw bytes of exactly
/// <see cref="KeySize"/> and <see cref="UserValueSize"/> bytes; <see cref="BpfMapExtensions"/> adds typed access.</summary>
public interface IBpfMap
{
    /// <summary>The map's name in the object file.</summary>
    string Name { get; }

    /// <summary>Map type.</summary>
    MapType Type { get; }

    /// <summary>Key size in bytes.</summary>
    int KeySize { get; }

    /// <summary>Value size in bytes (of one CPU's value, for per-CPU maps).</summary>
    int ValueSize { get; }

    /// <summary>Maximum number of entries.</summary>
    int MaxEntries { get; }

    /// <summary>Bytes of a value as user space reads and writes it (per-CPU maps: one 8-byte-aligned slot per CPU).</summary>
    int UserValueSize { get; }

    /// <summary>Copies the value of <paramref name="key"/> into <paramref name="value"/>; false if the key is absent.</summary>
    bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value);

    /// <summary>Creates or replaces an element as BPF_MAP_UPDATE_ELEM does; throws on the kernel's errors.</summary>
    void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any);

    /// <summary>Deletes an element; false if it was absent.</summary>
    bool TryDelete(ReadOnlySpan<byte> key);

    /// <summary>The key after <paramref name="key"/> (the first key when <paramref name="key"/> is empty); false at the end.</summary>
    bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey);

    /// <summary>Removes an element and copies its value out, as BPF_MAP_LOOKUP_AND_DELETE_ELEM does: pops a queue or
    /// stack (<paramref name="key"/> empty), or takes a hash map's element. False when the key is absent or the
    /// queue/stack is empty; a <see cref="Runtime.MapException"/> (EOPNOTSUPP / ENOTSUPP) for map types without it.</summary>
    bool TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value);

    /// <summary>Consumes the next record of a ring buffer (<see cref="MapType.RingBuf"/>): its bytes as the program
    /// submitted them (discarded records are skipped); false when no complete record is waiting. Never blocks.</summary>
    /// <exception cref="NotSupportedException">The map is not a ring buffer.</exception>
    bool TryReadRecord(out byte[] record);
}

/// <summary>A program of a loaded collection, whichever engine holds it.</summary>
public interface IBpfProgram
{
    /// <summary>The program's name (its function name in the object).</summary>
    string Name { get; }

    /// <summary>The program type.</summary>
    ProgramType Type { get; }

    /// <summary>Runs the program once on <paramref name="data"/> (the packet, for XDP / socket / tc programs) and an
    /// optional context (e.g. <c>struct xdp_md</c> or <c>struct __sk_buff</c> bytes), as BPF_PROG_TEST_RUN does.</summary>
    /// <exception cref="BpfProgramFaultException">The program faulted (the interpreter; names the instruction).</exception>
    /// <exception cref="ObjectDisposedException">The collection was disposed (names the program).</exception>
    RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default);

    /// <summary>Runs the program <paramref name="repeat"/> times on one packet and context that persist from run to run,
    /// as BPF_PROG_TEST_RUN's repeat does (a program that increments a packet byte leaves it incremented
    /// <paramref name="repeat"/> times), and returns the last run's outcome with the mean time per run.</summary>
    RunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context, int repeat);
}

/// <summary>An object file's maps and programs, loaded into one engine. Disposing releases everything.</summary>
public interface IBpfCollection : IDisposable
{
    /// <summary>The engine holding the maps and programs.</summary>
    Engine Engine { get; }

    /// <summary>Why this engine: asked for explicitly, or (for <see cref="EngineChoice.Auto"/>) why the kernel was or was not usable.</summary>
    string EngineReason { get; }

    /// <summary>The maps by name.</summary>
    IReadOnlyDictionary<string, IBpfMap> Maps { get; }

    /// <summary>The programs by name.</summary>
    IReadOnlyDictionary<string, IBpfProgram> Programs { get; }

    /// <summary>The map with this name; <see cref="KeyNotFoundException"/> (listing the maps) if none.</summary>
    IBpfMap Map(string name);

    /// <summary>The program with this name; <see cref="KeyNotFoundException"/> (listing the programs) if the object has
    /// none; <see cref="NotSupportedException"/> (saying why, the original error as its inner exception where there is
    /// one) if the object has it but the engine left it out — the same on both engines.</summary>
    IBpfProgram Program(string name);

    /// <summary>The names of the object's global variables (in .data, .bss, .rodata and their subsections).</summary>
    IReadOnlyList<string> VariableNames { get; }

    /// <summary>A copy of a global variable's current bytes.</summary>
    /// <exception cref="KeyNotFoundException">No such variable (the message lists them).</exception>
    byte[] ReadVariable(string name);

    /// <summary>Sets a global variable; the programs' next runs see it.</summary>
    /// <exception cref="KeyNotFoundException">No such variable.</exception>
    /// <exception cref="ArgumentException">The value's size is not the variable's.</exception>
    /// <exception cref="BpfException">EPERM: the variable is in a read-only section (.rodata), frozen once loaded on
    /// both engines; set it on the ObjectSpec before loading.</exception>
    void WriteVariable(string name, ReadOnlySpan<byte> value);
}

/// <summary>The values of one key of a per-CPU map: one value per possible CPU, in CPU order.</summary>
/// <typeparam name="T">The value type (one CPU's value).</typeparam>
public readonly struct PerCpu<T> : IReadOnlyList<T> where T : unmanaged
{
    private readonly T[] _values;

    /// <summary>Wraps one value per CPU.</summary>
    public PerCpu(T[] values) => _values = values ?? throw new ArgumentNullException(nameof(values));

    /// <summary>CPU <paramref name="cpu"/>'s value.</summary>
    public T this[int cpu] => _values[cpu];

    /// <summary>The number of CPUs.</summary>
    public int Count => _values?.Length ?? 0;

    /// <summary>The values as a span.</summary>
    public ReadOnlySpan<T> AsSpan() => _values;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_values ?? [])).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Typed access for any <see cref="IBpfMap"/>, the same on both engines: keys and values of unmanaged types,
/// per-CPU values, iteration, batches. Sizes are checked against the map's, and a per-CPU map used with one value says
/// "per-CPU".</summary>
public static class BpfMapExtensions
{
    /// <summary>Looks up a typed key; false if absent.</summary>
    public static bool TryLookup<TKey, TValue>(this IBpfMap map, in TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        // The interpreter's hash and array maps: straight to the map's typed read (same answers, no span round trip).
        if (map is InterpreterMap interpreted && interpreted.Live is var managed && managed.SizesMatch<TKey, TValue>()
            && managed.TryLookupDirect(ref Unsafe.AsRef(in key), out value, out var found))
        {
            return found;
        }
        ArgumentNullException.ThrowIfNull(map);
        CheckSizes<TKey, TValue>(map);
        value = default;
        return map.TryLookup(AsBytes(in key), MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
    }

    /// <summary>Looks up a typed key; <see cref="KeyNotFoundException"/> if absent.</summary>
    public static TValue Lookup<TKey, TValue>(this IBpfMap map, in TKey key) where TKey : unmanaged where TValue : unmanaged =>
        map.TryLookup<TKey, TValue>(in key, out var v) ? v : throw new KeyNotFoundException($"key {key} not found in {map.Type} map '{map.Name}'");

    /// <summary>Creates or replaces a typed element.</summary>
    public static void Update<TKey, TValue>(this IBpfMap map, in TKey key, in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        if (map is InterpreterMap interpreted && interpreted.Live is var managed && managed.SizesMatch<TKey, TValue>())
        {
            managed.Update(key, value, flags);
            return;
        }
        ArgumentNullException.ThrowIfNull(map);
        CheckSizes<TKey, TValue>(map);
        map.Update(AsBytes(in key), AsBytes(in value), flags);
    }

    /// <summary>Deletes a typed key; false if absent.</summary>
    public static bool TryDelete<TKey>(this IBpfMap map, in TKey key) where TKey : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        CheckKey<TKey>(map);
        return map.TryDelete(AsBytes(in key));
    }

    /// <summary>Deletes a typed key; <see cref="KeyNotFoundException"/> if absent.</summary>
    public static void Delete<TKey>(this IBpfMap map, in TKey key) where TKey : unmanaged
    {
        if (!map.TryDelete(in key)) throw new KeyNotFoundException($"key {key} not found in {map.Type} map '{map.Name}'");
    }

    /// <summary>True for the map types whose values are one slot per CPU.</summary>
    public static bool IsPerCpu(this IBpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map.Type is MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage;
    }

    /// <summary>The number of per-CPU slots in a value of a per-CPU map (1 for other maps).</summary>
    public static int CpuCount(this IBpfMap map) => map.IsPerCpu() ? map.UserValueSize / Stride(map) : 1;

    /// <summary>Looks up a key of a per-CPU map: one value per CPU; false if absent.</summary>
    /// <exception cref="ArgumentException">Not a per-CPU map, or the sizes do not match.</exception>
    public static bool TryLookupPerCpu<TKey, TValue>(this IBpfMap map, in TKey key, out PerCpu<TValue> values) where TKey : unmanaged where TValue : unmanaged
    {
        CheckPerCpu<TKey, TValue>(map);
        var buffer = new byte[map.UserValueSize];
        values = default;
        if (!map.TryLookup(AsBytes(in key), buffer)) return false;
        int stride = Stride(map);
        var result = new TValue[map.UserValueSize / stride];
        for (int cpu = 0; cpu < result.Length; cpu++) result[cpu] = MemoryMarshal.Read<TValue>(buffer.AsSpan(cpu * stride));
        values = new PerCpu<TValue>(result);
        return true;
    }

    /// <summary>Looks up a key of a per-CPU map; <see cref="KeyNotFoundException"/> if absent.</summary>
    public static PerCpu<TValue> LookupPerCpu<TKey, TValue>(this IBpfMap map, in TKey key) where TKey : unmanaged where TValue : unmanaged =>
        map.TryLookupPerCpu<TKey, TValue>(in key, out var v) ? v : throw new KeyNotFoundException($"key {key} not found in {map.Type} map '{map.Name}'");

    /// <summary>Sets every CPU's value of a key of a per-CPU map (<paramref name="values"/> has one per CPU).</summary>
    public static void UpdatePerCpu<TKey, TValue>(this IBpfMap map, in TKey key, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        CheckPerCpu<TKey, TValue>(map);
        int stride = Stride(map);
        int cpus = map.UserValueSize / stride;
        if (values.Length != cpus) throw new ArgumentException($"per-CPU map '{map.Name}' takes one value per CPU ({cpus}); {values.Length} given", nameof(values));
        var buffer = new byte[map.UserValueSize];
        for (int cpu = 0; cpu < cpus; cpu++) MemoryMarshal.Write(buffer.AsSpan(cpu * stride), in values[cpu]);
        map.Update(AsBytes(in key), buffer, flags);
    }

    /// <summary>Every key, in next-key order (one step at a time; a concurrently changing map may repeat or skip keys).</summary>
    public static IReadOnlyList<byte[]> Keys(this IBpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var keys = new List<byte[]>();
        var current = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        // A bound, so a map that keeps changing cannot make this loop forever.
        long limit = 4L * map.MaxEntries + 16;
        while (keys.Count < limit && map.TryGetNextKey(current, next))
        {
            keys.Add(next.ToArray());
            current = keys[^1];
        }
        return keys;
    }

    /// <summary>Every key, typed.</summary>
    public static IReadOnlyList<TKey> Keys<TKey>(this IBpfMap map) where TKey : unmanaged
    {
        CheckKey<TKey>(map);
        // The same walk as Keys(), with the keys held as TKey (no array per key).
        var keys = new List<TKey>();
        TKey current = default, next = default;
        long limit = 4L * map.MaxEntries + 16;
        while (keys.Count < limit && map.TryGetNextKey(keys.Count == 0 ? [] : AsBytes(in current), MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref next, 1))))
        {
            keys.Add(next);
            current = next;
        }
        return keys;
    }

    /// <summary>Every entry, typed (keys deleted between the key walk and their lookup are left out).</summary>
    public static IReadOnlyList<KeyValuePair<TKey, TValue>> Entries<TKey, TValue>(this IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(map);
        var entries = new List<KeyValuePair<TKey, TValue>>();
        foreach (var key in map.Keys<TKey>())
        {
            if (map.TryLookup<TKey, TValue>(in key, out var value)) entries.Add(new(key, value));
        }
        return entries;
    }

    /// <summary>Every entry of a per-CPU map, typed.</summary>
    public static IReadOnlyList<KeyValuePair<TKey, PerCpu<TValue>>> EntriesPerCpu<TKey, TValue>(this IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        CheckPerCpu<TKey, TValue>(map);
        var entries = new List<KeyValuePair<TKey, PerCpu<TValue>>>();
        foreach (var key in map.Keys<TKey>())
        {
            if (map.TryLookupPerCpu<TKey, TValue>(in key, out var values)) entries.Add(new(key, values));
        }
        return entries;
    }

    /// <summary>Looks up many keys; returns the entries found (absent keys are left out).</summary>
    public static IReadOnlyList<KeyValuePair<TKey, TValue>> LookupBatch<TKey, TValue>(this IBpfMap map, ReadOnlySpan<TKey> keys) where TKey : unmanaged where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(map);
        var found = new List<KeyValuePair<TKey, TValue>>(keys.Length);
        foreach (ref readonly var key in keys)
        {
            if (map.TryLookup<TKey, TValue>(in key, out var value)) found.Add(new(key, value));
        }
        return found;
    }

    /// <summary>Creates or replaces many elements, in order; stops at the first error (elements before it stay written).</summary>
    public static void UpdateBatch<TKey, TValue>(this IBpfMap map, ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        CheckSizes<TKey, TValue>(map);
        if (keys.Length != values.Length) throw new ArgumentException($"{keys.Length} keys but {values.Length} values for map '{map.Name}'", nameof(values));
        for (int i = 0; i < keys.Length; i++) map.Update(in keys[i], in values[i], flags);
    }

    /// <summary>Deletes many keys; returns how many were present.</summary>
    public static int DeleteBatch<TKey>(this IBpfMap map, ReadOnlySpan<TKey> keys) where TKey : unmanaged
    {
        CheckKey<TKey>(map);
        int deleted = 0;
        foreach (ref readonly var key in keys)
        {
            if (map.TryDelete(AsBytes(in key))) deleted++;
        }
        return deleted;
    }

    private static int Stride(IBpfMap map) => (map.ValueSize + 7) & ~7;

    internal static void CheckKey<TKey>(IBpfMap map) where TKey : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Unsafe.SizeOf<TKey>() != map.KeySize) throw new ArgumentException($"{typeof(TKey).Name} is {Unsafe.SizeOf<TKey>()} bytes; map '{map.Name}' has {map.KeySize}-byte keys");
    }

    internal static void CheckSizes<TKey, TValue>(IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Unsafe.SizeOf<TKey>() == map.KeySize && Unsafe.SizeOf<TValue>() == map.UserValueSize) return;
        if (map.IsPerCpu())
        {
            throw new ArgumentException($"map '{map.Name}' is a per-CPU map ({map.Type}): a value is one {map.ValueSize}-byte slot per CPU " +
                $"({map.CpuCount()} CPUs, {map.UserValueSize} bytes); use LookupPerCpu/UpdatePerCpu with PerCpu<{typeof(TValue).Name}> " +
                $"({typeof(TKey).Name}/{typeof(TValue).Name} are {Unsafe.SizeOf<TKey>()}/{Unsafe.SizeOf<TValue>()} bytes)");
        }
        throw new ArgumentException($"{typeof(TKey).Name}/{typeof(TValue).Name} are {Unsafe.SizeOf<TKey>()}/{Unsafe.SizeOf<TValue>()} bytes; map '{map.Name}' has key/value sizes {map.KeySize}/{map.UserValueSize}");
    }

    internal static void CheckPerCpu<TKey, TValue>(IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        CheckKey<TKey>(map);
        if (!map.IsPerCpu()) throw new ArgumentException($"map '{map.Name}' ({map.Type}) is not a per-CPU map; use Lookup/Update");
        if (Unsafe.SizeOf<TValue>() != map.ValueSize)
            throw new ArgumentException($"{typeof(TValue).Name} is {Unsafe.SizeOf<TValue>()} bytes; per-CPU map '{map.Name}' has {map.ValueSize}-byte values per CPU");
    }

    private static ReadOnlySpan<byte> AsBytes<T>(in T v) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in v));
}

/// <summary>Typed global variables for any <see cref="IBpfCollection"/>.</summary>
public static class BpfCollectionExtensions
{
    /// <summary>A global variable's current value.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/>'s size is not the variable's.</exception>
    public static T GetVariable<T>(this IBpfCollection collection, string name) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(collection);
        var bytes = collection.ReadVariable(name);
        if (bytes.Length != Unsafe.SizeOf<T>()) throw new ArgumentException($"{typeof(T).Name} is {Unsafe.SizeOf<T>()} bytes; variable '{name}' has {bytes.Length}");
        return MemoryMarshal.Read<T>(bytes);
    }

    /// <summary>Sets a global variable (see <see cref="IBpfCollection.WriteVariable"/>).</summary>
    public static void SetVariable<T>(this IBpfCollection collection, string name, in T value) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(collection);
        collection.WriteVariable(name, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
    }
}
