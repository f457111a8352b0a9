using System.Text.Json;

namespace Bpf.Cli.Commands;

/// <summary><c>bpfnet asm FILE [--dialect conformance|llvm] [-o OUT] [--json]</c>: assembly text to raw little-endian bytes.</summary>
internal static class AsmCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        var input = ProgramInput.Load(a.Single("FILE"), ProgramInput.ParseDialect(a.Get("--dialect")));
        var bytes = InstructionEncoder.Encode(input.Slots);
        var output = a.Get("--output");

        if (output is not null)
        {
            try
            {
                File.WriteAllBytes(output, bytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new CliUsageException($"{output}: cannot write: {e.Message}");
            }
        }

        if (a.Has("--json"))
        {
            JsonOutput.Write(cli.Out, json =>
        {
            json.WriteStartObject();
            json.WriteString("file", input.Path);
            json.WriteNumber("slots", input.Slots.Length);
            json.WriteNumber("bytes", bytes.Length);
            json.WriteString("hex", Hex.Format(bytes));
            if (output is not null) json.WriteString("output", output);
            json.WriteEndObject();
            });
        }
        else if (output is null)
        {
            using var stdout = cli.OpenBinaryStdout();
            stdout.Write(bytes);
        }
        return ExitCodes.Ok;
    }
}
