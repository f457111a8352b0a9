using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf.Engines;

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
}

/// <summary>The outcome of running a program once on a packet or context.</summary>
/// <param name="ReturnValue">The program's 32-bit return value (r0).</param>
/// <param name="Data">The packet after the run (empty for programs without packet data).</param>
/// <param name="Context">The context after the run (empty when none was passed).</param>
public sealed record BpfRunResult(uint ReturnValue, byte[] Data, byte[] Context);

/// <summary>A program of a loaded collection, whichever engine holds it.</summary>
public interface IBpfProgram
{
    /// <summary>The program's name (its function name in the object).</summary>
    string Name { get; }

    /// <summary>The program type.</summary>
    ProgramType Type { get; }

    /// <summary>Runs the program once on <paramref name="data"/> (the packet, for XDP / socket / tc programs) and an
    /// optional context (e.g. <c>struct xdp_md</c> or <c>struct __sk_buff</c> bytes), as BPF_PROG_TEST_RUN does.</summary>
    BpfRunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default);
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

    /// <summary>The program with this name; <see cref="KeyNotFoundException"/> (listing the programs) if none.</summary>
    IBpfProgram Program(string name);
}

/// <summary>Typed element access for any <see cref="IBpfMap"/> (keys and values of unmanaged types, no allocation).</summary>
public static class BpfMapExtensions
{
    /// <summary>Looks up a typed key; false if absent.</summary>
    public static bool TryLookup<TKey, TValue>(this IBpfMap map, in TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
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
        ArgumentNullException.ThrowIfNull(map);
        CheckSizes<TKey, TValue>(map);
        map.Update(AsBytes(in key), AsBytes(in value), flags);
    }

    /// <summary>Deletes a typed key; false if absent.</summary>
    public static bool TryDelete<TKey>(this IBpfMap map, in TKey key) where TKey : unmanaged
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Unsafe.SizeOf<TKey>() != map.KeySize) throw new ArgumentException($"{typeof(TKey).Name} is {Unsafe.SizeOf<TKey>()} bytes; map '{map.Name}' has {map.KeySize}-byte keys");
        return map.TryDelete(AsBytes(in key));
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

    private static void CheckSizes<TKey, TValue>(IBpfMap map) where TKey : unmanaged where TValue : unmanaged
    {
        if (Unsafe.SizeOf<TKey>() != map.KeySize || Unsafe.SizeOf<TValue>() != map.UserValueSize)
        {
            throw new ArgumentException($"{typeof(TKey).Name}/{typeof(TValue).Name} are {Unsafe.SizeOf<TKey>()}/{Unsafe.SizeOf<TValue>()} bytes; map '{map.Name}' has key/value sizes {map.KeySize}/{map.UserValueSize}");
        }
    }

    private static ReadOnlySpan<byte> AsBytes<T>(in T v) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in v));
}
