using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>BPF_BTF_LOAD: hands a raw BTF blob to the kernel, which checks it and returns a BTF object fd.</summary>
[SupportedOSPlatform("linux")]
internal static unsafe class BtfLoad
{
    /// <summary>BPF_BTF_LOAD attr (<c>btf</c> .. <c>btf_log_true_size</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BtfLoadAttr
    {
        public ulong btf;
        public ulong btf_log_buf;
        public uint btf_size;
        public uint btf_log_size;
        public uint btf_log_level;
        public uint btf_log_true_size;
    }

    /// <summary>Loads <paramref name="blob"/>; on failure retries once with a log and throws with the log's last lines.</summary>
    internal static BpfFd Load(byte[] blob)
    {
        byte[]? log = null;
        for (int attempt = 0; ; attempt++)
        {
            var attr = new BtfLoadAttr { btf_size = (uint)blob.Length };
            int r, errno;
            fixed (byte* pb = blob)
            fixed (byte* pl = log)
            {
                attr.btf = (ulong)pb;
                if (log is not null)
                {
                    attr.btf_log_buf = (ulong)pl;
                    attr.btf_log_size = (uint)log.Length;
                    attr.btf_log_level = 1;
                }
                r = Sys.Bpf(BpfCommand.BPF_BTF_LOAD, ref attr, out errno);
            }
            if (r >= 0) return BpfFd.FromNew(r);
            if (attempt == 0 && errno != Errno.EPERM)
            {
                log = new byte[1 << 20];
                continue;
            }
            string text = log is null ? "" : Encoding.UTF8.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0))).Trim();
            // The kernel's BTF log ends with the offending type and the reason: keep the tail.
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string tail = string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
            throw BpfSyscallException.Create("BPF_BTF_LOAD", errno, tail.Length > 0 ? "kernel BTF log: " + tail : null);
        }
    }
}
