using System.Buffers.Binary;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>How <see cref="BpfLink.AttachTcx(BpfProgram, int, bool, TcAttachMethod)"/> attaches.</summary>
public enum TcAttachMethod
{
    /// <summary>A tcx link (6.6+); netlink clsact + cls_bpf when the kernel answers BPF_LINK_CREATE with EINVAL or EOPNOTSUPP.</summary>
    Auto,
    /// <summary>A tcx link only; no fallback.</summary>
    Tcx,
    /// <summary>Netlink only: a clsact qdisc and a direct-action cls_bpf filter, as on kernels before 6.6.</summary>
    Netlink,
}

/// <summary>
/// A SchedCls program attached as a direct-action cls_bpf filter on a device's clsact qdisc over rtnetlink (the
/// way of kernels before tcx): the clsact qdisc is added if missing (RTM_NEWQDISC), then the filter
/// (RTM_NEWTFILTER, kind "bpf", TCA_BPF_FD, TCA_BPF_FLAG_ACT_DIRECT) at the given priority and handle, refusing
/// to replace one already there. <see cref="Dispose"/> deletes the filter (RTM_DELTFILTER); the clsact qdisc is
/// left in place, as other filters may share it. Requests go to the calling thread's network namespace.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NetlinkTcAttachment : IBpfAttachment
{
    private const ushort RTM_NEWQDISC = 36, RTM_NEWTFILTER = 44, RTM_DELTFILTER = 45;
    private const ushort TCA_KIND = 1, TCA_OPTIONS = 2;
    private const ushort TCA_BPF_FD = 6, TCA_BPF_NAME = 7, TCA_BPF_FLAGS = 8;
    private const uint TCA_BPF_FLAG_ACT_DIRECT = 1;
    private const uint TC_H_CLSACT = 0xFFFF_FFF1, ClsactHandle = 0xFFFF_0000;
    private const uint TC_H_MIN_INGRESS = 0xFFF2, TC_H_MIN_EGRESS = 0xFFF3;
    private const ushort EthPAllBigEndian = 0x0300; // htons(ETH_P_ALL)

    private int _detached;

    private NetlinkTcAttachment(int ifindex, bool ingress, ushort priority, uint handle, bool createdQdisc, uint programId)
    {
        InterfaceIndex = ifindex;
        Ingress = ingress;
        Priority = priority;
        Handle = handle;
        CreatedQdisc = createdQdisc;
        ProgramId = programId;
        Target = $"tc {(ingress ? "ingress" : "egress")} (netlink cls_bpf, priority {priority}, handle {handle}) on ifindex {ifindex}";
    }

    /// <inheritdoc/>
    public string Target { get; }

    /// <summary>The device's interface index.</summary>
    public int InterfaceIndex { get; }

    /// <summary>True for the ingress hook, false for egress.</summary>
    public bool Ingress { get; }

    /// <summary>The filter's priority (the tc "pref").</summary>
    public ushort Priority { get; }

    /// <summary>The filter's handle.</summary>
    public uint Handle { get; }

    /// <summary>True if this attachment added the clsact qdisc (false: it was there already).</summary>
    public bool CreatedQdisc { get; }

    /// <summary>The attached program's kernel id.</summary>
    public uint ProgramId { get; }

    /// <summary>Attaches a SchedCls program as a direct-action cls_bpf filter on the device's clsact ingress or egress hook.</summary>
    /// <exception cref="NetlinkException">The kernel refused (e.g. EEXIST: a filter with this priority and handle exists).</exception>
    public static NetlinkTcAttachment Attach(BpfProgram program, int ifindex, bool ingress, ushort priority = 1, uint handle = 1)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        ArgumentOutOfRangeException.ThrowIfZero(priority);
        ArgumentOutOfRangeException.ThrowIfZero(handle);
        using var socket = new NetlinkSocket();
        bool created = true;
        var qdisc = new NetlinkMessage(RTM_NEWQDISC, NetlinkSocket.NLM_F_CREATE | NetlinkSocket.NLM_F_EXCL);
        qdisc.Append(TcMsg(ifindex, ClsactHandle, TC_H_CLSACT, 0));
        qdisc.AttrString(TCA_KIND, "clsact");
        try
        {
            socket.Request(qdisc, $"RTM_NEWQDISC (clsact on ifindex {ifindex})");
        }
        catch (NetlinkException e) when (e.Errno == Errno.EEXIST)
        {
            created = false; // already there (ours from an earlier attachment, or someone else's): share it
        }
        var filter = new NetlinkMessage(RTM_NEWTFILTER, NetlinkSocket.NLM_F_CREATE | NetlinkSocket.NLM_F_EXCL);
        filter.Append(TcMsg(ifindex, handle, Parent(ingress), Info(priority)));
        filter.AttrString(TCA_KIND, "bpf");
        int nest = filter.BeginNest(TCA_OPTIONS);
        filter.AttrU32(TCA_BPF_FD, program.Fd.Raw);
        filter.AttrString(TCA_BPF_NAME, string.IsNullOrEmpty(program.Name) ? "bpfnet" : program.Name);
        filter.AttrU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
        filter.EndNest(nest);
        socket.Request(filter, $"RTM_NEWTFILTER (cls_bpf {(ingress ? "ingress" : "egress")} priority {priority} handle {handle}, {program.Type} program '{program.Name}', on ifindex {ifindex})");
        uint id = program.Id;
        GC.KeepAlive(program);
        return new NetlinkTcAttachment(ifindex, ingress, priority, handle, created, id);
    }

    private static uint Parent(bool ingress) => ClsactHandle | (ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);

    private static uint Info(ushort priority) => ((uint)priority << 16) | EthPAllBigEndian;

    private static byte[] TcMsg(int ifindex, uint handle, uint parent, uint info)
    {
        // struct tcmsg { u8 family; u8 pad1; u16 pad2; s32 ifindex; u32 handle; u32 parent; u32 info; }
        var b = new byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), ifindex);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), handle);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), parent);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), info);
        return b;
    }

    /// <summary>Deletes the filter. Quiet when the device or the filter is already gone (ENODEV, ENOENT); other refusals throw <see cref="NetlinkException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _detached, 1) != 0) return;
        var msg = new NetlinkMessage(RTM_DELTFILTER, 0);
        msg.Append(TcMsg(InterfaceIndex, Handle, Parent(Ingress), Info(Priority)));
        msg.AttrString(TCA_KIND, "bpf");
        try
        {
            using var socket = new NetlinkSocket();
            socket.Request(msg, $"RTM_DELTFILTER ({Target})");
        }
        catch (NetlinkException e) when (e.Errno is Errno.ENODEV or Errno.ENOENT or Errno.EINVAL && !DeviceExists(InterfaceIndex))
        {
            // The device went away and took the qdisc and filter with it.
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            // Someone removed the filter (or the clsact qdisc) already.
        }
    }

    private static bool DeviceExists(int ifindex)
    {
        try
        {
            NetlinkXdpAttachment.Query(ifindex);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return false;
        }
    }
}
