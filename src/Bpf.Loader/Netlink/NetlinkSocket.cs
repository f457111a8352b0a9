using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// An AF_NETLINK / NETLINK_ROUTE socket for request-acknowledge exchanges with the kernel: every request asks
/// for an ack (NLM_F_ACK), replies are matched by sequence number, and an error answer is turned into a
/// <see cref="NetlinkException"/> carrying the kernel's extended ack message (NETLINK_EXT_ACK, 4.12+) when it
/// gives one. The receive times out rather than hangs.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed unsafe class NetlinkSocket : IDisposable
{
    private const ushort NLMSG_ERROR = 2, NLMSG_DONE = 3;
    private const ushort NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;
    private const ushort NLMSGERR_ATTR_MSG = 1, NLMSGERR_ATTR_OFFS = 2;
    internal const ushort NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400;

    private readonly BpfFd _fd;
    private uint _sequence = (uint)Environment.TickCount;
    private readonly byte[] _buffer = new byte[64 * 1024];

    internal NetlinkSocket()
    {
        int fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0) throw BpfSyscallException.Create("socket(AF_NETLINK, NETLINK_ROUTE)", Marshal.GetLastPInvokeError());
        _fd = BpfFd.FromNew(fd);
        int one = 1;
        // Extended acks are best effort: kernels before 4.12 do not know the option and still answer plain errors.
        Libc.SetSockOpt(_fd.Value, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, (nint)(&one), 4);
        long* timeout = stackalloc long[2] { 5, 0 }; // struct timeval: 5 s (the kernel answers synchronously; this only guards against a hang)
        if (Libc.SetSockOpt(_fd.Value, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, (nint)timeout, 16) < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            _fd.Dispose();
            throw BpfSyscallException.Create("setsockopt(SO_RCVTIMEO)", e, "netlink socket");
        }
    }

    /// <summary>
    /// Sends <paramref name="message"/> (NLM_F_REQUEST | NLM_F_ACK added) and collects the reply messages up to
    /// the ack: each entry is (type, payload after the nlmsghdr).
    /// </summary>
    /// <exception cref="NetlinkException">The kernel answered with an error; <paramref name="what"/> names the request.</exception>
    internal List<(ushort Type, byte[] Payload)> Request(NetlinkMessage message, string what)
    {
        uint seq = ++_sequence;
        byte[] bytes = message.Finish(seq, NLM_F_REQUEST | NLM_F_ACK);
        Send(bytes, what);
        var replies = new List<(ushort, byte[])>();
        while (true)
        {
            int n = Receive(what);
            var rest = _buffer.AsSpan(0, n);
            while (rest.Length >= NetlinkMessage.HeaderSize)
            {
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(rest);
                if (len < NetlinkMessage.HeaderSize || len > rest.Length)
                    throw new NetlinkException(what, Errno.EIO, $"{what}: malformed netlink reply (message length {len} of {rest.Length} bytes left)", null, null);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(rest[4..]);
                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(rest[6..]);
                uint replySeq = BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]);
                var payload = rest[NetlinkMessage.HeaderSize..len];
                rest = rest[Math.Min(NetlinkMessage.Align(len), rest.Length)..];
                if (replySeq != seq) continue; // a stale answer to an earlier request
                if (type == NLMSG_ERROR)
                {
                    int error = payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : -Errno.EIO;
                    if (error == 0) return replies;
                    throw Error(what, -error, flags, payload);
                }
                if (type == NLMSG_DONE) return replies;
                replies.Add((type, payload.ToArray()));
            }
        }
    }

    internal static NetlinkException Error(string what, int errno, ushort flags, ReadOnlySpan<byte> payload)
    {
        string? extack = null;
        uint? offset = null;
        if ((flags & NLM_F_ACK_TLVS) != 0 && payload.Length >= 4 + NetlinkMessage.HeaderSize)
        {
            // struct nlmsgerr { int error; struct nlmsghdr msg; } then, unless capped, the rest of our request; then TLVs.
            int requestLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
            int tlvStart = 4 + ((flags & NLM_F_CAPPED) != 0 ? NetlinkMessage.HeaderSize : NetlinkMessage.Align(requestLength));
            if (tlvStart <= payload.Length)
            {
                var tlvs = payload[tlvStart..];
                if (NetlinkAttributes.Find(tlvs, NLMSGERR_ATTR_MSG, out var msg))
                {
                    int nul = msg.IndexOf((byte)0);
                    extack = Encoding.UTF8.GetString(nul >= 0 ? msg[..nul] : msg);
                }
                if (NetlinkAttributes.Find(tlvs, NLMSGERR_ATTR_OFFS, out var offs) && offs.Length >= 4)
                    offset = BinaryPrimitives.ReadUInt32LittleEndian(offs);
            }
        }
        string message = $"{what} failed: {Errno.Name(errno)} ({errno}): {Errno.Describe(errno)}" +
            (extack is null ? "" : $" — kernel says: {extack}") + (offset is uint o ? $" (at byte {o} of the request)" : "");
        return new NetlinkException(what, errno, message, extack, offset);
    }

    private void Send(byte[] bytes, string what)
    {
        // struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; } to the kernel (pid 0).
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = Libc.AF_NETLINK;
        fixed (byte* p = bytes)
        {
            while (true)
            {
                nint r = Libc.SendTo(_fd.Value, (nint)p, (nuint)bytes.Length, 0, (nint)address, 12);
                if (r >= 0) return;
                int e = Marshal.GetLastPInvokeError();
                if (e == Errno.EINTR) continue;
                throw BpfSyscallException.Create("sendto(netlink)", e, what);
            }
        }
    }

    private int Receive(string what)
    {
        fixed (byte* p = _buffer)
        {
            while (true)
            {
                nint r = Libc.Recv(_fd.Value, (nint)p, (nuint)_buffer.Length, Libc.MSG_TRUNC);
                if (r >= 0)
                {
                    if (r > _buffer.Length) throw new NetlinkException(what, Errno.EIO, $"{what}: netlink reply of {r} bytes exceeds the {_buffer.Length}-byte buffer", null, null);
                    return (int)r;
                }
                int e = Marshal.GetLastPInvokeError();
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) throw new NetlinkException(what, e, $"{what}: no netlink answer from the kernel within 5 s", null, null);
                throw BpfSyscallException.Create("recv(netlink)", e, what);
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}

/// <summary>A netlink request (RTM_SETLINK, RTM_NEWTFILTER, ...) was refused by the kernel.</summary>
public sealed class NetlinkException : BpfSyscallException
{
    /// <summary>Creates the exception.</summary>
    public NetlinkException(string command, int errno, string message, string? extendedAck, uint? errorOffset)
        : base(command, errno, message)
    {
        ExtendedAckMessage = extendedAck;
        ErrorOffset = errorOffset;
    }

    /// <summary>The kernel's own explanation (NLMSGERR_ATTR_MSG of the extended ack), when it gave one.</summary>
    public string? ExtendedAckMessage { get; }

    /// <summary>The byte offset in the request of the attribute the kernel objected to (NLMSGERR_ATTR_OFFS), when given.</summary>
    public uint? ErrorOffset { get; }
}
