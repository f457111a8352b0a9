using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary><c>bpfnet load --pin</c> and <c>bpfnet map</c> on the pinned maps, in the real kernel.</summary>
public class PinnedCommandTests
{
    private static readonly string Filter = Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf", "xdp_filter.o");

    [KernelFact]
    public void Load_pins_and_map_commands_update_dump_lookup_and_delete_through_btf()
    {
        var dir = $"/sys/fs/bpf/bpfnet-test-{Guid.NewGuid():N}";
        try
        {
            var load = CliRunner.Run("load", Filter, "--pin", dir, "--json");
            Assert.True(load.ExitCode == 0, load.Stdout + load.Stderr);
            using (var doc = StrictJson.Parse(load.Stdout, "load --json"))
            {
                var program = Assert.Single(doc.RootElement.GetProperty("programs").EnumerateArray());
                Assert.Equal($"{dir}/progs/xdp_filter", program.GetProperty("pin").GetString());
                Assert.True(program.GetProperty("id").GetUInt32() > 0);
                Assert.Equal(2, doc.RootElement.GetProperty("maps").GetArrayLength());
            }
            Assert.True(File.Exists($"{dir}/maps/blocked"));

            var blocked = $"{dir}/maps/blocked";
            Assert.Equal(0, CliRunner.Run("map", "update", blocked, "0x0a000001", "1", "--object", Filter).ExitCode);
            Assert.Equal(0, CliRunner.Run("map", "update", blocked, "hex:0a000002", "hex:01").ExitCode); // hex without --object too
            var dump = CliRunner.Run("map", "dump", blocked, "--object", Filter, "--json");
            Assert.True(dump.ExitCode == 0, dump.Stderr);
            using (var doc = StrictJson.Parse(dump.Stdout, "map dump --json"))
            {
                var keys = doc.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("key_decoded").GetInt64()).Order();
                Assert.Equal([0x0a000001L, 0x0a000002L], keys);
            }
            var lookup = CliRunner.Run("map", "lookup", blocked, "0x0a000001", "--object", Filter);
            Assert.Contains("0a 00 00 01 => 01  (167772161 => 1)", lookup.Stdout);
            Assert.Equal(0, CliRunner.Run("map", "delete", blocked, "0x0a000001", "--object", Filter).ExitCode);
            Assert.Equal(1, CliRunner.Run("map", "delete", blocked, "0x0a000001", "--object", Filter).ExitCode); // gone
            Assert.Equal(1, CliRunner.Run("map", "lookup", blocked, "0x0a000001", "--object", Filter).ExitCode);

            // Pinning over existing pins, a missing pin, a value that does not fit: unusable input, exit 2.
            Assert.Equal(2, CliRunner.Run("load", Filter, "--pin", dir).ExitCode);
            Assert.Equal(2, CliRunner.Run("map", "dump", $"{dir}/maps/nope").ExitCode);
            Assert.Equal(2, CliRunner.Run("map", "update", blocked, "0x0a000003", "300", "--object", Filter).ExitCode);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Map_actions_and_their_arguments_are_checked_before_the_kernel_is_asked()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("bpfnet map works on Linux only (elsewhere it says so, exit 2)");
        Assert.Contains("unknown map action 'frob'", CliRunner.Run("map", "frob", "/sys/fs/bpf/x").Stderr);
        Assert.Contains("map lookup takes PATH KEY", CliRunner.Run("map", "lookup", "/sys/fs/bpf/x").Stderr);
        Assert.Equal(2, CliRunner.Run("map").ExitCode);
    }
}
