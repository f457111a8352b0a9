namespace Bpf.Verifier;

/// <summary>The program types the verifier knows, with the kernel's numbering (enum bpf_prog_type).</summary>
public enum ProgramType
{
    /// <summary>Socket filter: the context is a read-mostly <c>__sk_buff</c>; no direct packet access.</summary>
    SocketFilter = 1,
    /// <summary>Kprobe: the context is <c>struct pt_regs</c> (read-only).</summary>
    Kprobe = 2,
    /// <summary>tc classifier: <c>__sk_buff</c> with direct packet access and packet-changing helpers.</summary>
    SchedCls = 3,
    /// <summary>tc action: as <see cref="SchedCls"/>.</summary>
    SchedAct = 4,
    /// <summary>Tracepoint: the context is the raw tracepoint record (read-only, after the 8-byte header).</summary>
    Tracepoint = 5,
    /// <summary>XDP: the context is <c>xdp_md</c> with data/data_end/data_meta.</summary>
    Xdp = 6,
    /// <summary>cgroup skb: <c>__sk_buff</c>, return value must be 0 or 1.</summary>
    CgroupSkb = 8,
    /// <summary>Not a kernel type: R1 points to <see cref="VerifierOptions.MemorySize"/> bytes of read/write memory
    /// and R2 holds that length, as the interpreter runs conformance programs. Only base helpers are offered.</summary>
    Memory = 1000,
}

/// <summary>The capabilities the loader holds; the kernel's rules differ for each.</summary>
public enum PrivilegeMode
{
    /// <summary>Root / CAP_BPF + CAP_PERFMON: loops, uninitialized stack reads and pointer leaks allowed.</summary>
    Privileged,
    /// <summary>CAP_BPF without CAP_PERFMON: loops and bpf-to-bpf calls allowed, no pointer leaks, no uninitialized
    /// stack reads, pointer comparisons restricted.</summary>
    CapBpfOnly,
    /// <summary>No capabilities: additionally no back-edges, no bpf-to-bpf calls, a 4,096-instruction limit.</summary>
    Unprivileged,
}

/// <summary>Map types with the kernel's numbering (enum bpf_map_type).</summary>
public enum MapType
{
    /// <summary>hash</summary>
    Hash = 1,
    /// <summary>array</summary>
    Array = 2,
    /// <summary>prog_array (tail calls)</summary>
    ProgArray = 3,
    /// <summary>perf_event_array</summary>
    PerfEventArray = 4,
    /// <summary>percpu_hash</summary>
    PercpuHash = 5,
    /// <summary>percpu_array</summary>
    PercpuArray = 6,
    /// <summary>stack_trace</summary>
    StackTrace = 7,
    /// <summary>cgroup_array</summary>
    CgroupArray = 8,
    /// <summary>lru_hash</summary>
    LruHash = 9,
    /// <summary>lru_percpu_hash</summary>
    LruPercpuHash = 10,
    /// <summary>lpm_trie</summary>
    LpmTrie = 11,
    /// <summary>array_of_maps</summary>
    ArrayOfMaps = 12,
    /// <summary>hash_of_maps</summary>
    HashOfMaps = 13,
    /// <summary>devmap</summary>
    DevMap = 14,
    /// <summary>sockmap</summary>
    SockMap = 15,
    /// <summary>cpumap</summary>
    CpuMap = 16,
    /// <summary>xskmap</summary>
    XskMap = 17,
    /// <summary>queue</summary>
    Queue = 22,
    /// <summary>stack</summary>
    Stack = 23,
    /// <summary>devmap_hash</summary>
    DevMapHash = 25,
    /// <summary>ringbuf</summary>
    RingBuf = 27,
}

/// <summary>A map the program refers to: its kernel parameters and how instructions name it.</summary>
/// <param name="Name">Name for messages (and the <c>map:NAME</c> assembler syntax).</param>
/// <param name="Type">The map type.</param>
/// <param name="KeySize">Key size in bytes (0 for ringbuf).</param>
/// <param name="ValueSize">Value size in bytes (0 for ringbuf).</param>
/// <param name="MaxEntries">Maximum entries (ring size in bytes for ringbuf).</param>
/// <param name="Flags">Map flags.</param>
/// <param name="Fd">The file descriptor an <c>lddw dst, map_fd</c> (pseudo source 1/2) uses to name this map;
/// null when only index references (pseudo source 5/6, index into <see cref="VerifierOptions.Maps"/>) are used.</param>
public sealed record MapDefinition(string Name, MapType Type, int KeySize, int ValueSize, int MaxEntries, uint Flags = 0, int? Fd = null);

/// <summary>A source position, for errors when the object carries BTF line info.</summary>
/// <param name="File">Source file name.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
/// <param name="Text">The source line text, when known.</param>
public sealed record SourceLocation(string File, int Line, int Column, string? Text);

/// <summary>What to verify against: program type, privileges, maps and limits.</summary>
public sealed class VerifierOptions
{
    /// <summary>The program type (decides the context layout, the helpers offered and the return range).</summary>
    public ProgramType ProgramType { get; init; } = ProgramType.SocketFilter;

    /// <summary>The loader's privileges; privileged by default.</summary>
    public PrivilegeMode Privilege { get; init; } = PrivilegeMode.Privileged;

    /// <summary>Maps the program's lddw instructions refer to.</summary>
    public IReadOnlyList<MapDefinition> Maps { get; init; } = [];

    /// <summary>Maximum program length in slots; null means the kernel's (4,096 unprivileged, 1,000,000 otherwise).</summary>
    public int? MaxInstructions { get; init; }

    /// <summary>Budget of simulated instructions (the kernel's 1,000,000).</summary>
    public int MaxProcessedInstructions { get; init; } = 1_000_000;

    /// <summary>Maximum pending branch states (the kernel's 8,192).</summary>
    public int MaxPendingStates { get; init; } = 8192;

    /// <summary>For <see cref="ProgramType.Memory"/>: the size of the memory R1 points to.</summary>
    public int MemorySize { get; init; }

    /// <summary>Whether the program is GPL-compatible (some helpers are GPL-only). True by default.</summary>
    public bool GplCompatible { get; init; } = true;

    /// <summary>Maps an instruction index to its source position (from BTF line info), or null.</summary>
    public Func<int, SourceLocation?>? SourceLocator { get; init; }

    /// <summary>Also produce a log in the kernel's style (instruction lines on the failing path, the error, statistics).</summary>
    public bool CollectLog { get; init; }

    /// <summary>The defaults: privileged socket filter without maps.</summary>
    public static VerifierOptions Default { get; } = new();

    internal int EffectiveMaxInstructions => MaxInstructions ?? (Privilege == PrivilegeMode.Unprivileged ? 4096 : 1_000_000);
}
