// Identity-based network policy, Cilium style. policy.json lists endpoints (address + labels) and rules (label
// selectors -> allowed ports); this program gives each distinct label set a numeric security identity, compiles the
// rules into (source identity, destination identity, port, protocol) entries of the program's policy map, replays
// traffic through bpf/identity_policy.c, and prints each flow's verdict, the drops by reason and the hits per rule.
// Then it applies policy-update.json live — only the entries that changed are added or deleted, counters of the
// others are kept — and replays the same traffic. On the interpreter, then (Auto) in the kernel where this machine
// can load the object (BPF_PROG_TEST_RUN on the same frames); both engines must print the same.
// IdentityPolicy is generated at build time from bpf/identity_policy.c: typed maps, key/value structs, the verdict enum.
using System.Net;
using System.Text;
using Bpf;
using Bpf.Samples;
using Bpf.Samples.IdentityPolicy;
using static Bpf.Samples.IdentityPolicy.IdentityPolicy;

var first = PolicyFile.Read(Path.Combine(AppContext.BaseDirectory, "policy.json"));
var update = PolicyFile.Read(Path.Combine(AppContext.BaseDirectory, "policy-update.json"));

var outputs = new List<string>();
// An XDP program is deployed by root: verify it as the kernel would for root, also when the interpreter runs it for a
// user without CAP_BPF (by default the interpreter verifies for this process's own privileges, and refuses XDP to users).
var deployed = new BpfEngineOptions { Privilege = PrivilegeMode.Privileged };
foreach (var choice in new[] { EngineChoice.Interpreter, EngineChoice.Auto })
{
    using var firewall = Open(choice, deployed);
    Console.WriteLine($"== {firewall.Collection.Engine} ({firewall.Collection.EngineReason}) ==");
    var text = new StringBuilder();
    var identities = new IdentityAllocator();
    foreach (var (name, policy) in new[] { ("policy.json", first), ("policy-update.json", update) })
    {
        var compiled = PolicyCompiler.Compile(policy, identities);
        var (added, removed) = Apply(firewall, policy, identities, compiled);
        text.AppendLine($"-- {name}: {policy.Endpoints.Count} endpoints, {policy.Endpoints.Select(identities.IdentityOf).Distinct().Count()} identities, " +
                        $"{policy.Rules.Count} rules -> {compiled.Count} policy entries (+{added} -{removed}) --");
        text.AppendLine(IdentityTable(policy, identities));
        text.AppendLine(Replay(firewall, policy));
        text.AppendLine(VerdictTable(firewall));
        text.AppendLine(RuleTable(firewall, compiled));
    }
    Console.Write(text);
    outputs.Add(text.ToString());
}
var agree = outputs[0] == outputs[1];
Console.WriteLine(agree ? "Both engines agree." : "The engines disagree!");
if (!agree) return 1;
Console.WriteLine();
try
{
    return RealPackets.Run((firewall, policy, identities) =>
    {
        var compiled = PolicyCompiler.Compile(policy, identities);
        var (added, _) = Apply(firewall, policy, identities, compiled);
        return $"{policy.Rules.Count} rule -> {added} policy entries\n" + IdentityTable(policy, identities);
    }, VerdictTable);
}
catch (Exception e)   // caught, so the namespace and the veth pair are removed on the way out
{
    Console.WriteLine($"Real packets: failed: {e}");
    return 1;
}

// Brings the maps to the policy: endpoint identities written, policy entries added and deleted (the rest keep their counters).
static (int Added, int Removed) Apply(IdentityPolicy firewall, PolicyFile policy, IdentityAllocator identities, Dictionary<PolicyEntry, List<string>> compiled)
{
    var addresses = policy.Endpoints.ToDictionary(e => Wire(e.Address), identities.IdentityOf);
    foreach (var stale in firewall.Endpoints.Keys().Where(a => !addresses.ContainsKey(a))) firewall.Endpoints.Delete(stale);
    foreach (var (address, identity) in addresses) firewall.Endpoints.Update(address, identity);

    var removed = 0;
    foreach (var key in firewall.Policy.Keys())
    {
        if (compiled.ContainsKey(Entry(key))) continue;
        firewall.Policy.Delete(key);
        removed++;
    }
    var added = 0;
    foreach (var entry in compiled.Keys)
    {
        var key = new PolicyKey { SrcIdentity = entry.SourceIdentity, DstIdentity = entry.DestinationIdentity, Dport = entry.Port, Protocol = entry.Protocol };
        if (firewall.Policy.TryLookup(key, out _)) continue;
        firewall.Policy.Update(key, default, MapUpdateFlags.NoExist);
        added++;
    }
    return (added, removed);
}

static PolicyEntry Entry(in PolicyKey k) => new(k.SrcIdentity, k.DstIdentity, k.Dport, k.Protocol);

// The endpoints map's key: the address's four wire bytes, as the program reads ip->saddr.
static uint Wire(IPAddress address) => BitConverter.ToUInt32(address.GetAddressBytes());

static string IdentityTable(PolicyFile policy, IdentityAllocator identities)
{
    var sb = new StringBuilder($"{"IDENTITY",8}  {"LABELS",-26} ENDPOINTS\n");
    foreach (var g in policy.Endpoints.GroupBy(identities.IdentityOf).OrderBy(g => g.Key))
        sb.AppendLine($"{g.Key,8}  {g.First().LabelText,-26} {string.Join(", ", g.Select(e => $"{e.Name} ({e.Address})"))}");
    sb.Append($"{IdentityAllocator.World,8}  {"reserved:world",-26} every other address");
    return sb.Append('\n').ToString();
}

// Replays the traffic; each line's verdict is read from the change in the program's per-verdict counters.
static string Replay(IdentityPolicy firewall, PolicyFile policy)
{
    IPAddress At(string name) => policy.Endpoints.Single(e => e.Name == name).Address;
    var world = IPAddress.Parse("203.0.113.7");
    Flow Tcp(IPAddress s, IPAddress d, ushort port) => new(Flow.Tcp, s, 40000, d, port);
    var fragment = Packets.Frame(Tcp(At("frontend-1"), At("api-1"), 8080), 600);
    fragment[14 + 6] = 0x00; fragment[14 + 7] = 0xb9;                     // fragment offset 185 (x 8 bytes): not the first
    fragment[14 + 10] = fragment[14 + 11] = 0;
    var checksum = Packets.Checksum(fragment.AsSpan(14, 20), 0);
    fragment[14 + 10] = (byte)(checksum >> 8); fragment[14 + 11] = (byte)checksum;
    (string What, byte[] Frame, int Count)[] traffic =
    [
        ("frontend-1 -> api-1 8080/TCP", Packets.Frame(Tcp(At("frontend-1"), At("api-1"), 8080), 200), 3),
        ("frontend-2 -> api-2 8080/TCP", Packets.Frame(Tcp(At("frontend-2"), At("api-2"), 8080), 300), 2),
        ("frontend-1 -> db-1 5432/TCP", Packets.Frame(Tcp(At("frontend-1"), At("db-1"), 5432), 120), 2),
        ("api-1 -> db-1 5432/TCP", Packets.Frame(Tcp(At("api-1"), At("db-1"), 5432), 1000), 2),
        ("prometheus -> api-1 9090/TCP", Packets.Frame(Tcp(At("prometheus"), At("api-1"), 9090), 150), 1),
        ("prometheus -> db-1 ICMP", Packets.Frame(Flow.IcmpFlow(At("prometheus").ToString(), At("db-1").ToString()), 98), 1),
        ("203.0.113.7 -> api-1 8080/TCP", Packets.Frame(Tcp(world, At("api-1"), 8080), 400), 2),
        ("frontend-1 -> api-1 8080/UDP", Packets.Frame(new Flow(Flow.Udp, At("frontend-1"), 40000, At("api-1"), 8080), 100), 1),
        ("frontend-1 -> api-1 (fragment)", fragment, 1),
        ("frontend-1 -> api-1 (cut short)", Packets.Frame(Tcp(At("frontend-1"), At("api-1"), 8080))[..36], 1),
    ];
    var sb = new StringBuilder($"{"TRAFFIC",-32} {"PACKETS",7}  VERDICT\n");
    foreach (var (what, frame, count) in traffic)
    {
        var before = Counts(firewall);
        var passed = 0;
        for (var i = 0; i < count; i++)
            if (firewall.IdentityPolicyProgram.Run(frame).ReturnValue == 2) passed++;   // XDP_PASS
        var after = Counts(firewall);
        var changed = after.Where(kv => kv.Value != before.GetValueOrDefault(kv.Key)).Select(kv => Name(kv.Key));
        sb.AppendLine($"{what,-32} {count,7}  {string.Join(", ", changed)}{(passed is > 0 and var p && p != count ? $" ({p} passed)" : "")}");
    }
    return sb.ToString();
}

static Dictionary<PolicyVerdict, ulong> Counts(IdentityPolicy firewall) => firewall.Verdicts.Entries().ToDictionary(kv => kv.Key, kv => kv.Value);

static string Name(PolicyVerdict v) => v switch
{
    PolicyVerdict.Allowed => "ALLOWED",
    PolicyVerdict.DropPolicyDenied => "DROPPED: policy denied",
    PolicyVerdict.DropFragment => "DROPPED: fragment",
    PolicyVerdict.DropMalformed => "DROPPED: malformed",
    _ => v.ToString(),
};

static string VerdictTable(IdentityPolicy firewall)
{
    var sb = new StringBuilder($"{"VERDICT (since load)",-32} {"PACKETS",7}\n");
    foreach (var v in Enum.GetValues<PolicyVerdict>())
        sb.AppendLine($"{Name(v),-32} {(firewall.Verdicts.TryLookup(v, out var n) ? n : 0),7}");
    return sb.ToString();
}

static string RuleTable(IdentityPolicy firewall, Dictionary<PolicyEntry, List<string>> compiled)
{
    var hits = new SortedDictionary<string, (ulong Packets, ulong Bytes, int Entries)>(StringComparer.Ordinal);
    foreach (var (key, stats) in firewall.Policy.Entries())
        foreach (var rule in compiled[Entry(key)])
        {
            var h = hits.GetValueOrDefault(rule);
            hits[rule] = (h.Packets + stats.Packets, h.Bytes + stats.Bytes, h.Entries + 1);
        }
    var sb = new StringBuilder($"{"RULE (hits since added)",-32} {"ENTRIES",7} {"PACKETS",7} {"BYTES",7}\n");
    foreach (var (rule, h) in hits) sb.AppendLine($"{rule,-32} {h.Entries,7} {h.Packets,7} {h.Bytes,7}");
    return sb.ToString();
}
