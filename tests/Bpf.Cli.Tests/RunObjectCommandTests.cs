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

    private static readonly string PartlyRejected = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "partly_rejected.o");

    [Fact]
    public void A_program_runs_when_another_program_of_its_object_is_rejected()
    {
        var o = Run(PartlyRejected, "--program", "pass", "--data", Packet);
        Assert.Equal(0, o.ExitCode);
        Assert.StartsWith("r0: 0x2", o.Stdout, StringComparison.Ordinal);
        // The rejected one is still refused with its own rejection.
        var refused = Run(PartlyRejected, "--program", "unchecked", "--data", Packet);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("rejected by the BpfNet verifier", refused.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("SkipFailedPrograms", refused.Stdout, StringComparison.Ordinal);
    }

    [KernelFact]
    public void A_program_runs_in_the_kernel_when_another_program_of_its_object_is_rejected()
    {
        Need.Kernel();
        var o = Run(PartlyRejected, "--program", "pass", "--data", Packet, "--kernel");
        Assert.Equal(0, o.ExitCode);
        Assert.StartsWith("r0: 0x2", o.Stdout, StringComparison.Ordinal);
        var refused = Run(PartlyRejected, "--program", "unchecked", "--data", Packet, "--kernel");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("rejected by the kernel verifier", refused.Stdout, StringComparison.Ordinal);
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

    [Fact]
    public void Map_seeds_make_the_drop_path_reachable_and_dumps_are_decoded_through_btf()
    {
        // 10.0.0.1 in the block list (blocked's key is a __be32: written in network order) -> XDP_DROP.
        var o = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--map", "blocked", "0x0a000001=1", "--maps", "--json");
        Assert.True(o.ExitCode == 0, o.Stderr);
        using var doc = StrictJson.Parse(o.Stdout, "run --map");
        Assert.Equal(1, doc.RootElement.GetProperty("retval").GetInt32()); // XDP_DROP
        var maps = doc.RootElement.GetProperty("maps");
        var blocked = Assert.Single(maps.GetProperty("blocked").GetProperty("entries").EnumerateArray());
        Assert.Equal("0a000001", blocked.GetProperty("key").GetString());
        Assert.Equal(0x0a000001, blocked.GetProperty("key_decoded").GetInt64());
        Assert.Equal(1, blocked.GetProperty("value_decoded").GetInt32());
        Assert.Empty(maps.GetProperty("packet_counts").GetProperty("entries").EnumerateArray()); // dropped before counting

        // The same entry as hex bytes; a typed value in decimal.
        var hex = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--map", "blocked", "hex:0a000001=1");
        Assert.Equal("r0: 0x1", hex.Stdout.Split('\n')[0]);
        // Another source is not blocked: XDP_PASS, and counted (packet_counts' key is a __u32 holding the address bytes).
        var other = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--map", "blocked", "0x0a000009=1", "--maps");
        Assert.Equal("r0: 0x2", other.Stdout.Split('\n')[0]);
        Assert.Contains("  0a 00 00 01 => 01 00 00 00 00 00 00 00  (16777226 => 1)", other.Stdout);
    }

    [Fact]
    public void Map_seeds_that_do_not_fit_are_unusable_input()
    {
        (string[] Args, string Message)[] cases =
        [
            (["--map", "nope", "1=1"], "has no map 'nope' (maps: blocked, packet_counts)"),
            (["--map", "blocked", "0x0a000001=300"], "300 does not fit in 8 bits"),
            (["--map", "blocked", "0x0a000001"], "is not KEY=VALUE"),
            (["--map", "blocked", "hex:0a00=1"], "2 bytes of hex given; the map's field is 4 bytes"),
            (["--map", "blocked", "{\"a\":1}=1"], "is not a __be32"),
        ];
        foreach (var (args, message) in cases)
        {
            var o = Run([Filter, "--program", "xdp_filter", "--data", Packet, .. args]);
            Assert.True(o.ExitCode == 2, $"{string.Join(' ', args)}: exit {o.ExitCode}: {o.Stdout}{o.Stderr}");
            Assert.Contains(message, o.Stderr);
        }
    }

    [KernelFact]
    public void Kernel_runs_pin_by_name_maps_privately_and_leave_no_pin()
    {
        // bpfnet_runs is pinned by name and counts runs: each one-shot run starts from an empty map (1, not 2) and
        // neither /sys/fs/bpf/bpfnet_runs nor the run's own directory stays behind. `load` without --pin likewise.
        var counter = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "pinned_counter.o");
        var before = Directory.GetFileSystemEntries("/sys/fs/bpf").Order(StringComparer.Ordinal).ToList();
        Assert.DoesNotContain("/sys/fs/bpf/bpfnet_runs", before); // a pin from elsewhere would make the test meaningless
        for (var i = 0; i < 2; i++)
        {
            var o = Run(counter, "--program", "count_runs", "--data", Packet, "--kernel", "--json");
            Assert.True(o.ExitCode == 0, o.Stdout + o.Stderr);
            using var doc = StrictJson.Parse(o.Stdout, "kernel");
            Assert.Equal(1, doc.RootElement.GetProperty("retval").GetInt32());
        }
        Assert.Equal(0, CliRunner.Run("load", counter).ExitCode);
        Assert.Equal(before, Directory.GetFileSystemEntries("/sys/fs/bpf").Order(StringComparer.Ordinal).ToList());
    }

    [KernelFact]
    public void Redirect_maps_give_the_kernel_s_actions_in_both_engines()
    {
        // Device (lo, ifindex 1), device hash, CPU and XSK maps, empty or seeded: the interpreter's return value is
        // the kernel's test run's, XDP_REDIRECT (4) exactly when the entry exists (or for a broadcast).
        var redirect = Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_redirect.o");
        const string frame = "0000000000000000000000000800";
        string[][] cases =
        [
            ["redirect_dev"], ["redirect_dev", "--map", "tx_port", "0=1"],
            ["redirect_dev_hash"], ["redirect_dev_hash", "--map", "tx_hash", "7=hex:0100000000000000"],
            ["read_dev_hash", "--map", "tx_hash", "7=hex:0100000000000000"],
            ["redirect_cpu"], ["redirect_xsk"], ["broadcast"], ["bad_flags"],
            .. Environment.ProcessorCount > 1 ? [["redirect_cpu", "--map", "cpus", "1=192"]] : Array.Empty<string[]>(),
        ];
        foreach (var args in cases)
        {
            string[] run = [redirect, "--program", args[0], "--data", frame, .. args[1..], "--json"];
            var managed = Run(run);
            var kernel = Run([.. run, "--kernel"]);
            Assert.True(managed.ExitCode == 0 && kernel.ExitCode == 0, $"{string.Join(' ', args)}: {managed.Stdout}{managed.Stderr}{kernel.Stdout}{kernel.Stderr}");
            using var m = StrictJson.Parse(managed.Stdout, "interpreter");
            using var k = StrictJson.Parse(kernel.Stdout, "kernel");
            Assert.True(m.RootElement.GetProperty("retval").GetInt64() == k.RootElement.GetProperty("retval").GetInt64(), $"{string.Join(' ', args)}: interpreter {m.RootElement.GetProperty("retval")}, kernel {k.RootElement.GetProperty("retval")}");
        }
    }

    [KernelFact]
    public void Map_seeds_reach_the_kernel_too()
    {
        var managed = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--map", "blocked", "0x0a000001=1", "--map", "packet_counts", "5=7", "--maps", "--json");
        var kernel = Run(Filter, "--program", "xdp_filter", "--data", Packet, "--map", "blocked", "0x0a000001=1", "--map", "packet_counts", "5=7", "--maps", "--json", "--kernel");
        Assert.True(kernel.ExitCode == 0, kernel.Stdout + kernel.Stderr);
        using var m = StrictJson.Parse(managed.Stdout, "interpreter");
        using var k = StrictJson.Parse(kernel.Stdout, "kernel");
        Assert.Equal(1, k.RootElement.GetProperty("retval").GetInt32());
        Assert.Equal(m.RootElement.GetProperty("maps").ToString(), k.RootElement.GetProperty("maps").ToString());
        Assert.Contains("\"value_decoded\": 7", k.RootElement.GetProperty("maps").GetProperty("packet_counts").ToString().Replace(":7", ": 7"));
    }

    /// <summary>bpf() refused for want of privileges is the environment, not the program: exit 2, one line on stderr.</summary>
    [Fact]
    public void Kernel_run_without_privileges_exits_2()
    {
        Need.Tools("capsh");
        var dll = Path.Combine(AppContext.BaseDirectory, "bpfnet.dll");
        var command = $"exec dotnet '{dll}' run '{Filter}' --program xdp_filter --data {Packet.Replace(" ", "")} --kernel";
        var psi = Environment.IsPrivilegedProcess
            ? new System.Diagnostics.ProcessStartInfo("capsh") { ArgumentList = { "--drop=cap_sys_admin,cap_bpf,cap_perfmon,cap_net_admin", "--", "-c", command } }
            : new System.Diagnostics.ProcessStartInfo("sh") { ArgumentList = { "-c", command } };
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "bpfnet did not exit");
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {stdout}{stderr}");
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("EPERM", line);
    }

    [Fact]
    public void Global_data_is_seeded_and_dumped_by_variable_name()
    {
        var globals = RepoPaths.CorpusObject("globals");
        var frame = new string('0', 128);
        var o = Run(globals, "--program", "use_globals", "--data", frame, "--map", ".data", "0={\"packets_seen\": 41}", "--maps", "--json");
        Assert.True(o.ExitCode == 0, o.Stdout + o.Stderr);
        using var doc = StrictJson.Parse(o.Stdout, "globals");
        var maps = doc.RootElement.GetProperty("maps");
        var data = Assert.Single(maps.GetProperty(".data").GetProperty("entries").EnumerateArray());
        Assert.Equal(0, data.GetProperty("key_decoded").GetInt32());
        Assert.Equal(42, data.GetProperty("value_decoded").GetProperty("packets_seen").GetInt64()); // 41, then packets_seen++
        Assert.Equal(50, data.GetProperty("value_decoded").GetProperty("last_len").GetInt32());     // skb->len: 64 - the Ethernet header
        var bss = Assert.Single(maps.GetProperty(".bss").GetProperty("entries").EnumerateArray()).GetProperty("value_decoded");
        Assert.Equal(0, bss.GetProperty("pair").GetProperty("b").GetInt32()); // an anonymous struct variable, by member
    }

    private static readonly string RepeatState = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "repeat_state.o");

    [KernelFact]
    public void A_raw_tracepoint_runs_on_both_engines_and_more_than_12_arguments_are_unusable_input()
    {
        var twelve = string.Concat(Enumerable.Repeat("00", 96));
        var interpreter = Run(RepeatState, "--program", "count_raw", "--data", twelve);
        Assert.Equal(0, interpreter.ExitCode);
        Assert.StartsWith("r0: 0x7", interpreter.Stdout, StringComparison.Ordinal);
        Need.Kernel();
        var kernel = Run(RepeatState, "--program", "count_raw", "--data", twelve, "--kernel", "--repeat", "3");
        Assert.Equal(0, kernel.ExitCode);
        Assert.StartsWith("r0: 0x7", kernel.Stdout, StringComparison.Ordinal);
        foreach (var engine in new[] { "--unverified", "--kernel" })
        {
            var o = Run(RepeatState, "--program", "count_raw", "--data", twelve + "0000000000000000", engine);
            Assert.Equal(2, o.ExitCode);
            Assert.Contains("at most 12 u64 arguments (96 bytes); got 104 bytes", o.Stderr);
            Assert.Single(o.Stderr.Trim().Split('\n'));
        }
    }
}
