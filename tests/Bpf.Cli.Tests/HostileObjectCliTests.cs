using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>Extreme BTF map definitions through every object command: one line and exit 0, 1 or 2, never an
/// exception escaping a command (issue 10).</summary>
public class HostileObjectCliTests
{
    private const string Packet = "000000000000 020000000002 0800 4500003200000000401100000a0000010a000002";

    private static readonly uint[] Extremes = [0, 1, 4, 5, 261, 4096, 32769, 4194305, 0x10000001, 0x7fffffff, 0x80000000, 0xffffffff];

    [Fact]
    public void Inspect_verify_and_run_survive_extreme_map_definitions()
    {
        var objects = new[]
        {
            (Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o"), "xdp_filter", Packet),
            (RepoPaths.CorpusObject("map_in_map"), "lookup_nested", Packet),
        };
        var random = new Random(10);
        var outcomes = new Dictionary<int, int>();
        foreach (var (path, program, data) in objects)
        {
            var original = File.ReadAllBytes(path);
            var fields = BtfMapFields.Find(original);
            Assert.NotEmpty(fields);
            for (var i = 0; i < 60; i++)
            {
                var field = fields[random.Next(fields.Length)];
                var value = Extremes[random.Next(Extremes.Length)];
                using var file = new CliRunner.TempFile(".o", BtfMapFields.With(original, field.Label, value));
                foreach (var args in new[] { new[] { "inspect", file.Path }, ["verify", file.Path], ["run", file.Path, "--program", program, "--data", data] })
                {
                    CliRunner.Output o;
                    try
                    {
                        o = CliRunner.Run(args);
                    }
                    catch (Exception e)
                    {
                        Assert.Fail($"bpfnet {args[0]} with {field.Label} = 0x{value:x} threw {e.GetType().Name}: {e.Message}");
                        return;
                    }
                    Assert.InRange(o.ExitCode, 0, 2);
                    outcomes[o.ExitCode] = outcomes.GetValueOrDefault(o.ExitCode) + 1;
                }
            }
        }
        Assert.True(outcomes.GetValueOrDefault(0) > 0 && outcomes.GetValueOrDefault(1) > 0, string.Join(", ", outcomes));
    }
}
