using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// BPF_MAP_TYPE_PROG_ARRAY: u32 index → program, the jump table of bpf_tail_call. From C# a value is a program's
/// <see cref="ManagedProgram.Id"/> (where the syscall takes a program fd); <see cref="Set"/> takes the program.
/// </summary>
public sealed class ProgramArrayMap : ManagedMap
{
    private readonly ManagedProgram?[] _programs;
    private readonly Func<int, ManagedProgram?> _resolve;

    internal ProgramArrayMap(MapDefinition definition, int cpuCount, AddressSpace space, Func<int, ManagedProgram?> resolve)
        : base(definition, cpuCount, space)
    {
        if (definition.KeySize != 4 || definition.ValueSize != 4)
        {
            throw new ArgumentException($"program array '{definition.Name}': key and value size must be 4");
        }
        _programs = new ManagedProgram?[definition.MaxEntries];
        _resolve = resolve;
    }

    internal override IEnumerable<MemoryRegion> Regions => [];

    /// <summary>Puts a program in a slot (null empties it).</summary>
    public void Set(int index, ManagedProgram? program)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxEntries);
        Volatile.Write(ref _programs[index], program);
    }

    /// <summary>The program in a slot, or null.</summary>
    public ManagedProgram? Get(uint index) => index < (uint)_programs.Length ? Volatile.Read(ref _programs[index]) : null;

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckKey(key);
        var program = Get(BinaryPrimitives.ReadUInt32LittleEndian(key));
        if (program is null) return MapError.NotFound;
        BinaryPrimitives.WriteInt32LittleEndian(value, program.Id);
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckKey(key);
        CheckUserValue(value.Length);
        if (flags != MapUpdateFlags.Any && flags != MapUpdateFlags.Exist) return MapError.Invalid;
        var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= (uint)MaxEntries) return MapError.TooBig;
        var program = _resolve(BinaryPrimitives.ReadInt32LittleEndian(value));
        if (program is null) return MapError.Invalid;
        Set((int)index, program);
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= (uint)MaxEntries) return MapError.TooBig;
        return Interlocked.Exchange(ref _programs[index], null) is null ? MapError.NotFound : MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        // Like an array: every index is a key.
        uint next = 0;
        if (!key.IsEmpty && BinaryPrimitives.ReadUInt32LittleEndian(key) < (uint)MaxEntries)
        {
            var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
            if (index == (uint)MaxEntries - 1) return MapError.NotFound;
            next = index + 1;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return MapError.None;
    }

    /// <summary>Empties every slot.</summary>
    public override void Clear() => Array.Clear(_programs);
}
