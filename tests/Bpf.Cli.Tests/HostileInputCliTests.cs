using System.Text.Json;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>Issue 10 through the CLI: inputs that used to crash a command (exit 134) or be misreported as usage
/// errors now end with one line and the documented exit code (1: the program or object failed to load or run).</summary>
public class HostileInputCliTests
{
    // lddw r1, map fd 0 (src=1); r0 = 0; exit — a map reference a bare program run cannot resolve.
    private const string LddwOfMap = "18 11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 b7 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00";

    // call kfunc (src=2, BTF id 1); exit.
    private const string KfuncCall = "85 20 00 00 01 00 00 00 95 00 00 00 00 00 00 00";

    private static readonly string Filter = Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o");

    private const string Packet = "000000000000 020000000002 0800 4500003200000000401100000a0000010a000002";

    [Theory]
    [InlineData(LddwOfMap, "insn 0: lddw with pseudo source MapFd (1) needs a relocation resolver")]
    [InlineData(KfuncCall, "insn 0: kfunc calls (call with src=2, BTF id 1) are not supported")]
    public void Conformance_plugin_answers_an_error_line_and_exit_1(string program, string message)
    {
        var o = CliRunner.RunWithInput(program, "conformance-plugin");
        Assert.Equal(1, o.ExitCode);
        var line = Assert.Single(o.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: " + message, line);
    }

    [Theory]
    [InlineData(LddwOfMap, "insn 0: lddw with pseudo source MapFd (1) needs a relocation resolver")]
    [InlineData(KfuncCall, "insn 0: kfunc calls (call with src=2, BTF id 1) are not supported")]
    public void Run_reports_a_program_it_cannot_load_in_one_line(string program, string message)
    {
        using var file = new CliRunner.TempFile(".bin", Convert.FromHexString(program.Replace(" ", "")));
        var o = CliRunner.Run("run", file.Path, "--unverified"); // the interpreter's own refusal, past the verifier
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: " + message, Assert.Single(o.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        o = CliRunner.Run("run", file.Path, "--json", "--unverified");
        Assert.Equal(1, o.ExitCode);
        using var doc = JsonDocument.Parse(o.Stdout);
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.StartsWith(message, doc.RootElement.GetProperty("error").GetString());
    }

    private static CliRunner.TempFile Mutant(string label, uint value) =>
        new(".o", BtfMapFields.With(File.ReadAllBytes(Filter), label, value));

    [Fact]
    public void Verify_and_run_name_a_map_with_max_entries_0xffffffff()
    {
        // packet_counts is a hash map: above 2^28 entries the kernel answers E2BIG, and so do both commands.
        using var file = Mutant("packet_counts.max_entries", 0xffffffff);

        var verify = CliRunner.Run("verify", file.Path);
        Assert.Equal(1, verify.ExitCode);
        var line = Assert.Single(verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"reject: {file.Path}: map 'packet_counts': create (max_entries 4294967295 is above 268435456", line);
        Assert.EndsWith("failed: E2BIG (7)", line.TrimEnd());

        var json = CliRunner.Run("verify", file.Path, "--json");
        Assert.Equal(1, json.ExitCode);
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            Assert.Equal("reject", doc.RootElement.GetProperty("verdict").GetString());
            Assert.Contains("E2BIG", doc.RootElement.GetProperty("error").GetString());
        }

        var run = CliRunner.Run("run", file.Path, "--program", "xdp_filter", "--data", Packet);
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: map 'packet_counts': create (max_entries 4294967295", Assert.Single(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Run_names_a_map_whose_value_size_the_kernel_refuses()
    {
        // blocked is a hash map: key + value at or above KMALLOC_MAX_SIZE − sizeof(htab_elem) is the kernel's E2BIG.
        using var file = Mutant("blocked.value size", 0x80000000u);
        var run = CliRunner.Run("run", file.Path, "--program", "xdp_filter", "--data", Packet);
        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: map 'blocked': create (key size + value size", line);
        Assert.EndsWith("failed: E2BIG (7)", line.TrimEnd());
    }

    [Fact]
    public void A_packet_too_large_for_the_frame_is_unusable_input_but_run_time_errors_are_failures()
    {
        var o = CliRunner.Run("run", Filter, "--program", "xdp_filter", "--data", new string('0', 2 * 4000));
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("an XDP packet is at most 3520 bytes", o.Stderr);
    }
}
