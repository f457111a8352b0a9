// A service load balancer, kube-proxy-replacement style. bpf/load_balancer.c sends a packet for a service
// (VIP:port/protocol) to a backend chosen from the service's Maglev table by a hash of the 5-tuple, rewriting the
// destination address and port with the checksums fixed. This program fills the tables (Maglev.cs), replays many
// client flows, checks every rewritten frame (destination is a live backend, IPv4 and TCP/UDP checksums valid),
// prints the backend distribution, then removes a backend and adds another while the flows keep coming and shows how
// many flows moved. On the interpreter, then (Auto) in the kernel where this machine can load the object
// (BPF_PROG_TEST_RUN on the same frames); both engines must print the same.
// LoadBalancer is generated at build time from bpf/load_balancer.c: its maps, program and structs are typed members.
using System.Buffers.Binary;
using System.Net;
using System.Text;
using Bpf;
using Bpf.Samples;
using Bpf.Samples.LoadBalancer;
using static Bpf.Samples.LoadBalancer.LoadBalancer;

const uint XdpTx = 3;
var web = (Vip: IPAddress.Parse("10.96.0.10"), Port: (ushort)80, Protocol: Flow.Tcp, Id: 0u);
var dns = (Vip: IPAddress.Parse("10.96.0.53"), Port: (ushort)53, Protocol: Flow.Udp, Id: 1u);
var pods = new Dictionary<uint, (IPAddress Address, ushort Port)>
{
    [1] = (IPAddress.Parse("10.244.1.11"), 8080), [2] = (IPAddress.Parse("10.244.2.12"), 8080),
    [3] = (IPAddress.Parse("10.244.3.13"), 8080), [4] = (IPAddress.Parse("10.244.4.14"), 8080),
    [11] = (IPAddress.Parse("10.244.1.11"), 53), [12] = (IPAddress.Parse("10.244.2.12"), 53),
};
// The client flows: 1,200 web connections and 300 DNS queries, from distinct addresses and ports.
var flows = Enumerable.Range(0, 1500).Select(i => new Flow(i < 1200 ? Flow.Tcp : Flow.Udp,
    new IPAddress([192, 168, (byte)(i / 200), (byte)(i % 200 + 1)]), (ushort)(20000 + i * 7 % 40000),
    i < 1200 ? web.Vip : dns.Vip, i < 1200 ? web.Port : dns.Port)).ToList();

var outputs = new List<string>();
// An XDP program is deployed by root: verify it as the kernel would for root, also when the interpreter runs it for a
// user without CAP_BPF (by default the interpreter verifies for this process's own privileges, and refuses XDP to users).
var deployed = new BpfEngineOptions { Privilege = PrivilegeMode.Privileged };
foreach (var choice in new[] { EngineChoice.Interpreter, EngineChoice.Auto })
{
    using var lb = Open(choice, deployed);
    Console.WriteLine($"== {lb.Collection.Engine} ({lb.Collection.EngineReason}) ==");
    // The table size is the C source's MAGLEV_SIZE: the maglev map holds one table per possible service.
    var tableSize = lb.Maglev.Map.MaxEntries / lb.Services.Map.MaxEntries;
    var text = new StringBuilder($"Maglev tables of {tableSize} slots; services {web.Vip}:{web.Port}/TCP and {dns.Vip}:{dns.Port}/UDP; {flows.Count} client flows\n\n");
    Dictionary<Flow, uint>? previous = null;
    foreach (var (step, webBackends, dnsBackends) in new (string, uint[], uint[])[]
             {
                 ("3 web backends, 2 DNS backends", [1, 2, 3], [11, 12]),
                 ("backend 10.244.2.12:8080 removed", [1, 3], [11, 12]),
                 ("backend 10.244.4.14:8080 added", [1, 3, 4], [11, 12]),
             })
    {
        var live = webBackends.Concat(dnsBackends).ToHashSet();
        var changed = SetBackends(lb, web, webBackends, tableSize) + SetBackends(lb, dns, dnsBackends, tableSize);
        foreach (var stale in lb.Backends.Keys().Where(id => !live.Contains(id))) lb.Backends.Delete(stale);   // no slot names it now
        text.AppendLine($"-- {step}: {changed} table slots rewritten --");
        var (chosen, report) = Replay(lb, flows, pods, live);
        text.Append(report);
        if (previous is not null)
        {
            var moved = flows.Where(f => previous[f] != chosen[f]).ToList();
            var forced = moved.Count(f => !live.Contains(previous[f]));
            var toNew = moved.Count(f => !previous.Values.Contains(chosen[f]));
            text.AppendLine($"flows moved: {moved.Count} of {flows.Count}: {forced} had the removed backend, {toNew} went to the new one, " +
                            $"{moved.Count - forced - toNew} others");
        }
        text.AppendLine();
        previous = chosen;
    }
    Console.Write(text);
    outputs.Add(text.ToString());
}
var agree = outputs[0] == outputs[1];
Console.WriteLine(agree ? "Both engines agree." : "The engines disagree!");
return agree ? 0 : 1;

// Gives the service these backends: backend entries first, then the Maglev table (only the slots that change), then
// the service's count. The caller deletes the backends no longer used afterwards, so no packet finds a slot without its backend.
int SetBackends(LoadBalancer lb, (IPAddress Vip, ushort Port, byte Protocol, uint Id) service, uint[] ids, int tableSize)
{
    foreach (var id in ids)
        lb.Backends.Update(id, new Backend { Address = HostOrder(pods[id].Address), Port = pods[id].Port });
    var table = Maglev.Populate(ids.Select(id => (id, $"{pods[id].Address}:{pods[id].Port}")).ToList(), tableSize);
    var changed = 0;
    for (var slot = 0; slot < tableSize; slot++)
    {
        var index = service.Id * (uint)tableSize + (uint)slot;
        if (lb.Maglev.Lookup(index) == table[slot]) continue;
        lb.Maglev.Update(index, table[slot]);
        changed++;
    }
    var key = new ServiceKey { Vip = HostOrder(service.Vip), Port = service.Port, Protocol = service.Protocol };
    lb.Services.Update(key, new Service { Id = service.Id, BackendCount = (uint)ids.Length });
    return changed;
}

// Sends every flow's first packet; checks each rewritten frame; returns the backend each flow got and the distribution table.
static (Dictionary<Flow, uint> Chosen, string Report) Replay(LoadBalancer lb, List<Flow> flows, Dictionary<uint, (IPAddress Address, ushort Port)> pods,
    HashSet<uint> live)
{
    var before = pods.Keys.ToDictionary(id => id, id => lb.BackendPackets.Lookup(id));
    var chosen = new Dictionary<Flow, uint>();
    int badChecksums = 0;
    foreach (var flow in flows)
    {
        var result = lb.LoadBalancerProgram.Run(Packets.Frame(flow, 128));
        if (result.ReturnValue != XdpTx) throw new InvalidOperationException($"{flow}: the program returned {result.ReturnValue}, not XDP_TX");
        var frame = result.Data;
        var destination = new IPAddress(frame.AsSpan(30, 4));
        var port = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(36));
        var id = pods.Single(p => p.Value.Address.Equals(destination) && p.Value.Port == port).Key;
        if (!live.Contains(id) || (pods[id].Port == 53) != (flow.Protocol == Flow.Udp))
            throw new InvalidOperationException($"{flow} went to {destination}:{port}, which is not one of the service's backends now");
        chosen[flow] = id;
        var l4Check = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(flow.Protocol == Flow.Tcp ? 50 : 40));
        if (Packets.Checksum(frame.AsSpan(14, 20), 0) != 0 || Packets.TransportChecksum(frame) != l4Check) badChecksums++;
    }
    var sb = new StringBuilder($"{"BACKEND",-20} {"FLOWS",6} {"SHARE",6} {"PACKETS (map)",13}\n");
    foreach (var (id, (address, port)) in pods.Where(p => chosen.ContainsValue(p.Key)))
    {
        var n = chosen.Values.Count(v => v == id);
        var service = flows.Count(f => f.Protocol == (port == 53 ? Flow.Udp : Flow.Tcp));
        sb.AppendLine($"{$"{address}:{port}",-20} {n,6} {100.0 * n / service,5:F1}% {lb.BackendPackets.Lookup(id) - before[id],13}");
    }
    sb.AppendLine($"rewritten frames with valid IPv4 and {string.Join("/", flows.Select(f => Flow.ProtocolName(f.Protocol)).Distinct())} checksums: {flows.Count - badChecksums} of {flows.Count}");
    return (chosen, sb.ToString());
}

// The generated properties take __be32 fields in host order: 10.96.0.10 is 0x0a60000a.
static uint HostOrder(IPAddress a) => BinaryPrimitives.ReadUInt32BigEndian(a.GetAddressBytes());
