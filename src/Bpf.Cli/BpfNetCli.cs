using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using Bpf.Cli.Commands;

namespace Bpf.Cli;

/// <summary>
/// The <c>bpfnet</c> command line, parsed by System.CommandLine: <c>--help</c> on every command (and
/// <c>bpfnet help COMMAND</c>), <c>--version</c>, response files (<c>@FILE</c>) and the <c>[suggest]</c> directive
/// that shell completion (<c>bpfnet completion bash|zsh|pwsh</c>) calls. Errors are one line on stderr; exit codes
/// 0 ok, 1 the program failed or was rejected, 2 unusable input or environment (<see cref="ExitCodes"/>).
/// </summary>
internal static class BpfNetCli
{
    /// <summary>An option as the commands read it: a flag (no <see cref="Value"/>), a value, or a repeatable
    /// option taking <see cref="Arity"/> values each time.</summary>
    private sealed record Opt(string Name, string Description, string? Value = null, string[]? Choices = null, int Arity = 1, bool Repeatable = false, string[]? Aliases = null);

    private sealed record Cmd(string Name, string Summary, string Argument, string ArgumentHelp, int MaxArguments, Opt[] Options, Func<CliArgs, CliContext, int> Run, bool PassUnknownOptions = false, string[]? Actions = null);

    // One name and one meaning per option, across commands.
    private static readonly Opt Json = new("--json", "print one JSON document (the stable contract in docs/cli.md)");
    private static readonly Opt Dialect = new("--dialect", "assembly dialect (default: detected from the text)", "DIALECT", ["conformance", "llvm"]);
    private static readonly Opt ProgramName = new("--program", "the program of the object (its function name)", "NAME");
    private static readonly Opt Repeat = new("--repeat", "run N times and report the time per run (an OBJECT: the mean over one test-run loop, as the kernel reports it; a FILE: the median)", "N");
    private static readonly string[] ProgramTypes = ["socket_filter", "kprobe", "tc", "sched_act", "tracepoint", "xdp", "cgroup_skb", "memory"];

    private static readonly Cmd[] Commands =
    [
        new("asm", "assemble text into raw little-endian instruction bytes", "FILE", "assembly text in either dialect, or a .data file", 1,
            [Dialect, new("--output", "write the bytes to OUT instead of stdout", "OUT", Aliases: ["-o"]), Json], AsmCommand.Run),
        new("disasm", "disassemble raw bytes (or text, a .data file) in either dialect", "FILE", "raw little-endian instruction bytes, assembly text or a .data file", 1,
            [new("--dialect", "output dialect (default: conformance)", "DIALECT", ["conformance", "llvm"]), Json], DisasmCommand.Run),
        new("run", "run a program (FILE: .s, .bin, .data) or a program of a compiled OBJECT and print r0", "FILE|OBJECT",
            "FILE: a program (.s, .bin, .data) run over --mem; OBJECT: a compiled ELF object, with --program NAME and --data", 1,
            [
                Dialect,
                new("--mem", "FILE: the input memory, hex (default: a .data file's own)", "HEX"),
                new("--mem-file", "FILE: the input memory, read from F", "F"),
                ProgramName,
                new("--data", "OBJECT: the packet or context, hex", "HEX"),
                new("--data-file", "OBJECT: the packet or context, read from F", "F"),
                new("--map", "OBJECT: put KEY=VALUE into map NAME before the run (repeatable; BTF-typed or hex)", "NAME KEY=VALUE", Arity: 2, Repeatable: true),
                new("--kernel", "OBJECT: run in the kernel (BPF_PROG_TEST_RUN; Linux, root) instead of the interpreter"),
                new("--maps", "OBJECT: print every map's entries after the run, decoded through BTF"),
                new("--privilege", "OBJECT: the privileges the interpreter's verifier judges with (default: this process's)", "LEVEL", ["privileged", "cap_bpf", "unprivileged"]),
                new("--unverified", "run without BpfNet's verifier first (conformance vectors, fuzzing); a FILE is verified as a memory program, an OBJECT with its programs' types"),
                Repeat,
                Json,
            ], RunCommand.Run),
        new("verify", "check a program or every program of an object with the static verifier (0 accept, 1 reject)", "OBJECT|FILE",
            "a compiled ELF object, or one program: assembly text (with .type/.map directives), raw bytes or a .data file", 1,
            [
                ProgramName,
                new("--type", "program type of a FILE without a .type directive", "TYPE", ProgramTypes),
                Dialect,
                new("--privilege", "the loader's privileges (default: privileged)", "LEVEL", ["privileged", "cap_bpf", "unprivileged"]),
                Json,
            ], VerifyCommand.Run),
        new("inspect", "show an object's programs, maps, globals and BTF types", "OBJECT", "a compiled ELF object", 1, [Json], InspectCommand.Run),
        new("load", "load an object into the kernel; with --pin DIR keep its programs and maps pinned in bpffs", "OBJECT", "a compiled ELF object", 1,
            [new("--pin", "pin programs at DIR/progs/NAME and maps at DIR/maps/NAME (DIR in bpffs, e.g. /sys/fs/bpf/myapp)", "DIR"), Json], (a, cli) => OperatingSystem.IsLinux() ? PinnedCommands.Load(a, cli) : throw NotLinux("load")),
        new("map", "list the kernel's maps; dump, look up, update or delete entries of a pinned map or map id:N (keys and values through --object's BTF, or hex)", "ACTION PATH KEY VALUE",
            "list | dump MAP | lookup MAP KEY | update MAP KEY VALUE | delete MAP KEY, where MAP is a pinned PATH or id:N", 4,
            [new("--object", "the object that made the map: its BTF types the keys and values", "OBJECT"), Json], (a, cli) => OperatingSystem.IsLinux() ? PinnedCommands.Map(a, cli) : throw NotLinux("map"),
            Actions: ["list", "dump", "lookup", "update", "delete"]),
        new("prog", "list every BPF program loaded in the kernel (id, type, name, tag, load time, sizes, maps)", "ACTION", "list", 1,
            [Json], (a, cli) => OperatingSystem.IsLinux() ? ListCommands.Prog(a, cli) : throw NotLinux("prog"), Actions: ["list"]),
        new("attach", "load an object, attach one program (XDP, tc, tracepoint, cgroup) and keep it attached until Ctrl-C", "OBJECT", "a compiled ELF object", 1,
            [
                ProgramName,
                new("--xdp", "attach an XDP program to interface IFACE", "IFACE"),
                new("--tc", "attach a tc (sched_cls) program to IFACE's ingress (tcx, or netlink clsact on older kernels)", "IFACE"),
                new("--egress", "with --tc: the egress side"),
                new("--tracepoint", "attach a tracepoint program to CATEGORY/NAME", "CAT/NAME"),
                new("--cgroup", "attach a cgroup program to the cgroup directory PATH", "PATH"),
                Json,
            ], (a, cli) => OperatingSystem.IsLinux() ? AttachCommand.Run(a, cli) : throw NotLinux("attach")),
        new("btf", "write the BTF of a file (e.g. /sys/kernel/btf/vmlinux, or an object's) as a C header: vmlinux.h", "ACTION FILE",
            "dump FILE: raw BTF or a compiled ELF object", 2,
            [
                new("--format", "output format (default: c, a header like bpftool's 'format c')", "FORMAT", ["c"]),
                new("--output", "write the header to OUT instead of stdout", "OUT", Aliases: ["-o"]),
                Json,
            ], BtfCommand.Run),
        new("probe", "list the program types, map types and (--helpers TYPE) helpers this kernel supports for this process", "", "", 0,
            [new("--helpers", "also probe every helper for programs of TYPE (e.g. xdp, sched_cls)", "TYPE"), Json], ProbeCommand.Run),
        new("cfg", "print a program's control-flow graph as Graphviz dot (basic blocks, back edges, loop headers)", "OBJECT|FILE",
            "a compiled ELF object (with --program NAME when it has several), or one program: assembly text, raw bytes, a .data file", 1,
            [ProgramName, Dialect, Json], CfgCommand.Run),
        new("conformance-plugin", "speak the bpf_conformance plugin protocol (program hex on stdin, memory hex as argument)", "MEMORY-HEX", "the input memory as hex (absent when empty)", ArgumentArity.OneOrMore.MaximumNumberOfValues,
            [], ConformancePluginCommand.Run, PassUnknownOptions: true),
    ];

    private static CliUsageException NotLinux(string command) =>
        new($"{command} works on the Linux kernel's objects; this system is not Linux ({System.Runtime.InteropServices.RuntimeInformation.OSDescription})");

    public static string Version { get; } =
        typeof(BpfNetCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static IEnumerable<string> CommandNames => Commands.Select(c => c.Name).Concat(["help", "completion"]);

    public static int Run(IReadOnlyList<string> args, CliContext cli)
    {
        var root = Build(cli);
        var result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is ParseErrorAction || UnknownOption(result) is not null)
        {
            cli.Err.WriteLine(ErrorLine(result));
            return ExitCodes.Usage;
        }
        return result.Invoke(new InvocationConfiguration { Output = cli.Out, Error = cli.Err, EnableDefaultExceptionHandler = false });
    }

    private static RootCommand Build(CliContext cli)
    {
        var root = new RootCommand("bpfnet — the eBPF toolchain for .NET. Exit codes: 0 ok, 1 the program failed or was rejected, 2 unusable input or environment.");
        foreach (var option in root.Options)
        {
            if (option is VersionOption version) version.Action = new PrintVersion();
        }
        root.SetAction(result =>
        {
            new HelpAction().Invoke(result);
            return ExitCodes.Usage; // no command given
        });

        foreach (var def in Commands)
        {
            var command = new Command(def.Name, def.Summary) { TreatUnmatchedTokensAsErrors = !def.PassUnknownOptions };
            if (def.MaxArguments > 0)
            {
                Argument argument = def.MaxArguments == 1
                    ? new Argument<string>(def.Argument) { Arity = ArgumentArity.ZeroOrOne }
                    : new Argument<string[]>(def.Argument) { Arity = new ArgumentArity(0, def.MaxArguments) };
                argument.Description = def.ArgumentHelp;
                if (def.Actions is { } actions)
                {
                    // The first word is the action: completed from the list; later words (paths, keys) are the shell's.
                    argument.CompletionSources.Add(context => ActionCompletions(context, actions));
                }
                command.Arguments.Add(argument);
            }
            foreach (var o in def.Options) command.Options.Add(Declare(o));
            command.SetAction(result => Invoke(def, result, cli));
            root.Subcommands.Add(command);
        }

        var help = new Command("help", "show the help of bpfnet or of one command");
        var helpTopic = new Argument<string>("COMMAND") { Arity = ArgumentArity.ZeroOrOne };
        helpTopic.CompletionSources.Add(Commands.Select(c => c.Name).ToArray());
        help.Arguments.Add(helpTopic);
        help.SetAction(result => ShowHelp(root, result.GetValue(helpTopic), cli));
        root.Subcommands.Add(help);

        var completion = new Command("completion", "print the shell completion script (bash, zsh or pwsh); see docs/cli.md");
        var shell = new Argument<string>("SHELL");
        shell.CompletionSources.Add(CompletionScripts.Shells);
        completion.Arguments.Add(shell);
        completion.SetAction(result => CompletionScripts.Write(result.GetValue(shell)!, cli));
        root.Subcommands.Add(completion);
        return root;
    }

    /// <summary>The actions starting with the word being completed, when that word is the command's first argument.</summary>
    private static IEnumerable<System.CommandLine.Completions.CompletionItem> ActionCompletions(System.CommandLine.Completions.CompletionContext context, string[] actions)
    {
        int arguments = context.ParseResult.CommandResult.Tokens.Count(t => t.Type == TokenType.Argument);
        int before = arguments - (context.WordToComplete.Length > 0 ? 1 : 0); // a partial word is parsed as a token too
        return before != 0 ? [] : actions
            .Where(a => a.StartsWith(context.WordToComplete, StringComparison.Ordinal))
            .Select(a => new System.CommandLine.Completions.CompletionItem(a));
    }

    private static Option Declare(Opt o)
    {
        var aliases = o.Aliases ?? [];
        Option option;
        if (o.Value is null)
        {
            option = new Option<bool>(o.Name, aliases) { Arity = ArgumentArity.Zero };
        }
        else if (o.Repeatable)
        {
            // Each occurrence takes exactly Arity values (--map NAME KEY=VALUE); the count is checked by the command.
            option = new Option<string[]>(o.Name, aliases) { Arity = new ArgumentArity(o.Arity, o.Arity), AllowMultipleArgumentsPerToken = true };
        }
        else
        {
            option = new Option<string>(o.Name, aliases);
        }
        option.Description = o.Description;
        option.HelpName = o.Value;
        if (o.Choices is { } choices) option.CompletionSources.Add(choices);
        return option;
    }

    private static int Invoke(Cmd def, ParseResult result, CliContext cli)
    {
        try
        {
            return def.Run(CliArgs.From(result), cli);
        }
        catch (CliUsageException e)
        {
            cli.Err.WriteLine($"bpfnet {def.Name}: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    private static int ShowHelp(RootCommand root, string? topic, CliContext cli)
    {
        if (topic is not null && !Commands.Any(c => c.Name == topic) && topic is not ("help" or "completion"))
        {
            cli.Err.WriteLine($"bpfnet help: unknown command '{topic}' (commands: {string.Join(", ", CommandNames)})");
            return ExitCodes.Usage;
        }
        string[] args = topic is null ? ["--help"] : [topic, "--help"];
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = cli.Out, Error = cli.Err });
    }

    /// <summary>One line: which command, what is wrong, where to look.</summary>
    private static string ErrorLine(ParseResult result)
    {
        var command = result.CommandResult.Command;
        var isRoot = command is RootCommand;
        var prefix = isRoot ? "bpfnet" : $"bpfnet {command.Name}";
        var hint = isRoot ? "try 'bpfnet --help'" : $"try 'bpfnet help {command.Name}'";
        string message;
        if (UnknownOption(result) is { } option)
        {
            message = $"unknown option {option}";
        }
        else if (result.UnmatchedTokens is [var first, ..])
        {
            message = first.StartsWith('-') && first.Length > 1 && !char.IsDigit(first[1]) ? $"unknown option {first}"
                : isRoot ? $"unknown command '{first}'"
                : $"unexpected argument '{first}'";
        }
        else
        {
            message = result.Errors[0].Message;
        }
        return $"{prefix}: {message} ({hint})";
    }

    /// <summary>A token that looks like an option (<c>--bogus</c>, <c>-x</c>) but is none of the command's: the
    /// parser takes it for an argument; it is a typo. Option values, negative numbers and what follows <c>--</c> are not.</summary>
    private static string? UnknownOption(ParseResult result)
    {
        if (result.CommandResult.Command is { } command && Array.Find(Commands, c => c.Name == command.Name) is { PassUnknownOptions: true })
        {
            return null;
        }
        var optionValues = new HashSet<Token>(result.CommandResult.Children.OfType<OptionResult>().SelectMany(o => o.Tokens), ReferenceEqualityComparer.Instance);
        foreach (var token in result.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) break;
            if (token.Type == TokenType.Argument && !optionValues.Contains(token) && token.Value.Length > 1 && token.Value[0] == '-' && !char.IsDigit(token.Value[1]))
            {
                return token.Value;
            }
        }
        return null;
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return ExitCodes.Ok;
        }
    }
}
