namespace Bpf.Verifier.Internal;

/// <summary>
/// Which context fields a program type may read or write, and what a load of each yields. Mirrors the
/// kernel's per-type is_valid_access rules for <c>__sk_buff</c>, <c>xdp_md</c>, <c>pt_regs</c> and tracepoints.
/// </summary>
internal static class ContextLayouts
{
    // struct __sk_buff offsets (include/uapi/linux/bpf.h).
    private const int SkbMark = 8, SkbQueueMapping = 12, SkbPriority = 32, SkbTcIndex = 44, SkbCb0 = 48, SkbCbEnd = 68;
    private const int SkbTcClassid = 72, SkbData = 76, SkbDataEnd = 80, SkbFamily = 88, SkbLocalPortEnd = 140;
    private const int SkbRemoteIp4 = 92, SkbLocalIp6End = 132, SkbDataMeta = 140, SkbFlowKeys = 144, SkbTstamp = 152;
    private const int SkbWireLen = 160, SkbSk = 168, SkbTstampType = 180, SkbHwtstamp = 184, SkbSize = 192;

    /// <summary>The result of a successful context access check.</summary>
    public readonly record struct Field(RegType LoadType);

    /// <summary>Checks a context access of <paramref name="size"/> bytes at <paramref name="off"/>.</summary>
    public static bool TryAccess(ProgramType type, int off, int size, bool write, bool bpfCapable, out RegType loadType)
    {
        loadType = RegType.Scalar;
        return type switch
        {
            ProgramType.SocketFilter => SocketFilter(off, size, write, out loadType),
            ProgramType.SchedCls or ProgramType.SchedAct => Tc(off, size, write, out loadType),
            ProgramType.CgroupSkb => CgroupSkb(off, size, write, bpfCapable, out loadType),
            ProgramType.Xdp => Xdp(off, size, write, out loadType),
            ProgramType.Tracepoint => !write && off >= 8 && off < 2048 && off % size == 0,
            ProgramType.Kprobe => !write && off >= 0 && off < PtRegsSize && off % size == 0 && off + size <= PtRegsSize,
            _ => false,
        };
    }

    /// <summary>sizeof(struct pt_regs) on x86-64.</summary>
    private const int PtRegsSize = 168;

    private static bool In(int off, int start, int end) => off >= start && off < end;

    private static bool SocketFilter(int off, int size, bool write, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (In(off, SkbTcClassid, SkbTcClassid + 4) || In(off, SkbData, SkbData + 4) || In(off, SkbDataMeta, SkbDataMeta + 4)
            || In(off, SkbDataEnd, SkbDataEnd + 4) || In(off, SkbFamily, SkbLocalPortEnd) || In(off, SkbTstamp, SkbTstamp + 8)
            || In(off, SkbWireLen, SkbWireLen + 4) || In(off, SkbHwtstamp, SkbHwtstamp + 8))
        {
            return false;
        }
        if (write && !In(off, SkbCb0, SkbCbEnd)) return false;
        return SkbCommon(off, size, write, ref loadType);
    }

    private static bool Tc(int off, int size, bool write, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (write && !(In(off, SkbMark, SkbMark + 4) || In(off, SkbTcIndex, SkbTcIndex + 4) || In(off, SkbPriority, SkbPriority + 4)
            || In(off, SkbTcClassid, SkbTcClassid + 4) || In(off, SkbCb0, SkbCbEnd) || In(off, SkbTstamp, SkbTstamp + 8)
            || In(off, SkbQueueMapping, SkbQueueMapping + 4)))
        {
            return false;
        }
        if (In(off, SkbData, SkbData + 4)) loadType = RegType.Packet;
        else if (In(off, SkbDataMeta, SkbDataMeta + 4)) loadType = RegType.PacketMeta;
        else if (In(off, SkbDataEnd, SkbDataEnd + 4)) loadType = RegType.PacketEnd;
        else if (In(off, SkbFamily, SkbLocalPortEnd)) return false;
        return SkbCommon(off, size, write, ref loadType);
    }

    private static bool CgroupSkb(int off, int size, bool write, bool bpfCapable, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (In(off, SkbTcClassid, SkbTcClassid + 4) || In(off, SkbDataMeta, SkbDataMeta + 4) || In(off, SkbWireLen, SkbWireLen + 4))
        {
            return false;
        }
        if (In(off, SkbData, SkbData + 4) || In(off, SkbDataEnd, SkbDataEnd + 4))
        {
            if (!bpfCapable) return false;
        }
        if (write)
        {
            if (!(In(off, SkbMark, SkbMark + 4) || In(off, SkbPriority, SkbPriority + 4) || In(off, SkbCb0, SkbCbEnd)
                  || (bpfCapable && In(off, SkbTstamp, SkbTstamp + 8))))
            {
                return false;
            }
        }
        if (In(off, SkbData, SkbData + 4)) loadType = RegType.Packet;
        else if (In(off, SkbDataEnd, SkbDataEnd + 4)) loadType = RegType.PacketEnd;
        return SkbCommon(off, size, write, ref loadType);
    }

    /// <summary>The checks every <c>__sk_buff</c> program type shares.</summary>
    private static bool SkbCommon(int off, int size, bool write, ref RegType loadType)
    {
        if (off < 0 || off >= SkbSize) return false;
        if (off % size != 0) return false;
        if (In(off, SkbCb0, SkbCbEnd)) return off + size <= SkbCbEnd;
        if (In(off, SkbRemoteIp4, SkbLocalIp6End) || In(off, SkbData, SkbData + 4) || In(off, SkbDataMeta, SkbDataMeta + 4)
            || In(off, SkbDataEnd, SkbDataEnd + 4))
        {
            return size == 4;
        }
        if (In(off, SkbFlowKeys, SkbFlowKeys + 8)) return false;
        if (In(off, SkbHwtstamp, SkbHwtstamp + 8)) return !write && size == 8;
        if (In(off, SkbTstamp, SkbTstamp + 8)) return size == 8;
        if (In(off, SkbSk, SkbSk + 8))
        {
            if (write || size != 8) return false;
            loadType = RegType.SockCommonOrNull;
            return true;
        }
        if (In(off, SkbTstampType, SkbHwtstamp)) return false;
        // Other fields are u32: full-size writes, narrow (power of two, aligned) reads.
        if (write) return size == 4;
        return size <= 4;
    }

    private static bool Xdp(int off, int size, bool write, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (off == 20) return false; // egress_ifindex: devmap programs only
        if (write) return false;
        if (off == 0) loadType = RegType.Packet;
        else if (off == 8) loadType = RegType.PacketMeta;
        else if (off == 4) loadType = RegType.PacketEnd;
        if (off < 0 || off >= 24 || off % size != 0) return false;
        return size == 4;
    }

    /// <summary>True when the program type may access packet data directly, and whether it may write it.</summary>
    public static bool PacketAccess(ProgramType type, out bool writable)
    {
        writable = type is ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.Xdp;
        return type is ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.Xdp or ProgramType.CgroupSkb;
    }

    /// <summary>True for program types whose context is an skb (legacy ld_abs/ld_ind allowed).</summary>
    public static bool IsSkb(ProgramType type) =>
        type is ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.CgroupSkb;
}
