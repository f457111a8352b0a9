using Bpf.Cli.Commands;

namespace Bpf.Cli;

/// <summary>The <c>bpfnet</c> command dispatcher. Exit codes: 0 ok, 1 the program failed, 2 unusable input.</summary>
internal static class BpfNetCli
{
    private delegate int Command(IReadOnlyList<string> args, CliContext cli);

    private static readonly (string Name, Command Run, string Usage, string Summary)[] Commands =
    [
        ("asm", AsmCommand.Run, AsmCommand.Usage, "assemble text into raw little-endian instruction bytes"),
        ("disasm", DisasmCommand.Run, DisasmCommand.Usage, "disassemble raw bytes (or text, .data) in either dialect"),
        ("run", RunCommand.Run, RunCommand.Usage, "run a program in the managed interpreter and print r0"),
        ("verify", VerifyCommand.Run, VerifyCommand.Usage, "check a program or object with the static verifier (0 accept, 1 reject)"),
        ("inspect", (a, cli) => InspectCommand.Run(a, cli.Out, cli.Err), InspectCommand.Usage, "show an object's programs, maps, globals and BTF types"),
        ("conformance-plugin", ConformancePluginCommand.Run, ConformancePluginCommand.Usage, "speak the bpf_conformance plugin protocol"),
    ];

    public static int Run(IReadOnlyList<string> args, CliContext cli)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(cli.Out);
            return args.Count == 0 ? ExitCodes.Usage : ExitCodes.Ok;
        }

        var command = Array.Find(Commands, c => c.Name == args[0]);
        if (command.Name is null)
        {
            cli.Err.WriteLine($"bpfnet: unknown command '{args[0]}' (try 'bpfnet --help')");
            return ExitCodes.Usage;
        }

        var rest = args.Skip(1).ToArray();
        if (rest is ["-h" or "--help"])
        {
            cli.Out.WriteLine($"usage: {command.Usage}");
            return ExitCodes.Ok;
        }

        try
        {
            return command.Run(rest, cli);
        }
        catch (CliUsageException e)
        {
            cli.Err.WriteLine($"bpfnet {command.Name}: {e.Message}");
            cli.Err.WriteLine($"usage: {command.Usage}");
            return ExitCodes.Usage;
        }
    }

    private static void PrintHelp(TextWriter output)
    {
        output.WriteLine("bpfnet — the eBPF toolchain for .NET");
        output.WriteLine();
        foreach (var c in Commands)
        {
            output.WriteLine($"  {c.Name,-20} {c.Summary}");
            output.WriteLine($"  {"",-20} {c.Usage}");
        }
    }
}
