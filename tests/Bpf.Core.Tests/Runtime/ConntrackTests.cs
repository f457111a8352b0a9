using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Bpf.Btf;
using Bpf.Runtime;
using Bpf.Tests.Elf;

namespace Bpf.Tests.Runtime;

/// <summary>
/// The conntrack kfuncs in the managed runtime (<see cref="RuntimeKfuncs"/>, <see cref="BpfEnvironment.Conntrack"/>),
/// on the feature object ct_lookup.c with a hand-built "kernel" BTF whose struct nf_conn puts status, mark and timeout
/// at offsets no real kernel uses, so a hit's fields are read where this BTF says. The kernel's own answers on the same
/// object are compared in Bpf.Loader.Tests (ConntrackKernelTests).
/// </summary>
public sealed class ConntrackTests
{
    private const int StatusOffset = 128, MarkOffset = 176, TimeoutOffset = 8, NfConnSize = 256;

    /// <summary>A kernel with struct nf_conn (256 bytes: timeout at 8, status (unsigned long) at 128, mark at 176),
    /// struct bpf_ct_opts of <paramref name="optsSize"/> bytes, and the FUNCs bpf_skb_ct_lookup (15),
    /// bpf_xdp_ct_lookup (17), bpf_ct_release (19).</summary>
    private static KernelSymbols Kernel(uint optsSize = 16, string connName = "nf_conn")
    {
        var b = new BtfBuilder();
        uint u32 = b.Type("unsigned int", 1, 0, false, 4, 32);                        // 1
        uint ulong64 = b.Type("unsigned long", 1, 0, false, 8, 64);                     // 2
        uint skb = b.Type("__sk_buff", 4, 1, false, 4, b.Str("len"), u32, 0);         // 3
        uint xdp = b.Type("xdp_md", 4, 1, false, 4, b.Str("data"), u32, 0);           // 4
        uint tuple = b.Type("bpf_sock_tuple", 4, 0, false, 36);                        // 5
        uint opts = b.Type("bpf_ct_opts", 4, 2, false, optsSize, b.Str("netns_id"), u32, 0, b.Str("error"), u32, 32); // 6
        uint conn = b.Type(connName, 4, 3, false, NfConnSize,                         // 7
            b.Str("timeout"), u32, TimeoutOffset * 8, b.Str("status"), ulong64, StatusOffset * 8, b.Str("mark"), u32, MarkOffset * 8);
        uint pSkb = b.Type("", 2, 0, false, skb);                                      // 8
        uint pXdp = b.Type("", 2, 0, false, xdp);                                      // 9
        uint pTuple = b.Type("", 2, 0, false, tuple);                                  // 10
        uint pOpts = b.Type("", 2, 0, false, opts);                                    // 11
        uint pConn = b.Type("", 2, 0, false, conn);                                    // 12
        uint none = b.Str("");
        uint skbProto = b.Type("", 13, 5, false, pConn, none, pSkb, none, pTuple, none, u32, none, pOpts, none, u32); // 13
        uint xdpProto = b.Type("", 13, 5, false, pConn, none, pXdp, none, pTuple, none, u32, none, pOpts, none, u32); // 14
        b.Type("bpf_skb_ct_lookup", 12, 1, false, skbProto);                           // 15
        b.Type("unused", 1, 0, false, 4, 32);                                          // 16
        b.Type("bpf_xdp_ct_lookup", 12, 1, false, xdpProto);                           // 17
        uint releaseProto = b.Type("", 13, 1, false, 0, none, pConn);                  // 18
        b.Type("bpf_ct_release", 12, 1, false, releaseProto);                          // 19
        return new KernelSymbols(BtfSpec.Parse(b.Build()), _ => null);
    }

    private static ManagedCollection Load(Conntrack? table = null, uint optsSize = 16)
    {
        var kernel = Kernel(optsSize);
        var c = ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject("ct_lookup")),
            new CollectionOptions { CpuCount = 1, KernelSymbols = kernel, TargetBtf = kernel.Btf });
        if (table is not null) c.Environment.Conntrack = table;
        return c;
    }

    private static readonly ConntrackEntry Web = new(ProtocolType.Tcp, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 4000), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80))
    {
        Status = 0x1_0000_0188, Mark = 0xC0FFEE, Timeout = 123_456,
    };

    private static readonly ConntrackEntry Dns = new(ProtocolType.Udp, new IPEndPoint(IPAddress.Parse("fd00::1"), 4000), new IPEndPoint(IPAddress.Parse("fd00::2"), 53))
    {
        Status = 8, Mark = 7, Timeout = 99, Zone = 5,
    };

    /// <summary>Sets ct_lookup.c's inputs: the tuple (source, destination), the sizes, l4proto, netns_id and bytes 10..15.</summary>
    private static void Arguments(ManagedCollection c, IPEndPoint source, IPEndPoint destination, byte l4proto, uint? tupleSize = null,
        uint optsSize = 16, int netns = -1, byte[]? tail = null)
    {
        var tuple = c.Variable("tuple_in");
        tuple.Clear();
        var v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        var half = v6 ? 16 : 4;
        source.Address.TryWriteBytes(tuple, out _);
        destination.Address.TryWriteBytes(tuple[half..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[(2 * half)..], (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[(2 * half + 2)..], (ushort)destination.Port);
        var opts = c.Variable("opts_in");
        opts.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(opts, netns);
        BinaryPrimitives.WriteInt32LittleEndian(opts[4..], 0x5a5a);
        opts[8] = l4proto;
        opts[9] = 0x77;
        (tail ?? new byte[6]).CopyTo(opts[10..]);
        BinaryPrimitives.WriteUInt32LittleEndian(c.Variable("tuple_size"), tupleSize ?? (v6 ? 36u : 12u));
        BinaryPrimitives.WriteUInt32LittleEndian(c.Variable("opts_size"), optsSize);
    }

    private static (ulong R0, int Error, int Dir, int ZoneDir) Run(ManagedCollection c, string program)
    {
        ProgramContext context = program == "ct_skb" ? new SkBuffContext(new byte[64]) : new XdpContext(new byte[64]);
        var r = c.Run(program, context);
        Assert.Null(r.Fault);
        int I(string n) => BinaryPrimitives.ReadInt32LittleEndian(c.Variable(n));
        Assert.Equal(r.R0, (ulong)I("found"));
        return (r.R0, I("error_out"), I("dir_out"), I("zone_dir_out"));
    }

    private static IPEndPoint Ep(string address, int port) => new(IPAddress.Parse(address), port);

    [Theory]
    [InlineData("ct_skb")]
    [InlineData("ct_xdp")]
    public void The_default_table_is_empty_every_lookup_fails_with_ENOENT(string program)
    {
        var c = Load();
        Assert.Empty(c.Environment.Conntrack.Entries);
        Arguments(c, Ep("10.0.0.1", 4000), Ep("10.0.0.2", 80), 6);
        // ct_zone_dir 0 becomes NF_CT_DEFAULT_ZONE_DIR; dir is untouched on failure.
        Assert.Equal((0UL, -2, 0x77, 3), Run(c, program));
        Arguments(c, Ep("fd00::1", 1), Ep("fd00::2", 2), 17, optsSize: 12);
        Assert.Equal((0UL, -2, 0x77, 0), Run(c, program));
    }

    [Theory]
    [InlineData("opts__sz 8", 12u, 8u, (byte)6, -1, 0, -22)]
    [InlineData("opts__sz 13", 12u, 13u, (byte)6, -1, 0, -22)]
    [InlineData("tuple__sz 16", 16u, 16u, (byte)6, -1, 0, -97)]
    [InlineData("tuple__sz 0", 0u, 16u, (byte)17, -1, 0, -97)]
    [InlineData("l4proto ICMP", 12u, 16u, (byte)1, -1, 0, -71)]
    [InlineData("netns_id -2", 12u, 16u, (byte)6, -2, 0, -22)]
    [InlineData("netns_id 3", 12u, 16u, (byte)6, 3, 0, -64)]
    [InlineData("reserved byte", 12u, 16u, (byte)6, -1, 4, -22)]
    [InlineData("ct_zone_id in the 12-byte opts", 12u, 12u, (byte)6, -1, 1, -22)]
    [InlineData("size before l4proto", 12u, 8u, (byte)1, -1, 0, -22)]
    [InlineData("l4proto before tuple__sz", 8u, 16u, (byte)1, -1, 0, -71)]
    [InlineData("tuple__sz before netns_id", 8u, 16u, (byte)6, 0, 0, -97)]
    public void Bad_arguments_return_NULL_with_the_kernels_errno_in_opts_error(string name, uint tupleSize, uint optsSize, byte l4proto, int netns, int setByte, int errno)
    {
        // Even with the entry present: the checks come before the lookup.
        var c = Load(new Conntrack([Web]));
        var tail = new byte[6];
        if (setByte > 0) tail[setByte - 1] = 1;
        Arguments(c, Web.Source, Web.Destination, l4proto, tupleSize, optsSize, netns, tail);
        var (r0, error, dir, _) = Run(c, "ct_skb");
        Assert.Equal((name, 0UL, errno, 0x77), (name, r0, error, dir));
    }

    [Fact]
    public void A_found_entry_is_an_nf_conn_with_its_fields_at_the_kernel_BTFs_offsets()
    {
        var c = Load(new Conntrack([Web, Dns]));
        foreach (var program in new[] { "ct_skb", "ct_xdp" })
        {
            Arguments(c, Web.Source, Web.Destination, 6);
            // Found: opts->error untouched, opts->dir IP_CT_DIR_ORIGINAL.
            Assert.Equal((1UL, 0x5a5a, 0, 3), Run(c, program));
            Assert.Equal(Web.Status, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("status_out")));
            Assert.Equal(Web.Mark, BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("mark_out")));
            Assert.Equal(Web.Timeout, BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("timeout_out")));

            // The reply direction's tuple finds it too, with IP_CT_DIR_REPLY.
            Arguments(c, Web.Destination, Web.Source, 6, optsSize: 12);
            Assert.Equal((1UL, 0x5a5a, 1, 0), Run(c, program));

            // Another protocol, port or zone: not found.
            Arguments(c, Web.Source, Web.Destination, 17);
            Assert.Equal(-2, Run(c, program).Error);
            Arguments(c, Web.Source, Ep("10.0.0.2", 81), 6);
            Assert.Equal(-2, Run(c, program).Error);

            // IPv6 in zone 5: found with ct_zone_id 5 only (and never with the 12-byte opts, which have no zone).
            Arguments(c, Dns.Source, Dns.Destination, 17, tail: [5, 0, 0, 0, 0, 0]);
            Assert.Equal((1UL, 0x5a5a, 0, 3), Run(c, program));
            Assert.Equal((8UL, 7u, 99u), (BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("status_out")),
                BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("mark_out")), BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("timeout_out"))));
            Arguments(c, Dns.Source, Dns.Destination, 17);
            Assert.Equal(-2, Run(c, program).Error);
        }
    }

    [Fact]
    public void The_nf_conn_memory_is_laid_out_once_per_table_and_read_only()
    {
        var c = Load(new Conntrack([Web]));
        Arguments(c, Web.Source, Web.Destination, 6);
        Run(c, "ct_skb");
        var regions = c.Space.RegionCount;
        var conn = c.Space.Regions.Single(r => r.Name == "nf_conn");
        Assert.False(conn.Writable);
        Assert.Equal(NfConnSize, conn.Length);
        Assert.Equal(Web.Mark, BinaryPrimitives.ReadUInt32LittleEndian(conn.Data[MarkOffset..]));
        Assert.Equal(Web.Timeout, BinaryPrimitives.ReadUInt32LittleEndian(conn.Data[TimeoutOffset..]));
        Assert.Equal(Web.Status, BinaryPrimitives.ReadUInt64LittleEndian(conn.Data[StatusOffset..]));
        Assert.True(conn.Data[..TimeoutOffset].IndexOfAnyExcept((byte)0) < 0);
        // Lookups and releases (the program releases every hit) allocate no more regions.
        for (var i = 0; i < 100; i++) Assert.Equal(1UL, Run(c, "ct_skb").R0);
        Assert.Equal(regions, c.Space.RegionCount);
        // A new table is laid out anew, with its own values.
        c.Environment.Conntrack = new Conntrack([Web with { Mark = 42 }]);
        Run(c, "ct_skb");
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("mark_out")));
        Assert.Equal(regions + 1, c.Space.RegionCount);
    }

    [Fact]
    public void An_error_the_kernel_writes_past_a_too_small_opts_lands_where_the_program_can_see_it_or_nowhere()
    {
        // cilium/ebpf's testdata/kfunc.c: bpf_skb_ct_lookup(ctx, buf, 0, buf, 0) with a 1-byte buf at the top of the
        // stack. The kernel writes opts->error at buf + 4, past the frame the program owns: dropped, no fault. With buf
        // lower in the frame, the write lands in the program's stack as in the kernel.
        var kernel = Kernel();
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1, KernelSymbols = kernel });
        Instruction[] Program(short at, string after)
        {
            var insns = Bpf.Asm.Assembler.Assemble(
                $"*(u64 *)(r10 - 16) = 0\nr2 = r10\nr2 += {at}\nr3 = 0\nr4 = r2\nr5 = 0\ncall 0\n{after}\nexit", Bpf.Asm.AsmDialect.Llvm);
            var call = Array.FindIndex(insns, i => i.Opcode == Opcodes.Call);
            insns[call] = insns[call].WithSrc((byte)CallKind.Kfunc).WithImm(15); // bpf_skb_ct_lookup in Kernel()
            return insns;
        }
        var top = c.LoadProgram("top", ProgramType.SchedCls, Program(-1, "r0 += 1"));
        var r = top.Run(new SkBuffContext(new byte[64]));
        Assert.Null(r.Fault);
        Assert.Equal(1UL, r.R0); // NULL + 1
        var inside = c.LoadProgram("inside", ProgramType.SchedCls, Program(-16, "r0 = *(u32 *)(r10 - 12)"));
        r = inside.Run(new SkBuffContext(new byte[64]));
        Assert.Null(r.Fault);
        Assert.Equal(unchecked((ulong)(uint)-22), r.R0);
    }

    private static Instruction[] KfuncCall(int btfId)
    {
        var insns = Bpf.Asm.Assembler.Assemble("call 0\nr0 = 0\nexit", Bpf.Asm.AsmDialect.Llvm);
        insns[0] = insns[0].WithSrc((byte)CallKind.Kfunc).WithImm(btfId);
        return insns;
    }

    [Fact]
    public void A_kfunc_id_the_kernel_BTF_does_not_name_as_a_function_is_refused_at_load()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1, KernelSymbols = Kernel() });
        Assert.Contains("insn 0 calls kfunc BTF id 9999, which is not a type of the kernel BTF",
            Assert.Throws<NotSupportedException>(() => c.LoadProgram("a", ProgramType.SchedCls, KfuncCall(9999))).Message);
        Assert.Contains("insn 0 calls kfunc BTF id 1, which is a Int of the kernel BTF, not a FUNC",
            Assert.Throws<NotSupportedException>(() => c.LoadProgram("b", ProgramType.SchedCls, KfuncCall(1))).Message);
        Assert.Equal(0UL, c.LoadProgram("c", ProgramType.SchedCls, KfuncCall(19)).Run(new SkBuffContext(new byte[64])).R0); // bpf_ct_release
    }

    [Fact]
    public void A_conntrack_lookup_on_a_kernel_BTF_without_struct_nf_conn_is_refused_at_load()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1, KernelSymbols = Kernel(connName: "nf_conn_renamed") });
        Assert.Contains("calls kfunc bpf_skb_ct_lookup, but the kernel BTF has no struct nf_conn",
            Assert.Throws<NotSupportedException>(() => c.LoadProgram("a", ProgramType.SchedCls, KfuncCall(15))).Message);
    }

    [Fact]
    public void Lookups_hits_and_releases_allocate_nothing_per_call()
    {
        var c = Load(new Conntrack([Web, Dns]));
        var program = c.Program("ct_skb");
        var context = new SkBuffContext(new byte[64]);
        foreach (var (source, destination, l4proto, expected) in new[] { (Web.Source, Web.Destination, (byte)6, 1UL), (Web.Source, Web.Destination, (byte)17, 0UL) })
        {
            Arguments(c, source, destination, l4proto);
            Assert.Equal(expected, program.RunRepeated(context, 0, 10, out _).R0); // warm: the hit lays the table out
            var before = GC.GetAllocatedBytesForCurrentThread();
            program.RunRepeated(context, 0, 1, out _);
            var one = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(expected, program.RunRepeated(context, 0, 10_000, out _).R0);
            var many = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(many - one < 10_000, $"10,000 lookups allocated {many - one} bytes more than one");
        }
    }

    [Fact]
    public void A_kernel_with_the_old_12_byte_opts_takes_only_12()
    {
        var c = Load(optsSize: 12);
        Arguments(c, Web.Source, Web.Destination, 6, optsSize: 16);
        Assert.Equal(-22, Run(c, "ct_skb").Error);
        Arguments(c, Web.Source, Web.Destination, 6, optsSize: 12);
        Assert.Equal(-2, Run(c, "ct_skb").Error);
    }

    [Fact]
    public void A_table_refuses_entries_the_kfuncs_cannot_look_up()
    {
        Assert.Contains("neither TCP nor UDP", Assert.Throws<ArgumentException>(() => new Conntrack([Web with { Protocol = ProtocolType.Icmp }])).Message);
        Assert.Contains("different families", Assert.Throws<ArgumentException>(() => new Conntrack([Web with { Source = Ep("fd00::1", 1) }])).Message);
        Assert.Contains("clashes", Assert.Throws<ArgumentException>(() => new Conntrack([Web, Web with { Mark = 1 }])).Message);
        // The reply of one is the original of the other: also one connection twice.
        Assert.Contains("clashes", Assert.Throws<ArgumentException>(() => new Conntrack([Web, Web with { Source = Web.Destination, Destination = Web.Source }])).Message);
        // The same tuple in another zone is another connection.
        Assert.Equal(2, new Conntrack([Web, Web with { Zone = 1 }]).Entries.Count);
    }

    [Fact]
    public void Every_kfunc_the_runtime_implements_is_in_the_kfunc_table()
    {
        Assert.Equal(["bpf_skb_ct_lookup", "bpf_xdp_ct_lookup", "bpf_ct_release", "bpf_rcu_read_lock", "bpf_rcu_read_unlock"], RuntimeKfuncs.Names);
        foreach (var name in RuntimeKfuncs.Names) Assert.NotNull(Bpf.Helpers.KfuncTable.Find(name));
        for (var i = 0; i < RuntimeKfuncs.Count; i++) Assert.Equal(RuntimeKfuncs.NameOf(BpfHelperIds.InternalKfuncBase + i), BpfHelperIds.NameOf(BpfHelperIds.InternalKfuncBase + i));
    }
}
