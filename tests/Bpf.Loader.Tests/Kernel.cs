using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Loader;
using Bpf.Loader.Interop;

namespace Bpf.Loader.Tests;

/// <summary>
/// Whether this process can use the real kernel's bpf(). Tests that need it use <see cref="KernelFactAttribute"/>:
/// they are skipped with the reason printed when it is unavailable, unless BPFNET_REQUIRE_KERNEL=1, in which
/// case they run and fail through <see cref="Require"/> (called by <see cref="KernelTest"/>'s constructor).
/// </summary>
public static class Kernel
{
    public static bool Required => Environment.GetEnvironmentVariable("BPFNET_REQUIRE_KERNEL") == "1";

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
        if (Libc.GetEuid() != 0) return "not running as root (the loader tests need CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN)";
        try
        {
            using var m = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
            return null;
        }
        catch (BpfSyscallException e) when (e.Errno is Errno.ENOSYS or Errno.EPERM)
        {
            return $"bpf() unavailable: {e.Message}";
        }
    }
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
