using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// An attachment of a program to a hook. Disposing detaches it (for bpf_link-based attachments: closing the
/// last descriptor of an unpinned link detaches the program).
/// </summary>
public interface IBpfAttachment : IDisposable
{
    /// <summary>What the program is attached to, for diagnostics.</summary>
    string Target { get; }
}

/// <summary>XDP attach mode flags (XDP_FLAGS_*).</summary>
[Flags]
public enum XdpFlags : uint
{
    /// <summary>Let the kernel choose (native if the driver supports it, else generic).</summary>
    None = 0,
    /// <summary>XDP_FLAGS_SKB_MODE: generic (slower) mode.</summary>
    Generic = 2,
    /// <summary>XDP_FLAGS_DRV_MODE: native driver mode.</summary>
    Driver = 4,
    /// <summary>XDP_FLAGS_HW_MODE: offloaded to the NIC.</summary>
    Hardware = 8,
}

/// <summary>A bpf_link (BPF_LINK_CREATE, 5.7+): XDP, tcx, cgroup, perf event, ... Disposing detaches.</summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class BpfLink : IBpfAttachment
{
    private BpfLink(BpfFd fd, string target)
    {
        Fd = fd;
        Target = target;
    }

    /// <summary>The link's descriptor.</summary>
    public BpfFd Fd { get; }

    /// <inheritdoc/>
    public string Target { get; }

    /// <summary>
    /// Attaches an XDP program to the interface with index <paramref name="ifindex"/>: as a bpf_link (5.9+), which
    /// is a <see cref="BpfLink"/>, or over netlink, a <see cref="NetlinkXdpAttachment"/>. With
    /// <see cref="XdpAttachMethod.Auto"/> netlink is used when BPF_LINK_CREATE answers EINVAL or EOPNOTSUPP (kernels
    /// before XDP links). Disposing the result detaches the program either way.
    /// </summary>
    /// <exception cref="BpfSyscallException">Both ways failed (the netlink error, naming the link error too), or the chosen one did.</exception>
    public static IBpfAttachment AttachXdp(BpfProgram program, int ifindex, XdpFlags flags = XdpFlags.None, XdpAttachMethod method = XdpAttachMethod.Auto)
    {
        if (method == XdpAttachMethod.Netlink) return NetlinkXdpAttachment.Attach(program, ifindex, flags);
        try
        {
            return Create(program, (uint)ifindex, AttachType.Xdp, (uint)flags, $"xdp on ifindex {ifindex}", new Version(5, 9));
        }
        catch (BpfSyscallException e) when (method == XdpAttachMethod.Auto && e.Errno is Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOTSUPP)
        {
            return AttachXdpOverNetlink(program, ifindex, flags, e.Message);
        }
        catch (BpfNotSupportedException e) when (method == XdpAttachMethod.Auto)
        {
            return AttachXdpOverNetlink(program, ifindex, flags, e.Message);
        }
    }

    private static NetlinkXdpAttachment AttachXdpOverNetlink(BpfProgram program, int ifindex, XdpFlags flags, string linkError)
    {
        try
        {
            return NetlinkXdpAttachment.Attach(program, ifindex, flags);
        }
        catch (NetlinkException n)
        {
            throw new NetlinkException(n.Command, n.Errno, $"{n.Message} (tried after BPF_LINK_CREATE failed: {linkError})", n.ExtendedAckMessage, n.ErrorOffset);
        }
    }

    /// <summary>Attaches an XDP program to the named interface (see <see cref="AttachXdp(BpfProgram, int, XdpFlags, XdpAttachMethod)"/>).</summary>
    public static IBpfAttachment AttachXdp(BpfProgram program, string interfaceName, XdpFlags flags = XdpFlags.None, XdpAttachMethod method = XdpAttachMethod.Auto) =>
        AttachXdp(program, InterfaceIndex(interfaceName), flags, method);

    /// <summary>
    /// Attaches a SchedCls program to the interface's ingress or egress: as a tcx link (6.6+), a <see cref="BpfLink"/>,
    /// or over netlink as a direct-action cls_bpf filter on a clsact qdisc, a <see cref="NetlinkTcAttachment"/>
    /// (priority 1, handle 1). With <see cref="TcAttachMethod.Auto"/> netlink is used when BPF_LINK_CREATE answers
    /// EINVAL or EOPNOTSUPP (kernels before tcx). Disposing the result detaches the program either way.
    /// </summary>
    public static IBpfAttachment AttachTcx(BpfProgram program, int ifindex, bool ingress, TcAttachMethod method = TcAttachMethod.Auto)
    {
        if (method == TcAttachMethod.Netlink) return NetlinkTcAttachment.Attach(program, ifindex, ingress);
        try
        {
            return Create(program, (uint)ifindex, ingress ? AttachType.TcxIngress : AttachType.TcxEgress, 0,
                $"tcx {(ingress ? "ingress" : "egress")} on ifindex {ifindex}", new Version(6, 6));
        }
        catch (Exception e) when (method == TcAttachMethod.Auto &&
            (e is BpfNotSupportedException || (e is BpfSyscallException s && s.Errno is Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOTSUPP)))
        {
            try
            {
                return NetlinkTcAttachment.Attach(program, ifindex, ingress);
            }
            catch (NetlinkException n)
            {
                throw new NetlinkException(n.Command, n.Errno, $"{n.Message} (tried after BPF_LINK_CREATE failed: {e.Message})", n.ExtendedAckMessage, n.ErrorOffset);
            }
        }
    }

    /// <summary>Attaches a cgroup program (e.g. CgroupSkb with <see cref="AttachType.CgroupInetIngress"/>) to a cgroup v2 directory (5.7+).</summary>
    public static BpfLink AttachCgroup(BpfProgram program, string cgroupPath, AttachType attachType)
    {
        int fd = Libc.Open(cgroupPath, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0) throw BpfSyscallException.Create($"open({cgroupPath})", Marshal.GetLastPInvokeError(), "a cgroup v2 directory is needed");
        using var cg = BpfFd.FromNew(fd);
        return Create(program, cg.Raw, attachType, 0, $"cgroup {cgroupPath} ({attachType})", new Version(5, 7));
    }

    /// <summary>Attaches a program to a perf event fd (tracepoint, kprobe, perf event) as a link (5.15+).</summary>
    internal static BpfLink AttachPerfEvent(BpfProgram program, BpfFd perfEvent, string target) =>
        Create(program, perfEvent.Raw, AttachType.PerfEvent, 0, target, new Version(5, 15));

    private static BpfLink Create(BpfProgram program, uint target, AttachType type, uint flags, string what, Version minKernel)
    {
        ArgumentNullException.ThrowIfNull(program);
        var attr = new LinkCreateAttr { prog_fd = program.Fd.Raw, target_fd = target, attach_type = (uint)type, flags = flags };
        int r = Sys.Bpf(BpfCommand.BPF_LINK_CREATE, ref attr, out int errno);
        GC.KeepAlive(program);
        if (r < 0)
        {
            if (errno is Errno.ENOTSUPP or Errno.EOPNOTSUPP) throw new BpfNotSupportedException($"BPF_LINK_CREATE for {what}", minKernel, Errno.Name(errno));
            throw BpfSyscallException.Create("BPF_LINK_CREATE", errno,
                errno == Errno.EPERM ? null : $"{program.Type} program → {what}" + (errno == Errno.EINVAL ? $" (wrong program type for {type}, or the kernel predates Linux {minKernel})" : ""));
        }
        return new BpfLink(BpfFd.FromNew(r), what);
    }

    /// <summary>Pins the link in bpffs so the attachment outlives this process.</summary>
    public void Pin(string path) => BpfFs.Pin(Fd, path);

    /// <summary>Detaches now (BPF_LINK_DETACH, 5.9+) even if other descriptors or pins hold the link.</summary>
    public void Detach()
    {
        var attr = new ProgAttachAttr { target_fd = Fd.Raw };
        int r = Sys.Bpf(BpfCommand.BPF_LINK_DETACH, ref attr, out int errno);
        GC.KeepAlive(this);
        if (r < 0) throw BpfSyscallException.Create("BPF_LINK_DETACH", errno);
    }

    /// <summary>Closes the link (detaches unless pinned or shared).</summary>
    public void Dispose() => Fd.Dispose();

    /// <summary>Resolves an interface name to its index.</summary>
    public static int InterfaceIndex(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        uint i = Libc.IfNameToIndex(name);
        if (i == 0) throw new ArgumentException($"no network interface named '{name}' in this network namespace", nameof(name));
        return (int)i;
    }
}

/// <summary>A socket filter attached with SO_ATTACH_BPF; disposing detaches it (SO_DETACH_BPF).</summary>
[SupportedOSPlatform("linux")]
public sealed class SocketFilter : IBpfAttachment
{
    private const int SolSocket = 1, SoAttachBpf = 50, SoDetachBpf = 27;
    private readonly Socket _socket;
    private bool _disposed;

    private SocketFilter(Socket socket) => _socket = socket;

    /// <inheritdoc/>
    public string Target => $"socket {_socket.LocalEndPoint}";

    /// <summary>
    /// Attaches a SocketFilter program to <paramref name="socket"/>: the program's return value is how many
    /// bytes of each packet to keep (0 drops it).
    /// </summary>
    public static SocketFilter Attach(Socket socket, BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(program);
        Span<byte> fd = stackalloc byte[4];
        BitConverter.TryWriteBytes(fd, program.Fd.Value);
        try
        {
            socket.SetRawSocketOption(SolSocket, SoAttachBpf, fd);
        }
        catch (SocketException e)
        {
            throw BpfSyscallException.Create("setsockopt(SO_ATTACH_BPF)", e.NativeErrorCode, $"{program.Type} program");
        }
        GC.KeepAlive(program);
        return new SocketFilter(socket);
    }

    /// <summary>Detaches the filter (no-op if the socket is already closed).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_socket.SafeHandle.IsClosed) return;
        Span<byte> zero = stackalloc byte[4];
        _socket.SetRawSocketOption(SolSocket, SoDetachBpf, zero);
    }
}
