using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>Options for <see cref="KernelCollection.Load(ObjectSpec, KernelCollectionOptions?)"/>.</summary>
public sealed record KernelCollectionOptions
{
    /// <summary>Directory (on a bpffs mount) where maps with <see cref="PinType.ByName"/> are pinned and looked for.</summary>
    public string PinPath { get; init; } = "/sys/fs/bpf";

    /// <summary>Load the object's BTF into the kernel (for map key/value types, func_info and line_info). When the
    /// kernel refuses it the collection loads without BTF and says why in <see cref="KernelCollection.BtfDiagnostic"/>.</summary>
    public bool LoadBtf { get; init; } = true;

    /// <summary>Load the object's BTF sanitised from the start (normally only a retry after the kernel refuses it).
    /// For kernels known to lack decl/type tags, 64-bit enums, floats or global functions in BTF.</summary>
    public bool SanitizeBtf { get; init; }

    /// <summary>Verifier log wanted on success (failures always carry the log).</summary>
    public VerifierLogLevel LogLevel { get; init; }

    /// <summary>First verifier log buffer size for each program.</summary>
    public int InitialLogSize { get; init; } = 64 * 1024;

    /// <summary>
    /// A last chance to change a map's kernel attributes before it is created, given the object's spec and the
    /// request the loader built (e.g. to drop a flag this kernel refuses, or size a map for this host).
    /// </summary>
    public Func<MapSpec, MapCreateSpec, MapCreateSpec>? AdjustMap { get; init; }

    /// <summary>The BTF CO-RE relocations are resolved against; null means the running kernel's (<see cref="KernelBtf"/>).</summary>
    public BtfSpec? TargetBtf { get; init; }

    /// <summary>
    /// Extra kernel configuration in <c>.config</c> format (<c>CONFIG_X=y</c> lines), consulted for <c>__kconfig</c> externs
    /// before the kernel's own configuration (libbpf's <c>kconfig</c> open option): the first value given for a name wins.
    /// </summary>
    public string? Kconfig { get; init; }

    /// <summary>
    /// When true, a program the kernel rejects or the loader cannot load is left out, its error recorded in
    /// <see cref="KernelCollection.FailedPrograms"/>, instead of failing the whole load; program-array slots naming
    /// it stay empty. For tools that compare or report per program. Default false: any failure throws.
    /// </summary>
    public bool SkipFailedPrograms { get; init; }
}
