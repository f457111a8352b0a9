using Bpf.Btf;

namespace Bpf;

/// <summary>
/// What a kernel offers an object's <c>__ksym</c> variables and kfunc calls: its BTF (the types of its variables and
/// functions, found by name) and its symbols' addresses (<c>/proc/kallsyms</c>). Both engines resolve an object's
/// kernel externs against one of these, and BpfNet's verifier judges the resolved program against the same facts.
/// The Loader's <c>KernelBtf.TryGetSymbols()</c> gives the running kernel's.
/// </summary>
public sealed class KernelSymbols
{
    private readonly Func<string, ulong?> _address;

    /// <summary>Creates the facts of one kernel.</summary>
    /// <param name="btf">The kernel's BTF (vmlinux).</param>
    /// <param name="address">A symbol's address, or null when the kernel has no such symbol (or does not list it). It may
    /// throw <see cref="InvalidOperationException"/> when the addresses cannot be known at all (unreadable or hidden
    /// kallsyms); resolution then names the extern and the reason.</param>
    public KernelSymbols(BtfSpec btf, Func<string, ulong?> address)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(address);
        Btf = btf;
        _address = address;
    }

    /// <summary>The kernel's BTF.</summary>
    public BtfSpec Btf { get; }

    /// <summary>The address of the symbol <paramref name="name"/>, or null when the kernel does not list it.</summary>
    /// <exception cref="InvalidOperationException">The addresses cannot be known (the message says why).</exception>
    public ulong? AddressOf(string name) => _address(name);
}
