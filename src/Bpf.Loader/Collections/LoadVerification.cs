using Bpf.Btf;
using Bpf.Verifier;

namespace Bpf.Loader;

/// <summary>
/// BpfNet's verifier on the load path. Loading for the interpreter verifies every program of the object as the
/// kernel would (same relocations, same CO-RE target, the privileges the process would load with) and refuses what
/// it rejects with the <see cref="ProgramRejectedException"/> a kernel rejection raises; a kernel rejection is explained
/// with the same verifier's account of the program.
/// </summary>
internal static class LoadVerification
{
    /// <summary>The verifier rules this process would be judged by in the kernel: CAP_SYS_ADMIN, or CAP_BPF with
    /// CAP_PERFMON, is privileged; CAP_BPF alone is <see cref="PrivilegeMode.CapBpfOnly"/>; none is unprivileged.
    /// Where there is no kernel to ask (not Linux, capabilities unreadable) the program is judged as privileged: it is
    /// meant for a loader that has the privileges.</summary>
    internal static PrivilegeMode ForThisProcess()
    {
        if (!OperatingSystem.IsLinux() || ProcessCapabilities.EffectiveMask is null) return PrivilegeMode.Privileged;
        if (ProcessCapabilities.Has(Capability.SysAdmin) == true) return PrivilegeMode.Privileged;
        if (ProcessCapabilities.Has(Capability.Bpf) == true)
            return ProcessCapabilities.Has(Capability.Perfmon) == true ? PrivilegeMode.Privileged : PrivilegeMode.CapBpfOnly;
        return PrivilegeMode.Unprivileged;
    }

    /// <summary>The collection loader's check for the interpreter: verifies one program (its instructions with CO-RE
    /// applied, as the loader will load them) and throws a rejection. A program the verifier cannot judge (constructs
    /// it does not model) is listed in <paramref name="diagnostics"/>, not refused.</summary>
    /// <exception cref="ProgramRejectedException">BpfNet's verifier rejects the program (<see cref="RejectedBy.BpfNetVerifier"/>).</exception>
    internal static ProgramCheck Check(PrivilegeMode privilege, List<string> diagnostics) => (spec, program, coreRelocated) =>
    {
        var insns = (Instruction[])coreRelocated.Clone();
        if (!ObjectVerifier.TryPrepareRelocated(spec, program, insns, privilege, out var options, out var unsupported))
        {
            diagnostics.Add($"program '{program.Name}' not verified by BpfNet's verifier: {unsupported!.Message}");
            return;
        }
        var result = BpfVerifier.Verify(insns, options);
        if (result.IsAccepted) return;
        if (result.Error!.Code == VerifierErrorCode.NotSupported)
        {
            diagnostics.Add($"program '{program.Name}' not verified by BpfNet's verifier: {result.Error}");
            return;
        }
        // Rejected: verify once more for the kernel-style log (only paid on the failure path).
        var logged = BpfVerifier.Verify(insns, WithLog(options));
        throw ProgramRejectedException.FromBpfNetVerifier(program.Name, result.Error, privilege, logged.Log);
    };

    /// <summary>BpfNet's verifier's rejection of <paramref name="program"/>, or null when it accepts it or cannot judge it.</summary>
    internal static VerifierError? Explain(ObjectSpec spec, ProgramSpec program, BtfSpec? coreTarget, PrivilegeMode privilege)
    {
        try
        {
            var symbols = OperatingSystem.IsLinux() ? KernelBtf.TryGetSymbols(coreTarget) : null;
            if (!ObjectVerifier.TryPrepare(spec, program, privilege, coreTarget, out var insns, out var options, out _, symbols)) return null;
            var result = BpfVerifier.Verify(insns, options);
            return result.Error is { Code: not VerifierErrorCode.NotSupported } e ? e : null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return null; // an explanation is a courtesy: never let it replace the kernel's error
        }
    }

    private static VerifierOptions WithLog(VerifierOptions o) => new()
    {
        ProgramType = o.ProgramType,
        ExpectedAttachType = o.ExpectedAttachType,
        AttachTarget = o.AttachTarget,
        KernelBtf = o.KernelBtf,
        KernelSymbolAddress = o.KernelSymbolAddress,
        Privilege = o.Privilege,
        Maps = o.Maps,
        MaxInstructions = o.MaxInstructions,
        MaxProcessedInstructions = o.MaxProcessedInstructions,
        MaxPendingStates = o.MaxPendingStates,
        MemorySize = o.MemorySize,
        HasFuncInfo = o.HasFuncInfo,
        GplCompatible = o.GplCompatible,
        SourceLocator = o.SourceLocator,
        CollectLog = true,
    };
}
