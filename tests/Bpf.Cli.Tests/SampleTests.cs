using System.Diagnostics;
using Bpf.Tests;
using Bpf.Loader;

namespace Bpf.Cli.Tests;

/// <summary>The samples of issue 14, run as their READMEs run them (the built dll, out of process): what they print on the
/// interpreter, and, where the kernel is there (required under BPFNET_REQUIRE_KERNEL=1), that both engines agree.
/// The solution build (which <c>dotnet test BpfNet.sln</c> runs first) builds the samples; this project references them.</summary>
public class SampleTests
{
    [Fact]
    public async Task FlowLog_PrintsFlowsAndTotals_BothEnginesAgree()
    {
        var (interpreter, kernel) = await RunSample("Bpf.Samples.FlowLog");
        // 14 replayed frames in 5 flows; telnet (port 23) is denied from C#, so its two packets are dropped.
        Assert.Contains("TCP   10.0.0.4:40004        10.0.1.10:23          DROPPED      74", interpreter);
        Assert.Contains("ICMP  10.0.0.1              10.0.1.10             FORWARDED    98", interpreter);
        foreach (var total in new[]
                 {
                     "ICMP  10.0.0.1              10.0.1.10                   2     196         2       0",
                     "TCP   10.0.0.1:40001        10.0.1.10:80                4    3168         4       0",
                     "TCP   10.0.0.2:40002        10.0.1.10:443               3    2163         3       0",
                     "TCP   10.0.0.4:40004        10.0.1.10:23                2     148         0       2",
                     "UDP   10.0.0.3:5353         10.0.1.53:53                3     302         3       0",
                 })
        {
            Assert.Contains(total, interpreter);
        }
        Assert.Contains("5 flows, 14 packets, 2 dropped.", interpreter);
        RequireKernelHalf(kernel);
        Assert.Contains("5 flows, 14 packets, 2 dropped.", kernel);

        // Real packets from a network namespace over a veth pair, the program attached to the host end.
        var real = kernel![kernel!.IndexOf("== Real packets", StringComparison.Ordinal)..];
        if (real.StartsWith("== Real packets: skipped", StringComparison.Ordinal))
            Need.Capabilities("a sample's real packets (a network namespace and a veth pair)", Capability.SysAdmin, Capability.NetAdmin);
        if (real.StartsWith("== Real packets: skipped", StringComparison.Ordinal) && !Kernel.Required)
            Assert.Skip($"the kernel half ran on BPF_PROG_TEST_RUN only: {real.Split('\n')[0]}");
        Assert.Contains("3 flows, ", real);
        Assert.Matches(@"UDP   10\.215\.\d+\.2:\d+ +10\.215\.\d+\.1:23 +3 +426 +0 +3", real);
        Assert.Matches(@"UDP   10\.215\.\d+\.2:\d+ +10\.215\.\d+\.1:8053 +5 +710 +5 +0", real);
        Assert.Contains("UDP :8053 5 of 5 datagrams; UDP :23 0 of 3 (denied); TCP :8080 1000 of 1000 bytes", real);
        Assert.Contains("Real packets: the program saw them all and dropped only the denied ones.", real);
    }

    [Fact]
    public async Task IdentityPolicy_DropsByReason_LiveUpdate_BothEnginesAgree()
    {
        var (interpreter, kernel) = await RunSample("Bpf.Samples.IdentityPolicy");
        var at = interpreter.IndexOf("-- policy-update.json", StringComparison.Ordinal);
        Assert.True(at > 0, interpreter);
        string before = interpreter[..at], after = interpreter[at..];

        Assert.Contains("4 rules -> 9 policy entries (+9 -0)", before);
        Assert.Contains("     256  app=frontend,env=prod      frontend-1 (10.0.0.11), frontend-2 (10.0.0.12)", before);
        Assert.Contains("frontend-1 -> api-1 8080/TCP           3  ALLOWED", before);
        Assert.Contains("frontend-1 -> db-1 5432/TCP            2  DROPPED: policy denied", before);
        Assert.Contains("prometheus -> api-1 9090/TCP           1  ALLOWED", before);
        Assert.Contains("203.0.113.7 -> api-1 8080/TCP          2  DROPPED: policy denied", before);
        Assert.Contains("frontend-1 -> api-1 8080/UDP           1  DROPPED: policy denied", before);
        Assert.Contains("frontend-1 -> api-1 (fragment)         1  DROPPED: fragment", before);
        Assert.Contains("frontend-1 -> api-1 (cut short)        1  DROPPED: malformed", before);
        Assert.Contains("ALLOWED                                9", before);
        Assert.Contains("DROPPED: policy denied                 5", before);
        Assert.Contains("scrape-metrics                         3       1     150", before);

        // The live update: scrape-metrics removed (3 entries), public-api added (world -> api 8080/TCP); the rest keep counting.
        Assert.Contains("4 rules -> 7 policy entries (+1 -3)", after);
        Assert.Contains("prometheus -> api-1 9090/TCP           1  DROPPED: policy denied", after);
        Assert.Contains("203.0.113.7 -> api-1 8080/TCP          2  ALLOWED", after);
        Assert.Contains("ALLOWED                               19", after);
        Assert.Contains("DROPPED: policy denied                 9", after);
        Assert.Contains("DROPPED: fragment                      2", after);
        Assert.Contains("DROPPED: malformed                     2", after);
        Assert.Contains("frontend-to-api                        1      10    2400", after);
        Assert.Contains("public-api                             1       2     800", after);
        Assert.DoesNotContain("scrape-metrics", after);
        RequireKernelHalf(kernel);
        Assert.Contains("public-api                             1       2     800", kernel);

        // Real packets from a network namespace over a veth pair: the allowed TCP connection arrives, the UDP datagrams do not.
        var real = kernel![kernel!.IndexOf("== Real packets", StringComparison.Ordinal)..];
        if (real.StartsWith("== Real packets: skipped", StringComparison.Ordinal))
            Need.Capabilities("a sample's real packets (a network namespace and a veth pair)", Capability.SysAdmin, Capability.NetAdmin);
        if (real.StartsWith("== Real packets: skipped", StringComparison.Ordinal) && !Kernel.Required)
            Assert.Skip($"the kernel half ran on BPF_PROG_TEST_RUN only: {real.Split('\n')[0]}");
        Assert.Contains("DROPPED: policy denied                 3", real);
        Assert.Matches(@"ALLOWED +[1-9]\d*\n", real);
        Assert.Contains("Delivered to the server: TCP :8080 1000 of 1000 bytes; UDP :8053 0 of 3 datagrams (no rule)", real);
        Assert.Contains("Real packets: the allowed connection went through; the datagrams no rule allows were dropped.", real);
    }

    [Fact]
    public async Task LoadBalancer_MaglevDistribution_ChecksumsValid_BackendChangesMoveFewFlows()
    {
        var (interpreter, kernel) = await RunSample("Bpf.Samples.LoadBalancer");
        var steps = interpreter.Split("-- ", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        Assert.Equal(3, steps.Length);
        foreach (var step in steps) Assert.Contains("rewritten frames with valid IPv4 and TCP/UDP checksums: 1500 of 1500", step);
        // Every backend of a service gets a near-equal share (Maglev: within a few percent at 251 slots).
        var shares = steps.Select(step => step.Split('\n').Where(l => l.StartsWith("10.244.", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(c => c[0], c => (Flows: int.Parse(c[1]), Packets: int.Parse(c[3])))).ToArray();
        Assert.Equal(["10.244.1.11:53", "10.244.1.11:8080", "10.244.2.12:53", "10.244.2.12:8080", "10.244.3.13:8080"], shares[0].Keys.Order());
        Assert.DoesNotContain("10.244.2.12:8080", shares[1].Keys);
        Assert.Contains("10.244.4.14:8080", shares[2].Keys);
        foreach (var s in shares)
        {
            var web = s.Where(kv => kv.Key.EndsWith(":8080", StringComparison.Ordinal)).ToList();
            Assert.Equal(1200, web.Sum(kv => kv.Value.Flows));
            Assert.Equal(300, s.Where(kv => kv.Key.EndsWith(":53", StringComparison.Ordinal)).Sum(kv => kv.Value.Flows));
            Assert.All(web, kv => Assert.InRange(kv.Value.Flows, 1200 / web.Count * 0.9, 1200 / web.Count * 1.1));
            Assert.All(s.Values, v => Assert.Equal(v.Flows, v.Packets));   // the program's per-backend counter agrees
        }
        // Removing a backend moves its flows and few others; adding one moves about a third, nearly all to it.
        var removed = Moved(steps[1]);
        Assert.Equal(shares[0]["10.244.2.12:8080"].Flows, removed.Forced);
        Assert.InRange(removed.Others, 0, 1200 / 20);
        var added = Moved(steps[2]);
        Assert.Equal(0, added.Forced);
        Assert.Equal(shares[2]["10.244.4.14:8080"].Flows, added.ToNew);
        Assert.InRange(added.Others, 0, 1200 / 20);
        RequireKernelHalf(kernel);
        Assert.Contains("rewritten frames with valid IPv4 and TCP/UDP checksums: 1500 of 1500", kernel);

        static (int Forced, int ToNew, int Others) Moved(string step)
        {
            var m = System.Text.RegularExpressions.Regex.Match(step, @"flows moved: \d+ of 1500: (\d+) had the removed backend, (\d+) went to the new one, (\d+) others");
            Assert.True(m.Success, step);
            return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
        }
    }

    /// <summary>Runs the sample's built dll; it must exit 0 (it exits 1 when the engines disagree). Returns the interpreter's
    /// section of the output and the second engine's (Auto's: the kernel when it loaded, else null).</summary>
    internal static async Task<(string Interpreter, string? Kernel)> RunSample(string name)
    {
        var (exitCode, stdout, stderr) = await RunBuilt(name);
        Assert.True(exitCode == 0, $"exit {exitCode}: {stdout}{stderr}");

        var kernelAt = stdout.IndexOf("== Kernel ", StringComparison.Ordinal);
        var interpreterAt = stdout.IndexOf("== Interpreter ", StringComparison.Ordinal);
        Assert.True(interpreterAt >= 0, $"no interpreter section: {stdout}");
        var autoAt = stdout.IndexOf("== ", interpreterAt + 3, StringComparison.Ordinal);
        var interpreter = stdout[interpreterAt..(autoAt < 0 ? stdout.Length : autoAt)];
        if (kernelAt < 0) return (interpreter, null);
        Assert.Contains("Both engines agree.", stdout);
        return (interpreter, stdout[kernelAt..]);
    }

    /// <summary>Runs a sample's built dll (the solution build, which <c>dotnet test BpfNet.sln</c> runs first, builds
    /// every sample) with a 120 s limit; its exit code and output.</summary>
    internal static async Task<(int ExitCode, string Stdout, string Stderr)> RunBuilt(string name)
    {
        var dll = new[] { "Release", "Debug" }
            .Select(c => Path.Combine(RepoPaths.Root, "samples", name, "bin", c, "net10.0", name + ".dll"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
        Assert.True(dll is not null, $"the sample {name} is not built: run 'dotnet build BpfNet.sln -c Release'");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll!);
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdoutTask = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderrTask = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdoutTask, await stderrTask);
    }

    /// <summary>Skips (naming why) when the kernel half did not run and the kernel is unavailable; fails when it is available or required.</summary>
    internal static void RequireKernelHalf(string? kernel)
    {
        if (kernel is not null) return;
        Assert.True(Kernel.UnavailableReason is not null && !Kernel.Required,
            $"the kernel is {(Kernel.UnavailableReason is null ? "available" : "required")} but the sample ran only the interpreter");
        Assert.Skip($"only the interpreter half ran: kernel unavailable: {Kernel.UnavailableReason}");
    }
}
