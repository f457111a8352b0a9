using System.Runtime.InteropServices;
using Bpf.Loader;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>The kernel's verdict on one program.</summary>
/// <param name="Log">The kernel's whole verifier log of a rejection (empty otherwise).</param>
public sealed record KernelVerdict(bool Accepted, string Message, int Errno, bool SetupFailed = false, string Log = "")
{
    /// <summary>Whether every line of our rejection message is a line of the kernel's log: the same words, not
    /// only the same verdict.</summary>
    public bool LogHas(VerifierError ours) =>
        ours.Message.Split('\n').All(l => l.Length > 0 && (("\n" + Log).Contains("\n" + l + "\n", StringComparison.Ordinal)
                                                            // A few kernel messages lack their newline ("expected prog array map for tail call").
                                                            || ("\n" + Log).Contains("\n" + l + "processed ", StringComparison.Ordinal)
                                                            // ... and some follow the instruction's text on its line ("... goto pc-4 infinite loop detected at insn 4").
                                                            || (l.StartsWith("infinite loop detected", StringComparison.Ordinal) && Log.Contains(" " + l + "\n", StringComparison.Ordinal))));
}

/// <summary>Refusals by both verifiers whose message is not, line for line, in the kernel's log — grouped by template
/// (numbers replaced by N), each with one example.</summary>
public sealed class WordingDifferences
{
    private readonly List<(string Name, string Template, string Example)> _items = [];

    public int Count => _items.Count;

    /// <summary>The names of the programs worded differently.</summary>
    public IEnumerable<string> Names => _items.Select(i => i.Name);

    public void Check(string name, VerificationResult ours, KernelVerdict kernel)
    {
        if (ours.IsAccepted || kernel.Accepted || kernel.SetupFailed || ours.Error!.Code == VerifierErrorCode.NotSupported || kernel.Log.Length == 0) return;
        if (kernel.LogHas(ours.Error)) return;
        var template = $"ours [{N(ours.Error.Message)}] kernel [{N(kernel.Message)}]";
        _items.Add((name, template, $"{name}: ours [{ours.Error.Message.Replace('\n', '|')}] kernel log [{kernel.Log.Replace('\n', '|')}]"));
    }

    public IEnumerable<string> Report() =>
        _items.GroupBy(i => i.Template).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}x {g.Key}\n    e.g. {g.First().Example}");

    private static string N(string s) => System.Text.RegularExpressions.Regex.Replace(s.Replace('\n', '|'), "-?[0-9]+", "N");
}

/// <summary>
/// Loads programs into the running kernel with BPF_PROG_LOAD and reports its verdict. Privileged loads run on
/// the test thread (root); CAP_BPF-only loads run on a dedicated thread whose effective capability set has
/// CAP_SYS_ADMIN and CAP_PERFMON removed (Linux capabilities are per thread, so the rest of the process keeps
/// them). Fully unprivileged loads are impossible while kernel.unprivileged_bpf_disabled is non-zero.
/// </summary>
public static unsafe class KernelOracle
{
    public static bool Required => Need.KernelRequired;

    /// <summary>Kept for callers written before <see cref="Need.Kernel"/>: skips the test with the reason (or fails
    /// under BPFNET_REQUIRE_KERNEL=1) when the kernel is unavailable; returns true otherwise. Never "passes" a
    /// test that did not check. New code calls <see cref="Need.Kernel"/>.</summary>
    public static bool Available(Action<string> print)
    {
        _ = print;
        Need.Kernel();
        return true;
    }

    /// <summary>Loads each program (instructions with map-index references, maps, type) and returns the verdicts.</summary>
    /// <remarks>With <paramref name="funcInfo"/>, each program is loaded with BTF func_info describing its
    /// subprograms (<see cref="FuncInfoBtf"/>), as an object's BTF would: callbacks need it. Our verifier is then
    /// asked with <see cref="VerifierOptions.HasFuncInfo"/>.</remarks>
    public static KernelVerdict[] LoadAll(IReadOnlyList<(Instruction[] Insns, IReadOnlyList<MapDefinition> Maps, ProgramType Type)> programs, PrivilegeMode mode, bool funcInfo = false) =>
        Under(mode, () =>
        {
            var results = new KernelVerdict[programs.Count];
            for (var i = 0; i < programs.Count; i++) results[i] = Load(programs[i].Insns, programs[i].Maps, programs[i].Type, funcInfo);
            return results;
        });

    /// <summary>Runs <paramref name="work"/> with the capabilities of <paramref name="mode"/>: on the calling thread for
    /// root, on a dedicated thread without CAP_SYS_ADMIN and CAP_PERFMON for CAP_BPF-only.</summary>
    public static T Under<T>(PrivilegeMode mode, Func<T> work)
    {
        if (mode == PrivilegeMode.Unprivileged)
        {
            throw new NotSupportedException("fully unprivileged loads need kernel.unprivileged_bpf_disabled=0; not tested");
        }
        if (mode == PrivilegeMode.Privileged) return work();
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                DropCapabilities(CapSysAdmin, CapPerfmon);
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, 16 * 1024 * 1024);
        thread.Start();
        thread.Join();
        if (failure is not null) throw new InvalidOperationException("CAP_BPF-only load thread failed", failure);
        return result;
    }

    /// <summary>Loads one program; <paramref name="attach"/> and <paramref name="attachBtfId"/> (a vmlinux type id)
    /// are its expected attach type and BTF target, for tracing and LSM programs.</summary>
    public static KernelVerdict Load(Instruction[] insns, IReadOnlyList<MapDefinition> maps, ProgramType type, bool funcInfo = false,
        AttachType? attach = null, uint attachBtfId = 0)
    {
        var created = new List<BpfMap>();
        var btfs = new List<BpfFd>();
        try
        {
            ProgramBtfInfo? programBtf = null;
            if (funcInfo)
            {
                var (blob, records) = FuncInfoBtf(insns);
                var fd = BtfLoad.Load(blob);
                btfs.Add(fd);
                programBtf = new ProgramBtfInfo(fd, records, []);
            }
            foreach (var m in maps)
            {
                try
                {
                    BpfFd? btf = null;
                    if (m.HasBtf)
                    {
                        btf = BtfLoad.Load(ValueBtf(m));
                        btfs.Add(btf);
                    }
                    created.Add(BpfMap.Create(new MapCreateSpec
                    {
                        Type = m.Type,
                        KeySize = (uint)m.KeySize,
                        ValueSize = (uint)m.ValueSize,
                        MaxEntries = (uint)m.MaxEntries,
                        Flags = (MapFlags)m.Flags,
                        // Named, so the kernel's messages that name the map ("map 'h' has no valid bpf_spin_lock") match ours.
                        Name = System.Text.RegularExpressions.Regex.IsMatch(m.Name, "^[A-Za-z0-9_.]{1,15}$") ? m.Name : null,
                        Btf = btf,
                        BtfKeyTypeId = btf is null ? 0 : 4u,
                        BtfValueTypeId = btf is null ? 0 : 3u,
                    }));
                }
                catch (BpfSyscallException e)
                {
                    // Not a verifier verdict: the map itself cannot be created here.
                    return new KernelVerdict(false, $"map '{m.Name}' not created: {e.Message}", e.Errno, SetupFailed: true);
                }
            }
            var relocs = new List<MapRelocation>();
            for (var i = 0; i + 1 < insns.Length; i++)
            {
                if (!insns[i].IsWide) continue;
                var src = (PseudoSource)insns[i].SrcRaw;
                if (src is PseudoSource.MapIndex or PseudoSource.MapIndexValue && (uint)insns[i].Imm < (uint)created.Count)
                {
                    relocs.Add(new MapRelocation(i, created[insns[i].Imm], src == PseudoSource.MapIndexValue, (uint)insns[i + 1].Imm));
                }
                i++;
            }
            if (insns.Length == 0) return new KernelVerdict(false, "empty program", 22);
            using var prog = BpfProgram.Load(type, insns, "GPL", new LoadOptions { MapRelocations = relocs, ProgramBtf = programBtf, ExpectedAttachType = attach, AttachBtfId = attachBtfId });
            return new KernelVerdict(true, "", 0);
        }
        catch (ProgramRejectedException e)
        {
            return new KernelVerdict(false, Summary(e.Log, e.Message), e.Errno, Log: e.Log);
        }
        catch (BpfSyscallException e)
        {
            return new KernelVerdict(false, $"{e.ErrnoName}: {e.Message}", e.Errno);
        }
        finally
        {
            foreach (var m in created) m.Dispose();
            foreach (var b in btfs) b.Dispose();
        }
    }

    /// <summary>Raw BTF for a map declared with <c>btf</c> / <c>spin_lock=OFF</c>: [1] int, [2] struct bpf_spin_lock
    /// { int val; }, [3] struct value of the value size (with <c>struct bpf_spin_lock lock</c> at OFF, if any),
    /// [4] the key, an integer of the key size.</summary>
    internal static byte[] ValueBtf(MapDefinition m)
    {
        var strings = "\0int\0bpf_spin_lock\0val\0value\0lock\0key\0"u8.ToArray();
        uint sInt = 1, sLock = 5, sVal = 19, sValue = 23, sLockMember = 29, sKey = 34;
        var types = new List<uint>();
        void Type(uint name, uint kind, uint vlen, uint sizeOrType) { types.Add(name); types.Add(kind << 24 | vlen); types.Add(sizeOrType); }
        Type(sInt, 1, 0, 4); types.Add(1u << 24 | 32);                       // [1] int (signed, 32 bits)
        Type(sLock, 4, 1, 4); types.AddRange([sVal, 1, 0]);                   // [2] struct bpf_spin_lock
        if (m.HasSpinLock)
        {
            Type(sValue, 4, 1, (uint)m.ValueSize); types.AddRange([sLockMember, 2, (uint)m.SpinLockOffset * 8]); // [3]
        }
        else
        {
            Type(sValue, 4, 0, (uint)m.ValueSize);                            // [3] struct value (no members)
        }
        var keySize = m.KeySize is 1 or 2 or 4 or 8 ? (uint)m.KeySize : 4;
        Type(sKey, 1, 0, keySize); types.Add(keySize * 8);                   // [4] key
        return BtfBlob(types, strings);
    }

    /// <summary>A raw BTF blob: the header, then the type section (<paramref name="types"/>, 32-bit words) and the
    /// string section.</summary>
    internal static byte[] BtfBlob(IReadOnlyList<uint> types, byte[] strings)
    {
        var typeBytes = types.SelectMany(BitConverter.GetBytes).ToArray();
        var blob = new byte[24 + typeBytes.Length + strings.Length];
        BitConverter.GetBytes((ushort)0xeB9F).CopyTo(blob, 0);
        blob[2] = 1; // version
        BitConverter.GetBytes(24u).CopyTo(blob, 4);                           // hdr_len
        BitConverter.GetBytes(0u).CopyTo(blob, 8);                            // type_off
        BitConverter.GetBytes((uint)typeBytes.Length).CopyTo(blob, 12);       // type_len
        BitConverter.GetBytes((uint)typeBytes.Length).CopyTo(blob, 16);       // str_off
        BitConverter.GetBytes((uint)strings.Length).CopyTo(blob, 20);         // str_len
        typeBytes.CopyTo(blob, 24);
        strings.CopyTo(blob, 24 + typeBytes.Length);
        return blob;
    }

    /// <summary>BTF and func_info records for a program's subprograms — instruction 0 and every target of a
    /// bpf-to-bpf call or a function pointer (lddw with BPF_PSEUDO_FUNC), in order: [1] int, [2] a prototype
    /// <c>int (void)</c>, then one static FUNC <c>fN</c> per subprogram (static functions are checked in their caller's
    /// context, so the prototype's arguments do not matter).</summary>
    internal static (byte[] Btf, byte[] FuncInfo) FuncInfoBtf(Instruction[] insns)
    {
        var starts = new SortedSet<int> { 0 };
        for (var i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            if (insn.Opcode == 0x85 && insn.SrcRaw == 1) starts.Add(i + insn.Imm + 1);
            if (insn.IsWide && insn.SrcRaw == (byte)PseudoSource.Func) starts.Add(i + insn.Imm + 1);
            if (insn.IsWide) i++;
        }
        var btf = new BtfWriter();
        btf.Type("int", BtfWriter.Int, 0, 4, rest: 1u << 24 | 32);   // [1] int
        btf.Type("", BtfWriter.FuncProto, 0, 1);                     // [2] int (void)
        var records = new List<byte>();
        foreach (var start in starts)
        {
            var id = btf.Type($"f{records.Count / 8}", BtfWriter.Func, 0, 2);   // [3 + n] static FUNC fN
            records.AddRange(BitConverter.GetBytes((uint)start));
            records.AddRange(BitConverter.GetBytes(id));
        }
        return (btf.Blob(), records.ToArray());
    }

    /// <summary>The error line(s) of a verifier log: the last lines before the statistics.</summary>
    private static string Summary(string log, string fallback)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal)
                        && !l.StartsWith("stack depth", StringComparison.Ordinal)
                        // "infinite loop detected at insn N" is followed by the two states it compared.
                        && !l.StartsWith("cur state:", StringComparison.Ordinal) && !l.StartsWith("old state:", StringComparison.Ordinal))
            .ToArray();
        return lines.Length == 0 ? fallback : lines[^1];
    }

    // ---- per-thread capabilities --------------------------------------------------------------------

    private const int CapNetAdmin = 12, CapSysAdmin = 21, CapPerfmon = 38, CapBpf = 39;
    private const uint LinuxCapabilityVersion3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective, Permitted, Inheritable;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int capget(CapHeader* header, CapData* data);

    [DllImport("libc", SetLastError = true)]
    private static extern int capset(CapHeader* header, CapData* data);

    /// <summary>Removes capabilities from the calling thread's effective set (the raw syscall wrapper is per thread).</summary>
    private static void DropCapabilities(params int[] caps)
    {
        var h = new CapHeader { Version = LinuxCapabilityVersion3, Pid = 0 };
        var d = stackalloc CapData[2];
        if (capget(&h, d) != 0) throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        foreach (var c in caps) d[c / 32].Effective &= ~(1u << (c % 32));
        h.Version = LinuxCapabilityVersion3;
        if (capset(&h, d) != 0) throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        if (capget(&h, d) != 0) throw new InvalidOperationException("capget failed");
        foreach (var c in caps)
        {
            if ((d[c / 32].Effective & (1u << (c % 32))) != 0) throw new InvalidOperationException($"capability {c} still effective");
        }
        if ((d[CapBpf / 32].Effective & (1u << (CapBpf % 32))) == 0 || (d[CapNetAdmin / 32].Effective & (1u << (CapNetAdmin % 32))) == 0)
        {
            throw new InvalidOperationException("CAP_BPF or CAP_NET_ADMIN missing; the CAP_BPF-only mode needs both");
        }
    }
}

/// <summary>Raw BTF written by hand for tests: names added to the string section as they come, types appended in id
/// order from 1 (<see cref="KernelOracle.BtfBlob"/> adds the header).</summary>
internal sealed class BtfWriter
{
    public const uint Int = 1, Ptr = 2, Struct = 4, Typedef = 8, Func = 12, FuncProto = 13;

    private readonly List<byte> _strings = [0];
    private readonly List<uint> _types = [];

    /// <summary>The id the next <see cref="Type"/> gets.</summary>
    public uint NextId { get; private set; } = 1;

    /// <summary>The string's offset (0 for the empty name).</summary>
    public uint Str(string text)
    {
        if (text.Length == 0) return 0;
        var off = (uint)_strings.Count;
        _strings.AddRange(System.Text.Encoding.ASCII.GetBytes(text));
        _strings.Add(0);
        return off;
    }

    /// <summary>Appends a type (name, kind, vlen, size or type, then the kind's trailing words) and returns its id.</summary>
    public uint Type(string name, uint kind, uint vlen, uint sizeOrType, bool kindFlag = false, params uint[] rest)
    {
        _types.AddRange([Str(name), (kindFlag ? 1u << 31 : 0) | kind << 24 | vlen, sizeOrType]);
        _types.AddRange(rest);
        return NextId++;
    }

    public byte[] Blob() => KernelOracle.BtfBlob(_types, [.. _strings]);
}
