using Bpf.Asm;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>Every conformance file through <c>bpfnet run</c> and through <c>bpfnet conformance-plugin</c>.</summary>
public class ConformanceCliTests
{
    public static TheoryData<string> Files() => RepoPaths.ConformanceFileNames();

    [Theory]
    [MemberData(nameof(Files))]
    public void Run_ConformanceFile_PrintsExpectedR0(string name)
    {
        var path = Path.Combine(RepoPaths.ConformanceDir, name);
        var expected = ConformanceDataFile.Parse(path).ExpectedResult;
        Assert.NotNull(expected);

        // The conformance suite checks the instruction set's semantics, including programs the kernel's verifier
        // refuses (shifts by out-of-range immediates, callx): it is the documented case for --unverified.
        var output = CliRunner.Run("run", path, "--unverified");

        Assert.True(output.ExitCode == 0, $"{name}: exit {output.ExitCode}: {output.Stdout}{output.Stderr}");
        Assert.Equal($"0x{expected:x}", output.Stdout.Trim());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Run_without_unverified_runs_only_what_the_verifier_accepts(string name)
    {
        var path = Path.Combine(RepoPaths.ConformanceDir, name);
        var verify = CliRunner.Run("verify", path);
        var run = CliRunner.Run("run", path);
        if (verify.ExitCode == 0)
        {
            Assert.True(run.ExitCode == 0, $"{name}: accepted by verify, but run says: {run.Stdout}{run.Stderr}");
            Assert.Equal($"0x{ConformanceDataFile.Parse(path).ExpectedResult:x}", run.Stdout.Trim());
        }
        else
        {
            Assert.Equal(1, run.ExitCode);
            var line = Assert.Single(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: rejected by the BpfNet verifier", line);
            Assert.Contains("--unverified", line);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ConformancePlugin_ConformanceFile_PrintsExpectedR0(string name)
    {
        var file = ConformanceDataFile.Parse(Path.Combine(RepoPaths.ConformanceDir, name));
        var program = InstructionEncoder.Encode(Assembler.Assemble(file.Asm));
        var args = new List<string> { "conformance-plugin" };
        if (file.Memory.Length > 0) args.Add(Hex.Format(file.Memory));

        var output = CliRunner.RunWithInput(Hex.Format(program), [.. args]);

        Assert.True(output.ExitCode == 0, $"{name}: exit {output.ExitCode}: {output.Stdout}");
        Assert.Equal(file.ExpectedResult!.Value, Convert.ToUInt64(output.Stdout.Trim(), 16));
    }
}
