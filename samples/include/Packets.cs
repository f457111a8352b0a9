// Frames for the samples to replay: Ethernet + IPv4 (+ TCP, UDP or ICMP), with correct lengths and checksums,
// so the same bytes are right for the interpreter, BPF_PROG_TEST_RUN and a real interface. Linked into each sample.
using System.Buffers.Binary;
using System.Net;

namespace Bpf.Samples;

/// <summary>An IPv4 5-tuple as a person writes it.</summary>
public readonly record struct Flow(byte Protocol, IPAddress Source, ushort SourcePort, IPAddress Destination, ushort DestinationPort)
{
    public const byte Icmp = 1, Tcp = 6, Udp = 17;

    public static Flow TcpFlow(string src, ushort sport, string dst, ushort dport) => new(Tcp, IPAddress.Parse(src), sport, IPAddress.Parse(dst), dport);

    public static Flow UdpFlow(string src, ushort sport, string dst, ushort dport) => new(Udp, IPAddress.Parse(src), sport, IPAddress.Parse(dst), dport);

    public static Flow IcmpFlow(string src, string dst) => new(Icmp, IPAddress.Parse(src), 0, IPAddress.Parse(dst), 0);

    public static string ProtocolName(byte protocol) => protocol switch { Icmp => "ICMP", Tcp => "TCP", Udp => "UDP", _ => protocol.ToString() };

    public override string ToString() => Protocol is Tcp or Udp
        ? $"{ProtocolName(Protocol)} {Source}:{SourcePort} -> {Destination}:{DestinationPort}"
        : $"{ProtocolName(Protocol)} {Source} -> {Destination}";
}

public static class Packets
{
    /// <summary>An Ethernet frame of <paramref name="frameLength"/> bytes (at least the headers) carrying <paramref name="flow"/>.</summary>
    public static byte[] Frame(Flow flow, int frameLength = 64)
    {
        var l4 = flow.Protocol switch { Flow.Tcp => 20, Flow.Udp => 8, _ => 8 };
        frameLength = Math.Max(frameLength, 14 + 20 + l4);
        var f = new byte[frameLength];
        byte[] dmac = [0x02, 0, 0, 0, 0, 0x02], smac = [0x02, 0, 0, 0, 0, 0x01];
        dmac.CopyTo(f, 0);
        smac.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        var ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(frameLength - 14));
        ip[8] = 64;
        ip[9] = flow.Protocol;
        flow.Source.GetAddressBytes().CopyTo(ip[12..]);
        flow.Destination.GetAddressBytes().CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip, 0));
        var l4span = f.AsSpan(34);
        switch (flow.Protocol)
        {
            case Flow.Tcp:
                BinaryPrimitives.WriteUInt16BigEndian(l4span, flow.SourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(l4span[2..], flow.DestinationPort);
                l4span[12] = 5 << 4;                       // data offset: 5 words
                l4span[13] = 0x10;                         // ACK
                BinaryPrimitives.WriteUInt16BigEndian(l4span[14..], 65535);
                BinaryPrimitives.WriteUInt16BigEndian(l4span[16..], TransportChecksum(f));
                break;
            case Flow.Udp:
                BinaryPrimitives.WriteUInt16BigEndian(l4span, flow.SourcePort);
                BinaryPrimitives.WriteUInt16BigEndian(l4span[2..], flow.DestinationPort);
                BinaryPrimitives.WriteUInt16BigEndian(l4span[4..], (ushort)l4span.Length);
                BinaryPrimitives.WriteUInt16BigEndian(l4span[6..], TransportChecksum(f));
                break;
            default:
                l4span[0] = 8;                             // echo request
                BinaryPrimitives.WriteUInt16BigEndian(l4span[2..], Checksum(l4span, 0));
                break;
        }
        return f;
    }

    /// <summary>The Internet checksum (RFC 1071) of <paramref name="data"/>, starting from the partial sum <paramref name="sum"/>.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data, uint sum)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) sum += (uint)data[i] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The TCP or UDP checksum of an Ethernet + IPv4 (no options) frame, over the pseudo-header and segment (checksum field as is).</summary>
    public static ushort TransportChecksum(ReadOnlySpan<byte> frame)
    {
        var ip = frame[14..34];
        var segment = frame[34..];
        uint sum = 0;
        for (var i = 12; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
        sum += ip[9];
        sum += (uint)segment.Length;
        var checksumAt = ip[9] == Flow.Tcp ? 16 : 6;
        Span<byte> copy = segment.Length <= 2048 ? stackalloc byte[segment.Length] : new byte[segment.Length];
        segment.CopyTo(copy);
        copy[checksumAt] = copy[checksumAt + 1] = 0;
        var c = Checksum(copy, sum);
        return ip[9] == Flow.Udp && c == 0 ? (ushort)0xffff : c;
    }

    /// <summary>An IPv4 address from the program's view of it: the four wire bytes read as a host-order u32 by the generated properties.</summary>
    public static IPAddress Address(uint hostOrder) => new([(byte)(hostOrder >> 24), (byte)(hostOrder >> 16), (byte)(hostOrder >> 8), (byte)hostOrder]);
}
