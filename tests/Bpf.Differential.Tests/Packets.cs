using System.Buffers.Binary;

namespace Bpf.Differential.Tests;

/// <summary>Random Ethernet frames that exercise the corpus: IPv4 UDP/TCP from a small address pool (so maps
/// get hits), TTL edge cases, non-IP, IPv6, truncated headers and plain noise.</summary>
internal static class Packets
{
    public static readonly uint[] Addresses = [0x0A000001, 0x0A000002, 0xC0A80101, 0xC0A80102, 0x08080808, 0x7F000001, 0xAC100001, 0x01020304];

    public static byte[] Random(Random rng)
    {
        var kind = rng.Next(10);
        var length = kind switch
        {
            0 => rng.Next(14, 34), // truncated IPv4
            1 => rng.Next(14, 300), // noise
            _ => rng.Next(42, 300),
        };
        var frame = new byte[length];
        rng.NextBytes(frame);
        if (kind == 1) return frame;
        // Destination MAC: mostly ours (all-zero on lo), sometimes broadcast / multicast / other.
        switch (rng.Next(4))
        {
            case 0: frame.AsSpan(0, 6).Clear(); break;
            case 1: frame.AsSpan(0, 6).Fill(0xFF); break;
            case 2: frame[0] = 0x01; break;
            default: frame[0] &= 0xFE; break;
        }
        ushort proto = kind switch { 2 => 0x0806, 3 => 0x86DD, 4 => (ushort)rng.Next(0, 0x600), _ => 0x0800 };
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), proto);
        if (proto != 0x0800 || length < 34) return frame;
        var ip = frame.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(length - 14));
        ip[8] = (byte)(rng.Next(4) == 0 ? rng.Next(3) : rng.Next(256));
        ip[9] = (byte)(rng.Next(3) switch { 0 => 6, 1 => 17, _ => rng.Next(256) });
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], Addresses[rng.Next(Addresses.Length)]);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], Addresses[rng.Next(Addresses.Length)]);
        ip[10] = 0;
        ip[11] = 0;
        uint sum = 0;
        for (var i = 0; i < 20; i += 2) sum += (uint)(ip[i] << 8 | ip[i + 1]);
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
        return frame;
    }
}
