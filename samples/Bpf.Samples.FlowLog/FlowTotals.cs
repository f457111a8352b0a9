using System.Text;

namespace Bpf.Samples.FlowLog;

/// <summary>Flow events tallied per 5-tuple: the flow log's lines and the per-flow totals table.</summary>
internal sealed class FlowTotals
{
    private readonly SortedDictionary<string, (int Packets, long Bytes, int Forwarded, int Dropped)> _totals = new(StringComparer.Ordinal);

    /// <summary>Counts the event; returns its flow-log line (without the time).</summary>
    public string Add(in FlowLog.FlowEvent e)
    {
        var ports = e.Protocol is Flow.Tcp or Flow.Udp;
        string End(uint address, ushort port) => ports ? $"{Packets.Address(address)}:{port}" : Packets.Address(address).ToString();
        var flow = $"{Flow.ProtocolName(e.Protocol),-5} {End(e.Saddr, e.Sport),-21} {End(e.Daddr, e.Dport),-21}";
        var dropped = e.Verdict == FlowLog.FlowVerdict.FlowDropped;
        var t = _totals.GetValueOrDefault(flow);
        _totals[flow] = (t.Packets + 1, t.Bytes + e.Bytes, t.Forwarded + (dropped ? 0 : 1), t.Dropped + (dropped ? 1 : 0));
        return $"{flow} {(dropped ? "DROPPED" : "FORWARDED"),-9} {e.Bytes,5}";
    }

    public string Render()
    {
        var sb = new StringBuilder("Per-flow totals:\n");
        sb.AppendLine($"{"PROTO",-5} {"SOURCE",-21} {"DESTINATION",-21} {"PACKETS",7} {"BYTES",7} {"FORWARDED",9} {"DROPPED",7}");
        foreach (var (flow, t) in _totals) sb.AppendLine($"{flow} {t.Packets,7} {t.Bytes,7} {t.Forwarded,9} {t.Dropped,7}");
        sb.AppendLine($"{_totals.Count} flows, {_totals.Values.Sum(t => t.Packets)} packets, {_totals.Values.Sum(t => t.Dropped)} dropped.");
        return sb.ToString();
    }
}
