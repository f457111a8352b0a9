using Bpf.Btf;

namespace Bpf;

/// <summary>
/// The one resolution of an object's <c>__ksym</c> variables and kfunc calls against a kernel, as libbpf does it
/// (<c>bpf_object__resolve_externs</c> and <c>bpf_object__relocate_data</c>), one program at a time so only a program
/// that uses an extern which cannot be resolved fails:
/// <list type="bullet">
/// <item>typed variables: the kernel BTF VAR id (<c>lddw</c> src = BPF_PSEUDO_BTF_ID), types checked as libbpf does;
/// typeless ones: the address from the kernel's symbols;</item>
/// <item>kfunc calls: the kernel BTF FUNC id (<c>call</c> src = BPF_PSEUDO_KFUNC_CALL), prototype checked; an
/// <c>lddw</c> of a kfunc (<c>bpf_ksym_exists</c>) its BTF id;</item>
/// <item>a weak extern that cannot be resolved is 0; a call to an absent weak kfunc is poisoned as libbpf does
/// (<c>call 2002000000 + extern index</c>: the kernel rejects it only when reachable).</item>
/// </list>
/// <c>__kconfig</c> externs are the engines' (a map of values). Only the given BTF is searched: kfuncs and variables of
/// kernel modules (module BTF) are not resolved.
/// </summary>
internal static class KernelSymbolLinker
{
    /// <summary>libbpf's POISON_CALL_KFUNC_BASE: a call to an unresolved weak kfunc becomes helper call base + extern index.</summary>
    public const int PoisonKfuncBase = 2002000000;

    /// <summary>Whether <paramref name="program"/> refers to <c>__ksym</c> variables or kfuncs.</summary>
    public static bool Needs(ObjectSpec spec, ProgramSpec program) =>
        program.References.Any(r => r.Kind == ReferenceKind.KernelFunction
            || (r.Kind == ReferenceKind.ExternVariable && spec.Extern(r.Name) is not { Kind: ExternKind.Kconfig }));

    /// <summary>Patches every <c>__ksym</c> and kfunc reference of <paramref name="program"/> into <paramref name="insns"/>.</summary>
    /// <param name="spec">The object.</param>
    /// <param name="program">The program.</param>
    /// <param name="insns">Its instructions, patched in place.</param>
    /// <param name="kernel">The kernel's facts; null: the program is refused, naming its first kernel extern.</param>
    /// <param name="diagnostics">Receives what a user should know (weak externs loaded as 0, poisoned calls).</param>
    /// <exception cref="ExternResolutionException">A strong extern cannot be resolved, an extern is malformed, or there is
    /// no kernel to resolve against; names the program, instruction and extern.</exception>
    public static void Apply(ObjectSpec spec, ProgramSpec program, Instruction[] insns, KernelSymbols? kernel, List<string> diagnostics)
    {
        foreach (var r in program.References)
        {
            if (r.Kind is not (ReferenceKind.ExternVariable or ReferenceKind.KernelFunction)) continue;
            int at = r.InstructionIndex;
            var e = spec.Extern(r.Name)
                ?? throw new ExternResolutionException(r.Name, $"program '{program.Name}': instruction {at} refers to '{r.Name}', which is not an extern the object declares (undefined symbol of another type)");
            if (e.Kind == ExternKind.Kconfig) continue;
            string where = $"program '{program.Name}': instruction {at}";
            if (e.Kind is not (ExternKind.KernelVariable or ExternKind.KernelFunction))
                throw new ExternResolutionException(e.Name, $"{where}: extern '{e.Name}' cannot be resolved: {e.Problem}");
            if (kernel is null)
                throw new ExternResolutionException(e.Name,
                    $"{where}: extern '{e.Name}' ({(e.Kind == ExternKind.KernelFunction ? "kfunc" : "__ksym variable")}) needs a kernel's BTF and symbols to resolve against, and none was given " +
                    "(KernelSymbols; on Linux BpfEngine supplies the running kernel's)");
            switch (e.Kind)
            {
                case ExternKind.KernelVariable when e.IsTyped:
                    PatchTypedVariable(e, kernel.Btf, insns, at, where, diagnostics);
                    break;
                case ExternKind.KernelVariable:
                    PatchTypeless(e, kernel, insns, at, where, diagnostics);
                    break;
                default:
                    PatchFunction(spec, e, kernel.Btf, insns, at, r.Kind == ReferenceKind.KernelFunction, where, diagnostics);
                    break;
            }
        }
    }

    private static void PatchTypedVariable(ExternSpec e, BtfSpec kernel, Instruction[] insns, int at, string where, List<string> diagnostics)
    {
        if (kernel.FindType(e.EssentialName, BtfKind.Var) is not BtfVar var)
        {
            if (!e.IsWeak)
                throw new ExternResolutionException(e.Name, $"{where}: __ksym variable '{e.Name}' (strong) is not a variable of the kernel's BTF (vmlinux; module BTF is not searched)");
            diagnostics.Add($"{where}: __ksym variable '{e.Name}' (weak) is not in the kernel's BTF, loaded as 0");
            SetConstant(insns, at, 0);
            return;
        }
        if (!CoreRelocator.TypesAreCompatible(e.Type!, var.Target))
        {
            throw new ExternResolutionException(e.Name,
                $"{where}: __ksym variable '{e.Name}' is declared {BtfSpec.DisplayName(e.Type!)}, the kernel's is {BtfSpec.DisplayName(var.Target)} (incompatible, as libbpf judges)");
        }
        SetBtfId(insns, at, var.Id);
    }

    private static void PatchTypeless(ExternSpec e, KernelSymbols kernel, Instruction[] insns, int at, string where, List<string> diagnostics)
    {
        ulong? address;
        try
        {
            address = kernel.AddressOf(e.EssentialName);
        }
        catch (InvalidOperationException ex)
        {
            throw new ExternResolutionException(e.Name, $"{where}: __ksym '{e.Name}': {ex.Message}", ex);
        }
        if (address is null && !e.IsWeak)
            throw new ExternResolutionException(e.Name, $"{where}: __ksym '{e.Name}' (strong) is not among the kernel's symbols (kallsyms)");
        if (address is null) diagnostics.Add($"{where}: __ksym '{e.Name}' (weak) is not among the kernel's symbols (kallsyms), loaded as 0");
        SetConstant(insns, at, address ?? 0);
    }

    private static void PatchFunction(ObjectSpec spec, ExternSpec e, BtfSpec kernel, Instruction[] insns, int at, bool isCall, string where, List<string> diagnostics)
    {
        string? missing = null;
        var func = kernel.FindType(e.EssentialName, BtfKind.Func) as BtfFunc;
        if (func is null) missing = "is not a function of the kernel's BTF (vmlinux; module BTF is not searched)";
        else if (e.Type is null || !CoreRelocator.TypesAreCompatible(e.Type, func.Target)) missing = $"has a prototype incompatible with the kernel's ({BtfSpec.DisplayName(func.Target)})";
        if (missing is not null)
        {
            if (!e.IsWeak) throw new ExternResolutionException(e.Name, $"{where}: kfunc '{e.Name}' (strong) {missing}");
            if (isCall)
            {
                int index = IndexOf(spec, e);
                diagnostics.Add($"{where}: kfunc '{e.Name}' (weak) {missing}; the call is poisoned (call {PoisonKfuncBase + index}), so the kernel rejects the program only if it is reachable");
                CheckIndex(insns, at);
                insns[at] = Instruction.CallHelper(PoisonKfuncBase + index);
            }
            else
            {
                diagnostics.Add($"{where}: kfunc '{e.Name}' (weak) {missing}; its address loads as 0");
                SetConstant(insns, at, 0);
            }
            return;
        }
        if (isCall)
        {
            CheckIndex(insns, at);
            insns[at] = insns[at].WithSrc((byte)CallKind.Kfunc).WithImm((int)func!.Id).WithOffset(0);
        }
        else
        {
            SetBtfId(insns, at, func!.Id);
        }
    }

    private static int IndexOf(ObjectSpec spec, ExternSpec e)
    {
        for (int i = 0; i < spec.Externs.Count; i++)
        {
            if (ReferenceEquals(spec.Externs[i], e)) return i;
        }
        return 0;
    }

    private static void CheckIndex(Instruction[] insns, int at)
    {
        if ((uint)at >= (uint)insns.Length)
            throw new InvalidOperationException($"extern reference at instruction {at} is past the program's end ({insns.Length} instructions)");
    }

    private static void CheckWide(Instruction[] insns, int at)
    {
        if ((uint)at + 1 >= (uint)insns.Length || !insns[at].IsWide)
            throw new InvalidOperationException($"extern reference at instruction {at} is not an lddw");
    }

    private static void SetConstant(Instruction[] insns, int at, ulong value)
    {
        CheckWide(insns, at);
        insns[at] = insns[at].WithSrc((byte)PseudoSource.None).WithImm((int)(uint)value);
        insns[at + 1] = insns[at + 1].WithImm((int)(uint)(value >> 32));
    }

    private static void SetBtfId(Instruction[] insns, int at, uint id)
    {
        CheckWide(insns, at);
        insns[at] = insns[at].WithSrc((byte)PseudoSource.BtfId).WithImm((int)id);
        insns[at + 1] = insns[at + 1].WithImm(0); // vmlinux: no BTF object fd
    }
}
