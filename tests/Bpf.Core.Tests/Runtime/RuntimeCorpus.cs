using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>Paths of the ELF corpus and the runtime's own corpus in the test output.</summary>
internal static class RuntimeCorpus
{
    public static string ElfDir => Path.Combine(AppContext.BaseDirectory, "programs");
    public static string RuntimeDir => Path.Combine(AppContext.BaseDirectory, "Runtime", "programs");

    public static string Path_(string file) =>
        File.Exists(Path.Combine(RuntimeDir, file)) ? Path.Combine(RuntimeDir, file) : Path.Combine(ElfDir, file);

    public static ManagedCollection Load(string file, int cpus = 2) =>
        ManagedCollection.LoadFile(Path_(file), new CollectionOptions { CpuCount = cpus });

    /// <summary>An Ethernet + IPv4 + UDP frame.</summary>
    public static byte[] Udp(uint src, uint dst, ushort sport = 1000, ushort dport = 53, int payload = 8, byte ttl = 64)
    {
        var frame = new byte[14 + 20 + 8 + payload];
        frame[0] = 0x02; frame[5] = 0x01; frame[6] = 0x02; frame[11] = 0x02;
        frame[12] = 0x08; frame[13] = 0x00;
        var ip = frame.AsSpan(14);
        ip[0] = 0x45;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload));
        ip[8] = ttl;
        ip[9] = 17;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ip[12..], src);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dst);
        uint sum = 0;
        for (var i = 0; i < 20; i += 2) sum += (uint)(ip[i] << 8 | ip[i + 1]);
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
        var udp = ip[20..];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp, sport);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dport);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload));
        udp[6] = 0x12; udp[7] = 0x34;
        for (var i = 0; i < payload; i++) udp[8 + i] = (byte)(i * 7);
        return frame;
    }
}
