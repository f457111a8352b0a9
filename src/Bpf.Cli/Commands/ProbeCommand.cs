using System.Runtime.Versioning;
using Bpf.Helpers;
using Bpf.Loader;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet probe [--helpers TYPE] [--json]</c>: which program types and map types this kernel supports for this
/// process (Bpf.Loader's <see cref="FeatureProbes"/>: supported, not supported, or not permitted with the missing
/// capabilities), and with <c>--helpers TYPE</c> which helpers a program of that type may call. Types that cannot be
/// probed without BTF (tracing, LSM, struct_ops programs; local-storage maps) are listed as not probed. Not Linux, or
/// bpf() absent: exit 2.
/// </summary>
internal static class ProbeCommand
{
    private sealed record Row(string Kind, string Name, string Status, string? Errno, string? Detail);

    public static int Run(CliArgs a, CliContext cli)
    {
        if (a.Positionals.Count > 0) throw new CliUsageException($"unexpected argument '{a.Positionals[0]}'");
        ProgramType? helperType = a.Get("--helpers") is { } t ? ParseProgramType(t) : null;
        if (!OperatingSystem.IsLinux()) throw new CliUsageException("probe asks the Linux kernel; this system is not Linux");

        List<Row> rows;
        try
        {
            rows = Probe(helperType);
        }
        catch (BpfSyscallException e)
        {
            throw new CliUsageException($"the kernel cannot be probed: {e.Message}");
        }

        if (a.Has("--json"))
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                foreach (var (section, kind) in new[] { ("program_types", "program type"), ("map_types", "map type"), ("helpers", "helper") })
                {
                    if (kind == "helper" && helperType is null) continue;
                    if (kind == "helper") w.WriteString("helpers_for", Name(helperType!.Value));
                    w.WriteStartArray(section);
                    foreach (var r in rows.Where(r => r.Kind == kind))
                    {
                        w.WriteStartObject();
                        w.WriteString("name", r.Name);
                        w.WriteString("status", r.Status);
                        if (r.Errno is not null) w.WriteString("errno", r.Errno);
                        if (r.Detail is not null) w.WriteString("detail", r.Detail);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            });
            return ExitCodes.Ok;
        }
        foreach (var group in rows.GroupBy(r => r.Kind))
        {
            var title = group.Key == "helper" ? $"helpers for {Name(helperType!.Value)}" : group.Key + "s";
            cli.Out.WriteLine($"{title} ({group.Count(r => r.Status == "supported")} of {group.Count()} supported):");
            foreach (var r in group) cli.Out.WriteLine($"  {r.Name,-28} {r.Status}{(r.Errno is null ? "" : $" ({r.Errno})")}");
        }
        if (rows.FirstOrDefault(r => r.Status == "not_permitted")?.Detail is { } detail) cli.Out.WriteLine($"not permitted: {detail}");
        return ExitCodes.Ok;
    }

    [SupportedOSPlatform("linux")]
    private static List<Row> Probe(ProgramType? helperType)
    {
        var rows = new List<Row>();
        foreach (var type in Enum.GetValues<ProgramType>().Where(t => t != ProgramType.Unspecified))
        {
            rows.Add(Guard("program type", Name(type), () => FeatureProbes.ProbeProgramType(type)));
        }
        foreach (var type in Enum.GetValues<MapType>().Where(t => t != MapType.Unspecified))
        {
            rows.Add(Guard("map type", Name(type), () => FeatureProbes.ProbeMapType(type)));
        }
        if (helperType is { } ht)
        {
            foreach (var helper in HelperPrototypes.Prototypes.OrderBy(h => h.Id))
            {
                rows.Add(Guard("helper", helper.Name, () => FeatureProbes.ProbeHelper(ht, helper.Id)));
            }
        }
        return rows;
    }

    private static Row Guard(string kind, string name, Func<FeatureProbeResult> probe)
    {
        try
        {
            var r = probe();
            return r.Status switch
            {
                FeatureStatus.Supported => new Row(kind, name, "supported", null, null),
                FeatureStatus.NotSupported => new Row(kind, name, "not_supported", r.ErrnoName, null),
                _ => new Row(kind, name, "not_permitted", r.ErrnoName, r.Detail),
            };
        }
        catch (NotSupportedException e)
        {
            return new Row(kind, name, "not_probed", null, e.Message);
        }
    }

    /// <summary>Kernel-style snake_case: SchedCls → sched_cls, LruPerCpuHash → lru_per_cpu_hash.</summary>
    private static string Name<T>(T value) where T : struct, Enum
    {
        var s = value.ToString();
        var b = new System.Text.StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsUpper(s[i]) && i > 0 && (char.IsLower(s[i - 1]) || i + 1 < s.Length && char.IsLower(s[i + 1]))) b.Append('_');
            b.Append(char.ToLowerInvariant(s[i]));
        }
        return b.ToString();
    }

    private static ProgramType ParseProgramType(string text)
    {
        foreach (var type in Enum.GetValues<ProgramType>())
        {
            if (Name(type) == text || type.ToString().Equals(text, StringComparison.OrdinalIgnoreCase)) return type;
        }
        throw new CliUsageException($"--helpers: unknown program type '{text}' (e.g. xdp, sched_cls, socket_filter, kprobe, tracepoint)");
    }
}
