using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// Owns one file descriptor (a map, program, link, BTF object, perf event, netlink socket, epoll set or eventfd).
/// Closed exactly once (by <see cref="SafeHandle.Dispose()"/> or the finalizer); <c>close</c> is never retried
/// on EINTR because Linux releases the descriptor even then. Descriptors from <c>bpf()</c> are close-on-exec.
/// Descriptor 0 is a valid descriptor here, never "none": the bpf ABI reads 0 as "no fd" in many attr fields,
/// so a new descriptor that lands in 0..2 (stdin/out/err closed) is moved above 2 before use.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class BpfFd : SafeHandle
{
    private BpfFd() : base(-1, ownsHandle: true) { }

    /// <summary>The raw descriptor number (valid while this handle is open).</summary>
    public int Value => (int)handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    internal static BpfFd FromNew(int fd)
    {
        if (fd < 0) throw new ArgumentOutOfRangeException(nameof(fd), fd, "not a descriptor");
        if (fd <= 2)
        {
            int moved = Libc.Fcntl(fd, Libc.F_DUPFD_CLOEXEC, 3);
            int errno = moved < 0 ? Marshal.GetLastPInvokeError() : 0;
            Libc.Close(fd);
            if (moved < 0) throw BpfSyscallException.Create("fcntl(F_DUPFD_CLOEXEC)", errno);
            fd = moved;
        }
        var h = new BpfFd();
        h.SetHandle(fd);
        return h;
    }

    /// <summary>Duplicates the descriptor (close-on-exec, never below 3) into a new independent handle.</summary>
    public BpfFd Duplicate()
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            int fd = Libc.Fcntl((int)handle, Libc.F_DUPFD_CLOEXEC, 3);
            if (fd < 0) throw BpfSyscallException.Create("fcntl(F_DUPFD_CLOEXEC)", Marshal.GetLastPInvokeError());
            return FromNew(fd);
        }
        finally
        {
            if (added) DangerousRelease();
        }
    }

    /// <summary>Whether the descriptor has FD_CLOEXEC set (for tests and diagnostics).</summary>
    public bool IsCloseOnExec
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            int flags = Libc.Fcntl((int)handle, Libc.F_GETFD, 0);
            return flags >= 0 && (flags & Libc.FD_CLOEXEC) != 0;
        }
    }

    /// <summary>The raw number for an attr field, checked open; callers keep the owner alive across the call.</summary>
    internal uint Raw
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (uint)handle;
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
