using System.Diagnostics;
using System.Reflection;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>The command line itself (System.CommandLine): version, help, completion, response files, one-line errors.</summary>
public class CommandLineTests
{
    /// <summary>The root command's name: "bpfnet" in the tool; in-process, System.CommandLine names it after the
    /// test host (the executable). Out of process, <see cref="Bash_completion_script_completes_through_the_executable"/>
    /// checks the real name.</summary>
    private static readonly string Root = System.CommandLine.RootCommand.ExecutableName;

    private static readonly string[] CommandNames = ["asm", "disasm", "run", "verify", "inspect", "cfg", "probe", "load", "map", "prog", "attach", "btf", "conformance-plugin", "help", "completion"];

    [Fact]
    public void Version_prints_the_assembly_informational_version()
    {
        var o = CliRunner.Run("--version");
        Assert.Equal(0, o.ExitCode);
        var expected = typeof(BpfNetCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, o.Stdout.Trim());
        Assert.StartsWith("0.", expected); // the package version (Directory.Build.props), not a test host's
    }

    [Fact]
    public void Help_of_a_command_is_that_command_s_help()
    {
        var verify = CliRunner.Run("help", "verify");
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains($"{Root} verify [<OBJECT|FILE>] [options]", verify.Stdout);
        Assert.Contains("--privilege <LEVEL>", verify.Stdout);
        Assert.DoesNotContain("conformance-plugin", verify.Stdout);
        Assert.Equal(verify.Stdout, CliRunner.Run("verify", "--help").Stdout);

        var general = CliRunner.Run("help");
        Assert.Equal(0, general.ExitCode);
        foreach (var name in CommandNames) Assert.Contains(name, general.Stdout);

        var unknown = CliRunner.Run("help", "frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", unknown.Stderr);
    }

    [Fact]
    public void Every_command_has_help_with_aligned_option_descriptions()
    {
        foreach (var name in CommandNames)
        {
            var o = CliRunner.Run(name, "--help");
            Assert.True(o.ExitCode == 0, $"{name} --help: exit {o.ExitCode}: {o.Stderr}");
            Assert.Contains($"{Root} {name}", o.Stdout);
            // Option lines: the descriptions start in one column.
            var optionLines = o.Stdout.Split('\n').SkipWhile(l => l != "Options:").Skip(1).TakeWhile(l => l.Length > 0).ToList();
            Assert.NotEmpty(optionLines);
            var columns = optionLines.Select(l => l.IndexOf("  ", 2, StringComparison.Ordinal) is var i and > 0 ? l.Length - l[i..].TrimStart().Length : -1).Distinct().ToList();
            Assert.True(columns.Count == 1, $"{name}: descriptions start in columns {string.Join(", ", columns)}:\n{o.Stdout}");
        }
    }

    [Fact]
    public void No_command_prints_the_help_and_exits_2()
    {
        var o = CliRunner.Run();
        Assert.Equal(2, o.ExitCode);
        Assert.Contains("Commands:", o.Stdout);
    }

    [Fact]
    public void Usage_errors_are_one_line_on_stderr_without_the_usage_block()
    {
        foreach (var args in new[] { new[] { "run", "--bogus", "x" }, ["verify", "--program"], ["frob"], ["run", "/nonexistent/prog.s"], ["inspect", "/nonexistent/x.o"], ["disasm", "a", "b"] })
        {
            var o = CliRunner.Run(args);
            Assert.True(o.ExitCode == 2, $"{string.Join(' ', args)}: exit {o.ExitCode}");
            Assert.Equal("", o.Stdout);
            var line = Assert.Single(o.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("bpfnet", line);
            Assert.DoesNotContain("Usage:", o.Stderr);
        }
        Assert.Contains("unknown option --bogus", CliRunner.Run("run", "--bogus", "x").Stderr);
        Assert.Contains("/nonexistent/prog.s", CliRunner.Run("run", "/nonexistent/prog.s").Stderr);
    }

    [Fact]
    public void Response_files_hold_arguments()
    {
        using var program = new CliRunner.TempFile(".s", "mov %r0, 9\nexit\n");
        using var rsp = new CliRunner.TempFile(".rsp", $"run\n{program.Path}\n--json\n");
        var o = CliRunner.Run("@" + rsp.Path);
        Assert.True(o.ExitCode == 0, o.Stderr);
        using var doc = StrictJson.Parse(o.Stdout, "run from a response file");
        Assert.Equal("0x9", doc.RootElement.GetProperty("r0").GetString());
    }

    [Fact]
    public void Suggest_directive_completes_commands_options_and_option_values()
    {
        static string[] Suggest(string line) =>
            CliRunner.Run($"[suggest:{line.Length + Root.Length - "bpfnet".Length}]", Root + line["bpfnet".Length..]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.Contains("verify", Suggest("bpfnet ver"));
        Assert.DoesNotContain("run", Suggest("bpfnet ver"));
        Assert.Contains("--privilege", Suggest("bpfnet verify --pri"));
        Assert.Equal(["cap_bpf", "privileged", "unprivileged"], Suggest("bpfnet verify --privilege "));
        Assert.Contains("--map", Suggest("bpfnet run x.o --ma"));
        Assert.Equal(["bash", "pwsh", "zsh"], Suggest("bpfnet completion ").Where(c => c[0] is not ('-' or '/')));
        Assert.Equal(["list"], Suggest("bpfnet prog ").Where(c => c[0] is not ('-' or '/')));
        Assert.Equal(["delete", "dump", "list", "lookup", "update"], Suggest("bpfnet map ").Where(c => c[0] is not ('-' or '/')).Order());
        Assert.Equal(["delete", "dump"], Suggest("bpfnet map d").Order());
        Assert.DoesNotContain("list", Suggest("bpfnet map dump "));
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _bpfnet_complete bpfnet")]
    [InlineData("zsh", "compdef _bpfnet bpfnet")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName bpfnet")]
    public void Completion_scripts_call_the_suggest_directive(string shell, string registration)
    {
        var o = CliRunner.Run("completion", shell);
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("[suggest:", o.Stdout);
        Assert.Contains(registration, o.Stdout);
        Assert.Equal(2, CliRunner.Run("completion", "fish").ExitCode);
    }

    /// <summary>The bash script, in bash, against the real executable: what a user's Tab prints.</summary>
    [Fact]
    public void Bash_completion_script_completes_through_the_executable()
    {
        Need.Tools("bash");
        var dir = Directory.CreateTempSubdirectory("bpfnet-completion-");
        try
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "bpfnet.dll");
            var shim = Path.Combine(dir.FullName, "bpfnet");
            File.WriteAllText(shim, $"#!/bin/sh\nexec dotnet '{dll}' \"$@\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var script = CliRunner.Run("completion", "bash").Stdout;
            var test = script + """
                COMP_LINE='bpfnet verify --privilege un'; COMP_POINT=${#COMP_LINE}
                COMP_WORDS=(bpfnet verify --privilege un); COMP_CWORD=3
                _bpfnet_complete
                printf '%s\n' "${COMPREPLY[@]}"
                """;
            var psi = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["PATH"] = dir.FullName + ":" + Environment.GetEnvironmentVariable("PATH");
            using var bash = Process.Start(psi)!;
            bash.StandardInput.Write(test);
            bash.StandardInput.Close();
            var stdout = bash.StandardOutput.ReadToEnd();
            var stderr = bash.StandardError.ReadToEnd();
            Assert.True(bash.WaitForExit(60_000), "bash did not finish");
            Assert.True(stdout.Trim() == "unprivileged", $"completion printed '{stdout}' (stderr {stderr})");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
