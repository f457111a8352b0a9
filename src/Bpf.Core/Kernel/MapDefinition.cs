using Bpf.Objects;

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
public sealed record MapDefinition(string Name, MapType Type, int KeySize, int ValueSize, int MaxEntries, uint Flags = 0, MapDefinition? InnerMap = null, int? Fd = null)
{
    /// <summary>BPF_F_NO_PREALLOC.</summary>
    public const uint FlagNoPrealloc = 1;

    /// <summary>BPF_F_RDONLY_PROG: programs may read the map but not write it.</summary>
    public const uint FlagReadOnlyProgram = 0x80;

    /// <summary>Converts an object file's map spec.</summary>
    public static MapDefinition FromSpec(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new MapDefinition(spec.Name, spec.Type, checked((int)spec.KeySize), checked((int)spec.ValueSize),
            checked((int)spec.MaxEntries), spec.Flags, spec.InnerMap is null ? null : FromSpec(spec.InnerMap));
    }

    /// <summary>Whether two definitions are compatible as inner maps (type, key, value and flags equal; the kernel
    /// also allows max_entries to differ only for some types, here it must match unless the type is an array).</summary>
    internal bool CompatibleInner(MapDefinition other) =>
        Type == other.Type && KeySize == other.KeySize && ValueSize == other.ValueSize && Flags == other.Flags;
}
