using System.Text.Json;
using Bpf.Asm;

namespace Bpf.Cli.Tests;

public class CommandTests
{
    private const string Sum = """
        mov %r0, 0
        mov %r1, 10
        loop:
        add %r0, %r1
        sub %r1, 1
        jne %r1, 0, loop
        exit
        """;

    [Fact]
    public void Asm_ConformanceText_WritesRawBytes()
    {
        using var file = new CliRunner.TempFile(".s", Sum);
        var output = CliRunner.Run("asm", file.Path);
        Assert.Equal(0, output.ExitCode);
        Assert.Equal(InstructionEncoder.Encode(Assembler.Assemble(Sum)), output.BinaryStdout);
    }

    [Fact]
    public void Asm_OutputFile_ThenDisasmAndRun_RoundTrips()
    {
        using var source = new CliRunner.TempFile(".s", Sum);
        var binPath = Path.ChangeExtension(source.Path, ".bin");
        try
        {
            Assert.Equal(0, CliRunner.Run("asm", source.Path, "-o", binPath).ExitCode);

            var run = CliRunner.Run("run", binPath);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal("0x37", run.Stdout.Trim());

            var disasm = CliRunner.Run("disasm", binPath, "--dialect", "llvm");
            Assert.Equal(0, disasm.ExitCode);
            using var llvm = new CliRunner.TempFile(".s", disasm.Stdout);
            Assert.Equal("0x37", CliRunner.Run("run", llvm.Path, "--dialect", "llvm").Stdout.Trim());
        }
        finally
        {
            File.Delete(binPath);
        }
    }

    [Fact]
    public void Run_Json_HasStableFields()
    {
        using var file = new CliRunner.TempFile(".s", Sum);
        var output = CliRunner.Run("run", file.Path, "--json", "--repeat", "3");
        Assert.Equal(0, output.ExitCode);
        using var doc = JsonDocument.Parse(output.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("0x37", root.GetProperty("r0").GetString());
        Assert.Equal(33, root.GetProperty("instructions").GetInt64());
        Assert.Equal(3, root.GetProperty("runs").GetInt32());
        Assert.True(root.GetProperty("median_ns").GetDouble() > 0);
    }

    [Fact]
    public void Run_Repeat_PrintsInstructionCountAndMedian()
    {
        using var file = new CliRunner.TempFile(".s", Sum);
        var output = CliRunner.Run("run", file.Path, "--repeat", "5");
        Assert.Equal(0, output.ExitCode);
        Assert.Contains("instructions: 33", output.Stdout);
        Assert.Contains("ns/run over 5 runs", output.Stdout);
    }

    [Fact]
    public void Run_MemoryFromArgument_IsPassedInR1AndR2()
    {
        using var file = new CliRunner.TempFile(".s", "ldxb %r0, [%r1+1]\nadd %r0, %r2\nexit\n");
        var output = CliRunner.Run("run", file.Path, "--mem", "01 2a 03");
        Assert.Equal(0, output.ExitCode);
        Assert.Equal("0x2d", output.Stdout.Trim());
    }

    [Fact]
    public void Run_OutOfBoundsAccess_PrintsOneLineErrorAndExits1()
    {
        using var file = new CliRunner.TempFile(".s", "ldxw %r0, [%r1+8]\nexit\n");
        var output = CliRunner.Run("run", file.Path, "--mem", "00 01 02 03", "--unverified"); // the interpreter's fault
        Assert.Equal(1, output.ExitCode);
        var line = Assert.Single(output.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains("insn 0", line);
    }

    [Fact]
    public void Run_verifies_first_and_refuses_an_out_of_bounds_read_before_running_it()
    {
        using var file = new CliRunner.TempFile(".s", "ldxw %r0, [%r1+8]\nexit\n");
        var output = CliRunner.Run("run", file.Path, "--mem", "00 01 02 03");
        Assert.Equal(1, output.ExitCode);
        var line = Assert.Single(output.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: rejected by the BpfNet verifier at instruction 0", line);
        // The same program within the 4 bytes is accepted and runs.
        using var ok = new CliRunner.TempFile(".s", "ldxw %r0, [%r1+0]\nexit\n");
        Assert.Equal("0x3020100", CliRunner.Run("run", ok.Path, "--mem", "00 01 02 03").Stdout.Trim());
    }

    [Fact]
    public void Run_AssemblyError_NamesFileLineAndColumn_Exits2()
    {
        using var file = new CliRunner.TempFile(".s", "mov %r0, 0\nfrobnicate %r1\nexit\n");
        var output = CliRunner.Run("run", file.Path);
        Assert.Equal(2, output.ExitCode);
        Assert.Contains($"{file.Path}:2:", output.Stderr);
    }

    [Fact]
    public void Run_RawBytesWithBadOpcode_NamesByteOffset()
    {
        var bytes = InstructionEncoder.Encode([Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 1), new Instruction(0xff, (byte)0, (byte)0, 0, 0)]);
        using var file = new CliRunner.TempFile(".bin", bytes);
        var output = CliRunner.Run("run", file.Path);
        Assert.Equal(2, output.ExitCode);
        Assert.Contains("byte offset 8", output.Stderr);
        Assert.Contains("insn 1", output.Stderr);
    }

    [Fact]
    public void UnknownCommandOrOption_Exits2()
    {
        Assert.Equal(2, CliRunner.Run("frob").ExitCode);
        using var file = new CliRunner.TempFile(".s", "exit\n");
        var output = CliRunner.Run("run", file.Path, "--bogus");
        Assert.Equal(2, output.ExitCode);
        Assert.Contains("unknown option --bogus", output.Stderr);
    }

    [Fact]
    public void ConformancePlugin_BadProgramHex_PrintsErrorOnStdout_NonZeroExit()
    {
        var output = CliRunner.RunWithInput("zz 01", "conformance-plugin");
        Assert.NotEqual(0, output.ExitCode);
        Assert.StartsWith("error:", output.Stdout);
    }

    [Fact]
    public void Disasm_Json_ListsInstructionsWithIndexHexAndText()
    {
        using var file = new CliRunner.TempFile(".s", "lddw %r0, 0x1122334455667788\nexit\n");
        var output = CliRunner.Run("disasm", file.Path, "--json");
        Assert.Equal(0, output.ExitCode);
        using var doc = JsonDocument.Parse(output.Stdout);
        var insns = doc.RootElement.GetProperty("instructions");
        Assert.Equal(2, insns.GetArrayLength());
        Assert.Equal(0, insns[0].GetProperty("index").GetInt32());
        Assert.Equal(2, insns[1].GetProperty("index").GetInt32());
        Assert.Equal("18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11", insns[0].GetProperty("hex").GetString());
        Assert.Contains("lddw", insns[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Run_ControlCharacterInText_NamesItOnceWithItsLocation()
    {
        using var file = new CliRunner.TempFile(".s", "mov %r0, 1\u0007\nexit\n");
        var output = CliRunner.Run("run", file.Path);
        Assert.Equal(2, output.ExitCode);
        Assert.Contains($"{file.Path}:1:11: unexpected character U+0007", output.Stderr);
        Assert.DoesNotContain("line 1, column 11", output.Stderr);
    }
}
