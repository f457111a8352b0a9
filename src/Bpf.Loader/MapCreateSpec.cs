namespace Bpf.Loader;

/// <summary>Map creation flags (<c>map_flags</c>).</summary>
[Flags]
public enum MapFlags : uint
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>BPF_F_NO_PREALLOC (required for LPM tries).</summary>
    NoPrealloc = 1,
    /// <summary>BPF_F_NO_COMMON_LRU.</summary>
    NoCommonLru = 2,
    /// <summary>BPF_F_NUMA_NODE.</summary>
    NumaNode = 4,
    /// <summary>BPF_F_RDONLY: read-only for user space.</summary>
    ReadOnly = 8,
    /// <summary>BPF_F_WRONLY: write-only for user space.</summary>
    WriteOnly = 16,
    /// <summary>BPF_F_STACK_BUILD_ID.</summary>
    StackBuildId = 32,
    /// <summary>BPF_F_ZERO_SEED.</summary>
    ZeroSeed = 64,
    /// <summary>BPF_F_RDONLY_PROG: read-only for programs.</summary>
    ReadOnlyProgram = 128,
    /// <summary>BPF_F_WRONLY_PROG: write-only for programs.</summary>
    WriteOnlyProgram = 256,
    /// <summary>BPF_F_CLONE.</summary>
    Clone = 512,
    /// <summary>BPF_F_MMAPABLE: array maps that can be mmap'ed (global data, 5.5+).</summary>
    Mmapable = 1024,
    /// <summary>BPF_F_PRESERVE_ELEMS.</summary>
    PreserveElements = 2048,
    /// <summary>BPF_F_INNER_MAP.</summary>
    InnerMap = 4096,
}

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
