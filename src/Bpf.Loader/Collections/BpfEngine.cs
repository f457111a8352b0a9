using Bpf.Loader.Interop;
using Bpf.Objects;
using Bpf.Runtime;

namespace Bpf.Loader;

/// <summary>Options for <see cref="BpfEngine.Open"/>.</summary>
public sealed record BpfEngineOptions
{
    /// <summary>Options for the kernel engine.</summary>
    public KernelCollectionOptions? Kernel { get; init; }

    /// <summary>Options for the interpreter engine.</summary>
    public CollectionOptions? Interpreter { get; init; }
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
    /// <exception cref="BpfSyscallException">The kernel was asked for (or Auto chose it) and refused the object.</exception>
    public static IBpfCollection Open(ObjectSpec spec, EngineChoice choice = EngineChoice.Auto, BpfEngineOptions? options = null) =>
        OpenWith(spec, choice, options, OperatingSystem.IsLinux() ? LoadKernel : null);

    /// <summary>Reads an object file and opens it (see <see cref="Open(ObjectSpec, EngineChoice, BpfEngineOptions?)"/>).</summary>
    public static IBpfCollection OpenFile(string path, EngineChoice choice = EngineChoice.Auto, BpfEngineOptions? options = null) =>
        Open(ObjectSpec.ReadFile(path), choice, options);

    private static IBpfCollection LoadKernel(ObjectSpec spec, KernelCollectionOptions? options) =>
        OperatingSystem.IsLinux() ? KernelCollection.Load(spec, options) : throw new PlatformNotSupportedException();

    /// <summary>The selection logic, with the kernel loader injectable (null: no kernel here) so tests can exercise every path.</summary>
    internal static IBpfCollection OpenWith(ObjectSpec spec, EngineChoice choice, BpfEngineOptions? options,
        Func<ObjectSpec, KernelCollectionOptions?, IBpfCollection>? kernelLoader)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new BpfEngineOptions();
        // CO-RE for the interpreter too: against the running kernel's BTF unless the caller chose a target.
        if (options.Interpreter?.TargetBtf is null && spec.Programs.Any(p => p.CoreRelocations.Count > 0) && OperatingSystem.IsLinux() && KernelBtf.TryGet() is { } vmlinux)
            options = options with { Interpreter = (options.Interpreter ?? new CollectionOptions()).WithTargetBtf(vmlinux) };
        switch (choice)
        {
            case EngineChoice.Interpreter:
                return InterpreterCollection.Load(spec, options.Interpreter, "the interpreter was asked for");
            case EngineChoice.Kernel:
            {
                if (kernelLoader is null)
                    throw new PlatformNotSupportedException($"the kernel engine was asked for, but this system is not Linux ({System.Runtime.InteropServices.RuntimeInformation.OSDescription})");
                var k = kernelLoader(spec, options.Kernel);
                SetReason(k, "the kernel was asked for");
                return k;
            }
            case EngineChoice.Auto:
            {
                if (kernelLoader is null)
                    return InterpreterCollection.Load(spec, options.Interpreter, $"auto: no kernel engine on this system ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}), using the interpreter");
                try
                {
                    var k = kernelLoader(spec, options.Kernel);
                    SetReason(k, "auto: the kernel loaded the object");
                    return k;
                }
                catch (BpfSyscallException e) when (e is not VerifierException && e.Errno is Errno.EPERM or Errno.EACCES or Errno.ENOSYS)
                {
                    return InterpreterCollection.Load(spec, options.Interpreter, $"auto: the kernel cannot load programs for this process ({e.ErrnoName}: {e.Message}), using the interpreter");
                }
                catch (VerifierException e) when (e.Errno == Errno.EPERM && e.Log.Length == 0)
                {
                    // EPERM with an empty log is the privilege failure, not a verdict on the program.
                    return InterpreterCollection.Load(spec, options.Interpreter, $"auto: the kernel refused to load programs for this process ({e.Message}), using the interpreter");
                }
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(choice), choice, "unknown engine choice");
        }
    }

    private static void SetReason(IBpfCollection c, string reason)
    {
        if (OperatingSystem.IsLinux() && c is KernelCollection k) k.EngineReason = reason;
    }
}
