using Bpf.Btf;
using Bpf.Runtime;

namespace Bpf;

/// <summary>A map's shape: the kernel's BPF_MAP_CREATE attributes, engine-neutral. The managed runtime creates maps
/// from it, and the verifier checks programs against it.</summary>
/// <param name="Name">The map's name.</param>
/// <param name="Type">The map type.</param>
/// <param name="KeySize">Key size in bytes.</param>
/// <param name="ValueSize">Value size in bytes.</param>
/// <param name="MaxEntries">Maximum number of entries (for a ring buffer: its size in bytes).</param>
/// <param name="Flags">map_flags (BPF_F_NO_PREALLOC = 1, BPF_F_RDONLY_PROG = 0x80, ...).</param>
/// <param name="InnerMap">For array/hash of maps: the template inner maps must match.</param>
/// <param name="Fd">The file descriptor an <c>lddw dst, map_fd</c> (pseudo source 1/2) uses to name this map, when
/// instructions name it that way; null when only index references (pseudo source 5/6) are used.</param>
public sealed record MapDefinition(string Name, MapType Type, int KeySize, int ValueSize, int MaxEntries, MapFlags Flags = MapFlags.None, MapDefinition? InnerMap = null, int? Fd = null)
{
    /// <summary>The size of <c>struct bpf_spin_lock</c>.</summary>
    public const int SpinLockSize = 4;

    /// <summary>Whether the map is created with BTF for its value (the kernel's <c>map-&gt;btf</c>): a
    /// <c>bpf_spin_lock</c> needs it. Set from an object's BTF-defined maps, or by the <c>.map</c> directive.</summary>
    public bool HasBtf { get; init; }

    /// <summary>Byte offset of the value's <c>struct bpf_spin_lock</c>, as the kernel finds it in the value's BTF
    /// (<c>btf_record.spin_lock_off</c>); -1 when the value has none. Programs may not load or store its bytes;
    /// they take it with <c>bpf_spin_lock</c> and release it with <c>bpf_spin_unlock</c>.</summary>
    public int SpinLockOffset { get; init; } = -1;

    /// <summary>Whether the value holds a <c>struct bpf_spin_lock</c>.</summary>
    public bool HasSpinLock => SpinLockOffset >= 0;

    /// <summary>Converts an object file's map spec. Sizes are checked against the kernel's creation limits first
    /// (<see cref="MapLimits"/>), inner map templates included, so a size that does not fit the definition never
    /// overflows: a size the kernel refuses throws the kernel's errno; a max_entries above <see cref="int.MaxValue"/>
    /// that the kernel accepts because it allocates lazily (LPM tries, types the managed runtime does not
    /// implement) becomes <see cref="int.MaxValue"/>, a count no managed map can reach.</summary>
    /// <exception cref="MapException">The kernel refuses the sizes (EINVAL, E2BIG), or they are too large for the
    /// managed runtime to represent (ENOMEM). The message names the map.</exception>
    public static MapDefinition FromSpec(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var inner = spec.InnerMap is null ? null : FromSpec(spec.InnerMap);
        if (spec.KeySize <= int.MaxValue && spec.ValueSize <= int.MaxValue && spec.MaxEntries <= int.MaxValue)
        {
            return new MapDefinition(spec.Name, spec.Type, (int)spec.KeySize, (int)spec.ValueSize, (int)spec.MaxEntries, spec.Flags, inner)
            {
                HasBtf = spec.ValueType is not null,
                SpinLockOffset = spec.ValueType is null ? -1 : FindSpinLock(spec.ValueType, 0, 0),
            };
        }
        var error = MapLimits.Check(spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags, out var reason);
        if (error != MapError.None)
        {
            throw new MapException(spec.Name, $"create ({reason})", error);
        }
        if (spec.KeySize > int.MaxValue || spec.ValueSize > int.MaxValue || (IsImplemented(spec.Type) && spec.Type != MapType.LpmTrie))
        {
            throw new MapException(spec.Name, $"create (key size {spec.KeySize}, value size {spec.ValueSize}, max_entries {spec.MaxEntries}: more than the managed runtime can allocate)", MapError.NoMemory);
        }
        return new MapDefinition(spec.Name, spec.Type, (int)spec.KeySize, (int)spec.ValueSize, int.MaxValue, spec.Flags, inner);
    }

    /// <summary>The byte offset of the first <c>struct bpf_spin_lock</c> in a value type (members of nested structs
    /// and the variables of a data section included, as the kernel's btf_find_field walks them), or -1.</summary>
    private static int FindSpinLock(BtfType type, int offset, int depth)
    {
        if (depth > BtfSpec.MaxResolveDepth) return -1;
        type = BtfSpec.Underlying(type);
        switch (type)
        {
            case BtfComposite { IsUnion: false, Name: "bpf_spin_lock" }:
                return offset;
            case BtfComposite c:
                foreach (var m in c.Members)
                {
                    if (m.BitfieldSize != 0) continue;
                    var found = FindSpinLock(m.Type, offset + (int)m.ByteOffset, depth + 1);
                    if (found >= 0) return found;
                }
                return -1;
            case BtfVar v:
                return FindSpinLock(v.Target, offset, depth + 1);
            case BtfDataSec d:
                foreach (var v in d.Variables)
                {
                    var found = FindSpinLock(v.Type, offset + (int)v.Offset, depth + 1);
                    if (found >= 0) return found;
                }
                return -1;
            default:
                return -1;
        }
    }

    private static bool IsImplemented(MapType type) => type is MapType.Array or MapType.PerCpuArray or MapType.Hash or MapType.PerCpuHash
        or MapType.LruHash or MapType.LruPerCpuHash or MapType.LpmTrie or MapType.RingBuf or MapType.ProgArray or MapType.ArrayOfMaps
        or MapType.HashOfMaps or MapType.Queue or MapType.Stack or MapType.PerfEventArray;

    /// <summary>Whether two definitions are compatible as inner maps (type, key, value and flags equal; the kernel
    /// also allows max_entries to differ only for some types, here it must match unless the type is an array).</summary>
    internal bool CompatibleInner(MapDefinition other) =>
        Type == other.Type && KeySize == other.KeySize && ValueSize == other.ValueSize && Flags == other.Flags;
}
