using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// Asks the running kernel what it supports, by trying the smallest possible object. Answers are cached for
/// the process. Program types that need a BTF attach target (tracing, LSM, extension, struct_ops) and map
/// types whose value needs BTF (local storage, struct_ops) cannot be probed that way and throw
/// <see cref="NotSupportedException"/> instead of answering.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class FeatureProbes
{
    private static readonly ConcurrentDictionary<ProgramType, bool> ProgTypes = new();
    private static readonly ConcurrentDictionary<MapType, bool> MapTypes = new();
    private static readonly ConcurrentDictionary<(ProgramType, int), bool> Helpers = new();
    private static readonly Lazy<bool> Batch = new(ProbeBatch);

    /// <summary>Whether the kernel can load programs of <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">The type cannot be probed without a BTF attach target.</exception>
    public static bool SupportsProgramType(ProgramType type)
    {
        if (type is ProgramType.Tracing or ProgramType.Lsm or ProgramType.Extension or ProgramType.StructOps or ProgramType.Unspecified)
            throw new NotSupportedException($"program type {type} cannot be probed without a BTF attach target");
        return ProgTypes.GetOrAdd(type, static t =>
        {
            var r = TryLoad(t, [Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0), Instruction.ExitInsn()], out int errno, out _);
            if (r) return true;
            if (errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP) return false;
            throw BpfSyscallException.Create($"BPF_PROG_LOAD (probe of {t})", errno);
        });
    }

    /// <summary>Whether the kernel can create maps of <paramref name="type"/>.</summary>
    public static bool SupportsMapType(MapType type)
    {
        if (type == MapType.Unspecified) return false;
        if (type is MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage or MapType.StructOps)
            throw new NotSupportedException($"map type {type} cannot be probed without BTF for its value");
        return MapTypes.GetOrAdd(type, static t =>
        {
            var attr = ProbeMapAttr(t, out BpfFd? inner);
            try
            {
                int fd = Sys.Bpf(BpfCommand.BPF_MAP_CREATE, ref attr, out int errno);
                if (fd >= 0)
                {
                    BpfFd.FromNew(fd).Dispose();
                    return true;
                }
                // Storage maps need BTF for their value; EINVAL there can't tell "unknown" from "needs BTF",
                // but a kernel that knows the type answers something more specific than E2BIG/EINVAL for the rest.
                if (errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP) return false;
                if (errno == Errno.EPERM) throw BpfSyscallException.Create($"BPF_MAP_CREATE (probe of {t})", errno);
                return true; // e.g. EBADF/ENOMEM: the type is known, our tiny attributes were not good enough.
            }
            finally
            {
                inner?.Dispose();
            }
        });
    }

    /// <summary>Whether programs of <paramref name="type"/> may call helper <paramref name="helperId"/>.</summary>
    public static bool SupportsHelper(ProgramType type, int helperId)
    {
        if (!SupportsProgramType(type)) return false;
        return Helpers.GetOrAdd((type, helperId), static k =>
        {
            // Arguments are zero: a known helper fails on argument checks, an unknown one on the call itself.
            Instruction[] prog =
            [
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R1, 0),
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R2, 0),
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R3, 0),
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R4, 0),
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R5, 0),
                Instruction.CallHelper(k.Item2),
                Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0),
                Instruction.ExitInsn(),
            ];
            if (TryLoad(k.Item1, prog, out int errno, out string log)) return true;
            if (errno == Errno.EPERM && log.Length == 0) throw BpfSyscallException.Create("BPF_PROG_LOAD (helper probe)", errno);
            return !(log.Contains("invalid func ", StringComparison.Ordinal) ||
                     log.Contains("unknown func ", StringComparison.Ordinal) ||
                     log.Contains("program of this type cannot use helper", StringComparison.Ordinal));
        });
    }

    /// <summary>Throws <see cref="BpfNotSupportedException"/> (with the minimum kernel version) if the program type is missing.</summary>
    public static void RequireProgramType(ProgramType type)
    {
        if (!SupportsProgramType(type)) throw new BpfNotSupportedException($"program type {type}", KernelVersions.Of(type));
    }

    /// <summary>Throws <see cref="BpfNotSupportedException"/> (with the minimum kernel version) if the map type is missing.</summary>
    public static void RequireMapType(MapType type)
    {
        if (!SupportsMapType(type)) throw new BpfNotSupportedException($"map type {type}", KernelVersions.Of(type));
    }

    /// <summary>Throws <see cref="BpfNotSupportedException"/> if the helper is not available to the program type.</summary>
    public static void RequireHelper(ProgramType type, int helperId)
    {
        if (!SupportsHelper(type, helperId)) throw new BpfNotSupportedException($"helper {helperId} for {type} programs", null);
    }

    /// <summary>Whether batch map operations exist (5.6+).</summary>
    public static bool HasBatchOps() => Batch.Value;

    internal static bool KnowsMapTypeNumber(MapType type) => SupportsMapType(type);

    private static bool ProbeBatch()
    {
        var attr = ProbeMapAttr(MapType.Hash, out _);
        int fd = Sys.Bpf(BpfCommand.BPF_MAP_CREATE, ref attr, out _);
        if (fd < 0) return false;
        using var map = BpfFd.FromNew(fd);
        byte* keys = stackalloc byte[8];
        byte* vals = stackalloc byte[8];
        byte* token = stackalloc byte[8];
        var b = new MapBatchAttr { out_batch = (ulong)token, keys = (ulong)keys, values = (ulong)vals, count = 1, map_fd = map.Raw };
        int r = Sys.Bpf(BpfCommand.BPF_MAP_LOOKUP_BATCH, ref b, out int errno);
        return r >= 0 || errno == Errno.ENOENT;
    }

    private static MapCreateAttr ProbeMapAttr(MapType t, out BpfFd? inner)
    {
        inner = null;
        var a = new MapCreateAttr { map_type = (uint)t, key_size = 4, value_size = 4, max_entries = 1 };
        switch (t)
        {
            case MapType.LpmTrie:
                a.key_size = 8; a.value_size = 8; a.map_flags = (uint)MapFlags.NoPrealloc; break;
            case MapType.Queue or MapType.Stack or MapType.BloomFilter:
                a.key_size = 0; break;
            case MapType.RingBuf or MapType.UserRingBuf:
                a.key_size = 0; a.value_size = 0; a.max_entries = (uint)Environment.SystemPageSize; break;
            case MapType.CgroupStorage or MapType.PerCpuCgroupStorage:
                a.key_size = 16; a.value_size = 8; a.max_entries = 0; break;
            case MapType.StackTrace:
                a.value_size = 8; break;
            case MapType.Arena:
                a.key_size = 0; a.value_size = 0; a.map_flags = (uint)MapFlags.Mmapable; break;
            case MapType.ArrayOfMaps or MapType.HashOfMaps:
                var ia = new MapCreateAttr { map_type = (uint)MapType.Array, key_size = 4, value_size = 4, max_entries = 1 };
                int fd = Sys.Bpf(BpfCommand.BPF_MAP_CREATE, ref ia, out _);
                if (fd >= 0) { inner = BpfFd.FromNew(fd); a.inner_map_fd = inner.Raw; }
                break;
        }
        return a;
    }

    private static bool TryLoad(ProgramType type, Instruction[] insns, out int errno, out string log)
    {
        byte[] lic = "GPL\0"u8.ToArray();
        byte[] buf = new byte[4096];
        fixed (Instruction* pi = insns)
        fixed (byte* pl = lic)
        fixed (byte* pb = buf)
        {
            var attr = new ProgLoadAttr
            {
                prog_type = (uint)type,
                insn_cnt = (uint)insns.Length,
                insns = (ulong)pi,
                license = (ulong)pl,
                log_level = 1,
                log_size = (uint)buf.Length,
                log_buf = (ulong)pb,
                expected_attach_type = type switch
                {
                    ProgramType.CgroupSockAddr => (uint)AttachType.CgroupInet4Connect,
                    ProgramType.SkLookup => (uint)AttachType.SkLookup,
                    ProgramType.Netfilter => (uint)AttachType.Netfilter,
                    _ => 0,
                },
            };
            int fd;
            int tries = 0;
            do fd = Sys.Bpf(BpfCommand.BPF_PROG_LOAD, ref attr, out errno);
            while (fd < 0 && errno == Errno.EAGAIN && ++tries < 5);
            int n = Array.IndexOf(buf, (byte)0);
            log = System.Text.Encoding.UTF8.GetString(buf, 0, n < 0 ? buf.Length : n);
            if (fd < 0) return false;
            BpfFd.FromNew(fd).Dispose();
            return true;
        }
    }
}
