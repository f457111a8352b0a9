using Bpf.Asm;
using Bpf.Tests;

namespace Bpf.Core.Tests.Vm;

/// <summary>Every file of the shared conformance suite: assemble, run over its memory, compare r0.</summary>
public class ConformanceExecutionTests
{
    public static TheoryData<string> Files() => RepoPaths.ConformanceFileNames();

    [Fact]
    public void The_whole_suite_is_present() => Assert.Equal(313, RepoPaths.ConformanceFiles().Count());

    [Theory]
    [MemberData(nameof(Files))]
    public void Runs_to_the_expected_result(string fileName)
    {
        var file = ConformanceDataFile.Parse(Path.Combine(RepoPaths.ConformanceDir, fileName));
        Assert.True(file.ExpectedResult.HasValue, $"{fileName} has no '-- result' section");
        var program = Assembler.Assemble(file.Asm, AsmDialect.Conformance, file.AsmFirstLine, fileName);
        var interpreter = new Interpreter(program, new InterpreterOptions { Helpers = HelperRegistry.CreateDefault() });

        var memory = file.Memory.ToArray();
        var result = interpreter.Run(memory);

        Assert.True(result.Succeeded, $"{fileName}: {result.Fault?.Message}");
        Assert.Equal(file.ExpectedResult!.Value, result.R0);
        Assert.True(result.InstructionsExecuted > 0);
    }
}
