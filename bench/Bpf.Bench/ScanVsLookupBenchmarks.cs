using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// The lookup-vs-linear-scan benchmark (issue 14): N rules checked by an iptables-style first-match scan
/// (<c>xdp_scan</c>, bpf_loop over an array map), one hash-map lookup of the 5-tuple (<c>xdp_hash</c>) and one
/// LPM-trie lookup of the destination (<c>xdp_lpm</c>), in BpfNet's interpreter and in the kernel (one
/// BPF_PROG_TEST_RUN per packet, repeat = 1), against the plain C# equivalents (a List scan, a Dictionary lookup).
/// Every row is one packet; within each engine the hash lookup is the baseline, so Ratio is scan / lookup at the
/// same N. The packet matches the LAST rule: the scan compares all N rules (its worst case with a hit; a packet
/// matching none costs the same N compares and returns XDP_PASS instead).
/// </summary>
/// <remarks>Setup checks that every engine and method returns XDP_DROP for the packet and XDP_PASS for a packet
/// that matches no rule, so a row cannot time a program that did not do the work.</remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[Config(typeof(ScanVsLookupConfig))]
public class ScanVsLookupBenchmarks
{
    public const string InterpreterCategory = "Interpreter";
    public const string KernelCategory = "Kernel";
    public const string CSharpCategory = "C#";

    [Params(1, 10, 100, 1_000, 10_000, 100_000)]
    public int Rules { get; set; }

    private byte[] _packet = null!;

    private IBpfCollection? _interpreter;
    private IBpfProgram _interpreterScan = null!, _interpreterHash = null!, _interpreterLpm = null!;

    private IBpfCollection? _kernel;
    private BpfProgram _kernelScan = null!, _kernelHash = null!, _kernelLpm = null!;
    private readonly TestRunOptions _once = new() { Repeat = 1, DataOutCapacity = 128 };

    private List<CSharpRule> _list = null!;
    private Dictionary<Flow, uint> _dictionary = null!;

    [GlobalSetup(Targets = [nameof(InterpreterScan), nameof(InterpreterHash), nameof(InterpreterLpm)])]
    public void SetupInterpreter()
    {
        _packet = ScanVsLookup.Packet(ScanVsLookup.LastRule(Rules));
        _interpreter = BpfEngine.Open(ScanVsLookup.Spec(), EngineChoice.Interpreter, ScanVsLookup.InterpreterOptions);
        ScanVsLookup.Fill(_interpreter, Rules);
        _interpreterScan = _interpreter.Program(ScanVsLookup.ScanProgram);
        _interpreterHash = _interpreter.Program(ScanVsLookup.HashProgram);
        _interpreterLpm = _interpreter.Program(ScanVsLookup.LpmProgram);
        ScanVsLookup.CheckVerdicts(Rules, p => (_interpreterScan.Run(p).ReturnValue, _interpreterHash.Run(p).ReturnValue, _interpreterLpm.Run(p).ReturnValue));
    }

    [GlobalSetup(Targets = [nameof(KernelScan), nameof(KernelHash), nameof(KernelLpm)])]
    public void SetupKernel()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the kernel rows need Linux (and root)");
        _packet = ScanVsLookup.Packet(ScanVsLookup.LastRule(Rules));
        var kernel = KernelCollection.Load(ScanVsLookup.Spec());
        _kernel = kernel;
        ScanVsLookup.Fill(kernel, Rules);
        _kernelScan = kernel.Program(ScanVsLookup.ScanProgram);
        _kernelHash = kernel.Program(ScanVsLookup.HashProgram);
        _kernelLpm = kernel.Program(ScanVsLookup.LpmProgram);
        ScanVsLookup.CheckVerdicts(Rules, p => (KernelRun(_kernelScan, p), KernelRun(_kernelHash, p), KernelRun(_kernelLpm, p)));
    }

    [GlobalSetup(Targets = [nameof(ListScan), nameof(DictionaryLookup)])]
    public void SetupCSharp()
    {
        _packet = ScanVsLookup.Packet(ScanVsLookup.LastRule(Rules));
        _list = new List<CSharpRule>(Rules);
        _dictionary = new Dictionary<Flow, uint>(Rules);
        for (var i = 0; i < Rules; i++)
        {
            var f = ScanVsLookup.FlowOf(i);
            _list.Add(CSharpRule.Exact(f, ScanVsLookup.Drop));
            _dictionary[f] = ScanVsLookup.Drop;
        }
        ScanVsLookup.CheckVerdicts(Rules, p => (CSharpScan(_list, p), CSharpLookup(_dictionary, p), CSharpLookup(_dictionary, p)));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _interpreter?.Dispose();
        _kernel?.Dispose();
    }

    [Benchmark, BenchmarkCategory(InterpreterCategory)]
    public uint InterpreterScan() => _interpreterScan.Run(_packet).ReturnValue;

    [Benchmark(Baseline = true), BenchmarkCategory(InterpreterCategory)]
    public uint InterpreterHash() => _interpreterHash.Run(_packet).ReturnValue;

    [Benchmark, BenchmarkCategory(InterpreterCategory)]
    public uint InterpreterLpm() => _interpreterLpm.Run(_packet).ReturnValue;

    [Benchmark, BenchmarkCategory(KernelCategory)]
    public uint KernelScan() => KernelRun(_kernelScan, _packet);

    [Benchmark(Baseline = true), BenchmarkCategory(KernelCategory)]
    public uint KernelHash() => KernelRun(_kernelHash, _packet);

    [Benchmark, BenchmarkCategory(KernelCategory)]
    public uint KernelLpm() => KernelRun(_kernelLpm, _packet);

    [Benchmark, BenchmarkCategory(CSharpCategory)]
    public uint ListScan() => CSharpScan(_list, _packet);

    [Benchmark(Baseline = true), BenchmarkCategory(CSharpCategory)]
    public uint DictionaryLookup() => CSharpLookup(_dictionary, _packet);

    private uint KernelRun(BpfProgram program, byte[] packet) =>
        OperatingSystem.IsLinux() ? program.TestRun(packet, default, _once).ReturnValue : throw new PlatformNotSupportedException();

    /// <summary>The C# equivalent of xdp_scan: parse, then the first rule that matches gives the verdict.</summary>
    private static uint CSharpScan(List<CSharpRule> rules, byte[] packet)
    {
        if (!ScanVsLookup.TryParse(packet, out var f)) return ScanVsLookup.Pass;
        foreach (var r in CollectionsMarshal.AsSpan(rules))
        {
            if (r.Matches(f)) return r.Action;
        }
        return ScanVsLookup.Pass;
    }

    /// <summary>The C# equivalent of xdp_hash: parse, then one Dictionary lookup of the 5-tuple.</summary>
    private static uint CSharpLookup(Dictionary<Flow, uint> rules, byte[] packet) =>
        ScanVsLookup.TryParse(packet, out var f) && rules.TryGetValue(f, out var action) ? action : ScanVsLookup.Pass;
}

/// <summary>The benchmark's own exporter (for the chart) and the kernel-reported duration column.</summary>
public sealed class ScanVsLookupConfig : ManualConfig
{
    public ScanVsLookupConfig()
    {
        AddExporter(ScanVsLookupExporter.Instance);
        if (OperatingSystem.IsLinux()) AddColumn(new KernelRunDurationColumn());
    }
}

/// <summary>A packet's 5-tuple as the programs' <c>struct flow</c> (16 bytes, addresses and ports in network byte
/// order): the hash map's key, and the Dictionary's.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
public readonly record struct Flow(uint SAddr, uint DAddr, ushort SPort, ushort DPort, byte Proto);

/// <summary>The programs' <c>struct rule</c> (28 bytes): CIDRs as address and mask, ports and protocol 0 = any.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct BpfRule(uint SAddr, uint SMask, uint DAddr, uint DMask, ushort SPort, ushort DPort, byte Proto, uint Action);

/// <summary>The programs' <c>struct lpm_key</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct LpmKey(uint PrefixLength, uint DAddr);

/// <summary>A rule for the C# scan, with xdp_scan's matching.</summary>
public readonly record struct CSharpRule(uint SAddr, uint SMask, uint DAddr, uint DMask, ushort SPort, ushort DPort, byte Proto, uint Action)
{
    public static CSharpRule Exact(Flow f, uint action) => new(f.SAddr, uint.MaxValue, f.DAddr, uint.MaxValue, f.SPort, f.DPort, f.Proto, action);

    public bool Matches(in Flow f) =>
        (f.SAddr & SMask) == SAddr && (f.DAddr & DMask) == DAddr &&
        (SPort == 0 || SPort == f.SPort) && (DPort == 0 || DPort == f.DPort) && (Proto == 0 || Proto == f.Proto);
}

/// <summary>
/// The benchmark's rule set and packets. Rule i is TCP 192.168.1.1:40000 → 10.0.0.1 + 256·i : 80 (an exact
/// 5-tuple in the scan and the hash map; 10.0.0.0 + 256·i /24 in the LPM trie), verdict XDP_DROP; anything
/// else gets XDP_PASS.
/// </summary>
public static class ScanVsLookup
{
    public const string ScanProgram = "xdp_scan", HashProgram = "xdp_hash", LpmProgram = "xdp_lpm";
    public const uint Drop = 1, Pass = 2; // XDP_DROP, XDP_PASS
    public const int MaxRules = 100_000;   // MAX_RULES in scan_vs_lookup.c
    private const byte Tcp = 6;

    public static string ObjectPath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "Bpf.Bench", "bpf", "scan_vs_lookup.o");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("bench/Bpf.Bench/bpf/scan_vs_lookup.o not found above " + AppContext.BaseDirectory);
        }
    }

    public static ObjectSpec Spec() => ObjectSpec.ReadFile(ObjectPath);

    /// <summary>The interpreter's options: a scan of 100,000 rules executes about 3.1 million instructions, past the
    /// default budget of one million per run (the kernel bounds bpf_loop by iterations, 8M, not instructions).</summary>
    public static BpfEngineOptions InterpreterOptions { get; } = new()
    {
        Interpreter = new Bpf.Runtime.CollectionOptions { InstructionBudget = 50 * MaxRules + 1_000_000 },
    };

    public static int LastRule(int rules) => rules - 1;

    /// <summary>Host-order value to the uint whose in-memory bytes are its network (big-endian) order.</summary>
    public static uint Net32(uint host) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(host) : host;

    public static ushort Net16(ushort host) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(host) : host;

    public static uint DestinationOf(int rule) => 0x0A000001u + ((uint)rule << 8); // 10.0.0.1 + 256·i

    public static Flow FlowOf(int rule) => new(Net32(0xC0A80101), Net32(DestinationOf(rule)), Net16(40000), Net16(80), Tcp);

    /// <summary>Puts the N rules into the object's maps (either engine) and sets <c>nr_rules</c>.</summary>
    public static void Fill(IBpfCollection c, int rules)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rules, MaxRules);
        var array = c.Map("rules");
        var hash = c.Map("flows");
        var lpm = c.Map("prefixes");
        for (var i = 0; i < rules; i++)
        {
            var f = FlowOf(i);
            array.Update((uint)i, new BpfRule(f.SAddr, uint.MaxValue, f.DAddr, uint.MaxValue, f.SPort, f.DPort, f.Proto, Drop));
            hash.Update(f, Drop);
            lpm.Update(new LpmKey(24, Net32(DestinationOf(i) & 0xFFFFFF00)), Drop);
        }
        c.WriteVariable("nr_rules", BitConverter.GetBytes((uint)rules));
    }

    /// <summary>A 64-byte Ethernet/IPv4/TCP frame carrying <paramref name="flow"/>.</summary>
    public static byte[] Packet(Flow flow)
    {
        var p = new byte[64];
        p[12] = 0x08; // ETH_P_IP
        p[14] = 0x45; // IPv4, IHL 5
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(16), 40); // total length: IP + TCP headers
        p[22] = 64; // TTL
        p[23] = flow.Proto;
        MemoryMarshal.Write(p.AsSpan(26), flow.SAddr);
        MemoryMarshal.Write(p.AsSpan(30), flow.DAddr);
        MemoryMarshal.Write(p.AsSpan(34), flow.SPort);
        MemoryMarshal.Write(p.AsSpan(36), flow.DPort);
        p[46] = 0x50; // TCP data offset 5
        p[47] = 0x02; // SYN
        return p;
    }

    public static byte[] Packet(int rule) => Packet(FlowOf(rule));

    /// <summary>The 5-tuple of an Ethernet/IPv4/TCP-or-UDP frame, as the programs' parse() reads it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> p, out Flow flow)
    {
        flow = default;
        if (p.Length < 14 + 20 + 4 || p[12] != 0x08 || p[13] != 0x00 || (p[14] & 0x0F) != 5) return false;
        var proto = p[23];
        if (proto is not (6 or 17)) return false;
        flow = new Flow(MemoryMarshal.Read<uint>(p[26..]), MemoryMarshal.Read<uint>(p[30..]),
            MemoryMarshal.Read<ushort>(p[34..]), MemoryMarshal.Read<ushort>(p[36..]), proto);
        return true;
    }

    /// <summary>Checks one engine's (scan, hash, lpm) verdicts: XDP_DROP for the last rule's packet, XDP_PASS for a
    /// packet matching no rule (the destination of rule N, which is not installed).</summary>
    public static void CheckVerdicts(int rules, Func<byte[], (uint Scan, uint Hash, uint Lpm)> run)
    {
        var hit = run(Packet(LastRule(rules)));
        var miss = run(Packet(rules));
        if (hit != (Drop, Drop, Drop) || miss != (Pass, Pass, Pass))
        {
            throw new InvalidOperationException(
                $"N={rules}: expected (scan, hash, lpm) = (1, 1, 1) for the last rule's packet and (2, 2, 2) for a miss, got {hit} and {miss}");
        }
    }
}
