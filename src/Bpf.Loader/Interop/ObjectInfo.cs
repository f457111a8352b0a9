using System.Runtime.CompilerServices;
using System.Text;

namespace Bpf.Loader.Interop;

/// <summary>BPF_OBJ_GET_INFO_BY_FD for programs, maps and links; walking the kernel's ids (BPF_*_GET_NEXT_ID,
/// BPF_*_GET_FD_BY_ID).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static unsafe class ObjectInfo
{
    internal static void Get<T>(BpfFd fd, ref T info) where T : unmanaged => GetLength(fd, ref info);

    /// <summary>Fills <paramref name="info"/> and returns how many bytes of it the kernel wrote (an older kernel
    /// knows fewer fields; the rest stay as they were).</summary>
    internal static uint GetLength<T>(BpfFd fd, ref T info) where T : unmanaged
    {
        uint written;
        fixed (T* p = &info)
        {
            var attr = new ObjInfoAttr { bpf_fd = fd.Raw, info_len = (uint)Unsafe.SizeOf<T>(), info = (ulong)p };
            Sys.BpfOrThrow(BpfCommand.BPF_OBJ_GET_INFO_BY_FD, ref attr);
            written = attr.info_len;
        }
        GC.KeepAlive(fd);
        return written;
    }

    internal static string Name(byte* name)
    {
        int n = 0;
        while (n < 16 && name[n] != 0) n++;
        return Encoding.ASCII.GetString(name, n);
    }

    /// <summary>The next id after <paramref name="start"/> (BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID); null at the
    /// end (ENOENT). Needs CAP_SYS_ADMIN: EPERM throws with the capability hint.</summary>
    internal static uint? NextId(BpfCommand command, uint start)
    {
        var attr = new ObjIdAttr { start_id = start };
        int r = Sys.Bpf(command, ref attr, out int errno);
        if (r >= 0) return attr.next_id;
        if (errno == Errno.ENOENT) return null;
        throw BpfSyscallException.Create(command.ToString(), errno);
    }

    /// <summary>A new descriptor for the object with <paramref name="id"/> (BPF_PROG_GET_FD_BY_ID,
    /// BPF_MAP_GET_FD_BY_ID); null when no such object exists (ENOENT: never was, or freed since).</summary>
    internal static BpfFd? OpenById(BpfCommand command, uint id)
    {
        var attr = new ObjIdAttr { start_id = id };
        int r = Sys.Bpf(command, ref attr, out int errno);
        if (r >= 0) return BpfFd.FromNew(r);
        if (errno == Errno.ENOENT) return null;
        throw BpfSyscallException.Create(command.ToString(), errno, errno == Errno.EPERM ? null : $"id {id}");
    }

    /// <summary>Every object the kernel has, in id order, each opened, described by <paramref name="describe"/>
    /// and closed again; one that disappears between its id and its descriptor is skipped.</summary>
    internal static List<T> List<T>(BpfCommand nextId, BpfCommand openById, Func<BpfFd, T> describe)
    {
        var result = new List<T>();
        uint id = 0;
        while (NextId(nextId, id) is uint next && next > id)
        {
            id = next;
            using var fd = OpenById(openById, id);
            if (fd is null) continue;
            result.Add(describe(fd));
        }
        return result;
    }
}
