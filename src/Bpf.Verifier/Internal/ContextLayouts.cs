namespace Bpf.Verifier.Internal;

/// <summary>
/// Which context fields a program type may read or write, and what a load of each yields. Mirrors the
/// kernel's per-type is_valid_access rules for <c>__sk_buff</c>, <c>xdp_md</c>, <c>pt_regs</c> and tracepoints.
/// </summary>
internal static class ContextLayouts
{
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
        if (In(off, SkBuffOffsets.TcClassid, SkBuffOffsets.TcClassid + 4) || In(off, SkBuffOffsets.Data, SkBuffOffsets.Data + 4) || In(off, SkBuffOffsets.DataMeta, SkBuffOffsets.DataMeta + 4)
            || In(off, SkBuffOffsets.DataEnd, SkBuffOffsets.DataEnd + 4) || In(off, SkBuffOffsets.Family, SkBuffOffsets.LocalPortEnd) || In(off, SkBuffOffsets.Tstamp, SkBuffOffsets.Tstamp + 8)
            || In(off, SkBuffOffsets.WireLen, SkBuffOffsets.WireLen + 4) || In(off, SkBuffOffsets.Hwtstamp, SkBuffOffsets.Hwtstamp + 8))
        {
            return false;
        }
        if (write && !In(off, SkBuffOffsets.Cb0, SkBuffOffsets.CbEnd)) return false;
        return SkbCommon(off, size, write, ref loadType);
    }

    private static bool Tc(int off, int size, bool write, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (write && !(In(off, SkBuffOffsets.Mark, SkBuffOffsets.Mark + 4) || In(off, SkBuffOffsets.TcIndex, SkBuffOffsets.TcIndex + 4) || In(off, SkBuffOffsets.Priority, SkBuffOffsets.Priority + 4)
            || In(off, SkBuffOffsets.TcClassid, SkBuffOffsets.TcClassid + 4) || In(off, SkBuffOffsets.Cb0, SkBuffOffsets.CbEnd) || In(off, SkBuffOffsets.Tstamp, SkBuffOffsets.Tstamp + 8)
            || In(off, SkBuffOffsets.QueueMapping, SkBuffOffsets.QueueMapping + 4)))
        {
            return false;
        }
        if (In(off, SkBuffOffsets.Data, SkBuffOffsets.Data + 4)) loadType = RegType.Packet;
        else if (In(off, SkBuffOffsets.DataMeta, SkBuffOffsets.DataMeta + 4)) loadType = RegType.PacketMeta;
        else if (In(off, SkBuffOffsets.DataEnd, SkBuffOffsets.DataEnd + 4)) loadType = RegType.PacketEnd;
        else if (In(off, SkBuffOffsets.Family, SkBuffOffsets.LocalPortEnd)) return false;
        // tc alone may read tstamp_type, one byte (the kernel's tc_cls_act_is_valid_access; writes go through
        // bpf_skb_set_tstamp). Found by ContextAccessDifferentialTests.
        else if (off == SkBuffOffsets.TstampType) return size == 1;
        return SkbCommon(off, size, write, ref loadType);
    }

    private static bool CgroupSkb(int off, int size, bool write, bool bpfCapable, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (In(off, SkBuffOffsets.TcClassid, SkBuffOffsets.TcClassid + 4) || In(off, SkBuffOffsets.DataMeta, SkBuffOffsets.DataMeta + 4) || In(off, SkBuffOffsets.WireLen, SkBuffOffsets.WireLen + 4))
        {
            return false;
        }
        if (In(off, SkBuffOffsets.Data, SkBuffOffsets.Data + 4) || In(off, SkBuffOffsets.DataEnd, SkBuffOffsets.DataEnd + 4))
        {
            if (!bpfCapable) return false;
        }
        if (write)
        {
            if (!(In(off, SkBuffOffsets.Mark, SkBuffOffsets.Mark + 4) || In(off, SkBuffOffsets.Priority, SkBuffOffsets.Priority + 4) || In(off, SkBuffOffsets.Cb0, SkBuffOffsets.CbEnd)
                  || (bpfCapable && In(off, SkBuffOffsets.Tstamp, SkBuffOffsets.Tstamp + 8))))
            {
                return false;
            }
        }
        if (In(off, SkBuffOffsets.Data, SkBuffOffsets.Data + 4)) loadType = RegType.Packet;
        else if (In(off, SkBuffOffsets.DataEnd, SkBuffOffsets.DataEnd + 4)) loadType = RegType.PacketEnd;
        return SkbCommon(off, size, write, ref loadType);
    }

    /// <summary>The checks every <c>__sk_buff</c> program type shares.</summary>
    private static bool SkbCommon(int off, int size, bool write, ref RegType loadType)
    {
        if (off < 0 || off >= SkBuffOffsets.Size) return false;
        if (off % size != 0) return false;
        if (In(off, SkBuffOffsets.Cb0, SkBuffOffsets.CbEnd)) return off + size <= SkBuffOffsets.CbEnd;
        if (In(off, SkBuffOffsets.RemoteIp4, SkBuffOffsets.LocalIp6End) || In(off, SkBuffOffsets.Data, SkBuffOffsets.Data + 4) || In(off, SkBuffOffsets.DataMeta, SkBuffOffsets.DataMeta + 4)
            || In(off, SkBuffOffsets.DataEnd, SkBuffOffsets.DataEnd + 4))
        {
            return size == 4;
        }
        if (In(off, SkBuffOffsets.FlowKeys, SkBuffOffsets.FlowKeys + 8)) return false;
        if (In(off, SkBuffOffsets.Hwtstamp, SkBuffOffsets.Hwtstamp + 8)) return !write && size == 8;
        if (In(off, SkBuffOffsets.Tstamp, SkBuffOffsets.Tstamp + 8)) return size == 8;
        if (In(off, SkBuffOffsets.Sk, SkBuffOffsets.Sk + 8))
        {
            if (write || size != 8) return false;
            loadType = RegType.SockCommonOrNull;
            return true;
        }
        if (In(off, SkBuffOffsets.TstampType, SkBuffOffsets.Hwtstamp)) return false;
        // Other fields are u32: full-size writes, narrow (power of two, aligned) reads.
        if (write) return size == 4;
        return size <= 4;
    }

    private static bool Xdp(int off, int size, bool write, out RegType loadType)
    {
        loadType = RegType.Scalar;
        if (off == XdpMdOffsets.EgressIfindex) return false; // devmap programs only
        if (write) return false;
        if (off == XdpMdOffsets.Data) loadType = RegType.Packet;
        else if (off == XdpMdOffsets.DataMeta) loadType = RegType.PacketMeta;
        else if (off == XdpMdOffsets.DataEnd) loadType = RegType.PacketEnd;
        if (off < 0 || off >= XdpMdOffsets.Size || off % size != 0) return false;
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
