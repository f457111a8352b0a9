using System.Diagnostics;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary><c>bpfnet attach</c>, out of process: attached until a signal, then detached with exit 0.</summary>
public class AttachCommandTests
{
    private static readonly string Tracepoints = RepoPaths.CorpusObject("tracepoint");

    [KernelFact]
    public void Attach_stays_attached_until_sigterm_then_detaches_and_exits_0()
    {
        Need.Tools("kill");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "bpfnet.dll"), "attach", Tracepoints, "--program", "on_switch", "--tracepoint", "sched/sched_switch", "--json" })
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(); // read all along: the process holds stderr open while attached
        try
        {
            var json = new System.Text.StringBuilder();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                json.AppendLine(line);
                if (line == "}") break; // the one document, printed once attached
            }
            if (json.Length == 0) Assert.Fail($"attach printed nothing: {(process.WaitForExit(30_000) ? stderr.Result : "(still running)")}");
            using var doc = StrictJson.Parse(json.ToString(), "attach --json");
            Assert.True(doc.RootElement.GetProperty("attached").GetBoolean());
            Assert.Contains("sched/sched_switch", doc.RootElement.GetProperty("target").GetString());
            Assert.False(process.HasExited, "attach exited before it was told to");

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(process.WaitForExit(30_000), "attach did not exit on SIGTERM");
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr.Result}");
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    [KernelFact]
    public void Attach_to_a_target_that_is_not_there_is_unusable_input()
    {
        var o = CliRunner.Run("attach", Tracepoints, "--program", "on_switch", "--tracepoint", "nosuch/tracepoint");
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("attach 'on_switch' to tracepoint nosuch/tracepoint", o.Stderr);
        Assert.Equal(2, CliRunner.Run("attach", Tracepoints, "--program", "on_switch").ExitCode); // no target
        Assert.Equal(2, CliRunner.Run("attach", Tracepoints, "--program", "on_switch", "--xdp", "lo", "--tracepoint", "a/b").ExitCode);
    }
}
