namespace Bpf.Cli;

/// <summary>
/// A small, strict argument parser: positional arguments, <c>--flag</c>, <c>--option value</c> and
/// <c>--option=value</c>. Unknown options are errors so that typos never pass silently.
/// </summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    private CliArgs()
    {
    }

    public IReadOnlyList<string> Positionals => _positionals;

    /// <param name="args">The arguments after the command name.</param>
    /// <param name="valueOptions">Options that take a value (e.g. "--dialect", "-o").</param>
    /// <param name="flags">Options that take none (e.g. "--json").</param>
    public static CliArgs Parse(IReadOnlyList<string> args, IEnumerable<string> valueOptions, IEnumerable<string> flags)
    {
        var values = new HashSet<string>(valueOptions, StringComparer.Ordinal);
        var flagSet = new HashSet<string>(flags, StringComparer.Ordinal);
        var parsed = new CliArgs();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                parsed._positionals.AddRange(args.Skip(i + 1));
                break;
            }
            if (arg.StartsWith('-') && arg.Length > 1 && !IsNumber(arg))
            {
                var eq = arg.IndexOf('=');
                var name = eq > 0 ? arg[..eq] : arg;
                if (flagSet.Contains(name))
                {
                    if (eq > 0) throw new CliUsageException($"option {name} takes no value");
                    parsed._options[name] = null;
                }
                else if (values.Contains(name))
                {
                    string value;
                    if (eq > 0) value = arg[(eq + 1)..];
                    else if (i + 1 < args.Count) value = args[++i];
                    else throw new CliUsageException($"option {name} needs a value");
                    parsed._options[name] = value;
                }
                else
                {
                    throw new CliUsageException($"unknown option {name}");
                }
                continue;
            }
            parsed._positionals.Add(arg);
        }
        return parsed;
    }

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

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

    public string Single(string what)
    {
        return _positionals.Count switch
        {
            1 => _positionals[0],
            0 => throw new CliUsageException($"missing {what}"),
            _ => throw new CliUsageException($"unexpected argument '{_positionals[1]}'"),
        };
    }

    private static bool IsNumber(string arg) => arg.Length > 1 && char.IsDigit(arg[1]);
}
