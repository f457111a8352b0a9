using System.Globalization;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet conformance-plugin [MEMORY-HEX]</c>: the bpf_conformance plugin protocol. The program's
/// instruction bytes arrive on stdin as hex text; the input memory, also hex, is the first argument (absent
/// when there is none). r0 is printed in hex with exit 0; an error is printed on stdout with exit 1.
/// Options bpf_conformance may pass (<c>--jit</c>, <c>--interpret</c>) are accepted; this engine always interprets.
/// A program the interpreter cannot load (malformed, or an lddw of a map or a kfunc call, which a bare run cannot
/// resolve) is an error line too: the plugin never dies with an exception.
/// </summary>
internal static class ConformancePluginCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        try
        {
            var positional = a.Positionals.Where(x => !x.StartsWith("--", StringComparison.Ordinal)).ToList();
            var memory = positional.Count > 0 ? Hex.ParseBytes(string.Join(' ', positional), "memory") : [];
            var program = Hex.ParseBytes(cli.In.ReadToEnd(), "program");

            var decoded = InstructionDecoder.Decode(program);
            if (decoded.Error is { } error)
            {
                cli.Out.WriteLine($"error: {error.Message}");
                return ExitCodes.Failed;
            }

            var interpreter = new Interpreter(decoded.Instructions, new InterpreterOptions { Helpers = HelperRegistry.CreateDefault() });
            var result = interpreter.Run(memory);
            if (!result.Succeeded)
            {
                cli.Out.WriteLine($"error: {result.Fault!.Message}");
                return ExitCodes.Failed;
            }
            cli.Out.WriteLine(result.R0.ToString("x", CultureInfo.InvariantCulture));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is CliUsageException or ProgramLoadException or NotSupportedException)
        {
            cli.Out.WriteLine($"error: {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
