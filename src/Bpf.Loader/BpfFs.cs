using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>The BPF filesystem (bpffs): pinning objects by path so they outlive the process.</summary>
[SupportedOSPlatform("linux")]
public static unsafe class BpfFs
{
    /// <summary>The conventional mount point.</summary>
    public const string DefaultMountPoint = "/sys/fs/bpf";

    /// <summary>True if <paramref name="path"/> is a directory on a bpffs mount.</summary>
    public static bool IsBpfFs(string path)
    {
        // /proc/self/mounts lists every mount with its type; an exact mount-point match is enough here.
        string full = Path.GetFullPath(path).TrimEnd('/');
        foreach (var line in File.ReadLines("/proc/self/mounts"))
        {
            var parts = line.Split(' ');
            if (parts.Length > 2 && parts[2] == "bpf" && parts[1].TrimEnd('/') == full) return true;
        }
        return false;
    }

    /// <summary>
    /// Makes sure a bpffs is mounted at <paramref name="mountPoint"/>, mounting one if missing (needs
    /// CAP_SYS_ADMIN). Returns true if it mounted one.
    /// </summary>
    public static bool EnsureMounted(string mountPoint = DefaultMountPoint)
    {
        if (IsBpfFs(mountPoint)) return false;
        Directory.CreateDirectory(mountPoint);
        if (Libc.Mount("bpf", mountPoint, "bpf", 0, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw BpfSyscallException.Create($"mount(bpf, {mountPoint})", errno,
                errno == Errno.EPERM ? "mounting bpffs needs CAP_SYS_ADMIN" : null);
        }
        return true;
    }

    internal static void Pin(BpfFd fd, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            var attr = new ObjPinAttr { pathname = (ulong)pp, bpf_fd = fd.Raw };
            int r = Sys.Bpf(BpfCommand.BPF_OBJ_PIN, ref attr, out int errno);
            GC.KeepAlive(fd);
            if (r < 0)
                throw BpfSyscallException.Create("BPF_OBJ_PIN", errno, $"path '{path}'" +
                    (errno == Errno.EPERM || errno == Errno.EINVAL ? " (is its directory on a bpffs mount? see BpfFs.EnsureMounted)" : ""));
        }
    }

    internal static BpfFd Get(string path, uint fileFlags = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            var attr = new ObjPinAttr { pathname = (ulong)pp, file_flags = fileFlags };
            int r = Sys.Bpf(BpfCommand.BPF_OBJ_GET, ref attr, out int errno);
            if (r < 0) throw BpfSyscallException.Create("BPF_OBJ_GET", errno, $"path '{path}'");
            return BpfFd.FromNew(r);
        }
    }

    /// <summary>Removes a pin (the object lives on while descriptors or attachments hold it).</summary>
    public static void Unpin(string path) => File.Delete(path);
}
