using System.Text.Json;
using Bpf.Asm;

namespace Bpf.Cli.Commands;

/// <summary><c>bpfnet disasm FILE [--dialect conformance|llvm] [--json]</c>: instructions to text.</summary>
internal static class DisasmCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        var dialect = ProgramInput.ParseDialect(a.Get("--dialect")) ?? AsmDialect.Conformance;
        var input = ProgramInput.Load(a.Single("FILE"), null);
        var slots = input.Slots;

        if (!a.Has("--json"))
        {
            cli.Out.Write(Disassembler.Disassemble(slots, dialect));
            return ExitCodes.Ok;
        }

        JsonOutput.Write(cli.Out, json =>
        {
        json.WriteStartObject();
        json.WriteString("file", input.Path);
        json.WriteString("dialect", dialect == AsmDialect.Llvm ? "llvm" : "conformance");
        json.WriteStartArray("instructions");
        for (var i = 0; i < slots.Length; i++)
        {
            json.WriteStartObject();
            json.WriteNumber("index", i);
            var width = slots[i].IsWide && i + 1 < slots.Length ? 2 : 1;
            json.WriteString("hex", Hex.Format(InstructionEncoder.Encode(slots.AsSpan(i, width))));
            json.WriteString("text", Disassembler.Format(slots, i, dialect));
            json.WriteEndObject();
            i += width - 1;
        }
        json.WriteEndArray();
        json.WriteEndObject();
        });
        return ExitCodes.Ok;
    }
}
