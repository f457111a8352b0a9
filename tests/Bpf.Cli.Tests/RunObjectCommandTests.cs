using System.Text.Json;
using Bpf.Cli;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

public class RunObjectCommandTests
{
    private static readonly string Filter = Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o");
    private static readonly string Tc = Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "programs", "tc_classifier.o");

    // Ethernet + IPv4 (src 10.0.0.1) header.
    private const string Packet = "000000000000 020000000002 0800 4500003200000000401100000a0000010a000002";

    /// <summary>Through the dispatcher: <c>bpfnet run X.o</c> must reach the object runner.</summary>
    private static CliRunner.Output Run(params string[] args) => CliRunner.Run(["run", .. args]);

    private static readonly string PastDataEnd = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "past_data_end.o");

    [Fact]
    public void A_program_the_verifier_rejects_is_refused_naming_instruction_and_source_line()
    {
        var o = Run(PastDataEnd, "--program", "past_data_end", "--data", Packet);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("rejected by the BpfNet verifier", o.Stdout);
        Assert.Contains("at instruction 6", o.Stdout);
        Assert.Contains("past_data_end.c:12", o.Stdout);
        Assert.DoesNotContain("r0:", o.Stdout);
    }

    [Fact]
    public void Unverified_runs_only_when_asked_and_the_interpreter_still_contains_the_read()
    {
        // --unverified on a 14-byte frame: the interpreter runs it; the read past data_end is a fault (exit 1),
        // never a read of foreign memory.
        var o = Run(PastDataEnd, "--program", "past_data_end", "--data", "000000000000 020000000002 0800", "--unverified");
        Assert.Equal(1, o.ExitCode);
        Assert.DoesNotContain("BpfNet verifier", o.Stdout);
        // A longer frame makes the read in bounds at run time: with --unverified it runs and returns.
        var ok = Run(PastDataEnd, "--program", "past_data_end", "--data", Packet, "--unverified");
        Assert.Equal(0, ok.ExitCode);
    }

    [Fact]
    public void Privilege_is_configurable()
    {
        var o = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--privilege", "unprivileged");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("unprivileged", o.Stdout);
    }

    [Fact]
    public void Prints_r0_the_packet_and_the_maps()
    {
        var o = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--maps");
        Assert.Equal(0, o.ExitCode);
        var lines = o.Stdout.Split('\n');
        Assert.Equal("r0: 0x2", lines[0]);
        Assert.StartsWith("packet: 00 00 00 00 00 00 02 00", lines[1]);
        Assert.Contains("map packet_counts (Hash): 1 entries", o.Stdout);
        Assert.Contains("  0a 00 00 01 => 01 00 00 00 00 00 00 00", o.Stdout);
    }

    [Fact]
    public void Json_output_has_r0_packet_and_map_entries()
    {
        var o = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--maps", "--json", "--repeat", "3");
        Assert.Equal(0, o.ExitCode);
        using var doc = JsonDocument.Parse(o.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("interpreter", root.GetProperty("engine").GetString());
        Assert.Equal(2, root.GetProperty("retval").GetInt32());
        Assert.Equal(Packet.Replace(" ", ""), root.GetProperty("packet").GetString());
        Assert.Equal(3, root.GetProperty("runs").GetInt32());
        var entries = root.GetProperty("maps").GetProperty("packet_counts").GetProperty("entries");
        Assert.Equal("0a000001", entries[0].GetProperty("key").GetString());
        Assert.Equal("0300000000000000", entries[0].GetProperty("value").GetString()); // three runs counted
    }

    [Fact]
    public void Tc_programs_see_the_test_run_frame()
    {
        var frame = string.Concat(Enumerable.Repeat("00", 1200));
        var o = Run(Tc, "--program", "tc_mark", "--data", frame, "--json");
        using var doc = JsonDocument.Parse(o.Stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("retval").GetInt32()); // TC_ACT_OK for a long frame
        using var runt = JsonDocument.Parse(Run(Tc, "--program", "tc_mark", "--data", "00000000000000000000000000000000", "--json").Stdout);
        Assert.Equal(2, runt.RootElement.GetProperty("retval").GetInt32()); // TC_ACT_SHOT below 60 bytes
    }

    [Fact]
    public void Bad_input_is_a_usage_error_naming_the_problem()
    {
        Assert.Contains("no program 'nope' (programs: xdp_filter)", Run(Filter, "--program", "nope", "--data", "00").Stderr);
        Assert.Contains("missing --data", Run(Filter, "--program", "xdp_filter").Stderr);
        Assert.Contains("missing --program", Run(Filter, "--data", "00").Stderr);
        Assert.Equal(ExitCodes.Usage, Run(Filter, "--program", "xdp_filter", "--data", "0g").ExitCode);
        var notElf = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notElf, "hello");
            var o = Run(notElf, "--program", "x", "--data", "00");
            Assert.Equal(ExitCodes.Usage, o.ExitCode);
            Assert.Contains(notElf, o.Stderr);
        }
        finally
        {
            File.Delete(notElf);
        }
    }

    [Fact]
    public void A_kernel_run_prints_the_same_as_the_interpreter_when_the_kernel_is_available()
    {
        var managed = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--maps", "--json");
        var kernel = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--maps", "--json", "--kernel");
        if (kernel.ExitCode != 0)
        {
            // Without bpf() (not root, not Linux) the command reports why; then the comparison cannot be made.
            Assert.Contains("error", kernel.Stdout);
            Need.Kernel(); // skips (or fails under BPFNET_REQUIRE_KERNEL=1) when the kernel is unavailable
            Assert.Fail("the kernel is available but `bpfnet run --kernel` failed: " + kernel.Stdout + kernel.Stderr);
        }
        using var m = JsonDocument.Parse(managed.Stdout);
        using var k = JsonDocument.Parse(kernel.Stdout);
        Assert.Equal(m.RootElement.GetProperty("retval").GetInt32(), k.RootElement.GetProperty("retval").GetInt32());
        Assert.Equal(m.RootElement.GetProperty("packet").GetString(), k.RootElement.GetProperty("packet").GetString());
        Assert.Equal(m.RootElement.GetProperty("maps").GetProperty("packet_counts").ToString(), k.RootElement.GetProperty("maps").GetProperty("packet_counts").ToString());
    }
}
