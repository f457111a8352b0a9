using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf.Loader.Interop;

/// <summary>The raw <c>bpf(2)</c> call: one attr struct, passed by address with its exact size.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static unsafe class Sys
{
    /// <summary>Calls bpf(cmd, &amp;attr, sizeof(attr)); returns the result, or -1 with <paramref name="errno"/> set.</summary>
    internal static int Bpf<T>(BpfCommand cmd, ref T attr, out int errno) where T : unmanaged
    {
        nint r;
        fixed (T* p = &attr)
        {
            r = Libc.Syscall3(SyscallNumbers.Bpf, (nint)cmd, (nint)p, Unsafe.SizeOf<T>());
        }
        // Read errno immediately, before anything else can overwrite it.
        errno = r < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)r;
    }

    /// <summary>bpf() that must succeed; throws <see cref="BpfSyscallException"/> (or a subtype) otherwise.</summary>
    internal static int BpfOrThrow<T>(BpfCommand cmd, ref T attr) where T : unmanaged
    {
        int r = Bpf(cmd, ref attr, out int errno);
        if (r < 0) throw BpfSyscallException.Create(cmd.ToString(), errno);
        return r;
    }

    /// <summary>bpf() for commands returning a new fd, wrapped in a <see cref="BpfFd"/>.</summary>
    internal static BpfFd BpfFdOrThrow<T>(BpfCommand cmd, ref T attr) where T : unmanaged =>
        BpfFd.FromNew(BpfOrThrow(cmd, ref attr));
}

/// <summary>errno numbers and names (Linux generic values, the same on x86-64 and arm64).</summary>
internal static class Errno
{
    internal const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19,
        ENOTDIR = 20, EINVAL = 22, EMFILE = 24, ENOSPC = 28, ERANGE = 34, ENOSYS = 38, ELOOP = 40,
        EOPNOTSUPP = 95, ENOTSUPP = 524;

    internal static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO", ENXIO => "ENXIO",
        E2BIG => "E2BIG", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES",
        EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR", EINVAL => "EINVAL", EMFILE => "EMFILE", ENOSPC => "ENOSPC", ERANGE => "ERANGE",
        ENOSYS => "ENOSYS", ELOOP => "ELOOP", EOPNOTSUPP => "EOPNOTSUPP", ENOTSUPP => "ENOTSUPP",
        _ => $"errno {errno}",
    };

    internal static string Describe(int errno) =>
        errno == ENOTSUPP ? "operation not supported by the kernel" : Marshal.GetPInvokeErrorMessage(errno);
}
