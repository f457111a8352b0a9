using Bpf.Btf;

namespace Bpf.Verifier.Internal;

/// <summary>
/// The whole-program checks of kernel symbols, before the simulation: kfunc call sites (the kernel's add_kfunc_call)
/// and BTF-id wide loads (check_pseudo_btf_id), both against the kernel's BTF and its symbol table
/// (<see cref="VerifierOptions.KernelSymbolAddress"/>).
/// </summary>
internal static class Ksyms
{
    /// <summary>The kernel's percpu data section in its BTF (find_btf_percpu_datasec).</summary>
    private const string PercpuSection = ".data..percpu";

    /// <summary>add_kfunc_call: a call with src=2 names a FUNC of the kernel's BTF with a prototype and an address.
    /// A call with imm 0 and off 0 is left for the simulation (the kernel refuses it only when reached).</summary>
    public static void CheckKfuncCall(in Instruction insn, int i, VerifierOptions o)
    {
        if (insn.Imm == 0 && insn.Offset == 0) return;
        if (o.KernelBtf is not { } btf)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i,
                "kernel function calls (kfuncs) are typed by the kernel's BTF: pass VerifierOptions.KernelBtf to judge them");
        }
        if (!o.GplCompatible)
        {
            throw new VerifyFailure(VerifierErrorCode.PermissionDenied, i, "cannot call kernel function from non-GPL compatible program");
        }
        if (insn.Offset != 0)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i,
                $"a kfunc of a kernel module's BTF (call off={insn.Offset}, an fd_array index) is not modelled");
        }
        var id = (uint)insn.Imm;
        if (id >= (uint)btf.Types.Count || btf.Types[(int)id] is not BtfFunc func)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, $"kernel btf_id {id} is not a function");
        }
        if (func.Target is not BtfFuncProto)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, $"kernel function btf_id {id} does not have a valid func_proto");
        }
        if (o.KernelSymbolAddress is { } lookup && HasNoAddress(lookup, func.Name, i))
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, $"cannot find address for kernel function {func.Name}");
        }
    }

    /// <summary>Asks the caller's symbol table; its failure (an unreadable or ambiguous kallsyms) means the verdict
    /// cannot be known here, reported as not supported rather than thrown.</summary>
    private static bool HasNoAddress(Func<string, ulong?> lookup, string name, int i)
    {
        try
        {
            return (lookup(name) ?? 0) == 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i, $"the kernel's address of '{name}' is unknown: {e.Message}");
        }
    }

    /// <summary>check_pseudo_btf_id: what a BTF-id lddw loads. A FUNC: read-only memory of size 0 (its address, never
    /// null). A VAR: a per-CPU pointer when the variable is in the kernel's percpu section, a BTF pointer to its
    /// struct, or read-only memory of its type's size.</summary>
    public static RegState ResolveBtfId(in Instruction insn, in Instruction next, int i, VerifierOptions o)
    {
        if (next.Imm != 0)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i,
                $"a BTF-id lddw of a kernel module's BTF (BTF object fd {next.Imm}) is not modelled");
        }
        if (o.KernelBtf is not { } btf)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i,
                "a BTF-id lddw (a typed __ksym variable or bpf_ksym_exists) names a type of the kernel's BTF: pass VerifierOptions.KernelBtf to judge it");
        }
        var id = (uint)insn.Imm;
        if (id >= (uint)btf.Types.Count || id == 0)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, $"ldimm64 insn specifies invalid btf_id {insn.Imm}.");
        }
        var t = btf.Types[(int)id];
        if (t is not (BtfVar or BtfFunc))
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, $"pseudo btf_id {insn.Imm} in ldimm64 isn't KIND_VAR or KIND_FUNC");
        }
        if (o.KernelSymbolAddress is { } lookup)
        {
            if (HasNoAddress(lookup, t.Name, i))
            {
                throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, $"ldimm64 failed to find the address for kernel symbol '{t.Name}'.");
            }
        }
        else if (t is BtfVar)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i,
                $"whether the kernel has an address for variable '{t.Name}' depends on its symbol table: pass VerifierOptions.KernelSymbolAddress to judge a typed __ksym");
        }
        if (t is BtfFunc) return RegState.Pointer(RegType.RdonlyMem);

        var v = (BtfVar)t;
        try
        {
            if (btf.FindType(PercpuSection, BtfKind.DataSec) is BtfDataSec sec && sec.Variables.Any(x => x.TypeId == id))
            {
                var p = RegState.Pointer(RegType.BtfPointer);
                p.Range = (int)v.TargetId;
                p.Map = BtfTrust.Percpu;
                return p;
            }
            var type = BtfSpec.Underlying(v.Target);
            if (type is BtfComposite)
            {
                var p = RegState.Pointer(RegType.BtfPointer);
                p.Range = (int)v.TargetId;
                p.Map = BtfTrust.Legacy;
                return p;
            }
            ulong size;
            try
            {
                size = BtfSpec.SizeOf(type);
            }
            catch (BpfObjectException)
            {
                throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, $"ldimm64 unable to resolve the size of type '{type.Name}': -22");
            }
            var m = RegState.Pointer(RegType.RdonlyMem);
            m.Range = (int)Math.Min(size, int.MaxValue);
            return m;
        }
        catch (BpfObjectException e)
        {
            throw new VerifyFailure(VerifierErrorCode.NotSupported, i, $"the kernel's BTF is malformed at type {id}: {e.Message}");
        }
    }
}
