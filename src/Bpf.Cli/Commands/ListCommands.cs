using System.Globalization;
using System.Runtime.Versioning;
using Bpf.Loader;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet prog list</c> and <c>bpfnet map list</c>: every program or map the kernel holds (Bpf.Loader's
/// <see cref="BpfProgram.ListLoaded"/>, <see cref="BpfMap.ListLoaded"/>), one line each or one JSON document.
/// Walking the kernel's ids needs CAP_SYS_ADMIN: without it, exit 2 naming what is missing.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ListCommands
{
    public static int Prog(CliArgs a, CliContext cli)
    {
        var action = a.Positionals.Count switch
        {
            0 => throw new CliUsageException("missing ACTION (list)"),
            1 => a.Positionals[0],
            _ => throw new CliUsageException($"unexpected argument '{a.Positionals[1]}'"),
        };
        if (action != "list") throw new CliUsageException($"unknown prog action '{action}' (list)");
        return Programs(cli, a.Has("--json"));
    }

    /// <summary>The one listing routine behind both commands: asks the kernel (a refusal for want of privilege is exit 2
    /// through <see cref="CliUsageException"/>, any other failure exit 1), then writes one JSON document
    /// <c>{ "WHAT": [ … ] }</c> or one line per object.</summary>
    private static int List<T>(CliContext cli, bool json, string what, Func<IReadOnlyList<T>> list,
        Action<System.Text.Json.Utf8JsonWriter, T> writeJson, Func<T, string> line)
    {
        IReadOnlyList<T> items;
        try
        {
            items = list();
        }
        catch (BpfSyscallException e) when (e.IsEnvironmentRefusal)
        {
            throw new CliUsageException($"cannot list the kernel's {what}: {e.Message}");
        }
        catch (BpfSyscallException e)
        {
            cli.Err.WriteLine($"bpfnet: cannot list the kernel's {what}: {e.Message}");
            return ExitCodes.Failed;
        }
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray(what);
                foreach (var item in items)
                {
                    w.WriteStartObject();
                    writeJson(w, item);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return ExitCodes.Ok;
        }
        foreach (var item in items) cli.Out.WriteLine(line(item));
        return ExitCodes.Ok;
    }

    public static int Programs(CliContext cli, bool json) => List(cli, json, "programs", BpfProgram.ListLoaded,
        (w, p) =>
        {
            w.WriteNumber("id", p.Id);
            w.WriteString("type", p.Type.ToString());
            w.WriteString("name", p.Name);
            w.WriteString("tag", p.Tag);
            w.WriteBoolean("gpl_compatible", p.GplCompatible);
            w.WriteString("loaded_at", LoadedAt(p));
            w.WriteNumber("uid", p.CreatedByUid);
            w.WriteBoolean("jited", p.IsJited);
            w.WriteNumber("bytes_xlated", p.XlatedSize);
            w.WriteNumber("bytes_jited", p.JitedSize);
            w.WriteStartArray("map_ids");
            foreach (var id in p.MapIds) w.WriteNumberValue(id);
            w.WriteEndArray();
            if (p.BtfId is { } btf) w.WriteNumber("btf_id", btf);
            if (p.VerifiedInstructions is { } verified) w.WriteNumber("verified_insns", verified);
            w.WriteNumber("run_time_ns", (ulong)p.RunTime.Ticks * 100);
            w.WriteNumber("run_cnt", p.RunCount);
        },
        p => $"{p.Id}: {p.Type}  name {(p.Name.Length == 0 ? "-" : p.Name)}  tag {p.Tag}{(p.GplCompatible ? "  gpl" : "")}  loaded_at {LoadedAt(p)}  uid {p.CreatedByUid}" +
             $"  xlated {p.XlatedSize}B  {(p.IsJited ? $"jited {p.JitedSize}B" : "not jited")}" +
             (p.MapIds.Count > 0 ? $"  map_ids {string.Join(",", p.MapIds)}" : "") +
             (p.BtfId is { } btf ? $"  btf_id {btf}" : ""));

    public static int Maps(CliContext cli, bool json) => List(cli, json, "maps", BpfMap.ListLoaded,
        (w, m) =>
        {
            w.WriteNumber("id", m.Id);
            w.WriteString("type", m.Type.ToString());
            w.WriteString("name", m.Name);
            w.WriteNumber("bytes_key", m.KeySize);
            w.WriteNumber("bytes_value", m.ValueSize);
            w.WriteNumber("max_entries", m.MaxEntries);
            w.WriteNumber("flags", (uint)m.Flags);
            if (m.Btf.BtfId != 0) w.WriteNumber("btf_id", m.Btf.BtfId);
        },
        m => $"{m.Id}: {m.Type}  name {(m.Name.Length == 0 ? "-" : m.Name)}  key {m.KeySize}B  value {m.ValueSize}B  max_entries {m.MaxEntries}" +
             $"  flags 0x{(uint)m.Flags:x}{(m.Btf.BtfId != 0 ? $"  btf_id {m.Btf.BtfId}" : "")}");

    /// <summary>ISO 8601 UTC to the second, e.g. <c>2026-12-04T15:01:43Z</c>.</summary>
    private static string LoadedAt(ProgramInfo p) => p.LoadTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
