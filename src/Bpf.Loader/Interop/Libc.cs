using System.Runtime.InteropServices;

namespace Bpf.Loader.Interop;

/// <summary>
/// The few libc entry points the loader needs. Every signature is blittable and fixed-arity with pointer-sized
/// arguments, so variadic C functions (<c>syscall</c>, <c>ioctl</c>, <c>fcntl</c>) are called the same way on
/// x86-64 and arm64 (both pass variadic integer arguments in the ordinary registers on Linux).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint Syscall3(nint number, nint a1, nint a2, nint a3);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint Syscall5(nint number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int cmd, nint arg);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, nint arg);

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string fsType, nuint flags, nint data);

    [LibraryImport(Lib, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint IfNameToIndex(string name);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint addr, nuint length);

    [LibraryImport(Lib, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGetTime(int clock, out Timespec time);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_BOOTTIME = 7;
    internal const int F_DUPFD_CLOEXEC = 1030;
    internal const int F_GETFD = 1;
    internal const int FD_CLOEXEC = 1;
    internal const int O_RDONLY = 0;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int PROT_READ = 1;
    internal const int PROT_WRITE = 2;
    internal const int MAP_SHARED = 1;
    internal static readonly nint MapFailed = -1;
}

/// <summary><c>struct timespec</c> on 64-bit Linux.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long tv_sec;
    public long tv_nsec;
}

/// <summary>Syscall numbers, chosen per architecture (never hard-coded for one).</summary>
internal static class SyscallNumbers
{
    /// <summary><c>__NR_bpf</c>.</summary>
    internal static readonly nint Bpf = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        Architecture.X86 => 357,
        Architecture.Arm => 386,
        Architecture.RiscV64 => 280,
        Architecture.LoongArch64 => 280,
        var a => throw new PlatformNotSupportedException($"bpf(): no syscall number known for architecture {a}"),
    };

    /// <summary><c>__NR_perf_event_open</c>.</summary>
    internal static readonly nint PerfEventOpen = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        Architecture.X86 => 336,
        Architecture.Arm => 364,
        Architecture.RiscV64 => 241,
        Architecture.LoongArch64 => 241,
        var a => throw new PlatformNotSupportedException($"perf_event_open(): no syscall number known for architecture {a}"),
    };

    /// <summary><c>__NR_setns</c>.</summary>
    internal static readonly nint SetNs = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 308,
        Architecture.Arm64 => 268,
        Architecture.X86 => 346,
        Architecture.Arm => 375,
        Architecture.RiscV64 => 268,
        Architecture.LoongArch64 => 268,
        var a => throw new PlatformNotSupportedException($"setns(): no syscall number known for architecture {a}"),
    };
}
