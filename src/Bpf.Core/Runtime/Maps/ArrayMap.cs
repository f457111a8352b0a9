using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf.Runtime;

/// <summary>BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY: max_entries preallocated, zeroed values indexed by a
/// u32 key; elements cannot be deleted. Values are 8-byte aligned slots of one pinned region.</summary>
public sealed class ArrayMap : ManagedMap
{
    private readonly MemoryRegion _region;
    private readonly int _elementStride;
    private readonly int _cpuStride;

    internal ArrayMap(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        if (definition.KeySize != 4) throw new ArgumentException($"array map '{definition.Name}': key size must be 4, not {definition.KeySize}");
        _cpuStride = RoundUp8(definition.ValueSize);
        _elementStride = IsPerCpu ? _cpuStride * cpuCount : _cpuStride;
        _region = space.Allocate($"map '{definition.Name}' values", (long)_elementStride * definition.MaxEntries, writable: !ReadOnlyForPrograms);
    }

    /// <summary>The whole value memory (element i at i × 8-aligned value size; per-CPU: CPU c of element i at
    /// (i × CpuCount + c) × stride). Global data sections are element 0.</summary>
    public Span<byte> Memory => _region.Data;

    /// <summary>The virtual address of element 0 as programs see it.</summary>
    public ulong Address => _region.Address;

    internal override IEnumerable<MemoryRegion> Regions => [_region];

    private static bool TryIndex(ReadOnlySpan<byte> key, int max, out int index)
    {
        var k = BinaryPrimitives.ReadUInt32LittleEndian(key);
        index = (int)Math.Min(k, int.MaxValue);
        return k < (uint)max;
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        if (!TryIndex(key, MaxEntries, out var index)) return MapError.NotFound;
        ReadAllCpus(_region.Data.Slice(index * _elementStride, _elementStride), value);
        return MapError.None;
    }

    /// <summary>A lookup from C# of a map that is not per-CPU, <typeparamref name="TValue"/> being
    /// <see cref="ManagedMap.ValueSize"/> bytes (the caller checked).</summary>
    internal bool TryLookupDirect<TValue>(uint index, out TValue value) where TValue : unmanaged
    {
        if (index >= (uint)MaxEntries)
        {
            value = default;
            return false;
        }
        value = Unsafe.ReadUnaligned<TValue>(ref Unsafe.Add(ref MemoryMarshal.GetReference(_region.Data), (nint)index * _elementStride));
        return true;
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        var error = CheckFlags((ulong)flags);
        if (error != MapError.None) return error;
        if (!TryIndex(key, MaxEntries, out var index)) return MapError.TooBig;
        if (flags.HasFlag(MapUpdateFlags.NoExist)) return MapError.Exists;
        WriteAllCpus(_region.Data.Slice(index * _elementStride, _elementStride), value);
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        return MapError.Invalid;
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        // The kernel: a missing or out-of-range key restarts at 0; the last index ends the iteration.
        uint next;
        if (key.IsEmpty || BinaryPrimitives.ReadUInt32LittleEndian(key) >= (uint)MaxEntries)
        {
            next = 0;
        }
        else
        {
            var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
            if (index == (uint)MaxEntries - 1) return MapError.NotFound;
            next = index + 1;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return MapError.None;
    }

    /// <summary>Zeroes every value.</summary>
    public override void Clear() => _region.Data.Clear();

    internal override bool HasForEach => true;

    /// <summary>The kernel's bpf_for_each_array_elem: every index 0..max_entries-1 in order, the key a u32.</summary>
    internal override ulong ForEachNext(ref ulong cursor, Span<byte> key, int cpu)
    {
        if (cursor >= (ulong)MaxEntries) return 0;
        var index = (uint)cursor;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(key, index);
        cursor++;
        return _region.Address + (ulong)index * (ulong)_elementStride + (IsPerCpu ? (ulong)(cpu * _cpuStride) : 0);
    }

    internal override ulong ProgramLookup(ReadOnlySpan<byte> key, int cpu)
    {
        if (!TryIndex(key, MaxEntries, out var index)) return 0;
        return _region.Address + (ulong)index * (ulong)_elementStride + (IsPerCpu ? (ulong)(cpu * _cpuStride) : 0);
    }

    internal override MapError ProgramUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags, int cpu)
    {
        if (ReadOnlyForPrograms) return MapError.PermissionDenied;
        var error = CheckFlags(flags);
        if (error != MapError.None) return error;
        if (!TryIndex(key, MaxEntries, out var index)) return MapError.TooBig;
        if ((flags & (ulong)MapUpdateFlags.NoExist) != 0) return MapError.Exists;
        CopyProgramValue(value, _region.Data.Slice(index * _elementStride + (IsPerCpu ? cpu * _cpuStride : 0), ValueSize));
        return MapError.None;
    }

    internal override MapError ProgramDelete(ReadOnlySpan<byte> key) => MapError.Invalid;
}
