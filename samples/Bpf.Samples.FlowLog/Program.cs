// Flow visibility, Hubble style. bpf/flow_log.c reports every IPv4 packet as one flow event (5-tuple, verdict,
// bytes, timestamp) in a ring buffer and drops packets to the destination ports in denied_ports. This program
// replays a small traffic mix through it, prints the flow log as it reads the events, then the per-flow totals,
// on the interpreter and, where this machine can load it, in the kernel (BPF_PROG_TEST_RUN on the same frames),
// and checks that both engines report the same flows.
// FlowLog is generated at build time from bpf/flow_log.c: its maps, program and event type are typed members.
using System.Text;
using Bpf;
using Bpf.Samples;
using Bpf.Samples.FlowLog;

const ushort Telnet = 23;

// The traffic: (flow, frame length) in the order the packets arrive.
var web = Flow.TcpFlow("10.0.0.1", 40001, "10.0.1.10", 80);
var tls = Flow.TcpFlow("10.0.0.2", 40002, "10.0.1.10", 443);
var dns = Flow.UdpFlow("10.0.0.3", 5353, "10.0.1.53", 53);
var telnet = Flow.TcpFlow("10.0.0.4", 40004, "10.0.1.10", Telnet);
var ping = Flow.IcmpFlow("10.0.0.1", "10.0.1.10");
(Flow Flow, int Length)[] traffic =
[
    (web, 74), (dns, 80), (web, 1514), (tls, 583), (telnet, 74), (dns, 142), (web, 66),
    (ping, 98), (tls, 1514), (telnet, 74), (tls, 66), (web, 1514), (ping, 98), (dns, 80),
];

// The interpreter always; then Auto, which is the kernel where this machine can load the object (else the interpreter again).
var summaries = new List<string>();
// An XDP program is deployed by root: verify it as the kernel would for root, also when the interpreter runs it for a
// user without CAP_BPF (by default the interpreter verifies for this process's own privileges, and refuses XDP to users).
var deployed = new BpfEngineOptions { Privilege = PrivilegeMode.Privileged };
foreach (var choice in new[] { EngineChoice.Interpreter, EngineChoice.Auto })
{
    using var flows = FlowLog.Open(choice, deployed);
    Console.WriteLine($"== {flows.Collection.Engine} ({flows.Collection.EngineReason}) ==");
    flows.DeniedPorts.Update(Telnet, 1);                      // policy from C#: no telnet

    var log = new StringBuilder();
    var totals = new FlowTotals();
    ulong? start = null;
    Console.WriteLine($"{"TIME",10}  {"PROTO",-5} {"SOURCE",-21} {"DESTINATION",-21} {"VERDICT",-9} {"BYTES",5}");
    foreach (var (flow, length) in traffic)
    {
        var action = flows.FlowLogProgram.Run(Packets.Frame(flow, length)).ReturnValue;
        // A live reader would wait on the ring buffer; here each packet's event is read right after its run.
        foreach (var e in flows.Flows.ReadAvailable())
        {
            start ??= e.TimestampNs;
            var line = totals.Add(e);
            Console.WriteLine($"{(e.TimestampNs - start.Value) / 1000.0,8:F1}us  {line}");
            log.AppendLine(line);
            var expected = e.Verdict == FlowLog.FlowVerdict.FlowDropped ? 1u : 2u;    // XDP_DROP, XDP_PASS
            if (action != expected) throw new InvalidOperationException($"the program returned {action} for an event saying {e.Verdict}");
        }
    }

    Console.WriteLine();
    var table = totals.Render();
    Console.Write(table);
    log.Append(table);
    Console.WriteLine();
    summaries.Add(log.ToString());
}

var agree = summaries[0] == summaries[1];
Console.WriteLine(agree ? "Both engines agree." : "The engines disagree!");
if (!agree) return 1;
Console.WriteLine();
try
{
    return RealPackets.Run(Telnet);
}
catch (Exception e)   // caught, so the namespace and the veth pair are removed on the way out
{
    Console.WriteLine($"Real packets: failed: {e}");
    return 1;
}

