// The policy file (JSON) and its compilation into the program's map entries.
//   endpoints: name, address, labels          -> each distinct label set is one security identity
//   rules:     to (a label selector), from (label selectors, or "world"), ports ("8080/TCP", "53/UDP", "ICMP", "TCP")
// A selector matches an endpoint whose labels include all of the selector's; {} matches every endpoint.
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Bpf.Samples;

namespace Bpf.Samples.IdentityPolicy;

public sealed record Endpoint(string Name, IPAddress Address, IReadOnlyDictionary<string, string> Labels)
{
    public string LabelText => string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}

public sealed record Selector(IReadOnlyDictionary<string, string>? Labels)   // null: the world (no endpoint)
{
    public bool Matches(Endpoint e) => Labels is not null && Labels.All(l => e.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    public override string ToString() => Labels is null ? "world" : "{" + string.Join(",", Labels.Select(l => $"{l.Key}={l.Value}")) + "}";
}

public sealed record PortRule(ushort Port, byte Protocol)
{
    public override string ToString() => Port == 0 ? Flow.ProtocolName(Protocol) : $"{Port}/{Flow.ProtocolName(Protocol)}";
}

public sealed record Rule(string Name, Selector To, IReadOnlyList<Selector> From, IReadOnlyList<PortRule> Ports);

/// <summary>One entry of the compiled policy: what the program looks up.</summary>
public readonly record struct PolicyEntry(uint SourceIdentity, uint DestinationIdentity, ushort Port, byte Protocol);

public sealed record PolicyFile(IReadOnlyList<Endpoint> Endpoints, IReadOnlyList<Rule> Rules)
{
    /// <summary>Reads a policy file; a malformed one throws <see cref="InvalidDataException"/> naming the file and the element.</summary>
    public static PolicyFile Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var endpoints = root.GetProperty("endpoints").EnumerateArray().Select((e, i) => new Endpoint(
                e.GetProperty("name").GetString() ?? throw Bad($"endpoints[{i}].name"),
                IPAddress.Parse(e.GetProperty("address").GetString() ?? throw Bad($"endpoints[{i}].address")) is { AddressFamily: AddressFamily.InterNetwork } a
                    ? a : throw Bad($"endpoints[{i}].address is not IPv4"),
                Labels(e.GetProperty("labels")))).ToList();
            var rules = root.GetProperty("rules").EnumerateArray().Select((r, i) => new Rule(
                r.GetProperty("name").GetString() ?? throw Bad($"rules[{i}].name"),
                new Selector(Labels(r.GetProperty("to"))),
                r.GetProperty("from").EnumerateArray().Select(f => f.ValueKind == JsonValueKind.String && f.GetString() == "world"
                    ? new Selector(null) : new Selector(Labels(f))).ToList(),
                r.GetProperty("ports").EnumerateArray().Select(p => Port(p.GetString() ?? throw Bad($"rules[{i}].ports"))).ToList())).ToList();
            return new PolicyFile(endpoints, rules);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }

        static Exception Bad(string what) => new FormatException($"bad {what}");
    }

    private static Dictionary<string, string> Labels(JsonElement e) => e.ValueKind == JsonValueKind.Object
        ? e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? throw new FormatException($"label '{p.Name}' is not a string"))
        : throw new FormatException($"a selector must be an object of labels (or \"world\"), not {e.ValueKind}");

    private static PortRule Port(string text)
    {
        var parts = text.Split('/');
        var proto = parts[^1].ToUpperInvariant() switch
        {
            "TCP" => Flow.Tcp,
            "UDP" => Flow.Udp,
            "ICMP" => Flow.Icmp,
            var p => throw new FormatException($"port '{text}': unknown protocol '{p}'"),
        };
        if (parts.Length == 1) return new PortRule(0, proto);
        if (parts.Length != 2 || !ushort.TryParse(parts[0], out var port) || port == 0 || proto == Flow.Icmp)
            throw new FormatException($"port '{text}': expected PORT/TCP, PORT/UDP, TCP, UDP or ICMP");
        return new PortRule(port, proto);
    }
}

/// <summary>Numeric security identities for label sets, stable across policy updates (as Cilium's allocator keeps them).</summary>
public sealed class IdentityAllocator
{
    public const uint World = 2;                  // enum reserved_identity IDENTITY_WORLD in the C source
    private const uint FirstIdentity = 256;
    private readonly Dictionary<string, uint> _byLabels = new(StringComparer.Ordinal);

    public uint IdentityOf(Endpoint e)
    {
        if (!_byLabels.TryGetValue(e.LabelText, out var id)) _byLabels[e.LabelText] = id = FirstIdentity + (uint)_byLabels.Count;
        return id;
    }
}

public static class PolicyCompiler
{
    /// <summary>The map entries that allow what the rules allow, each with the rules that produce it.</summary>
    public static Dictionary<PolicyEntry, List<string>> Compile(PolicyFile policy, IdentityAllocator identities)
    {
        var entries = new Dictionary<PolicyEntry, List<string>>();
        foreach (var rule in policy.Rules)
        {
            var destinations = policy.Endpoints.Where(rule.To.Matches).Select(identities.IdentityOf).Distinct();
            var sources = rule.From.SelectMany(s => s.Labels is null
                ? [IdentityAllocator.World]
                : policy.Endpoints.Where(s.Matches).Select(identities.IdentityOf)).Distinct().ToList();
            foreach (var dst in destinations)
            foreach (var src in sources)
            foreach (var port in rule.Ports)
            {
                var entry = new PolicyEntry(src, dst, port.Port, port.Protocol);
                if (!entries.TryGetValue(entry, out var names)) entries[entry] = names = [];
                names.Add(rule.Name);
            }
        }
        return entries;
    }
}
