using Bpf.Tests;

namespace Bpf.Cli.Tests;

public class CfgCommandTests
{
    private const string Loop = """
        mov %r0, 0
        mov %r1, 10
        loop:
        add %r0, %r1
        sub %r1, 1
        jne %r1, 0, loop
        exit
        """;

    [Fact]
    public void A_loop_has_one_back_edge_to_its_header()
    {
        using var file = new CliRunner.TempFile(".s", Loop);
        var dot = CliRunner.Run("cfg", file.Path);
        Assert.Equal(0, dot.ExitCode);
        Assert.StartsWith("digraph ", dot.Stdout);
        Assert.Contains("b1 [label=\"loop header\\l2: r0 += r1\\l3: r1 -= 1\\l4: if r1 != 0 goto -3\\l\", peripheries=2];", dot.Stdout);
        Assert.Contains("b1 -> b1 [color=red, label=\"back\"];", dot.Stdout);
        Assert.Contains("b0 -> b1;", dot.Stdout);
        Assert.Contains("b1 -> b2;", dot.Stdout);
        Assert.Single(dot.Stdout.Split('\n'), l => l.Contains("label=\"back\""));

        using var json = StrictJson.Parse(CliRunner.Run("cfg", file.Path, "--json").Stdout, "cfg --json");
        var blocks = json.RootElement.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal([false, true, false], blocks.Select(b => b.GetProperty("loop_header").GetBoolean()));
        Assert.Equal([(0, 1), (2, 4), (5, 5)], blocks.Select(b => (b.GetProperty("start").GetInt32(), b.GetProperty("end").GetInt32())));
        var back = Assert.Single(json.RootElement.GetProperty("edges").EnumerateArray(), e => e.GetProperty("back").GetBoolean());
        Assert.Equal((1, 1, "jump"), (back.GetProperty("from").GetInt32(), back.GetProperty("to").GetInt32(), back.GetProperty("kind").GetString()));
    }

    [Fact]
    public void Subprograms_and_callbacks_are_function_entries_without_back_edges()
    {
        var o = CliRunner.Run("cfg", RepoPaths.CorpusObject("bpf2bpf"), "--program", "tc_sum");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("b0 -> b1 [style=dashed, label=\"call\"];", o.Stdout);     // mix
        Assert.Contains("b0 -> b2 [style=dashed, label=\"callback\"];", o.Stdout); // loop_body, through bpf_loop
        Assert.DoesNotContain("label=\"back\"", o.Stdout);
        Assert.Equal(3, o.Stdout.Split('\n').Count(l => l.Contains("style=bold")));
    }

    [Fact]
    public void An_object_with_several_programs_needs_program()
    {
        var o = CliRunner.Run("cfg", RepoPaths.CorpusObject("bpf2bpf"));
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("give --program NAME (programs: sock_sum, tc_sum)", o.Stderr);
        Assert.Equal(2, CliRunner.Run("cfg", RepoPaths.CorpusObject("bpf2bpf"), "--program", "nope").ExitCode);
    }
}
