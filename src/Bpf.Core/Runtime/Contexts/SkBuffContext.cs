using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// A socket buffer context (<c>struct __sk_buff</c>) for socket filters, tc programs and cgroup skb programs.
/// Every field sits at its UAPI offset, so a program's loads and stores of <c>len</c>, <c>mark</c>,
/// <c>priority</c>, <c>cb[]</c>, <c>tc_classid</c>... mean what they mean in the kernel; <c>data</c>,
/// <c>data_end</c> and <c>data_meta</c> are rewritten into pointer loads as the kernel rewrites them.
/// <see cref="Packet"/> is the linear data from <c>skb-&gt;data</c>.
/// </summary>
public sealed class SkBuffContext : ProgramContext
{
    /// <summary>sizeof(struct __sk_buff).</summary>
    public const int StructSize = SkBuffOffsets.Size;

    private readonly byte[] _fields = new byte[StructSize];

    /// <summary>Creates a context whose data starts at <paramref name="packet"/>'s first byte. Fields default to 0
    /// except <see cref="Ifindex"/> = 1 (loopback), as in a test run.</summary>
    public SkBuffContext(ReadOnlySpan<byte> packet)
    {
        Packet = packet.ToArray();
        Ifindex = 1;
    }

    /// <summary>
    /// The context BPF_PROG_TEST_RUN builds from an Ethernet frame on the loopback device: <c>protocol</c> and
    /// <c>pkt_type</c> from <c>eth_type_trans</c>, and for program types that do not see layer 2 (socket filters,
    /// cgroup skb) the Ethernet header pulled, so <c>data</c> starts at the network header and <c>len</c> excludes it.
    /// </summary>
    /// <exception cref="ArgumentException">The frame is shorter than an Ethernet header.</exception>
    public static SkBuffContext ForTestRun(ReadOnlySpan<byte> frame, ProgramType type)
    {
        const int EthHeader = 14;
        if (frame.Length < EthHeader) throw new ArgumentException($"a test-run frame needs at least a {EthHeader}-byte Ethernet header; got {frame.Length} bytes", nameof(frame));
        var ethertype = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        // The test run records the IP addresses in a fake socket and refuses an IP frame too short for its header.
        if ((ethertype == 0x0800 && frame.Length < EthHeader + 20) || (ethertype == 0x86DD && frame.Length < EthHeader + 40))
        {
            throw new ArgumentException($"an {(ethertype == 0x0800 ? "IPv4" : "IPv6")} frame of {frame.Length} bytes is too short for its network header (BPF_PROG_TEST_RUN refuses it with EINVAL)", nameof(frame));
        }
        var l2 = type is ProgramType.SchedCls or ProgramType.SchedAct;
        var context = new SkBuffContext(l2 ? frame : frame[EthHeader..]) { PulledHeaderLength = l2 ? 0 : EthHeader };
        var dest = frame[..6];
        // eth_type_trans against the loopback device, whose address and broadcast address are both all zeros:
        // so ff:ff:ff:ff:ff:ff is "multicast", not "broadcast".
        context.PktType = !dest.ContainsAnyExcept((byte)0) ? 0u // PACKET_HOST
            : (dest[0] & 1) != 0 ? 2u // PACKET_MULTICAST
            : 3u; // PACKET_OTHERHOST
        var proto = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        ushort protocol = proto >= 0x600 ? proto
            : frame.Length >= 16 && BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) == 0xFFFF ? (ushort)0x0001 // ETH_P_802_3
            : (ushort)0x0004; // ETH_P_802_2
        // __sk_buff.protocol holds the __be16 as the kernel stores it.
        context.Protocol = BinaryPrimitives.ReverseEndianness(protocol);
        // With a context, the test run sets the qdisc cb's pkt_len (read as wire_len) to skb->len.
        context.WireLen = (uint)context.Packet.Length;
        return context;
    }

    /// <summary>The linear packet data from skb-&gt;data (after a run: as the program left it). A run whose output has the
    /// input's length writes it into this same array; copy it first to keep one run's output across the next run.</summary>
    public byte[] Packet { get; private set; }

    /// <summary>For <see cref="ForTestRun"/> contexts of non-layer-2 program types: the Ethernet header length
    /// that was pulled before the run (the test run returns that many zero bytes before the data).</summary>
    public int PulledHeaderLength { get; private init; }

    /// <summary>The packet as BPF_PROG_TEST_RUN returns it in data_out: the pulled header zeroed, then the data.</summary>
    public byte[] TestRunOutput()
    {
        var output = new byte[PulledHeaderLength + Packet.Length];
        Packet.CopyTo(output, PulledHeaderLength);
        return output;
    }

    /// <summary>The raw UAPI struct as the program last saw it (192 bytes).</summary>
    public ReadOnlySpan<byte> Fields => _fields;

    private uint Get(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_fields.AsSpan(offset));

    private void Set(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_fields.AsSpan(offset), value);

    /// <summary>skb-&gt;len (set from <see cref="Packet"/> at each run).</summary>
    public uint Len => Get(0);

    /// <summary>pkt_type (PACKET_HOST = 0, BROADCAST = 1, MULTICAST = 2, OTHERHOST = 3).</summary>
    public uint PktType { get => Get(4); set => Set(4, value); }

    /// <summary>skb-&gt;mark.</summary>
    public uint Mark { get => Get(8); set => Set(8, value); }

    /// <summary>queue_mapping.</summary>
    public uint QueueMapping { get => Get(12); set => Set(12, value); }

    /// <summary>protocol as the kernel exposes it: the network-order ethertype in the low 16 bits.</summary>
    public uint Protocol { get => Get(16); set => Set(16, value); }

    /// <summary>vlan_present.</summary>
    public uint VlanPresent { get => Get(20); set => Set(20, value); }

    /// <summary>vlan_tci.</summary>
    public uint VlanTci { get => Get(24); set => Set(24, value); }

    /// <summary>vlan_proto.</summary>
    public uint VlanProto { get => Get(28); set => Set(28, value); }

    /// <summary>skb-&gt;priority.</summary>
    public uint Priority { get => Get(32); set => Set(32, value); }

    /// <summary>ingress_ifindex.</summary>
    public uint IngressIfindex { get => Get(36); set => Set(36, value); }

    /// <summary>ifindex of the device.</summary>
    public uint Ifindex { get => Get(40); set => Set(40, value); }

    /// <summary>tc_index.</summary>
    public uint TcIndex { get => Get(44); set => Set(44, value); }

    /// <summary>cb[index], index 0..4.</summary>
    public uint GetCb(int index) => Get(48 + 4 * CheckCb(index));

    /// <summary>Sets cb[index], index 0..4.</summary>
    public void SetCb(int index, uint value) => Set(48 + 4 * CheckCb(index), value);

    private static int CheckCb(int index) => (uint)index < 5 ? index : throw new ArgumentOutOfRangeException(nameof(index), index, "cb has 5 entries");

    /// <summary>skb-&gt;hash.</summary>
    public uint Hash { get => Get(68); set => Set(68, value); }

    /// <summary>tc_classid.</summary>
    public uint TcClassid { get => Get(72); set => Set(72, value); }

    /// <summary>tstamp.</summary>
    public ulong Tstamp
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_fields.AsSpan(152));
        set => BinaryPrimitives.WriteUInt64LittleEndian(_fields.AsSpan(152), value);
    }

    /// <summary>wire_len.</summary>
    public uint WireLen { get => Get(160); set => Set(160, value); }

    /// <summary>gso_segs.</summary>
    public uint GsoSegs { get => Get(164); set => Set(164, value); }

    /// <summary>gso_size.</summary>
    public uint GsoSize { get => Get(176); set => Set(176, value); }

    /// <inheritdoc/>
    public override ContextKind Kind => ContextKind.SkBuff;

    internal override int InputLength => ContextLayout.FrameOffset + ContextLayout.Headroom + Packet.Length;

    internal override void Write(Span<byte> input)
    {
        Set(0, (uint)Packet.Length);
        input[..(ContextLayout.FrameOffset + ContextLayout.Headroom)].Clear();
        _fields.CopyTo(input);
        var data = ContextLayout.FrameOffset + ContextLayout.Headroom;
        Packet.CopyTo(input[data..]);
        SetPointers(input, data, data + Packet.Length, data, ContextLayout.FrameOffset);
    }

    /// <summary>The __sk_buff struct (192 bytes) is writable; which fields a program may really write is the
    /// verifier's business, none of them is memory the runtime relies on.</summary>
    internal override InputWindows Windows(ReadOnlySpan<byte> input) => PacketWindows(input, StructSize);

    internal override void Read(ReadOnlySpan<byte> input)
    {
        input[..StructSize].CopyTo(_fields);
        var data = PointerOffset(input, ContextLayout.DataPointer);
        var end = PointerOffset(input, ContextLayout.DataEndPointer);
        var output = input[data..end];
        if (output.Length == Packet.Length) output.CopyTo(Packet);
        else Packet = output.ToArray();
    }
}
