namespace Bpf.Loader;

/// <summary>The attributes of a kernel map to create (BPF_MAP_CREATE). An object file's maps are described by
/// <see cref="Bpf.MapSpec"/>; this is the kernel-facing request.</summary>
public sealed record MapCreateSpec
{
    /// <summary>Map type.</summary>
    public required MapType Type { get; init; }

    /// <summary>Key size in bytes (0 for queue/stack/ringbuf).</summary>
    public uint KeySize { get; init; }

    /// <summary>Value size in bytes (per CPU, for per-CPU maps).</summary>
    public uint ValueSize { get; init; }

    /// <summary>Maximum number of entries (ring buffers: size in bytes, a power-of-two multiple of the page size).</summary>
    public required uint MaxEntries { get; init; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; init; }

    /// <summary>Object name (15 characters at most kept).</summary>
    public string? Name { get; init; }

    /// <summary>For map-in-map types: a map of the shape every inner map must have.</summary>
    public BpfMap? InnerMap { get; init; }

    /// <summary>Loaded BTF object describing key and value, with their type ids (0 = none).</summary>
    public BpfFd? Btf { get; init; }

    /// <summary>BTF type id of the key.</summary>
    public uint BtfKeyTypeId { get; init; }

    /// <summary>BTF type id of the value.</summary>
    public uint BtfValueTypeId { get; init; }

    /// <summary>Per-type extra (<c>map_extra</c>: bloom filter hash count, arena address).</summary>
    public ulong MapExtra { get; init; }
}
