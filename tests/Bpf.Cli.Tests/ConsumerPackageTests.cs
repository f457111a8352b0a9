using System.Diagnostics;

namespace Bpf.Cli.Tests;

/// <summary>
/// Issue 15's consumer test, inside the suite CI runs: <c>.ci/consumer-test</c> packs the libraries and the tool
/// from the Release build (<c>dotnet pack --no-build</c>) into a local folder feed, restores tests/Bpf.Consumer by
/// PackageReference from that feed alone (an isolated package cache), builds it with warnings as errors and runs it
/// on both engines (the kernel when this process can load BPF, required under BPFNET_REQUIRE_KERNEL=1), checks that
/// an unguarded Linux-only call is CA1416, installs <c>bpfnet</c> as a dotnet tool and runs it.
/// </summary>
public sealed class ConsumerPackageTests
{
    [Fact]
    public async Task Packages_restore_by_PackageReference_and_run_as_a_user_would()
    {
        var script = Path.Combine(RepoPaths.Root, ".ci", "consumer-test");
        Assert.True(File.Exists(script), $"missing {script}");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        psi.ArgumentList.Add(script);
        // The test host's MSBuild settings must not leak into the nested builds.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            psi.Environment.Remove(key);
        }
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, $".ci/consumer-test exited {process.ExitCode}:\n{output}");
        Assert.Contains("consumer-test: done", output);
        Assert.Contains("ok   unguarded FeatureProbes call", output);
        Assert.Contains("ok   installed bpfnet: run --map blocked", output);
    }
}
