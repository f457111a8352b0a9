using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>
/// The running kernel's own BTF (<c>/sys/kernel/btf/vmlinux</c>), parsed once on first use: the target of CO-RE
/// relocations and the place to find attach targets of BTF-attached programs.
/// </summary>
public static class KernelBtf
{
    /// <summary>Where the kernel exposes its BTF.</summary>
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<BtfSpec?> Vmlinux = new(() =>
        File.Exists(VmlinuxPath) ? BtfSpec.Parse(File.ReadAllBytes(VmlinuxPath)) : null);

    /// <summary>The kernel's BTF, or null when the kernel was built without it (CONFIG_DEBUG_INFO_BTF).</summary>
    public static BtfSpec? TryGet() => Vmlinux.Value;

    /// <summary>The running kernel's symbols for <c>__ksym</c> and kfunc externs: its BTF and <c>/proc/kallsyms</c>
    /// (<see cref="RunningKernel.SymbolAddress"/>); null when the kernel has no BTF.</summary>
    /// <param name="btf">Another BTF to resolve against (e.g. <see cref="KernelCollectionOptions.TargetBtf"/>); null: the kernel's.</param>
    public static KernelSymbols? TryGetSymbols(BtfSpec? btf = null) =>
        (btf ?? TryGet()) is { } b ? new KernelSymbols(b, RunningKernel.SymbolAddress) : null;

    /// <summary>The kernel's BTF; <see cref="NotSupportedException"/> naming <paramref name="needFor"/> when absent.</summary>
    public static BtfSpec Get(string needFor) => TryGet() ??
        throw new NotSupportedException($"{needFor} needs the kernel's BTF at {VmlinuxPath}, which this kernel does not provide (CONFIG_DEBUG_INFO_BTF)");
}
