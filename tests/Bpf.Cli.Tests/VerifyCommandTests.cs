using System.Text.Json;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

public class VerifyCommandTests
{
    private const string NullDeref = """
        .type xdp
        .map counts hash key=4 value=8 entries=16
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        r1 = map:counts ll
        call 1
        r0 = *(u64 *)(r0 + 0)
        exit
        """;

    [Fact]
    public void Object_AllProgramsAccepted_Exits0()
    {
        var output = CliRunner.Run("verify", RepoPaths.CorpusObject("tc_classifier"));
        Assert.Equal(0, output.ExitCode);
        Assert.Contains("accept (processed", output.Stdout);
    }

    [Fact]
    public void Object_RejectedProgram_NamesInstructionRegisterAndSourceLine_Exits1()
    {
        var rejected = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "rejected.o");
        var output = CliRunner.Run("verify", rejected, "--program", "unchecked_read");
        Assert.Equal(1, output.ExitCode);
        Assert.Contains("reject: PacketOutOfBounds: insn 1", output.Stdout);
        Assert.Contains("R1 = pkt(", output.Stdout);
        Assert.Contains("rejected.c:8: return data[20];", output.Stdout);
    }

    [Fact]
    public void Text_WithDirectives_NullDereference_JsonHasStableFields()
    {
        using var file = new CliRunner.TempFile(".s", NullDeref);
        var output = CliRunner.Run("verify", file.Path, "--json");
        Assert.Equal(1, output.ExitCode);
        using var doc = JsonDocument.Parse(output.Stdout);
        var root = doc.RootElement;
        Assert.Equal("reject", root.GetProperty("verdict").GetString());
        Assert.Equal("InvalidMemoryAccess", root.GetProperty("code").GetString());
        Assert.Equal(7, root.GetProperty("insn").GetInt32());
        Assert.Contains("map_value_or_null", root.GetProperty("message").GetString());
        Assert.True(root.GetProperty("processed").GetInt32() > 0);
        Assert.Equal(1, root.GetProperty("programs").GetArrayLength());
    }

    [Fact]
    public void Text_NullCheckAdded_IsAccepted()
    {
        var fixedText = NullDeref.Replace("r0 = *(u64 *)(r0 + 0)", "if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)");
        using var file = new CliRunner.TempFile(".s", fixedText);
        var output = CliRunner.Run("verify", file.Path);
        Assert.True(output.ExitCode == 0, output.Stdout + output.Stderr);
    }

    [Fact]
    public void Text_TypeFromOption_OverridesNothingMissing()
    {
        using var file = new CliRunner.TempFile(".s", "r0 = 0\nexit\n");
        Assert.Equal(2, CliRunner.Run("verify", file.Path).ExitCode);           // no type anywhere
        Assert.Equal(0, CliRunner.Run("verify", file.Path, "--type", "xdp").ExitCode);
        Assert.Equal(2, CliRunner.Run("verify", file.Path, "--type", "frob").ExitCode);
    }

    [Fact]
    public void ConformanceData_VerifiedAsMemoryProgram()
    {
        var output = CliRunner.Run("verify", Path.Combine(RepoPaths.ConformanceDir, "prime.data"), "--json");
        Assert.Equal(0, output.ExitCode);
        using var doc = JsonDocument.Parse(output.Stdout);
        Assert.Equal("accept", doc.RootElement.GetProperty("verdict").GetString());
    }

    [Fact]
    public void UninitializedRegister_Rejected_InEveryPrivilegeMode()
    {
        using var file = new CliRunner.TempFile(".s", ".type socket_filter\nr0 = r7\nexit\n");
        foreach (var mode in new[] { "privileged", "cap_bpf", "unprivileged" })
        {
            var output = CliRunner.Run("verify", file.Path, "--privilege", mode);
            Assert.Equal(1, output.ExitCode);
            Assert.Contains("insn 0", output.Stdout);
        }
    }

    private static byte[] Raw(params Instruction[] slots) => InstructionEncoder.Encode(slots);

    [Theory]
    [InlineData("unknown", 1, "UnknownOpcode", "unknown opcode ff")]
    [InlineData("call-reserved", 1, "ReservedField", "BPF_CALL uses reserved fields")]
    [InlineData("lddw-cut", 1, "FallsOffEnd", "last insn is not an exit or jmp")]
    [InlineData("lddw-second", 1, "InvalidWideLoad", "invalid bpf_ld_imm64 insn")]
    public void RawInvalidEncoding_IsJudged_WithKernelMessage_Exits1(string which, int insn, string code, string message)
    {
        var mov = Instruction.FromRaw(0xb7);
        var exit = Instruction.ExitInsn();
        var bytes = which switch
        {
            "unknown" => Raw(mov, Instruction.FromRaw(0xff), exit),
            "call-reserved" => Raw(mov, Instruction.FromRaw(Opcodes.Call | 0x100 | (7UL << 32)), exit),
            "lddw-cut" => Raw(mov, Instruction.FromRaw(Opcodes.LdDw)),
            _ => Raw(mov, Instruction.FromRaw(Opcodes.LdDw), exit),
        };
        using var file = new CliRunner.TempFile(".bin", bytes);
        var text = CliRunner.Run("verify", file.Path);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"reject: {code}: insn {insn}: {message}", text.Stdout);
        var json = CliRunner.Run("verify", file.Path, "--json");
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(code, doc.RootElement.GetProperty("code").GetString());
        Assert.Equal(insn, doc.RootElement.GetProperty("insn").GetInt32());
        Assert.Equal(message, doc.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void Json_UnusableInput_StillPrintsJson_Exits2()
    {
        using var file = new CliRunner.TempFile(".bin", new byte[] { 0xb7, 0, 0, 0, 0 });
        var output = CliRunner.Run("verify", file.Path, "--json");
        Assert.Equal(2, output.ExitCode);
        using var doc = JsonDocument.Parse(output.Stdout);
        Assert.Equal("error", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Contains("not a multiple of 8", doc.RootElement.GetProperty("error").GetString());
        var missing = CliRunner.Run("verify", "/nonexistent/prog.bin", "--json");
        Assert.Equal(2, missing.ExitCode);
        using var doc2 = JsonDocument.Parse(missing.Stdout);
        Assert.Equal("/nonexistent/prog.bin", doc2.RootElement.GetProperty("file").GetString());
    }
}
