using System.Diagnostics.CodeAnalysis;

namespace Bpf.Tests;

/// <summary>
/// The one way a test states what it depends on outside the code under test. Each method returns when the
/// dependency is there; otherwise the test is skipped with the reason printed (xunit v3's dynamic skip), or it
/// fails when the environment says the dependency is required:
/// <list type="bullet">
/// <item><c>BPFNET_REQUIRE_KERNEL=1</c> (set by .ci/run): a missing or unusable kernel bpf() fails.</item>
/// <item><c>BPFNET_REQUIRE_TOOLS=1</c> (set by .ci/run, which installs them): a missing tool (clang-14, llvm-*-14,
/// gcc) fails.</item>
/// <item>A missing capability always skips, naming it: the kernel is there, the process was started without a
/// privilege (e.g. under <c>capsh --drop=…</c>). See docs/testing.md.</item>
/// </list>
/// The kernel and capability checks live in Shared/Kernel/ (they need Bpf.Loader).
/// </summary>
public static partial class Need
{
    public static bool KernelRequired => Environment.GetEnvironmentVariable("BPFNET_REQUIRE_KERNEL") == "1";

    public static bool ToolsRequired => Environment.GetEnvironmentVariable("BPFNET_REQUIRE_TOOLS") == "1";

    /// <summary>Every named tool must be on PATH (e.g. <c>Need.Tools("clang-14", "llvm-objdump-14")</c>).</summary>
    public static void Tools(params string[] tools)
    {
        var missing = tools.Where(t => !OnPath(t)).ToArray();
        if (missing.Length == 0) return;
        var reason = $"{string.Join(", ", missing)} not on PATH";
        if (ToolsRequired) Fail($"BPFNET_REQUIRE_TOOLS=1 but {reason}");
        Assert.Skip(reason);
    }

    /// <summary>A file the test reads from the system (e.g. a kernel header).</summary>
    public static void SystemFile(string path)
    {
        if (File.Exists(path)) return;
        if (ToolsRequired) Fail($"BPFNET_REQUIRE_TOOLS=1 but {path} does not exist");
        Assert.Skip($"{path} does not exist");
    }

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)));

    [DoesNotReturn]
    private static void Fail(string message) => throw new Xunit.Sdk.XunitException(message);
}
