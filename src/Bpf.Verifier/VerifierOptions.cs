namespace Bpf;

/// <summary>Program types the verifier understands beyond the kernel's own (<see cref="Bpf.ProgramType"/>).</summary>
public static class VerifierProgramTypes
{
    /// <summary>Not a kernel type: R1 points to <see cref="VerifierOptions.MemorySize"/> bytes of read/write memory
    /// and R2 holds that length, as the interpreter runs conformance programs. Only base helpers are offered.
    /// Its value lies outside the kernel's numbering so that it can never be mistaken for a kernel type.</summary>
    public const ProgramType Memory = (ProgramType)1000;
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

    /// <summary>The expected attach type the program is loaded with (null: none); with the type it decides the return
    /// range of some program types (cgroup sock_addr hooks, cgroup_skb egress, fentry/fexit, iterators, kprobe sessions).</summary>
    public AttachType? ExpectedAttachType { get; init; }

    /// <summary>What a BTF-typed program attaches to, as its section names it (<c>fentry/do_unlinkat</c>,
    /// <c>lsm/bpf</c>, <c>iter/task</c>: the part after the '/'). For tracing (fentry, fexit, fmod_ret, tp_btf,
    /// iter) and LSM programs the context is the target's arguments, typed by its prototype in
    /// <see cref="KernelBtf"/> (the kernel's btf_ctx_access); without both, context reads of such programs are
    /// reported as not supported.</summary>
    public string? AttachTarget { get; init; }

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

    /// <summary>For <see cref="VerifierProgramTypes.Memory"/>: the size of the memory R1 points to.</summary>
    public int MemorySize { get; init; }

    /// <summary>Whether the program is loaded with BTF func info (objects with .BTF.ext). Without it the kernel
    /// refuses tail calls and legacy packet loads in subprograms. False by default (raw instructions).</summary>
    public bool HasFuncInfo { get; init; }

    /// <summary>The running kernel's BTF (vmlinux, e.g. the Loader's <c>KernelBtf.TryGet()</c> or the CLI's
    /// /sys/kernel/btf/vmlinux). With it, a privileged program may read <c>struct bpf_map</c> fields through a map
    /// pointer (the kernel's check_ptr_to_map_access, e.g. <c>max_entries</c>); without it such reads are refused as
    /// by a kernel built without CONFIG_DEBUG_INFO_BTF. It also types the context of tracing and LSM programs
    /// (<see cref="AttachTarget"/>) and the kernel objects read through it (PTR_TO_BTF_ID). Null by default.</summary>
    public Bpf.Btf.BtfSpec? KernelBtf { get; init; }

    /// <summary>The running kernel's symbol table (kallsyms): the address of a kernel symbol by name, or null (or 0)
    /// when the kernel has none. The kernel looks each BTF-id <c>lddw</c> (a typed <c>__ksym</c> variable,
    /// <c>bpf_ksym_exists</c>) and each kfunc up there and refuses the program when it finds no address ("ldimm64
    /// failed to find the address for kernel symbol '%s'.", "cannot find address for kernel function %s"); which data
    /// symbols it lists varies between kernels (CONFIG_KALLSYMS_ALL). Null (the default): functions named by the
    /// kernel's BTF are taken to have an address (every kernel that calls kfuncs lists its text symbols), while a
    /// variable's BTF id is reported as not supported, since whether the kernel lists it cannot be known.</summary>
    public Func<string, ulong?>? KernelSymbolAddress { get; init; }

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
