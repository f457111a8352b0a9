using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Loader;

namespace Bpf.Tests;

/// <summary>
/// Whether this process can use the real kernel's bpf(). Tests state the need with <see cref="KernelFactAttribute"/>
/// (skipped at discovery with the reason, unless BPFNET_REQUIRE_KERNEL=1), <see cref="KernelTest"/> (fails every
/// test of the class when required and missing) or <see cref="Need.Kernel"/> inside a test.
/// </summary>
public static class Kernel
{
    internal const int EPERM = 1, EACCES = 13, ENOSYS = 38;

    public static bool Required => Need.KernelRequired;

    private static readonly Lazy<string?> Reason = new(Probe);

    /// <summary>Null when bpf() works here; otherwise why not.</summary>
    public static string? UnavailableReason => Reason.Value;

    public static void Require()
    {
        if (UnavailableReason is string r)
            throw new Xunit.Sdk.XunitException($"BPFNET_REQUIRE_KERNEL=1 but the kernel is unavailable: {r}");
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return $"not Linux ({RuntimeInformation.OSDescription})";
        if (!Environment.IsPrivilegedProcess) return "not running as root (the loader tests need CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN)";
        try
        {
            using var m = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
            return null;
        }
        catch (BpfSyscallException e) when (e.Errno is ENOSYS or EPERM)
        {
            return $"bpf() unavailable: {e.Message}";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"bpf() not permitted: {e.Message}";
        }
    }
}

public static partial class Need
{
    /// <summary>The kernel's bpf() must work: skip with the reason, or fail under BPFNET_REQUIRE_KERNEL=1.</summary>
    public static void Kernel()
    {
        if (Bpf.Tests.Kernel.UnavailableReason is not string r) return;
        if (KernelRequired) Fail($"BPFNET_REQUIRE_KERNEL=1 but the kernel is unavailable: {r}");
        Assert.Skip("kernel unavailable: " + r);
    }

    /// <summary>
    /// The kernel, and <paramref name="caps"/> in this process's effective set. A missing capability skips, naming
    /// it, also under BPFNET_REQUIRE_KERNEL=1: the kernel is there; the process was started without the privilege.
    /// </summary>
    public static void Capabilities(string what, params Capability[] caps)
    {
        Kernel();
        var missing = caps.Where(c => ProcessCapabilities.Has(c) == false).ToArray();
        if (missing.Length == 0) return;
        Assert.Skip(MissingMessage(what, missing));
    }

    /// <summary>Runs <paramref name="action"/>; an EPERM/EACCES from bpf() while this process lacks a capability
    /// bpf() cares about becomes a skip naming the missing capabilities. With every capability, it propagates.</summary>
    public static T PermittedOrSkip<T>(string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsPermissionRefusal(e) && ProcessCapabilities.MissingForBpf().Count > 0)
        {
            Assert.Skip(MissingMessage(what, ProcessCapabilities.MissingForBpf()) + ": " + e.Message);
            throw; // unreachable: Assert.Skip throws
        }
    }

    /// <inheritdoc cref="PermittedOrSkip{T}"/>
    public static void PermittedOrSkip(string what, Action action) => PermittedOrSkip(what, () => { action(); return 0; });

    /// <summary>A refusal for want of a privilege: BpfNotPermittedException, or a bpf() errno EPERM/EACCES.</summary>
    public static bool IsPermissionRefusal(Exception e) => e switch
    {
        BpfNotPermittedException => true,
        BpfSyscallException s => s.Errno is Bpf.Tests.Kernel.EPERM or Bpf.Tests.Kernel.EACCES,
        _ => e.InnerException is { } inner && IsPermissionRefusal(inner),
    };

    private static string MissingMessage(string what, IEnumerable<Capability> missing) =>
        $"{what} needs {string.Join(", ", missing.Select(ProcessCapabilities.Name))}, which this process lacks " +
        $"(effective set 0x{ProcessCapabilities.EffectiveMask.GetValueOrDefault().ToString("x", CultureInfo.InvariantCulture)})";
}

/// <summary>A fact that needs the kernel: skipped with the reason unless BPFNET_REQUIRE_KERNEL=1.</summary>
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (Kernel.UnavailableReason is string r && !Kernel.Required) Skip = "kernel unavailable: " + r;
    }
}

/// <summary>A theory that needs the kernel: skipped with the reason unless BPFNET_REQUIRE_KERNEL=1.</summary>
public sealed class KernelTheoryAttribute : TheoryAttribute
{
    public KernelTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (Kernel.UnavailableReason is string r && !Kernel.Required) Skip = "kernel unavailable: " + r;
    }
}

/// <summary>Base class for kernel tests: when the kernel is required but missing, every test fails here.</summary>
public abstract class KernelTest
{
    protected KernelTest() => Kernel.Require();
}
