namespace Bpf.Cli;

/// <summary>
/// <c>bpfnet completion SHELL</c>: thin shell functions that hand the command line to System.CommandLine's
/// <c>[suggest:POSITION]</c> directive and offer what it prints, one candidate a line. The candidates come from
/// the parser's own model (commands, options, option values), so they never disagree with what it accepts.
/// </summary>
internal static class CompletionScripts
{
    public static readonly string[] Shells = ["bash", "zsh", "pwsh"];

    public static int Write(string shell, CliContext cli)
    {
        var script = shell switch
        {
            "bash" => Bash,
            "zsh" => Zsh,
            "pwsh" or "powershell" => PowerShell,
            _ => null,
        };
        if (script is null)
        {
            cli.Err.WriteLine($"bpfnet completion: unknown shell '{shell}' (bash, zsh, pwsh)");
            return ExitCodes.Usage;
        }
        cli.Out.Write(script.ReplaceLineEndings("\n"));
        return ExitCodes.Ok;
    }

    private const string Bash = """
        # bpfnet completion for bash: add to ~/.bashrc
        #   source <(bpfnet completion bash)
        _bpfnet_complete() {
            local IFS=$'\n'
            local candidates
            candidates="$(bpfnet "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)"
            COMPREPLY=( $(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _bpfnet_complete bpfnet

        """;

    private const string Zsh = """
        # bpfnet completion for zsh: add to ~/.zshrc (after compinit)
        #   source <(bpfnet completion zsh)
        _bpfnet() {
            local -a candidates
            candidates=("${(@f)$(bpfnet "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
            _describe 'bpfnet' candidates
        }
        compdef _bpfnet bpfnet

        """;

    private const string PowerShell = """
        # bpfnet completion for PowerShell: add to $PROFILE
        #   bpfnet completion pwsh | Out-String | Invoke-Expression
        Register-ArgumentCompleter -Native -CommandName bpfnet -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            bpfnet "[suggest:$cursorPosition]" "$commandAst" 2>$null | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
        }

        """;
}
