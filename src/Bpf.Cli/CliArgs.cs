using System.CommandLine;
using System.CommandLine.Parsing;

namespace Bpf.Cli;

/// <summary>
/// What System.CommandLine parsed for one command, as the commands read it: the positional arguments and, per
/// option name (<c>--json</c>), the values given (none for a flag; several for a repeated option). The parser
/// itself (option names, arities, unknown options, response files, completions) is System.CommandLine's; the
/// commands are declared in <see cref="BpfNetCli"/>.
/// </summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _options;

    public CliArgs(IReadOnlyList<string> positionals, Dictionary<string, List<string>> options)
    {
        Positionals = positionals;
        _options = options;
    }

    public IReadOnlyList<string> Positionals { get; }

    /// <summary>The command's arguments and the options the user gave (not defaults).</summary>
    public static CliArgs From(ParseResult result)
    {
        var positionals = new List<string>();
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var child in result.CommandResult.Children)
        {
            switch (child)
            {
                case OptionResult { Implicit: false } o:
                    if (!options.TryGetValue(o.Option.Name, out var values)) options[o.Option.Name] = values = [];
                    values.AddRange(o.Tokens.Select(t => t.Value));
                    break;
                case ArgumentResult a:
                    positionals.AddRange(a.Tokens.Select(t => t.Value));
                    break;
            }
        }
        return new CliArgs(positionals, options);
    }

    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The option's value (the last one when it was given more than once), or null.</summary>
    public string? Get(string name) => _options.TryGetValue(name, out var v) && v.Count > 0 ? v[^1] : null;

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> GetAll(string name) => _options.TryGetValue(name, out var v) ? v : [];

    public int GetInt(string name, int defaultValue, int min, int max)
    {
        var text = Get(name);
        if (text is null) return defaultValue;
        if (!int.TryParse(text, out var value) || value < min || value > max)
        {
            throw new CliUsageException($"{name} must be a whole number from {min} to {max}, not '{text}'");
        }
        return value;
    }

    /// <summary>Refuses options that belong to another form of the command (e.g. <c>--kernel</c> for a bare program).</summary>
    public void Refuse(string form, params string[] names)
    {
        foreach (var name in names)
        {
            if (Has(name)) throw new CliUsageException($"{name} applies to {form}");
        }
    }

    public string Single(string what)
    {
        return Positionals.Count switch
        {
            1 => Positionals[0],
            0 => throw new CliUsageException($"missing {what}"),
            _ => throw new CliUsageException($"unexpected argument '{Positionals[1]}'"),
        };
    }
}
