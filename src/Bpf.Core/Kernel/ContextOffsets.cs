namespace Bpf;

/// <summary>Offsets of the <c>struct __sk_buff</c> fields that the verifier and the runtime treat specially
/// (include/uapi/linux/bpf.h). One place for the numbers both engines' context rules use.</summary>
public static class SkBuffOffsets
{
#pragma warning disable CS1591 // Each constant is the offset of the field it names.
    public const int Mark = 8, QueueMapping = 12, Priority = 32, IngressIfindex = 36, Ifindex = 40, TcIndex = 44, Cb0 = 48, CbEnd = 68, TcClassid = 72;
    public const int Data = 76, DataEnd = 80, Family = 88, RemoteIp4 = 92, LocalIp6End = 132, LocalPortEnd = 140;
    public const int DataMeta = 140, FlowKeys = 144, Tstamp = 152, WireLen = 160, Sk = 168, TstampType = 180;
    public const int Hwtstamp = 184;
#pragma warning restore CS1591

    /// <summary>sizeof(struct __sk_buff).</summary>
    public const int Size = 192;
}

/// <summary>Offsets of the <c>struct xdp_md</c> fields (include/uapi/linux/bpf.h).</summary>
public static class XdpMdOffsets
{
#pragma warning disable CS1591 // Each constant is the offset of the field it names.
    public const int Data = 0, DataEnd = 4, DataMeta = 8, IngressIfindex = 12, RxQueueIndex = 16, EgressIfindex = 20;
#pragma warning restore CS1591

    /// <summary>sizeof(struct xdp_md).</summary>
    public const int Size = 24;
}
