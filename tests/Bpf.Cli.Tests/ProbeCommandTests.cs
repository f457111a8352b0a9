using Bpf.Tests;

namespace Bpf.Cli.Tests;

public class ProbeCommandTests
{
    [KernelFact]
    public void Probe_lists_program_and_map_types_and_a_type_s_helpers_as_strict_json()
    {
        var o = CliRunner.Run("probe", "--helpers", "xdp", "--json");
        Assert.True(o.ExitCode == 0, o.Stderr);
        using var doc = StrictJson.Parse(o.Stdout, "probe --json");
        var root = doc.RootElement;
        string Status(string section, string name) =>
            root.GetProperty(section).EnumerateArray().Single(e => e.GetProperty("name").GetString() == name).GetProperty("status").GetString()!;
        // What every kernel this project supports has (the loader tests load these), and what cannot be probed.
        Assert.Equal("supported", Status("program_types", "socket_filter"));
        Assert.Equal("supported", Status("program_types", "xdp"));
        Assert.Equal("not_probed", Status("program_types", "tracing"));
        Assert.Equal("supported", Status("map_types", "hash"));
        Assert.Equal("supported", Status("map_types", "ring_buf"));
        Assert.Equal("xdp", root.GetProperty("helpers_for").GetString());
        Assert.Equal("supported", Status("helpers", "map_lookup_elem"));
        Assert.Equal("supported", Status("helpers", "xdp_adjust_head"));
        Assert.NotEqual("supported", Status("helpers", "skb_load_bytes")); // a socket-buffer helper, not for XDP
    }

    [Fact]
    public void Probe_refuses_an_unknown_program_type()
    {
        var o = CliRunner.Run("probe", "--helpers", "nonsense");
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("unknown program type 'nonsense'", o.Stderr);
    }
}
