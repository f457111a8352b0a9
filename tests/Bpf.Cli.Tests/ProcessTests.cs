using System.Diagnostics;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>The real executable, out of process: what scripts see.</summary>
public class ProcessTests
{
    [Fact]
    public void BpfnetDll_RunConformanceFile_PrintsR0AndExits0()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "bpfnet.dll");
        Assert.True(File.Exists(dll), $"missing {dll}");
        var data = Path.Combine(RepoPaths.ConformanceDir, "add.data");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "run", data }) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "bpfnet did not exit within 60 s");

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stdout}{stderr}");
        Assert.Equal("0x3", stdout.Trim());
    }
}
