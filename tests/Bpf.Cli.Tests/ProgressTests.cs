using System.Diagnostics;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>The live progress line of long work: shown on a terminal (stderr, rewritten in place, erased at the
/// end), nothing at all when stderr is redirected — which is how these tests, and scripts, run the tool.</summary>
public class ProgressTests
{
    private static readonly string Prime = Path.Combine(RepoPaths.ConformanceDir, "prime.data");

    [Fact]
    public void The_decision_is_stderr_being_a_terminal()
    {
        Assert.True(Progress.ShouldShow(errorIsTerminal: true));
        Assert.False(Progress.ShouldShow(errorIsTerminal: false));
        // The console context asks the console; a test host's stderr is redirected.
        Assert.Equal(!Console.IsErrorRedirected, CliContext.Console().ErrorIsTerminal);
        Assert.True(Console.IsErrorRedirected, "tests run with stderr redirected");
        var quiet = new CliContext(TextReader.Null, TextWriter.Null, new StringWriter(), () => Stream.Null);
        Assert.False(Progress.For(quiet, "run", 10).Enabled);
        var terminal = new CliContext(TextReader.Null, TextWriter.Null, new StringWriter(), () => Stream.Null, errorIsTerminal: true);
        Assert.True(Progress.For(terminal, "run", 10).Enabled);
    }

    [Fact]
    public void A_silent_progress_writes_nothing()
    {
        var err = new StringWriter();
        using (var p = Progress.For(new CliContext(TextReader.Null, TextWriter.Null, err, () => Stream.Null), "run", 10))
        {
            p.Ticking(_ => "tick");
            for (int i = 0; i < 10; i++) p.Report(i);
            Thread.Sleep(Progress.Interval * 3);
        }
        Assert.Equal("", err.ToString());
    }

    [Fact]
    public void Updates_are_throttled_rewritten_in_place_and_erased()
    {
        var err = new StringWriter();
        long now = 0;
        long step = (long)(Progress.Interval.TotalSeconds * Stopwatch.Frequency);
        var p = new Progress(err, "run", 1000, () => now);
        p.Report(1); // within the first interval: work that ends quickly never shows a line
        Assert.Equal("", err.ToString());
        now += step;
        p.Report(500);
        Assert.Equal("\rrun: 500/1000 (50%)", err.ToString());
        p.Report(600); // too soon
        Assert.Equal("\rrun: 500/1000 (50%)", err.ToString());
        now += step;
        p.Report(1000, "done");
        Assert.Equal("\rrun: 500/1000 (50%)\rrun: 1000/1000 (100%) done", err.ToString());
        var counter = new Progress(new StringWriter(), "attach", 0, () => 0);
        Assert.Equal("attach: 7", counter.Format(7, null));
        p.Dispose();
        var width = "run: 1000/1000 (100%) done".Length;
        Assert.EndsWith("\r" + new string(' ', width) + "\r", err.ToString());
        Assert.DoesNotContain('\n', err.ToString());
        p.Dispose(); // once
        Assert.Equal(1, err.ToString().Split("\r" + new string(' ', width) + "\r").Length - 1);
    }

    [Fact]
    public void A_ticking_line_updates_until_disposed()
    {
        var err = new StringWriter();
        var p = new Progress(TextWriter.Synchronized(err), "verify", 0);
        int calls = 0;
        p.Ticking(t => $"verify: x.o, {Interlocked.Increment(ref calls)}");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref calls) < 2 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        p.Dispose();
        var text = err.ToString();
        Assert.StartsWith("\rverify: x.o, 1", text);
        Assert.EndsWith("\r", text);
        Thread.Sleep(Progress.Interval * 3);
        Assert.Equal(text, err.ToString()); // nothing after Dispose
    }

    [Fact]
    public void Run_repeat_is_quiet_when_stderr_is_redirected_and_shows_then_erases_its_line_on_a_terminal()
    {
        var quiet = CliRunner.Run("run", Prime, "--repeat", "2000");
        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal("", quiet.Stderr);

        // Long enough to pass the first interval on any machine (prime.data runs ~650 instructions a run).
        var terminal = CliRunner.RunOnTerminal("run", Prime, "--repeat", "200000");
        Assert.Equal(0, terminal.ExitCode);
        Assert.Equal(quiet.Stdout.Split('\n')[0], terminal.Stdout.Split('\n')[0]); // r0: the output is the same
        Assert.StartsWith("\rrun: ", terminal.Stderr);
        Assert.Matches(@"\r +\r$", terminal.Stderr); // erased at the end
        Assert.DoesNotContain('\n', terminal.Stderr);
    }

    [Fact]
    public void Verify_and_run_of_objects_are_quiet_when_stderr_is_redirected()
    {
        var obj = RepoPaths.CorpusObject("xdp_filter") is var f && File.Exists(f) ? f : Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf", "xdp_filter.o");
        var verify = CliRunner.Run("verify", obj);
        Assert.Equal("", verify.Stderr);
        var run = CliRunner.Run("run", Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf", "xdp_filter.o"),
            "--program", "xdp_filter", "--data", new string('0', 128), "--repeat", "1000");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("", run.Stderr);
    }
}
