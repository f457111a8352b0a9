using System.Text.Json;
using Bpf.Tests;
using Bpf.Loader;

namespace Bpf.Cli.Tests;

/// <summary><c>bpfnet prog list</c>, <c>bpfnet map list</c> and <c>bpfnet map … id:N</c> in the real kernel: an
/// object this test loads (and pins, so it outlives each command) is found by id with its type, name and sizes.
/// Other programs and maps may be loaded; ids are arbitrary, so nothing else is asserted about the lists.</summary>
public class ListCommandTests
{
    private static readonly string Filter = Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf", "xdp_filter.o");

    [KernelFact]
    public void Prog_list_and_map_list_find_a_loaded_object_by_id_and_map_commands_take_its_ids()
    {
        Need.Capabilities("bpfnet prog list / map list (BPF_*_GET_NEXT_ID)", Capability.SysAdmin);
        var dir = $"/sys/fs/bpf/bpfnet-test-{Guid.NewGuid():N}";
        try
        {
            var load = CliRunner.Run("load", Filter, "--pin", dir, "--json");
            Assert.True(load.ExitCode == 0, load.Stdout + load.Stderr);
            uint programId;
            Dictionary<string, uint> mapIds;
            using (var doc = StrictJson.Parse(load.Stdout, "load --json"))
            {
                programId = Assert.Single(doc.RootElement.GetProperty("programs").EnumerateArray()).GetProperty("id").GetUInt32();
                mapIds = doc.RootElement.GetProperty("maps").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("id").GetUInt32());
            }

            var progs = CliRunner.Run("prog", "list", "--json");
            Assert.True(progs.ExitCode == 0, progs.Stderr);
            using (var doc = StrictJson.Parse(progs.Stdout, "prog list --json"))
            {
                var p = Assert.Single(doc.RootElement.GetProperty("programs").EnumerateArray(), e => e.GetProperty("id").GetUInt32() == programId);
                Assert.Equal("Xdp", p.GetProperty("type").GetString());
                Assert.Equal("xdp_filter", p.GetProperty("name").GetString());
                Assert.Matches("^[0-9a-f]{16}$", p.GetProperty("tag").GetString());
                Assert.True(p.GetProperty("gpl_compatible").GetBoolean());
                var loadedAt = DateTimeOffset.Parse(p.GetProperty("loaded_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(loadedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
                Assert.True(p.GetProperty("bytes_xlated").GetUInt32() > 0);
                Assert.Equal(p.GetProperty("jited").GetBoolean(), p.GetProperty("bytes_jited").GetUInt32() > 0);
                Assert.Equal(mapIds.Values.Order(), p.GetProperty("map_ids").EnumerateArray().Select(e => e.GetUInt32()).Order());
                Assert.True(p.GetProperty("btf_id").GetUInt32() > 0); // compiled with -g: loaded with BTF
                Assert.Equal(JsonValueKind.Number, p.GetProperty("uid").ValueKind);
                // The contract in docs/cli.md: every documented field is there (verified_insns from 5.16 on).
                var fields = p.EnumerateObject().Select(f => f.Name).ToHashSet();
                foreach (var documented in new[] { "id", "type", "name", "tag", "gpl_compatible", "loaded_at", "uid", "jited", "bytes_xlated", "bytes_jited", "map_ids", "btf_id", "run_time_ns", "run_cnt" })
                {
                    Assert.True(fields.Contains(documented), $"prog list --json lacks the documented field '{documented}'");
                }
            }
            var text = CliRunner.Run("prog", "list");
            Assert.Contains($"{programId}: Xdp  name xdp_filter  tag ", text.Stdout);

            var maps = CliRunner.Run("map", "list", "--json");
            Assert.True(maps.ExitCode == 0, maps.Stderr);
            using (var doc = StrictJson.Parse(maps.Stdout, "map list --json"))
            {
                var all = doc.RootElement.GetProperty("maps").EnumerateArray().ToList();
                var blocked = Assert.Single(all, e => e.GetProperty("id").GetUInt32() == mapIds["blocked"]);
                Assert.Equal("LruHash", blocked.GetProperty("type").GetString());
                Assert.Equal("blocked", blocked.GetProperty("name").GetString());
                Assert.Equal(4u, blocked.GetProperty("bytes_key").GetUInt32());
                Assert.Equal(1u, blocked.GetProperty("bytes_value").GetUInt32());
                Assert.Equal(256u, blocked.GetProperty("max_entries").GetUInt32());
                Assert.Equal(0u, blocked.GetProperty("flags").GetUInt32());
                Assert.True(blocked.GetProperty("btf_id").GetUInt32() > 0);
                Assert.Equal(["id", "type", "name", "bytes_key", "bytes_value", "max_entries", "flags", "btf_id"], blocked.EnumerateObject().Select(f => f.Name));
                var counts = Assert.Single(all, e => e.GetProperty("id").GetUInt32() == mapIds["packet_counts"]);
                Assert.Equal("Hash", counts.GetProperty("type").GetString());
                Assert.Equal(8u, counts.GetProperty("bytes_value").GetUInt32());
                Assert.Equal(1024u, counts.GetProperty("max_entries").GetUInt32());
            }
            Assert.Contains($"{mapIds["blocked"]}: LruHash  name blocked  key 4B  value 1B  max_entries 256", CliRunner.Run("map", "list").Stdout);

            // The map commands take id:N as well as a pinned path: the same map.
            var byId = $"id:{mapIds["blocked"]}";
            Assert.Equal(0, CliRunner.Run("map", "update", byId, "0x0a000001", "1", "--object", Filter).ExitCode);
            var lookup = CliRunner.Run("map", "lookup", $"{dir}/maps/blocked", "0x0a000001", "--object", Filter);
            Assert.Contains("0a 00 00 01 => 01  (167772161 => 1)", lookup.Stdout);
            var dump = CliRunner.Run("map", "dump", byId, "--json");
            using (var doc = StrictJson.Parse(dump.Stdout, "map dump id:N --json"))
            {
                Assert.Equal(byId, doc.RootElement.GetProperty("file").GetString());
                Assert.Equal("0a000001", Assert.Single(doc.RootElement.GetProperty("entries").EnumerateArray()).GetProperty("key").GetString());
            }
            Assert.Equal(0, CliRunner.Run("map", "delete", byId, "hex:0a000001").ExitCode);
            Assert.Equal(1, CliRunner.Run("map", "lookup", byId, "hex:0a000001").ExitCode);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        // Ids are allocated from 1 up to INT_MAX: 4294967295 is never a map's. Unusable input, exit 2, one line.
        var missing = CliRunner.Run("map", "dump", "id:4294967295");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no BPF map with id 4294967295", missing.Stderr);
    }

    /// <summary>Walking the kernel's ids needs CAP_SYS_ADMIN: the real executable, started without it (setpriv
    /// drops it from the bounding set), says so on one line naming the capability, exit 2, nothing on stdout.</summary>
    [KernelTheory]
    [InlineData("prog")]
    [InlineData("map")]
    public void Listing_without_cap_sys_admin_is_an_unusable_environment_exit_2(string command)
    {
        Need.Tools("setpriv");
        var dll = Path.Combine(AppContext.BaseDirectory, "bpfnet.dll");
        var psi = new System.Diagnostics.ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "dotnet", dll, command, "list", "--json" }) psi.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "bpfnet did not exit within 60 s");
        if (stderr.StartsWith("setpriv:", StringComparison.Ordinal)) Assert.Skip("setpriv cannot drop capabilities here: " + stderr.Trim());
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {stdout.Result}{stderr}");
        Assert.Equal("", stdout.Result);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"bpfnet {command}: cannot list the kernel's", line);
        Assert.Contains("EPERM", line);
        Assert.Contains("CAP_SYS_ADMIN", line);
    }

    [Fact]
    public void List_actions_and_ids_are_checked_before_the_kernel_is_asked()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("bpfnet prog and map work on Linux only (elsewhere they say so, exit 2)");
        foreach (var (args, message) in new (string[], string)[]
        {
            (["prog"], "missing ACTION (list)"),
            (["prog", "show"], "unknown prog action 'show' (list)"),
            (["prog", "list", "x"], "unexpected argument 'x'"),
            (["map", "list", "x"], "unexpected argument 'x'"),
            (["map", "list", "--object", "x.o"], "--object applies to dump, lookup, update and delete"),
            (["map", "dump", "id:abc"], "id:N takes a map id"),
            (["map", "dump", "id:-1"], "id:N takes a map id"),
        })
        {
            var o = CliRunner.Run(args);
            Assert.True(o.ExitCode == 2, $"{string.Join(' ', args)}: exit {o.ExitCode}");
            var line = Assert.Single(o.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(message, line);
            Assert.Equal("", o.Stdout);
        }
    }
}
