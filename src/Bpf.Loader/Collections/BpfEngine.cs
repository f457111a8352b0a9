using Bpf.Loader;
using Bpf.Loader.Interop;
using Interop = Bpf.Loader.Interop;
using Bpf.Runtime;

namespace Bpf;

/// <summary>Options for <see cref="BpfEngine.Open"/>.</summary>
public sealed record BpfEngineOptions
{
    /// <summary>Options for the kernel engine.</summary>
    public KernelCollectionOptions? Kernel { get; init; }

    /// <summary>Options for the interpreter engine.</summary>
    public CollectionOptions? Interpreter { get; init; }

    /// <summary>
    /// Verify every program with BpfNet's verifier before the interpreter runs it (default true), and refuse what it
    /// rejects with the <see cref="ProgramRejectedException"/> a kernel rejection raises. Turn off only to run code known to
    /// be unverifiable on purpose (conformance suites, fuzzing): the interpreter is memory-safe either way, but an
    /// unverified program can pass there and be refused by the kernel.
    /// </summary>
    public bool Verify { get; init; } = true;

    /// <summary>The privileges programs are verified for; null (default) means what this process would have in the
    /// kernel (CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON: privileged; CAP_BPF: cap_bpf; none: unprivileged; not Linux:
    /// privileged). Set it to verify for the privileges the program will be deployed with.</summary>
    public Bpf.PrivilegeMode? Privilege { get; init; }

    /// <summary>
    /// On both engines, a program that fails to load — rejected by the kernel's verifier or (interpreter) by BpfNet's,
    /// malformed, or needing what the engine lacks — is left out and the object's other programs load and run;
    /// <see cref="IBpfCollection.Program"/> then throws <see cref="NotSupportedException"/> for it, the original error
    /// (a <see cref="ProgramRejectedException"/> for a rejection) as the inner exception. For the kernel engine this
    /// is <see cref="KernelCollectionOptions.SkipFailedPrograms"/>. Default false: any failure fails the whole open.
    /// </summary>
    public bool SkipFailedPrograms { get; init; }

    /// <summary>The kernel engine's options with <see cref="SkipFailedPrograms"/> applied.</summary>
    internal KernelCollectionOptions? KernelOptions =>
        SkipFailedPrograms ? (Kernel ?? new KernelCollectionOptions()) with { SkipFailedPrograms = true } : Kernel;
}

/// <summary>What the engine selection may ask of the operating system: nothing on a system without a kernel engine
/// (<see cref="None"/>), so Auto there makes no system call at all.</summary>
/// <param name="Load">Loads an object into the kernel.</param>
/// <param name="TargetBtf">The running kernel's BTF, for CO-RE (null when unreadable).</param>
/// <param name="Privilege">The verifier rules this process would be judged by.</param>
/// <param name="Kconfig">The <c>__kconfig</c> values of an object on the running kernel (the kernel engine's own
/// resolution), given the caller's extra configuration lines.</param>
/// <param name="Symbols">The running kernel's symbols for <c>__ksym</c> and kfunc externs, against a given BTF or the kernel's.</param>
internal sealed record KernelHost(
    Func<ObjectSpec, KernelCollectionOptions?, IBpfCollection> Load,
    Func<Btf.BtfSpec?> TargetBtf,
    Func<Bpf.PrivilegeMode> Privilege,
    Func<ObjectSpec, KernelCollectionOptions?, KconfigValues> Kconfig,
    Func<Btf.BtfSpec?, KernelSymbols?> Symbols)
{
    /// <summary>No kernel engine: nothing is asked of the system.</summary>
    internal static KernelHost? None => null;
}

/// <summary>
/// Opens an object on the engine the caller chooses: the Linux kernel, or the managed interpreter. With
/// <see cref="EngineChoice.Auto"/> the kernel is used when this process can load programs there, and the interpreter
/// only when it cannot (not Linux, or bpf() refused for lack of privileges: EPERM / EACCES / ENOSYS); the result's
/// <see cref="IBpfCollection.Engine"/> and <see cref="IBpfCollection.EngineReason"/> say which and why. A program the
/// kernel's verifier rejects is an error under Auto too (switching engines would hide a real bug). With
/// <see cref="EngineChoice.Kernel"/> nothing ever falls back.
/// </summary>
public static class BpfEngine
{
    /// <summary>Loads <paramref name="spec"/> on the chosen engine.</summary>
    /// <exception cref="PlatformNotSupportedException">The kernel was asked for on a system that is not Linux.</exception>
    /// <exception cref="ProgramRejectedException">The kernel's verifier, or (for the interpreter) BpfNet's, rejected a program;
    /// <see cref="ProgramRejectedException.RejectedBy"/> says which.</exception>
    /// <exception cref="BpfSyscallException">The kernel was asked for (or Auto chose it) and refused the object.</exception>
    public static IBpfCollection Open(ObjectSpec spec, EngineChoice choice = EngineChoice.Auto, BpfEngineOptions? options = null) =>
        OpenOn(spec, choice, options, OperatingSystem.IsLinux() ? LinuxHost : KernelHost.None);

    /// <summary>Reads an object file and opens it (see <see cref="Open(ObjectSpec, EngineChoice, BpfEngineOptions?)"/>).</summary>
    public static IBpfCollection OpenFile(string path, EngineChoice choice = EngineChoice.Auto, BpfEngineOptions? options = null) =>
        Open(ObjectSpec.ReadFile(path), choice, options);

    private static KernelHost LinuxHost { get; } = new(LoadKernel, KernelBtf.TryGet, LoadVerification.ForThisProcess, KconfigOfKernel, KernelBtf.TryGetSymbols);

    private static KconfigValues KconfigOfKernel(ObjectSpec spec, KernelCollectionOptions? options) =>
        OperatingSystem.IsLinux() ? ExternResolver.KconfigFor(spec, options?.Kconfig, options?.TargetBtf) : throw new PlatformNotSupportedException();

    private static IBpfCollection LoadKernel(ObjectSpec spec, KernelCollectionOptions? options) =>
        OperatingSystem.IsLinux() ? KernelCollection.Load(spec, options) : throw new PlatformNotSupportedException();

    /// <summary>The selection logic with the kernel loader injectable (null: no kernel here); the running kernel's
    /// BTF and this process's privileges are used, as on Linux.</summary>
    internal static IBpfCollection OpenWith(ObjectSpec spec, EngineChoice choice, BpfEngineOptions? options,
        Func<ObjectSpec, KernelCollectionOptions?, IBpfCollection>? kernelLoader) =>
        OpenOn(spec, choice, options, kernelLoader is null ? KernelHost.None : LinuxHost with { Load = kernelLoader });

    /// <summary>The selection logic against a host (null: a system without a kernel engine, asked nothing).</summary>
    internal static IBpfCollection OpenOn(ObjectSpec spec, EngineChoice choice, BpfEngineOptions? options, KernelHost? host)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new BpfEngineOptions();
        switch (choice)
        {
            case EngineChoice.Interpreter:
                return LoadInterpreter(spec, options, host, "the interpreter was asked for");
            case EngineChoice.Kernel:
            {
                if (host is null)
                    throw new PlatformNotSupportedException($"the kernel engine was asked for, but this system is not Linux ({System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
                var k = host.Load(spec, options.KernelOptions);
                SetReason(k, "the kernel was asked for");
                return k;
            }
            case EngineChoice.Auto:
            {
                if (host is null)
                    return LoadInterpreter(spec, options, host, $"auto: no kernel engine on this system ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}), using the interpreter");
                try
                {
                    var k = host.Load(spec, options.KernelOptions);
                    SetReason(k, "auto: the kernel loaded the object");
                    return k;
                }
                catch (BpfSyscallException e) when (e.IsEnvironmentRefusal)
                {
                    // A privilege failure (for a program load: EPERM with an empty log), not a verdict on the program.
                    return LoadInterpreter(spec, options, host, $"auto: the kernel cannot load programs for this process ({e.ErrnoName}: {e.Message}), using the interpreter");
                }
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(choice), choice, "unknown engine choice");
        }
    }

    /// <summary>The interpreter engine: CO-RE against the caller's target or the running kernel's BTF, <c>__kconfig</c>
    /// externs from the running kernel (<see cref="KernelCollectionOptions.Kconfig"/> lines first), every program
    /// verified by BpfNet's verifier unless the caller opted out, then the managed runtime.</summary>
    private static InterpreterCollection LoadInterpreter(ObjectSpec spec, BpfEngineOptions options, KernelHost? host, string reason)
    {
        var interpreter = options.Interpreter ?? new CollectionOptions();
        // CO-RE for the interpreter too: against the running kernel's BTF unless the caller chose a target.
        if (interpreter.TargetBtf is null && host is not null && spec.Programs.Any(p => p.CoreRelocations.Count > 0) && host.TargetBtf() is { } vmlinux)
            interpreter = interpreter.WithTargetBtf(vmlinux);
        // __kconfig externs: the running kernel's values, resolved as the kernel engine resolves them, unless the caller gave some.
        if (interpreter.Kconfig is null && host is not null && spec.KconfigSize > 0)
        {
            var kernelOptions = options.Kernel;
            interpreter = interpreter.WithKconfig(s => host.Kconfig(s, kernelOptions));
        }
        // __ksym variables and kfuncs: resolved against the running kernel as the kernel engine resolves them (typeless
        // addresses and absent weak externs run; typed variables and kfunc calls are refused by the runtime, named).
        if (interpreter.KernelSymbols is null && host is not null && spec.Programs.Any(p => KernelSymbolLinker.Needs(spec, p))
            && host.Symbols(options.Kernel?.TargetBtf) is { } symbols)
            interpreter = interpreter.WithKernelSymbols(symbols);
        var diagnostics = new List<string>();
        ProgramCheck? check = null;
        if (options.Verify)
        {
            var privilege = options.Privilege ?? host?.Privilege() ?? Bpf.PrivilegeMode.Privileged;
            check = LoadVerification.Check(privilege, diagnostics);
            reason += $"; programs verified by BpfNet's verifier ({ProgramRejectedException.Describe(privilege)})";
        }
        else
        {
            reason += "; programs NOT verified (BpfEngineOptions.Verify is off)";
        }
        return new InterpreterCollection(ManagedCollection.Load(spec, interpreter, check, options.SkipFailedPrograms), reason, diagnostics);
    }

    private static void SetReason(IBpfCollection c, string reason)
    {
        if (OperatingSystem.IsLinux() && c is KernelCollection k) k.EngineReason = reason;
    }
}
