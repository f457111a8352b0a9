using System.Runtime.CompilerServices;
using System.Text;

namespace Bpf.Loader.Interop;

/// <summary>BPF_OBJ_GET_INFO_BY_FD for programs, maps and links.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static unsafe class ObjectInfo
{
    internal static void Get<T>(BpfFd fd, ref T info) where T : unmanaged
    {
        fixed (T* p = &info)
        {
            var attr = new ObjInfoAttr { bpf_fd = fd.Raw, info_len = (uint)Unsafe.SizeOf<T>(), info = (ulong)p };
            Sys.BpfOrThrow(BpfCommand.BPF_OBJ_GET_INFO_BY_FD, ref attr);
        }
        GC.KeepAlive(fd);
    }

    internal static string Name(byte* name)
    {
        int n = 0;
        while (n < 16 && name[n] != 0) n++;
        return Encoding.ASCII.GetString(name, n);
    }
}
