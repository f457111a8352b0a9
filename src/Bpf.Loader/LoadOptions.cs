namespace Bpf.Loader;

/// <summary>Verifier log verbosity (<c>log_level</c> bits).</summary>
[Flags]
public enum VerifierLogLevel : uint
{
    /// <summary>No log unless the load fails (then level <see cref="Basic"/> is requested for the retry).</summary>
    None = 0,
    /// <summary>Level 1: the verifier's path through the program and the error.</summary>
    Basic = 1,
    /// <summary>Level 2: every instruction with full register state.</summary>
    Verbose = 2,
    /// <summary>BPF_LOG_STATS: statistics only ("processed N insns", "verification time N usec").</summary>
    Stats = 4,
}

/// <summary>Options for <see cref="BpfProgram.Load"/>.</summary>
public sealed record LoadOptions
{
    /// <summary>Expected attach type, required at load time by some program types (cgroup sock addr, sk_lookup, ...).</summary>
    public AttachType? ExpectedAttachType { get; init; }

    /// <summary>
    /// Log level wanted on success. With <see cref="VerifierLogLevel.None"/> the log is requested only after a
    /// first failure; otherwise it is requested from the start and kept in <see cref="BpfProgram.VerifierLog"/>.
    /// </summary>
    public VerifierLogLevel LogLevel { get; init; }

    /// <summary>First log buffer size in bytes; grown on ENOSPC up to <see cref="MaxLogSize"/>.</summary>
    public int InitialLogSize { get; init; } = 64 * 1024;

    /// <summary>Largest log buffer the loader will allocate (the kernel caps it near 1 GiB on 6.4+, 16 MiB before).</summary>
    public int MaxLogSize { get; init; } = 16 * 1024 * 1024 - 1;

    /// <summary><c>prog_flags</c> (BPF_F_STRICT_ALIGNMENT = 1, BPF_F_ANY_ALIGNMENT = 2, BPF_F_SLEEPABLE = 16, BPF_F_XDP_HAS_FRAGS = 32, ...).</summary>
    public uint ProgramFlags { get; init; }

    /// <summary><c>kern_version</c>; only kprobe programs on kernels before 5.0 check it.</summary>
    public uint KernelVersion { get; init; }

    /// <summary>Object name shown by bpftool (truncated to 15 characters; characters other than [A-Za-z0-9_.] become '_').</summary>
    public string? Name { get; init; }

    /// <summary>Map references to patch into the instructions before loading (see <see cref="MapRelocation"/>).</summary>
    public IReadOnlyList<MapRelocation>? MapRelocations { get; init; }

    /// <summary>In-kernel BTF type id to attach to (tracing, LSM, struct_ops programs).</summary>
    public uint AttachBtfId { get; init; }

    /// <summary>How many times to retry a load that fails with EAGAIN (the verifier was interrupted).</summary>
    public int EagainRetries { get; init; } = 5;

    /// <summary>Loaded BTF with func_info / line_info for the program (null: none).</summary>
    public ProgramBtfInfo? ProgramBtf { get; init; }
}

/// <summary>
/// Points one <c>lddw</c> (wide, two-slot) instruction at a live map: the loader writes the map's fd into the
/// immediate and sets the source field to BPF_PSEUDO_MAP_FD (1), or to BPF_PSEUDO_MAP_VALUE (2) with
/// <see cref="ValueOffset"/> in the second slot's immediate for a pointer into an array map's value.
/// </summary>
/// <param name="InstructionIndex">Slot index of the first slot of the <c>lddw</c>.</param>
/// <param name="Map">The map to reference.</param>
/// <param name="IsValue">False: map pointer (src=1). True: pointer to the value at <paramref name="ValueOffset"/> (src=2).</param>
/// <param name="ValueOffset">Byte offset into the map value (only with <paramref name="IsValue"/>).</param>
public sealed record MapRelocation(int InstructionIndex, BpfMap Map, bool IsValue = false, uint ValueOffset = 0);

/// <summary>Flags for BPF_PROG_TEST_RUN.</summary>
[Flags]
public enum TestRunFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>BPF_F_TEST_RUN_ON_CPU: run on <see cref="TestRunOptions.Cpu"/> (raw tracepoints).</summary>
    RunOnCpu = 1,
    /// <summary>BPF_F_TEST_XDP_LIVE_FRAMES: XDP frames really transmitted/redirected (6.0+).</summary>
    XdpLiveFrames = 2,
    /// <summary>BPF_F_TEST_SKB_CHECKSUM_COMPLETE (6.10+).</summary>
    SkbChecksumComplete = 4,
}

/// <summary>Options for <see cref="BpfProgram.TestRun"/>.</summary>
public sealed record TestRunOptions
{
    /// <summary>How many times the kernel runs the program (the reported duration is the mean).</summary>
    public uint Repeat { get; init; } = 1;

    /// <summary>Test run flags.</summary>
    public TestRunFlags Flags { get; init; }

    /// <summary>CPU for <see cref="TestRunFlags.RunOnCpu"/>.</summary>
    public uint Cpu { get; init; }

    /// <summary>Output data buffer size; default input size + 512 (XDP may grow the packet), grown once if the kernel asks.</summary>
    public int? DataOutCapacity { get; init; }

    /// <summary>Output context buffer size; default the input context size (0 when no context is given).</summary>
    public int? ContextOutCapacity { get; init; }
}
