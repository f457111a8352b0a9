
namespace Bpf.Runtime;

/// <summary>How a program type's context is laid out in the interpreter's input memory.</summary>
public enum ContextKind
{
    /// <summary>r1 points at a plain byte buffer (tracepoints, raw tracepoints, kprobes, conformance-style programs).</summary>
    Memory,
    /// <summary>r1 points at <c>struct xdp_md</c> over a packet buffer with headroom.</summary>
    Xdp,
    /// <summary>r1 points at <c>struct __sk_buff</c> (socket filters, tc classifiers and actions, cgroup skb).</summary>
    SkBuff,
}

/// <summary>
/// The managed context block at the start of the input memory. The UAPI struct (<c>xdp_md</c> or
/// <c>__sk_buff</c>) sits at offset 0 with every plain field at its kernel offset, so a program's loads and
/// stores of those fields work unchanged; the pointer fields, which the kernel rewrites into 64-bit pointer
/// loads, read the 64-bit slots at <see cref="DataPointer"/>.. after the rewrite. The packet frame follows.
/// </summary>
internal static class ContextLayout
{
    /// <summary>Size of the context block (the UAPI struct plus the pointer slots).</summary>
    public const int Size = 256;
    public const int DataPointer = 224;
    public const int DataEndPointer = 232;
    public const int DataMetaPointer = 240;
    public const int HardStartPointer = 248;

    /// <summary>Offset of the packet frame in the input memory.</summary>
    public const int FrameOffset = Size;

    /// <summary>XDP_PACKET_HEADROOM: the headroom before data in an XDP frame (and in our skb frames).</summary>
    public const int Headroom = 256;

    /// <summary>The frame size of BPF_PROG_TEST_RUN for XDP (one page).</summary>
    public const int FrameSize = 4096;

    /// <summary>SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: the tailroom XDP keeps at the end of a frame.</summary>
    public const int SharedInfoSize = 320;

    /// <summary>The largest packet an XDP context takes (the kernel's single-buffer limit in test runs).</summary>
    public const int MaxXdpPacket = FrameSize - Headroom - SharedInfoSize;

    /// <summary>sizeof(struct xdp_frame): xdp_adjust_head/meta keep this much at the start of the frame.</summary>
    public const int XdpFrameStruct = 40;

    /// <summary>The context kind a program type uses.</summary>
    public static ContextKind KindOf(ProgramType type) => type switch
    {
        ProgramType.Xdp => ContextKind.Xdp,
        ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.CgroupSkb => ContextKind.SkBuff,
        _ => ContextKind.Memory,
    };

    public static FieldRewrite XdpField(int offset, int size)
    {
        if (offset < 0 || offset + size > XdpMdOffsets.Size) return new(false, 0, $"invalid xdp_md access at offset {offset} size {size}");
        return offset switch
        {
            XdpMdOffsets.Data => Pointer(size, DataPointer, "data"),
            XdpMdOffsets.DataEnd => Pointer(size, DataEndPointer, "data_end"),
            XdpMdOffsets.DataMeta => Pointer(size, DataMetaPointer, "data_meta"),
            _ => default,
        };
    }

    public static FieldRewrite SkBuffField(int offset, int size)
    {
        if (offset < 0 || offset + size > SkBuffOffsets.Size) return new(false, 0, $"invalid __sk_buff access at offset {offset} size {size}");
        return offset switch
        {
            SkBuffOffsets.Data => Pointer(size, DataPointer, "data"),
            SkBuffOffsets.DataEnd => Pointer(size, DataEndPointer, "data_end"),
            SkBuffOffsets.DataMeta => Pointer(size, DataMetaPointer, "data_meta"),
            SkBuffOffsets.FlowKeys or SkBuffOffsets.Sk => new(false, 0, $"__sk_buff field at offset {offset} ({(offset == SkBuffOffsets.FlowKeys ? "flow_keys" : "sk")}) is a kernel pointer the managed runtime does not model"),
            _ => default,
        };
    }

    private static FieldRewrite Pointer(int size, int slot, string name) =>
        size == 4 ? new(true, (short)slot, null) : new(false, 0, $"{name} must be read with a 4-byte load, not {size} bytes");
}
