using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Bpf.Runtime;

namespace Bpf.Loader.Tests;

/// <summary>
/// The committed object of the lookup-vs-linear-scan benchmark (bench/Bpf.Bench/bpf/scan_vs_lookup.o): BpfNet's
/// verifier accepts it (bpf_loop callback included), and on both engines the iptables-style scan, the hash lookup and
/// the LPM lookup give the verdicts their rules say: first match wins for the scan, exact 5-tuple for the hash map,
/// longest prefix for the trie, XDP_PASS for anything that matches nothing or is not IPv4 TCP/UDP. Correctness only;
/// the timings are the benchmark's. The kernel half skips naming why, or fails under BPFNET_REQUIRE_KERNEL=1.
/// </summary>
public sealed class ScanVsLookupObjectTests
{
    private const uint Drop = 1, Pass = 2;
    private const byte Tcp = 6, Udp = 17;
    private const int MaxRules = 100_000; // MAX_RULES in scan_vs_lookup.c

    [StructLayout(LayoutKind.Sequential, Size = 16)]
    private readonly record struct Flow(uint SAddr, uint DAddr, ushort SPort, ushort DPort, byte Proto);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Rule(uint SAddr, uint SMask, uint DAddr, uint DMask, ushort SPort, ushort DPort, byte Proto, uint Action);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct LpmKey(uint PrefixLength, uint DAddr);

    public static TheoryData<string> Engines => new() { "interpreter", "kernel" };

    private static string ObjectPath => Path.Combine(RepoPaths.Root, "bench", "Bpf.Bench", "bpf", "scan_vs_lookup.o");

    private static IBpfCollection Open(string engine)
    {
        var spec = ObjectSpec.ReadFile(ObjectPath);
        if (engine == "kernel")
        {
            Need.Kernel();
            return Need.PermittedOrSkip("loading scan_vs_lookup.o", () => BpfEngine.Open(spec, EngineChoice.Kernel));
        }
        // Verified by BpfNet's verifier (Open throws VerifierException otherwise); a full scan of MAX_RULES needs more
        // than the default instruction budget.
        return BpfEngine.Open(spec, EngineChoice.Interpreter,
            new BpfEngineOptions { Interpreter = new CollectionOptions { InstructionBudget = 50L * MaxRules + 1_000_000 } });
    }

    private static uint Net32(uint host) => BinaryPrimitives.ReverseEndianness(host);
    private static ushort Net16(ushort host) => BinaryPrimitives.ReverseEndianness(host);

    private static uint Ip(byte a, byte b, byte c, byte d) => Net32((uint)(a << 24 | b << 16 | c << 8 | d));

    private static Flow TcpFlow(uint daddr, ushort dport = 80) => new(Ip(192, 168, 1, 1), daddr, Net16(40000), Net16(dport), Tcp);

    private static Rule Exact(Flow f, uint action) => new(f.SAddr, uint.MaxValue, f.DAddr, uint.MaxValue, f.SPort, f.DPort, f.Proto, action);

    /// <summary>A 64-byte Ethernet/IPv4 frame carrying the flow (TCP or UDP ports at the start of the L4 header).</summary>
    private static byte[] Packet(Flow f, ushort etherType = 0x0800)
    {
        var p = new byte[64];
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(12), etherType);
        p[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(16), 40);
        p[22] = 64;
        p[23] = f.Proto;
        MemoryMarshal.Write(p.AsSpan(26), f.SAddr);
        MemoryMarshal.Write(p.AsSpan(30), f.DAddr);
        MemoryMarshal.Write(p.AsSpan(34), f.SPort);
        MemoryMarshal.Write(p.AsSpan(36), f.DPort);
        return p;
    }

    private static void SetRules(IBpfCollection c, params Rule[] rules)
    {
        for (var i = 0; i < rules.Length; i++) c.Map("rules").Update((uint)i, rules[i]);
        c.WriteVariable("nr_rules", BitConverter.GetBytes((uint)rules.Length));
    }

    private static uint Run(IBpfCollection c, string program, Flow f) => c.Program(program).Run(Packet(f)).ReturnValue;

    [Theory]
    [MemberData(nameof(Engines))]
    public void SameRules_SameVerdicts_ScanHashAndLpm(string engine)
    {
        using var c = Open(engine);
        var flows = Enumerable.Range(0, 5).Select(i => TcpFlow(Ip(10, 0, (byte)i, 1))).ToArray();
        SetRules(c, flows.Select(f => Exact(f, Drop)).ToArray());
        foreach (var f in flows)
        {
            c.Map("flows").Update(f, Drop);
            c.Map("prefixes").Update(new LpmKey(24, f.DAddr & Net32(0xFFFFFF00)), Drop);
        }

        foreach (var f in flows)
        {
            Assert.Equal(Drop, Run(c, "xdp_scan", f));
            Assert.Equal(Drop, Run(c, "xdp_hash", f));
            Assert.Equal(Drop, Run(c, "xdp_lpm", f));
        }
        var none = TcpFlow(Ip(10, 0, 9, 1)); // no rule, no entry, no prefix
        Assert.Equal(Pass, Run(c, "xdp_scan", none));
        Assert.Equal(Pass, Run(c, "xdp_hash", none));
        Assert.Equal(Pass, Run(c, "xdp_lpm", none));

        // Same destination, another port: the exact rules (scan, hash) no longer match; the /24 prefix still does.
        var otherPort = TcpFlow(Ip(10, 0, 4, 1), dport: 443);
        Assert.Equal(Pass, Run(c, "xdp_scan", otherPort));
        Assert.Equal(Pass, Run(c, "xdp_hash", otherPort));
        Assert.Equal(Drop, Run(c, "xdp_lpm", otherPort));

        // Not IPv4: everything passes without a lookup.
        foreach (var p in new[] { "xdp_scan", "xdp_hash", "xdp_lpm" })
        {
            Assert.Equal(Pass, c.Program(p).Run(Packet(flows[0], etherType: 0x86DD)).ReturnValue);
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Scan_FirstMatchWins_InRuleOrder(string engine)
    {
        using var c = Open(engine);
        var target = TcpFlow(Ip(10, 1, 2, 3));
        var broad = new Rule(Ip(0, 0, 0, 0), 0, Ip(10, 1, 0, 0), Net32(0xFFFF0000), 0, 0, 0, Pass); // 10.1.0.0/16, any port, any protocol
        var narrow = Exact(target, Drop);

        SetRules(c, broad, narrow);
        Assert.Equal(Pass, Run(c, "xdp_scan", target)); // the broad rule comes first

        SetRules(c, narrow, broad);
        Assert.Equal(Drop, Run(c, "xdp_scan", target));
        // The broad rule still catches the rest of 10.1.0.0/16, UDP too (protocol 0 = any) …
        Assert.Equal(Pass, Run(c, "xdp_scan", TcpFlow(Ip(10, 1, 200, 7), dport: 22)));
        Assert.Equal(Pass, Run(c, "xdp_scan", target with { Proto = Udp }));

        // … and a rule past nr_rules is not scanned: only the first rule is in use now.
        SetRules(c, Exact(TcpFlow(Ip(10, 9, 9, 9)), Drop));
        c.Map("rules").Update(1u, narrow); // left in the array, beyond nr_rules = 1
        Assert.Equal(Pass, Run(c, "xdp_scan", target));
        c.WriteVariable("nr_rules", BitConverter.GetBytes(2u));
        Assert.Equal(Drop, Run(c, "xdp_scan", target));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Lpm_LongestPrefixWins_WhateverTheInsertionOrder(string engine)
    {
        using var c = Open(engine);
        var prefixes = c.Map("prefixes");
        prefixes.Update(new LpmKey(24, Ip(10, 1, 2, 0)), Drop);
        prefixes.Update(new LpmKey(16, Ip(10, 1, 0, 0)), Pass);
        prefixes.Update(new LpmKey(8, Ip(10, 0, 0, 0)), Drop);
        Assert.Equal(Drop, Run(c, "xdp_lpm", TcpFlow(Ip(10, 1, 2, 3))));   // /24
        Assert.Equal(Pass, Run(c, "xdp_lpm", TcpFlow(Ip(10, 1, 3, 3))));   // /16
        Assert.Equal(Drop, Run(c, "xdp_lpm", TcpFlow(Ip(10, 200, 3, 3)))); // /8
        Assert.Equal(Pass, Run(c, "xdp_lpm", TcpFlow(Ip(11, 1, 2, 3))));   // none: default
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Scan_AllMaxRules_ReachesTheLastRule(string engine)
    {
        // The benchmark's largest N: bpf_loop walks all 100,000 rules (the kernel loads the program at any N).
        using var c = Open(engine);
        var rules = c.Map("rules");
        for (var i = 0; i < MaxRules; i++)
        {
            rules.Update((uint)i, Exact(TcpFlow(Net32(0x0A000001u + ((uint)i << 8))), Drop));
        }
        c.WriteVariable("nr_rules", BitConverter.GetBytes((uint)MaxRules));
        Assert.Equal(Drop, Run(c, "xdp_scan", TcpFlow(Net32(0x0A000001u + ((uint)(MaxRules - 1) << 8)))));
        Assert.Equal(Pass, Run(c, "xdp_scan", TcpFlow(Net32(0x0A000001u + ((uint)MaxRules << 8)))));
        // nr_rules above MAX_RULES is clamped by the program, not an out-of-bounds walk.
        c.WriteVariable("nr_rules", BitConverter.GetBytes(uint.MaxValue));
        Assert.Equal(Drop, Run(c, "xdp_scan", TcpFlow(Net32(0x0A000001u + ((uint)(MaxRules - 1) << 8)))));
    }
}
