using Bpf.Btf;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet btf dump FILE [--format c] [-o OUT] [--json]</c>: writes the BTF of FILE (raw BTF such as
/// <c>/sys/kernel/btf/vmlinux</c>, or a compiled object's <c>.BTF</c>) as a C header — the <c>vmlinux.h</c> that
/// <c>bpftool btf dump file … format c</c> makes (<see cref="BtfCWriter"/>).
/// </summary>
internal static class BtfCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        var json = a.Has("--json");
        if (a.Positionals.Count == 0) throw new CliUsageException("usage: btf dump FILE [--format c]");
        if (a.Positionals[0] != "dump") throw new CliUsageException($"unknown btf action '{a.Positionals[0]}' (dump)");
        if (a.Positionals.Count != 2) throw new CliUsageException(a.Positionals.Count < 2 ? "btf dump takes FILE" : $"unexpected argument '{a.Positionals[2]}'");
        var path = a.Positionals[1];
        var format = a.Get("--format") ?? "c";
        if (format != "c") throw new CliUsageException($"--format must be c, not '{format}'");
        var output = a.Get("--output");

        string text;
        int types;
        try
        {
            var btf = BtfSpec.ReadFile(path);
            var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture) { NewLine = "\n" };
            BtfCWriter.WriteHeader(btf, writer);
            text = writer.ToString();
            types = btf.Types.Count - 1;
        }
        catch (Exception e) when (e is BpfObjectException or IOException or UnauthorizedAccessException)
        {
            return Unusable(cli, json, path, $"{path}: {e.Message}");
        }

        if (output is not null)
        {
            try
            {
                File.WriteAllText(output, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return Unusable(cli, json, path, $"{output}: cannot write: {e.Message}");
            }
        }
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteBoolean("ok", true);
                w.WriteString("format", format);
                w.WriteNumber("types", types);
                if (output is not null) w.WriteString("output", output);
                else w.WriteString("text", text);
                w.WriteEndObject();
            });
        }
        else if (output is null)
        {
            cli.Out.Write(text);
        }
        return ExitCodes.Ok;
    }

    /// <summary>A file that cannot be read or is not BTF: one line on stderr, or with --json
    /// <c>{ "file", "ok": false, "error" }</c>; exit 2 either way.</summary>
    private static int Unusable(CliContext cli, bool json, string path, string message)
    {
        if (!json) throw new CliUsageException(message);
        JsonOutput.Write(cli.Out, w =>
        {
            w.WriteStartObject();
            w.WriteString("file", path);
            w.WriteBoolean("ok", false);
            w.WriteString("error", message);
            w.WriteEndObject();
        });
        return ExitCodes.Usage;
    }
}
