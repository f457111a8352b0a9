using System.Runtime.InteropServices;

namespace Bpf.Loader.Interop;

// Sockets for rtnetlink (XDP and tc attachment without bpf_link).
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int SetSockOpt(int fd, int level, int name, nint value, uint length);

    [LibraryImport(Lib, EntryPoint = "sendto", SetLastError = true)]
    internal static partial nint SendTo(int fd, nint buf, nuint length, int flags, nint address, uint addressLength);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, nint buf, nuint length, int flags);

    internal const int AF_NETLINK = 16;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int NETLINK_ROUTE = 0;
    internal const int SOL_SOCKET = 1;
    internal const int SO_RCVTIMEO = 20;
    internal const int SOL_NETLINK = 270;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int MSG_TRUNC = 0x20;
}
