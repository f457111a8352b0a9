using System.Runtime.Versioning;
using System.Text.Json;
using Bpf.Loader;

namespace Bpf.Cli.Commands;

/// <summary>
/// Commands on the kernel's objects that outlive the tool: <c>bpfnet load OBJECT [--pin DIR]</c> loads an object
/// into the kernel and pins its programs (<c>DIR/progs/NAME</c>) and maps (<c>DIR/maps/NAME</c>) in bpffs;
/// <c>bpfnet map dump|lookup|update|delete PATH [KEY [VALUE]] [--object OBJECT]</c> works on a pinned map, keys and
/// values decoded and accepted through the BTF of the object that made it (<c>--object</c>; hex without it).
/// Linux only; bpf() refused for want of privileges is exit 2.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class PinnedCommands
{
    public static int Load(CliArgs a, CliContext cli)
    {
        var path = a.Single("OBJECT");
        var spec = ReadObject(path);
        var pin = a.Get("--pin");
        return Kernel(cli, a.Has("--json"), path, () => LoadAndPin(cli, a.Has("--json"), path, spec, pin));
    }

    public static int Map(CliArgs a, CliContext cli)
    {
        if (a.Positionals is ["list", ..])
        {
            if (a.Positionals.Count > 1) throw new CliUsageException($"unexpected argument '{a.Positionals[1]}' (map list takes none)");
            a.Refuse("dump, lookup, update and delete", "--object");
            return ListCommands.Maps(cli, a.Has("--json"));
        }
        if (a.Positionals.Count < 2) throw new CliUsageException("usage: map list | dump|lookup|update|delete PATH|id:N [KEY [VALUE]]");
        var (action, path) = (a.Positionals[0], a.Positionals[1]);
        var expected = action switch
        {
            "dump" => 2,
            "lookup" or "delete" => 3,
            "update" => 4,
            _ => throw new CliUsageException($"unknown map action '{action}' (list, dump, lookup, update, delete)"),
        };
        if (a.Positionals.Count != expected) throw new CliUsageException($"map {action} takes {(expected switch { 2 => "PATH", 3 => "PATH KEY", _ => "PATH KEY VALUE" })}");
        var objectPath = a.Get("--object");
        var spec = objectPath is null ? null : ReadObject(objectPath);
        return Kernel(cli, a.Has("--json"), path, () => OnMap(cli, a.Has("--json"), action, path, a.Positionals.Skip(2).ToArray(), spec));
    }

    private static ObjectSpec ReadObject(string path)
    {
        try
        {
            return ObjectSpec.ReadFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Bpf.BpfObjectException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
    }

    /// <summary>Runs a kernel operation: a refusal for want of privileges (or no bpf()) and a missing pin are
    /// unusable environment or input (exit 2); any other kernel error, a rejection, is exit 1.</summary>
    private static int Kernel(CliContext cli, bool json, string path, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (BpfSyscallException e) when (e.IsEnvironmentRefusal || e.IsNotFound || e.ErrnoName is "EEXIST")
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        catch (Exception e) when (e is BpfSyscallException or Bpf.Runtime.MapException or NotSupportedException or InvalidOperationException)
        {
            if (json)
            {
                JsonOutput.Write(cli.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("file", path);
                    w.WriteBoolean("ok", false);
                    w.WriteString("error", e.Message);
                    w.WriteEndObject();
                });
            }
            else
            {
                cli.Err.WriteLine($"bpfnet: {path}: {e.Message}");
            }
            return ExitCodes.Failed;
        }
    }

    private static int LoadAndPin(CliContext cli, bool json, string path, ObjectSpec spec, string? pin)
    {
        // Without --pin this is a check that the kernel accepts the object: by-name pins go away with it too.
        using var privatePins = pin is null ? PrivatePins.For(spec) : null;
        using var collection = KernelCollection.Load(spec, privatePins?.Options);
        var programs = new List<(string Name, string Type, uint Id, string? Pinned)>();
        var maps = new List<(string Name, string Type, uint Id, string? Pinned)>();
        if (pin is not null)
        {
            BpfFs.EnsureMounted();
            Directory.CreateDirectory(Path.Combine(pin, "progs"));
            Directory.CreateDirectory(Path.Combine(pin, "maps"));
        }
        foreach (var p in spec.Programs)
        {
            var program = collection.Program(p.Name);
            string? at = pin is null ? null : Path.Combine(pin, "progs", p.Name);
            if (at is not null) program.Pin(at);
            programs.Add((p.Name, p.Type.ToString(), program.Id, at));
        }
        foreach (var (name, map) in collection.Maps.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            string? at = pin is null ? null : Path.Combine(pin, "maps", name);
            if (at is not null) map.Pin(at);
            maps.Add((name, map.Type.ToString(), map.Id, at));
        }
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteBoolean("ok", true);
                w.WriteBoolean("pinned", pin is not null);
                foreach (var (section, list) in new[] { ("programs", programs), ("maps", maps) })
                {
                    w.WriteStartArray(section);
                    foreach (var (name, type, id, at) in list)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", name);
                        w.WriteString("type", type);
                        w.WriteNumber("id", id);
                        if (at is not null) w.WriteString("pin", at);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var (name, type, id, at) in programs) cli.Out.WriteLine($"program {name} ({type}): id {id}{(at is null ? "" : ", pinned at " + at)}");
            foreach (var (name, type, id, at) in maps) cli.Out.WriteLine($"map {name} ({type}): id {id}{(at is null ? "" : ", pinned at " + at)}");
            if (pin is null) cli.Out.WriteLine("loaded; released on exit (give --pin DIR to keep it)");
        }
        return ExitCodes.Ok;
    }

    private static int OnMap(CliContext cli, bool json, string action, string path, string[] args, ObjectSpec? spec)
    {
        using var map = Open(path);
        // The kernel keeps 15 characters of a map's name: match the object's map by that prefix.
        var mapSpec = spec?.Maps.FirstOrDefault(m => m.Name == map.Name || m.Name.Length > 15 && m.Name[..15] == map.Name);
        if (spec is not null && mapSpec is null) throw new CliUsageException($"--object has no map named '{map.Name}' (maps: {string.Join(", ", spec.Maps.Select(m => m.Name))})");
        byte[] Key(string text) =>
            mapSpec?.KeyType is null && map.KeySize == 4 && map.Type is MapType.Array or MapType.PerCpuArray
                && uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
                ? BitConverter.GetBytes(index) // an array's key is a u32 index
                : BtfValues.Parse(mapSpec?.KeyType, text, (int)map.KeySize, "KEY");

        switch (action)
        {
            case "update":
            {
                var key = Key(args[0]);
                map.Update(key, BtfValues.Parse(mapSpec?.ValueType, args[1], (int)map.ValueSize, "VALUE"));
                return Done(cli, json, path, action, true);
            }
            case "delete":
                return Done(cli, json, path, action, map.TryDelete(Key(args[0])));
            case "lookup":
            {
                var key = Key(args[0]);
                var value = new byte[map.UserValueSize];
                if (!map.TryLookup(key, value))
                {
                    if (json) Entries(cli, path, map, mapSpec, []);
                    else cli.Err.WriteLine($"bpfnet map lookup: {path}: no such key");
                    return ExitCodes.Failed;
                }
                return Entries(cli, json, path, map, mapSpec, [new(key, value)]);
            }
            default:
            {
                var entries = new List<KeyValuePair<byte[], byte[]>>();
                foreach (var key in map.Keys())
                {
                    var value = new byte[map.UserValueSize];
                    if (map.TryLookup(key, value)) entries.Add(new(key, value));
                }
                return Entries(cli, json, path, map, mapSpec, entries);
            }
        }
    }

    /// <summary>A pinned map's path, or <c>id:N</c> for the map with kernel id N (as <c>bpfnet map list</c> shows it).</summary>
    private static BpfMap Open(string path)
    {
        if (!path.StartsWith("id:", StringComparison.Ordinal)) return BpfMap.OpenPinned(path);
        if (!uint.TryParse(path.AsSpan(3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            throw new CliUsageException($"'{path}': id:N takes a map id, a whole number (see 'bpfnet map list')");
        try
        {
            return BpfMap.OpenById(id);
        }
        catch (KeyNotFoundException e)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
    }

    private static int Done(CliContext cli, bool json, string path, string action, bool found)
    {
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("action", action);
                w.WriteBoolean("ok", found);
                w.WriteEndObject();
            });
        }
        else
        {
            (found ? cli.Out : cli.Err).WriteLine(found ? $"{action}: ok" : $"bpfnet map {action}: {path}: no such key");
        }
        return found ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static void Entries(CliContext cli, string path, BpfMap map, MapSpec? spec, IReadOnlyList<KeyValuePair<byte[], byte[]>> entries) =>
        Entries(cli, true, path, map, spec, entries);

    private static int Entries(CliContext cli, bool json, string path, BpfMap map, MapSpec? spec, IReadOnlyList<KeyValuePair<byte[], byte[]>> entries)
    {
        if (!json)
        {
            cli.Out.WriteLine($"map {map.Name} ({map.Type}): {entries.Count} entries");
            foreach (var (k, v) in entries) cli.Out.WriteLine($"  {MapEntries.FormatText(spec, k, v)}");
            return ExitCodes.Ok;
        }
        JsonOutput.Write(cli.Out, w =>
        {
            w.WriteStartObject();
            w.WriteString("file", path);
            w.WriteString("name", map.Name);
            w.WriteString("type", map.Type.ToString());
            w.WriteStartArray("entries");
            foreach (var (k, v) in entries)
            {
                w.WriteStartObject();
                w.WriteString("key", Convert.ToHexStringLower(k));
                w.WriteString("value", Convert.ToHexStringLower(v));
                MapEntries.WriteDecoded(w, spec, k, v);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        return ExitCodes.Ok;
    }
}
