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

        var output = CliRunner.Run("run", path);

        Assert.True(output.ExitCode == 0, $"{name}: exit {output.ExitCode}: {output.Stdout}{output.Stderr}");
        Assert.Equal($"0x{expected:x}", output.Stdout.Trim());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ConformancePlugin_ConformanceFile_PrintsExpectedR0(string name)
    {
        var file = ConformanceDataFile.Parse(Path.Combine(RepoPaths.ConformanceDir, name));
        var program = InstructionEncoder.Encode(Assembler.Assemble(file.Asm));
        var args = new List<string> { "conformance-plugin" };
        if (file.Memory.Length > 0) args.Add(Hex.Format(file.Memory));

        var output = CliRunner.Run(Hex.Format(program), [.. args]);

        Assert.True(output.ExitCode == 0, $"{name}: exit {output.ExitCode}: {output.Stdout}");
        Assert.Equal(file.ExpectedResult!.Value, Convert.ToUInt64(output.Stdout.Trim(), 16));
    }
}
