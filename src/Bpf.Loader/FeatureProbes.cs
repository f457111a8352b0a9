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
    private static readonly ConcurrentDictionary<ProgramType, FeatureProbeResult> ProgTypes = new();
    private static readonly ConcurrentDictionary<MapType, FeatureProbeResult> MapTypes = new();
    private static readonly ConcurrentDictionary<(ProgramType, int), FeatureProbeResult> Helpers = new();
    private static readonly Lazy<bool> Batch = new(ProbeBatch);

    /// <summary>
    /// Whether the kernel can load programs of <paramref name="type"/> for this process: supported, not
    /// supported, or not permitted (with the errno and the capabilities the process lacks). Never throws for
    /// want of a privilege.
    /// </summary>
    /// <exception cref="NotSupportedException">The type cannot be probed without a BTF attach target.</exception>
    public static FeatureProbeResult ProbeProgramType(ProgramType type)
    {
        if (type is ProgramType.Tracing or ProgramType.Lsm or ProgramType.Extension or ProgramType.StructOps or ProgramType.Unspecified)
            throw new NotSupportedException($"program type {type} cannot be probed without a BTF attach target");
        return ProgTypes.GetOrAdd(type, static t =>
        {
            var r = TryLoad(t, [Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0), Instruction.ExitInsn()], out int errno, out _);
            if (r) return FeatureProbeResult.Supported($"program type {t}");
            if (errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP) return FeatureProbeResult.NotSupported($"program type {t}", errno);
            if (errno is Errno.EPERM or Errno.EACCES) return FeatureProbeResult.NotPermitted($"program type {t}", errno);
            throw BpfSyscallException.Create($"BPF_PROG_LOAD (probe of {t})", errno);
        });
    }

    /// <summary>Whether the kernel can load programs of <paramref name="type"/> for this process (see <see cref="ProbeProgramType"/>).</summary>
    /// <exception cref="NotSupportedException">The type cannot be probed without a BTF attach target.</exception>
    public static bool SupportsProgramType(ProgramType type) => ProbeProgramType(type).IsSupported;

    /// <summary>
    /// Whether the kernel can create maps of <paramref name="type"/> for this process: supported, not supported,
    /// or not permitted (e.g. an arena map without CAP_SYS_RESOURCE). Never throws for want of a privilege.
    /// </summary>
    /// <exception cref="NotSupportedException">The type's value needs BTF, so it cannot be probed this way.</exception>
    public static FeatureProbeResult ProbeMapType(MapType type)
    {
        if (type == MapType.Unspecified) return FeatureProbeResult.NotSupported($"map type {type}", Errno.EINVAL);
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
                    return FeatureProbeResult.Supported($"map type {t}");
                }
                // Storage maps need BTF for their value; EINVAL there can't tell "unknown" from "needs BTF",
                // but a kernel that knows the type answers something more specific than E2BIG/EINVAL for the rest.
                if (errno is Errno.EINVAL or Errno.E2BIG or Errno.ENOTSUPP or Errno.EOPNOTSUPP) return FeatureProbeResult.NotSupported($"map type {t}", errno);
                if (errno is Errno.EPERM or Errno.EACCES) return FeatureProbeResult.NotPermitted($"map type {t}", errno);
                return FeatureProbeResult.Supported($"map type {t}"); // e.g. EBADF/ENOMEM: the type is known, our tiny attributes were not good enough.
            }
            finally
            {
                inner?.Dispose();
            }
        });
    }

    /// <summary>Whether the kernel can create maps of <paramref name="type"/> for this process (see <see cref="ProbeMapType"/>).</summary>
    /// <exception cref="NotSupportedException">The type's value needs BTF, so it cannot be probed this way.</exception>
    public static bool SupportsMapType(MapType type) => ProbeMapType(type).IsSupported;

    /// <summary>Whether programs of <paramref name="type"/> may call helper <paramref name="helperId"/>, for this process.</summary>
    public static FeatureProbeResult ProbeHelper(ProgramType type, int helperId)
    {
        var prog = ProbeProgramType(type);
        if (!prog.IsSupported) return prog;
        return Helpers.GetOrAdd((type, helperId), static k =>
        {
            string what = $"helper {k.Item2} for {k.Item1} programs";
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
            if (TryLoad(k.Item1, prog, out int errno, out string log)) return FeatureProbeResult.Supported(what);
            if (errno is Errno.EPERM or Errno.EACCES && log.Length == 0) return FeatureProbeResult.NotPermitted(what, errno);
            bool unknown = log.Contains("invalid func ", StringComparison.Ordinal) ||
                           log.Contains("unknown func ", StringComparison.Ordinal) ||
                           log.Contains("program of this type cannot use helper", StringComparison.Ordinal);
            return unknown ? FeatureProbeResult.NotSupported(what, errno) : FeatureProbeResult.Supported(what);
        });
    }

    /// <summary>Whether programs of <paramref name="type"/> may call helper <paramref name="helperId"/> (see <see cref="ProbeHelper"/>).</summary>
    public static bool SupportsHelper(ProgramType type, int helperId) => ProbeHelper(type, helperId).IsSupported;

    /// <summary>
    /// Throws <see cref="BpfNotSupportedException"/> (with the minimum kernel version) if the program type is
    /// missing, or <see cref="BpfNotPermittedException"/> (naming the capabilities the process lacks) if this
    /// process may not load it.
    /// </summary>
    public static void RequireProgramType(ProgramType type) => Require(ProbeProgramType(type), KernelVersions.Of(type));

    /// <summary>As <see cref="RequireProgramType"/>, for a map type.</summary>
    public static void RequireMapType(MapType type) => Require(ProbeMapType(type), KernelVersions.Of(type));

    /// <summary>As <see cref="RequireProgramType"/>, for a helper of a program type.</summary>
    public static void RequireHelper(ProgramType type, int helperId) => Require(ProbeHelper(type, helperId), null);

    private static void Require(FeatureProbeResult r, Version? minimum)
    {
        switch (r.Status)
        {
            case FeatureStatus.Supported: return;
            case FeatureStatus.NotPermitted: throw new BpfNotPermittedException(r.Feature, r.Errno);
            default: throw new BpfNotSupportedException(r.Feature, minimum);
        }
    }

    /// <summary>Whether batch map operations exist (5.6+).</summary>
    public static bool HasBatchOps() => Batch.Value;

    internal static bool KnowsMapTypeNumber(MapType type) => ProbeMapType(type).Status != FeatureStatus.NotSupported;

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

/// <summary>The three answers of a feature probe.</summary>
public enum FeatureStatus
{
    /// <summary>The kernel has the feature and this process may use it.</summary>
    Supported,
    /// <summary>The kernel does not have the feature (or our probe's attributes are not valid for it).</summary>
    NotSupported,
    /// <summary>The kernel refused this process (EPERM/EACCES): the feature may exist, but a privilege is missing.</summary>
    NotPermitted,
}

/// <summary>The answer of one feature probe.</summary>
/// <param name="Feature">What was probed, e.g. <c>map type Arena</c>.</param>
/// <param name="Status">Supported, not supported, or not permitted for this process.</param>
/// <param name="Errno">The errno of the refusal (0 when supported).</param>
/// <param name="Detail">For <see cref="FeatureStatus.NotPermitted"/>, which capabilities the process lacks.</param>
public readonly record struct FeatureProbeResult(string Feature, FeatureStatus Status, int Errno, string? Detail)
{
    /// <summary>True when <see cref="Status"/> is <see cref="FeatureStatus.Supported"/>.</summary>
    public bool IsSupported => Status == FeatureStatus.Supported;

    /// <summary>The errno's symbolic name (e.g. <c>EINVAL</c>), or null when supported.</summary>
    public string? ErrnoName => Errno == 0 ? null : Interop.Errno.Name(Errno);

    internal static FeatureProbeResult Supported(string feature) => new(feature, FeatureStatus.Supported, 0, null);
    internal static FeatureProbeResult NotSupported(string feature, int errno) => new(feature, FeatureStatus.NotSupported, errno, null);
    internal static FeatureProbeResult NotPermitted(string feature, int errno) =>
        new(feature, FeatureStatus.NotPermitted, errno, ProcessCapabilities.DescribeForEperm());

    /// <inheritdoc/>
    public override string ToString() => Status switch
    {
        FeatureStatus.Supported => $"{Feature}: supported",
        FeatureStatus.NotSupported => $"{Feature}: not supported ({Interop.Errno.Name(Errno)})",
        _ => $"{Feature}: not permitted for this process ({Interop.Errno.Name(Errno)}): {Detail}",
    };
}
