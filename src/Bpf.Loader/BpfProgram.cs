using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>A program loaded into the kernel. Disposing closes its fd (the kernel frees it once nothing else holds it).</summary>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class BpfProgram : IDisposable
{
    private BpfProgram(BpfFd fd, ProgramType type, string name, string? log)
    {
        Fd = fd;
        Type = type;
        Name = name;
        VerifierLog = log;
        if (log is not null)
        {
            ProcessedInstructions = Loader.VerifierLog.ProcessedInstructions(log);
            VerificationTime = Loader.VerifierLog.VerificationTime(log);
        }
    }

    /// <summary>The program's descriptor.</summary>
    public BpfFd Fd { get; }

    /// <summary>The program type it was loaded as.</summary>
    public ProgramType Type { get; }

    /// <summary>The object name given at load (possibly sanitised), or empty.</summary>
    public string Name { get; }

    /// <summary>The verifier log of the successful load, when <see cref="LoadOptions.LogLevel"/> asked for one; else null.</summary>
    public string? VerifierLog { get; }

    /// <summary>"processed N insns" from <see cref="VerifierLog"/>, when present.</summary>
    public long? ProcessedInstructions { get; }

    /// <summary>"verification time N usec" from <see cref="VerifierLog"/> (with <see cref="VerifierLogLevel.Stats"/>), when present.</summary>
    public TimeSpan? VerificationTime { get; }

    /// <summary>
    /// Loads raw instructions as a program. The verifier log is requested only after a first failure (unless
    /// <see cref="LoadOptions.LogLevel"/> asks for it on success), grown on ENOSPC using the kernel's
    /// <c>log_true_size</c> (6.4+) when it reports one; EAGAIN is retried.
    /// </summary>
    /// <exception cref="ProgramRejectedException">The kernel rejected the program (carries the whole log and errno).</exception>
    /// <exception cref="ArgumentException">Empty program, or a bad relocation (names the instruction index).</exception>
    public static BpfProgram Load(ProgramType type, ReadOnlySpan<Instruction> instructions, string license, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(license);
        if (instructions.IsEmpty) throw new ArgumentException("a program needs at least one instruction", nameof(instructions));
        options ??= new LoadOptions();
        if (options.InitialLogSize < 128) throw new ArgumentOutOfRangeException(nameof(options), "InitialLogSize must be at least 128 bytes");

        Instruction[] insns = instructions.ToArray();
        var relocs = options.MapRelocations ?? [];
        Relocate(insns, relocs);
        string name = SanitizeName(options.Name);

        // Hold every referenced map open for the duration of the syscall.
        var held = new List<SafeHandle>(relocs.Count);
        try
        {
            foreach (var r in relocs)
            {
                bool ok = false;
                r.Map.Fd.DangerousAddRef(ref ok);
                if (ok) held.Add(r.Map.Fd);
            }
            return LoadCore(type, insns, license, options, name);
        }
        finally
        {
            foreach (var h in held) h.DangerousRelease();
        }
    }

    /// <summary>
    /// Patches map references into a copy of a program: each <see cref="MapRelocation"/> must point at the first
    /// slot of an <c>lddw</c>. Exposed so an object loader can relocate before calling <see cref="Load"/>.
    /// </summary>
    public static void Relocate(Span<Instruction> instructions, IEnumerable<MapRelocation> relocations)
    {
        ArgumentNullException.ThrowIfNull(relocations);
        foreach (var r in relocations)
        {
            int i = r.InstructionIndex;
            if ((uint)i >= (uint)instructions.Length || !instructions[i].IsWide || i + 1 >= instructions.Length)
                throw new ArgumentException($"map relocation at instruction {i}: not the first slot of a two-slot lddw", nameof(relocations));
            uint fd = r.Map.Fd.Raw;
            if (!r.IsValue && r.ValueOffset != 0) throw new ArgumentException($"map relocation at instruction {i}: ValueOffset needs IsValue", nameof(relocations));
            // The one lddw patch every loader uses (the collection loader, the managed runtime, the verifier).
            CollectionLoader.PatchLddw("", instructions, i, r.IsValue
                ? new LddwTarget(PseudoSource.MapValue, (int)fd, (int)r.ValueOffset)
                : new LddwTarget(PseudoSource.MapFd, (int)fd, 0));
        }
    }

    private static BpfProgram LoadCore(ProgramType type, Instruction[] insns, string license, LoadOptions options, string name)
    {
        byte[] lic = Encoding.UTF8.GetBytes(license + "\0");
        uint level = (uint)options.LogLevel;
        int logSize = level != 0 ? options.InitialLogSize : 0;
        int firstErrno = 0;
        int eagain = 0;
        byte[]? log = null;
        while (true)
        {
            if (logSize > 0 && (log is null || log.Length != logSize)) log = new byte[logSize];
            var attr = new ProgLoadAttr
            {
                prog_type = (uint)type,
                insn_cnt = (uint)insns.Length,
                log_level = logSize > 0 ? level : 0,
                log_size = (uint)logSize,
                kern_version = options.KernelVersion,
                prog_flags = options.ProgramFlags,
                expected_attach_type = options.ExpectedAttachType is AttachType a ? (uint)a : 0,
                attach_btf_id = options.AttachBtfId,
            };
            WriteName(attr.prog_name, name);
            int fd, errno;
            var btf = options.ProgramBtf;
            fixed (Instruction* pi = insns)
            fixed (byte* pl = lic)
            fixed (byte* pLog = log)
            fixed (byte* pFunc = btf?.FuncInfo)
            fixed (byte* pLine = btf?.LineInfo)
            {
                if (btf is not null)
                {
                    // BTF for func_info/line_info: the kernel then checks the functions and prints source lines in its log.
                    attr.prog_btf_fd = btf.Btf.Raw;
                    attr.func_info_rec_size = btf.FuncInfo.Length > 0 ? (uint)ProgramBtfInfo.FuncInfoRecordSize : 0;
                    attr.func_info_cnt = (uint)(btf.FuncInfo.Length / ProgramBtfInfo.FuncInfoRecordSize);
                    attr.func_info = btf.FuncInfo.Length > 0 ? (ulong)pFunc : 0;
                    attr.line_info_rec_size = btf.LineInfo.Length > 0 ? (uint)ProgramBtfInfo.LineInfoRecordSize : 0;
                    attr.line_info_cnt = (uint)(btf.LineInfo.Length / ProgramBtfInfo.LineInfoRecordSize);
                    attr.line_info = btf.LineInfo.Length > 0 ? (ulong)pLine : 0;
                }
                attr.insns = (ulong)pi;
                attr.license = (ulong)pl;
                attr.log_buf = logSize > 0 ? (ulong)pLog : 0;
                fd = Sys.Bpf(BpfCommand.BPF_PROG_LOAD, ref attr, out errno);
            }
            GC.KeepAlive(btf?.Btf);
            if (fd >= 0)
            {
                string? text = logSize > 0 && options.LogLevel != VerifierLogLevel.None ? CString(log!) : null;
                return new BpfProgram(BpfFd.FromNew(fd), type, name, text);
            }
            if (errno == Errno.EAGAIN && eagain++ < options.EagainRetries) continue;
            if (firstErrno == 0) firstErrno = errno;
            if (logSize == 0)
            {
                // First failure: only now pay for a verifier log.
                level = 1;
                logSize = options.InitialLogSize;
                continue;
            }
            if (errno == Errno.ENOSPC && logSize < options.MaxLogSize)
            {
                long want = attr.log_true_size > (uint)logSize ? attr.log_true_size : (long)logSize * 4;
                logSize = (int)Math.Min(want, options.MaxLogSize);
                continue;
            }
            // With a log attached the kernel reports ENOSPC for a truncated log; the real error is the first one.
            int reported = errno == Errno.ENOSPC && firstErrno != Errno.ENOSPC ? firstErrno : errno;
            throw new ProgramRejectedException(reported, CString(log!), errno == Errno.ENOSPC, options.Name, type);
        }
    }

    private static string CString(byte[] buf)
    {
        int n = Array.IndexOf(buf, (byte)0);
        return Encoding.UTF8.GetString(buf, 0, n < 0 ? buf.Length : n);
    }

    internal static string SanitizeName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "";
        var sb = new StringBuilder(Math.Min(name.Length, 15));
        foreach (char c in name)
        {
            if (sb.Length == 15) break;
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' ? c : '_');
        }
        return sb.ToString();
    }

    internal static void WriteName(byte* dst, string name)
    {
        int n = Math.Min(name.Length, 15);
        for (int i = 0; i < n; i++) dst[i] = (byte)name[i];
    }

    /// <summary>
    /// Runs the program once or <see cref="TestRunOptions.Repeat"/> times in the kernel on the given packet
    /// and context (BPF_PROG_TEST_RUN, 4.12+; context in/out 5.2+).
    /// </summary>
    public RunResult TestRun(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default, TestRunOptions? options = null)
    {
        options ??= new TestRunOptions();
        int dataOutCap = options.DataOutCapacity ?? (data.IsEmpty ? 0 : data.Length + 512);
        int ctxOutCap = options.ContextOutCapacity ?? context.Length;
        for (int attempt = 0; ; attempt++)
        {
            byte[] dataOut = new byte[dataOutCap];
            byte[] ctxOut = new byte[ctxOutCap];
            var attr = new TestRunAttr
            {
                prog_fd = Fd.Raw,
                data_size_in = (uint)data.Length,
                data_size_out = (uint)dataOutCap,
                repeat = options.Repeat,
                ctx_size_in = (uint)context.Length,
                ctx_size_out = (uint)ctxOutCap,
                flags = (uint)options.Flags,
                cpu = options.Cpu,
            };
            int r, errno;
            fixed (byte* pd = data)
            fixed (byte* pc = context)
            fixed (byte* pdo = dataOut)
            fixed (byte* pco = ctxOut)
            {
                attr.data_in = (ulong)pd;
                attr.ctx_in = (ulong)pc;
                attr.data_out = dataOutCap > 0 ? (ulong)pdo : 0;
                attr.ctx_out = ctxOutCap > 0 ? (ulong)pco : 0;
                r = Sys.Bpf(BpfCommand.BPF_PROG_TEST_RUN, ref attr, out errno);
            }
            GC.KeepAlive(this);
            if (r < 0)
            {
                // ENOSPC: an output buffer was too small; the kernel wrote back the size it needed.
                if (errno == Errno.ENOSPC && attempt == 0 &&
                    (attr.data_size_out > (uint)dataOutCap || attr.ctx_size_out > (uint)ctxOutCap))
                {
                    dataOutCap = Math.Max(dataOutCap, (int)attr.data_size_out);
                    ctxOutCap = Math.Max(ctxOutCap, (int)attr.ctx_size_out);
                    continue;
                }
                if (errno is Errno.ENOTSUPP or Errno.EOPNOTSUPP)
                    throw new BpfNotSupportedException($"BPF_PROG_TEST_RUN for {Type} programs", null, Errno.Name(errno));
                throw BpfSyscallException.Create("BPF_PROG_TEST_RUN", errno);
            }
            Array.Resize(ref dataOut, (int)Math.Min(attr.data_size_out, (uint)dataOut.Length));
            Array.Resize(ref ctxOut, (int)Math.Min(attr.ctx_size_out, (uint)ctxOut.Length));
            return new RunResult(attr.retval) { Data = dataOut, Context = ctxOut, Runs = (int)Math.Max(1u, attr.repeat), NanosecondsPerRun = attr.duration };
        }
    }

    /// <summary>Pins the program at <paramref name="path"/> in a bpffs mount (see <see cref="BpfFs"/>).</summary>
    public void Pin(string path) => BpfFs.Pin(Fd, path);

    /// <summary>Opens a program pinned at <paramref name="path"/>; its type is read from the kernel.</summary>
    public static BpfProgram OpenPinned(string path) => FromFd(BpfFs.Get(path));

    /// <summary>The kernel's id for this program (stable across processes).</summary>
    public uint Id
    {
        get
        {
            var info = new BpfProgInfo();
            ObjectInfo.Get(Fd, ref info);
            return info.id;
        }
    }

    /// <summary>What the kernel says about this program (id, tag, sizes, maps, load time): BPF_OBJ_GET_INFO_BY_FD.</summary>
    /// <exception cref="BpfSyscallException">The kernel refused (e.g. the descriptor is not a program's).</exception>
    public ProgramInfo GetInfo() => ProgramInfo.Read(Fd);

    /// <summary>
    /// Every program loaded in the kernel, in id order, as <c>bpftool prog list</c> shows them: each id from
    /// BPF_PROG_GET_NEXT_ID is opened (BPF_PROG_GET_FD_BY_ID), described (BPF_OBJ_GET_INFO_BY_FD) and closed again.
    /// A program freed between its id and its descriptor is left out. Needs CAP_SYS_ADMIN.
    /// </summary>
    /// <exception cref="BpfSyscallException">The kernel refused: EPERM without CAP_SYS_ADMIN
    /// (<see cref="BpfSyscallException.IsEnvironmentRefusal"/>; the message names the missing capabilities).</exception>
    public static IReadOnlyList<ProgramInfo> ListLoaded() =>
        ObjectInfo.List(BpfCommand.BPF_PROG_GET_NEXT_ID, BpfCommand.BPF_PROG_GET_FD_BY_ID, ProgramInfo.Read);

    /// <summary>
    /// Turns on the kernel's run statistics for every program (BPF_ENABLE_STATS with BPF_STATS_RUN_TIME, 5.8+) for as
    /// long as the returned descriptor is open: <see cref="ProgramInfo.RunCount"/> and <see cref="ProgramInfo.RunTime"/>
    /// count meanwhile (the same as the <c>kernel.bpf_stats_enabled</c> sysctl, without changing it for good). Costs
    /// every program run two clock reads. Needs CAP_SYS_ADMIN.
    /// </summary>
    /// <exception cref="BpfSyscallException">The kernel refused: EPERM without CAP_SYS_ADMIN, EINVAL before 5.8.</exception>
    public static BpfFd EnableRunStatistics()
    {
        var attr = new EnableStatsAttr { type = 0 }; // BPF_STATS_RUN_TIME
        return Sys.BpfFdOrThrow(BpfCommand.BPF_ENABLE_STATS, ref attr);
    }

    /// <summary>Opens the loaded program with kernel id <paramref name="id"/> (BPF_PROG_GET_FD_BY_ID; CAP_SYS_ADMIN).</summary>
    /// <exception cref="KeyNotFoundException">No program has that id (never had, or it was freed).</exception>
    /// <exception cref="BpfSyscallException">The kernel refused (EPERM without CAP_SYS_ADMIN).</exception>
    public static BpfProgram OpenById(uint id)
    {
        var fd = ObjectInfo.OpenById(BpfCommand.BPF_PROG_GET_FD_BY_ID, id)
            ?? throw new KeyNotFoundException($"no BPF program with id {id} is loaded");
        return FromFd(fd);
    }

    private static BpfProgram FromFd(BpfFd fd)
    {
        try
        {
            var info = new BpfProgInfo();
            ObjectInfo.Get(fd, ref info);
            return new BpfProgram(fd, (ProgramType)info.type, ObjectInfo.Name(info.name), null);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Closes the program's descriptor.</summary>
    public void Dispose() => Fd.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Type} program '{Name}' (fd {(Fd.IsClosed ? "closed" : Fd.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))})";
}
