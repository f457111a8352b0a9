using System.Buffers.Binary;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>How <see cref="BpfLink.AttachXdp(BpfProgram, int, XdpFlags, XdpAttachMethod)"/> attaches.</summary>
public enum XdpAttachMethod
{
    /// <summary>A bpf_link (5.9+); netlink when the kernel answers BPF_LINK_CREATE with EINVAL or EOPNOTSUPP.</summary>
    Auto,
    /// <summary>A bpf_link only; no fallback.</summary>
    Link,
    /// <summary>Netlink (RTM_SETLINK with IFLA_XDP) only, as on kernels before 5.9.</summary>
    Netlink,
}

/// <summary>Which XDP mode a device has a program attached in (IFLA_XDP_ATTACHED).</summary>
public enum XdpAttachedMode : byte
{
    /// <summary>No XDP program.</summary>
    None = 0,
    /// <summary>Native (driver) mode.</summary>
    Driver = 1,
    /// <summary>Generic (skb) mode.</summary>
    Generic = 2,
    /// <summary>Offloaded to hardware.</summary>
    Hardware = 3,
    /// <summary>Programs in more than one mode.</summary>
    Multiple = 4,
}

/// <summary>What a device reports about XDP (RTM_GETLINK's IFLA_XDP): the mode and the program id (0 if none).</summary>
/// <param name="Mode">The attach mode, or <see cref="XdpAttachedMode.None"/>.</param>
/// <param name="ProgramId">The attached program's id (for <see cref="XdpAttachedMode.Multiple"/>: 0; see the per-mode ids).</param>
/// <param name="DriverProgramId">The native-mode program's id, 0 if none.</param>
/// <param name="GenericProgramId">The generic-mode program's id, 0 if none.</param>
public readonly record struct XdpState(XdpAttachedMode Mode, uint ProgramId, uint DriverProgramId, uint GenericProgramId);

/// <summary>
/// An XDP program attached to a device over rtnetlink (RTM_SETLINK, IFLA_XDP {IFLA_XDP_FD, IFLA_XDP_FLAGS}): the
/// way before bpf_link (kernels before 5.9) and the fallback for them. Unlike a link, the attachment is not tied to
/// a descriptor: <see cref="Dispose"/> detaches it explicitly, and only if our program is still the one attached
/// (XDP_FLAGS_REPLACE with the expected program, 5.7+; on older kernels the attached program's id is checked first).
/// Attaching refuses to replace a program already on the device (XDP_FLAGS_UPDATE_IF_NOEXIST), as a link would.
/// The request goes to the network namespace of the calling thread, at attach and at detach.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NetlinkXdpAttachment : IBpfAttachment
{
    private const ushort RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_SETLINK = 19;
    private const ushort IFLA_XDP = 43;
    private const ushort IFLA_XDP_FD = 1, IFLA_XDP_ATTACHED = 2, IFLA_XDP_FLAGS = 3, IFLA_XDP_PROG_ID = 4,
        IFLA_XDP_DRV_PROG_ID = 5, IFLA_XDP_SKB_PROG_ID = 6, IFLA_XDP_EXPECTED_FD = 8;
    private const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1, XDP_FLAGS_REPLACE = 16;

    private readonly BpfFd _program;
    private int _detached;

    private NetlinkXdpAttachment(BpfFd program, uint programId, int ifindex, XdpFlags mode)
    {
        _program = program;
        ProgramId = programId;
        InterfaceIndex = ifindex;
        Mode = mode;
        Target = $"xdp (netlink{(mode == XdpFlags.None ? "" : ", " + mode)}) on ifindex {ifindex}";
    }

    /// <inheritdoc/>
    public string Target { get; }

    /// <summary>The device's interface index.</summary>
    public int InterfaceIndex { get; }

    /// <summary>The mode flags the program was attached with (detach uses the same).</summary>
    public XdpFlags Mode { get; }

    /// <summary>The attached program's kernel id.</summary>
    public uint ProgramId { get; }

    /// <summary>Attaches an XDP program to the device with index <paramref name="ifindex"/> over netlink.</summary>
    /// <exception cref="NetlinkException">The kernel refused (e.g. EBUSY: a program is already attached; the
    /// message carries the kernel's extended ack text).</exception>
    public static NetlinkXdpAttachment Attach(BpfProgram program, int ifindex, XdpFlags flags = XdpFlags.None)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        if (((uint)flags & ~(uint)(XdpFlags.Generic | XdpFlags.Driver | XdpFlags.Hardware)) != 0)
            throw new ArgumentException($"only mode flags may be given, not 0x{(uint)flags:x}", nameof(flags));
        var fd = program.Fd.Duplicate();
        try
        {
            uint id = program.Id;
            using var socket = new NetlinkSocket();
            socket.Request(SetLink(ifindex, (int)fd.Raw, (uint)flags | XDP_FLAGS_UPDATE_IF_NOEXIST, expectedFd: null),
                $"RTM_SETLINK (attach XDP {program.Type} program '{program.Name}' to ifindex {ifindex})");
            return new NetlinkXdpAttachment(fd, id, ifindex, flags);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>What XDP program, if any, the device with index <paramref name="ifindex"/> has (RTM_GETLINK).</summary>
    public static XdpState Query(int ifindex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifindex);
        var msg = new NetlinkMessage(RTM_GETLINK, 0);
        msg.Append(IfInfo(ifindex));
        using var socket = new NetlinkSocket();
        foreach (var (type, payload) in socket.Request(msg, $"RTM_GETLINK (ifindex {ifindex})"))
        {
            if (type != RTM_NEWLINK || payload.Length < 16 || BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(4)) != ifindex) continue;
            if (!NetlinkAttributes.Find(payload.AsSpan(16), IFLA_XDP, out var xdp)) return default;
            var mode = XdpAttachedMode.None;
            uint id = 0, drv = 0, skb = 0;
            var it = new NetlinkAttributes(xdp);
            while (it.MoveNext())
            {
                switch (it.Type)
                {
                    case IFLA_XDP_ATTACHED when it.Value.Length >= 1: mode = (XdpAttachedMode)it.Value[0]; break;
                    case IFLA_XDP_PROG_ID when it.Value.Length >= 4: id = BinaryPrimitives.ReadUInt32LittleEndian(it.Value); break;
                    case IFLA_XDP_DRV_PROG_ID when it.Value.Length >= 4: drv = BinaryPrimitives.ReadUInt32LittleEndian(it.Value); break;
                    case IFLA_XDP_SKB_PROG_ID when it.Value.Length >= 4: skb = BinaryPrimitives.ReadUInt32LittleEndian(it.Value); break;
                }
            }
            return new XdpState(mode, id, drv, skb);
        }
        throw new NetlinkException("RTM_GETLINK", Errno.EIO, $"RTM_GETLINK (ifindex {ifindex}) answered without the link", null, null);
    }

    private static byte[] IfInfo(int ifindex)
    {
        // struct ifinfomsg { u8 family (AF_UNSPEC); u8 pad; u16 type; s32 index; u32 flags; u32 change; }
        var b = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), ifindex);
        return b;
    }

    private static NetlinkMessage SetLink(int ifindex, int fd, uint flags, int? expectedFd)
    {
        var msg = new NetlinkMessage(RTM_SETLINK, 0);
        msg.Append(IfInfo(ifindex));
        int nest = msg.BeginNest(IFLA_XDP);
        msg.AttrS32(IFLA_XDP_FD, fd);
        if (expectedFd is int e) msg.AttrS32(IFLA_XDP_EXPECTED_FD, e);
        if (flags != 0) msg.AttrU32(IFLA_XDP_FLAGS, flags);
        msg.EndNest(nest);
        return msg;
    }

    /// <summary>
    /// Detaches the program if it is still the one attached. Quiet when the device is gone (ENODEV) or another
    /// program has replaced ours (not ours to remove); other refusals throw <see cref="NetlinkException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _detached, 1) != 0) return;
        try
        {
            using var socket = new NetlinkSocket();
            string what = $"RTM_SETLINK (detach XDP program {ProgramId} from ifindex {InterfaceIndex})";
            try
            {
                socket.Request(SetLink(InterfaceIndex, -1, (uint)Mode | XDP_FLAGS_REPLACE, (int)_program.Raw), what);
            }
            catch (NetlinkException e) when (e.Errno == Errno.EINVAL)
            {
                // Before 5.7 there is no XDP_FLAGS_REPLACE: check the id ourselves, then detach plainly.
                var state = Query(InterfaceIndex);
                if (state.ProgramId != ProgramId && state.DriverProgramId != ProgramId && state.GenericProgramId != ProgramId) return;
                socket.Request(SetLink(InterfaceIndex, -1, (uint)Mode, null), what);
            }
        }
        catch (NetlinkException e) when (e.Errno is Errno.ENODEV or Errno.EEXIST)
        {
            // The device went away (and the program with it), or someone replaced our program.
        }
        finally
        {
            _program.Dispose();
        }
    }
}
