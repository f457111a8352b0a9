using System.Buffers.Binary;
using System.Diagnostics;
using Bpf.Asm;
using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>
/// The managed runtime as a sandbox (issue 10): unverified programs aimed at the runtime's own memory, and
/// well-formed but extreme map definitions. Each runs the hostile input and asserts the documented outcome: a
/// fault of the documented kind naming the instruction, or a <see cref="MapException"/> naming the map with the
/// kernel's errno — in bounded time and memory.
/// </summary>
public class HostileInputTests
{
    private static Instruction[] Asm(string text) => Assembler.Assemble(text, AsmDialect.Llvm);

    private static ManagedCollection Collection() => new(new CollectionOptions { CpuCount = 2 });

    private static void AssertMemoryFault(RunResult r, int insn, string contains)
    {
        Assert.False(r.Succeeded, $"the run should fault, got {r}");
        Assert.Equal(VmFaultKind.MemoryAccess, r.Fault!.Kind);
        Assert.Equal(insn, r.Fault.InstructionIndex);
        Assert.StartsWith($"insn {insn}: ", r.Fault.Message);
        Assert.Contains(contains, r.Fault.Message);
    }

    // ---- 3: the runtime's private context slots ----

    [Theory]
    [InlineData(232, "data_end")] // data_end slot
    [InlineData(224, "data")]
    [InlineData(240, "data_meta")]
    [InlineData(248, "hard start")]
    public void Xdp_program_cannot_write_the_runtimes_pointer_slots(int slot, string what)
    {
        // r3 = ctx + slot, hidden from the context rewriter behind arithmetic, as an unverified program would.
        var p = Collection().LoadProgram("forge", ProgramType.Xdp, Asm($"""
            r3 = r1
            r3 += {slot}
            r2 = 0x100000
            *(u64 *)(r3 + 0) = r2
            r0 = 2
            exit
            """));
        var context = new XdpContext(new byte[64]);
        var r = p.Run(context);
        AssertMemoryFault(r, 3, "read-only region (context: [0x100000000, 0x100000100))");
        Assert.True(what.Length > 0);
        // The context is untouched and usable again.
        Assert.Equal(64, context.Packet.Length);
    }

    [Fact]
    public void Xdp_md_itself_is_read_only_as_in_the_kernel()
    {
        var p = Collection().LoadProgram("w", ProgramType.Xdp, Asm("""
            r2 = 7
            *(u32 *)(r1 + 12) = r2
            r0 = 2
            exit
            """));
        AssertMemoryFault(p.Run(new XdpContext(new byte[20])), 1, "read-only region (context");
    }

    [Fact]
    public void Skb_program_writes_fields_but_not_the_runtimes_pointer_slots()
    {
        var c = Collection();
        var fields = c.LoadProgram("mark", ProgramType.SchedCls, Asm("""
            r2 = 0x55
            *(u32 *)(r1 + 8) = r2
            r0 = 0
            exit
            """));
        var ok = new SkBuffContext(new byte[60]);
        Assert.True(fields.Run(ok).Succeeded);
        Assert.Equal(0x55u, ok.Mark);

        var forge = c.LoadProgram("forge", ProgramType.SchedCls, Asm("""
            r3 = r1
            r3 += 200
            r2 = 0x7fffffff
            *(u64 *)(r3 + 24) = r2
            r0 = 0
            exit
            """));
        var context = new SkBuffContext(new byte[60]);
        var r = forge.Run(context);
        AssertMemoryFault(r, 3, "into the context beyond its writable fields (0..192)");
        Assert.Equal(60, context.Packet.Length);
    }

    // ---- 6: the packet is [data_meta, data_end), not the whole frame ----

    [Fact]
    public void Write_136_bytes_past_a_64_byte_packet_through_data_meta_faults()
    {
        var p = Collection().LoadProgram("overrun", ProgramType.Xdp, Asm("""
            r2 = *(u32 *)(r1 + 8)
            r3 = 0x41
            *(u8 *)(r2 + 200) = r3
            r0 = *(u8 *)(r2 + 200)
            exit
            """));
        var r = p.Run(new XdpContext(new byte[64]));
        AssertMemoryFault(r, 2, "out-of-bounds write of 1 bytes");
        Assert.Contains("nearest: packet", r.Fault!.Message);
    }

    [Theory]
    [InlineData("r2 = *(u32 *)(r1 + 0)\nr3 = *(u8 *)(r2 - 1)", "out-of-bounds read of 1 bytes")] // headroom, just before data
    [InlineData("r2 = *(u32 *)(r1 + 0)\n*(u8 *)(r2 - 200) = r2", "out-of-bounds write of 1 bytes")] // deep in the headroom
    [InlineData("r2 = *(u32 *)(r1 + 4)\nr3 = *(u8 *)(r2 + 0)", "out-of-bounds read of 1 bytes")] // tailroom, at data_end
    [InlineData("r2 = *(u32 *)(r1 + 0)\n*(u64 *)(r2 - 280) = r2", "read-only region (context")] // the pointer slots, reached from data
    public void Headroom_and_tailroom_are_not_addressable_without_adjust_helpers(string access, string fault)
    {
        var p = Collection().LoadProgram("peek", ProgramType.Xdp, Asm(access + "\nr0 = 2\nexit"));
        AssertMemoryFault(p.Run(new XdpContext(new byte[64])), 1, fault);
    }

    [Fact]
    public void Adjust_helpers_move_the_addressable_packet()
    {
        // xdp_adjust_head(-16): the 16 bytes before data become packet; xdp_adjust_tail(+16): 16 after the old end.
        var p = Collection().LoadProgram("grow", ProgramType.Xdp, Asm("""
            r6 = r1
            r2 = -16
            call 44
            if r0 != 0 goto fail
            r1 = r6
            r2 = 16
            call 65
            if r0 != 0 goto fail
            r2 = *(u32 *)(r6 + 0)
            r3 = 0xAA
            *(u8 *)(r2 + 0) = r3
            r2 = *(u32 *)(r6 + 4)
            r3 = 0xBB
            *(u8 *)(r2 - 1) = r3
            r0 = 2
            exit
            fail:
            r0 = 0
            exit
            """));
        var context = new XdpContext(new byte[64]);
        var r = p.Run(context);
        Assert.True(r.Succeeded, r.ToString());
        Assert.Equal(2ul, r.R0);
        Assert.Equal(96, context.Packet.Length);
        Assert.Equal(0xAA, context.Packet[0]);
        Assert.Equal(0xBB, context.Packet[^1]);

        // Shrinking takes the bytes away again: after xdp_adjust_tail(-16) the old last byte faults.
        var shrink = Collection().LoadProgram("shrink", ProgramType.Xdp, Asm("""
            r6 = r1
            r7 = *(u32 *)(r1 + 4)
            r2 = -16
            call 65
            r3 = *(u8 *)(r7 - 1)
            r0 = 2
            exit
            """));
        AssertMemoryFault(shrink.Run(new XdpContext(new byte[64])), 4, "out-of-bounds read of 1 bytes");
    }

    // ---- 4: ring buffer record headers ----

    private static (ManagedCollection, RingBufferMap) Ring()
    {
        var c = Collection();
        return (c, (RingBufferMap)c.CreateMap(new MapDefinition("events", MapType.RingBuf, 0, 0, 4096)));
    }

    private const string Reserve16 = """
        r1 = 0 ll
        r2 = 16
        r3 = 0
        call 131
        if r0 == 0 goto out
        r6 = r0

        """;

    [Fact]
    public void A_program_cannot_forge_its_record_header()
    {
        var (c, ring) = Ring();
        var p = c.LoadProgram("forge", ProgramType.Xdp, Asm(Reserve16 + """
            r2 = 0x3ffffff0
            *(u32 *)(r6 - 8) = r2
            r1 = r6
            r2 = 0
            call 132
            out:
            r0 = 2
            exit
            """), [new InstructionReference(0, ReferenceKind.Map, "events", 0)]);
        var r = p.Run(new XdpContext(new byte[20]));
        AssertMemoryFault(r, 8, "ring buffer 'events' outside the data of a reserved record");
        Assert.Empty(ring.Drain());
    }

    [Fact]
    public void A_forged_header_inside_the_data_is_not_a_record_and_drain_stays_small()
    {
        // The program writes a "busy, 0x3ffffff0 bytes" header inside its own record and submits a pointer past it.
        var (c, ring) = Ring();
        var p = c.LoadProgram("forge", ProgramType.Xdp, Asm(Reserve16 + """
            r2 = 0xbffffff0 ll
            *(u32 *)(r6 + 0) = r2
            r1 = r6
            r1 += 8
            r2 = 0
            call 132
            out:
            r0 = 2
            exit
            """), [new InstructionReference(0, ReferenceKind.Map, "events", 0)]);
        var r = p.Run(new XdpContext(new byte[20]));
        Assert.False(r.Succeeded);
        Assert.Equal(VmFaultKind.HelperFailed, r.Fault!.Kind);
        Assert.Contains("is not a record reserved with ringbuf_reserve", r.Fault.Message);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Empty(ring.Drain()); // the real record is still reserved (busy), so nothing is readable
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void A_reserved_record_is_writable_until_it_is_submitted()
    {
        var (c, ring) = Ring();
        var p = c.LoadProgram("ok", ProgramType.Xdp, Asm(Reserve16 + """
            r2 = 0x1122334455667788 ll
            *(u64 *)(r6 + 8) = r2
            r1 = r6
            r2 = 0
            call 132
            r2 = 1
            *(u8 *)(r6 + 0) = r2
            out:
            r0 = 2
            exit
            """), [new InstructionReference(0, ReferenceKind.Map, "events", 0)]);
        var r = p.Run(new XdpContext(new byte[20]));
        AssertMemoryFault(r, 14, "outside the data of a reserved record"); // the write after submit
        var record = Assert.Single(ring.Drain());
        Assert.Equal(16, record.Length);
        Assert.Equal(0x1122334455667788ul, BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(8)));
    }

    // ---- 5: trace_printk is bounded like the kernel's 512-byte buffer ----

    [Fact]
    public void Trace_printk_with_a_huge_width_is_instant_small_and_returns_the_kernels_length()
    {
        var env = new BpfEnvironment();
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1, Environment = env });
        // "%999999999d\0" on the stack, then bpf_trace_printk(fmt, 12, 7).
        var fmt = "%999999999d\0"u8.ToArray();
        var text = "";
        for (var i = 0; i < 12; i += 4)
        {
            text += $"r1 = {BinaryPrimitives.ReadUInt32LittleEndian(fmt.AsSpan(i))}\n*(u32 *)(r10 - {16 - i}) = r1\n";
        }
        var p = c.LoadProgram("wide", ProgramType.Kprobe, Asm(text + """
            r1 = r10
            r1 += -16
            r2 = 12
            r3 = 7
            call 6
            exit
            """));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime; // CPU time: a busy machine does not fail it
        var r = p.Run(new MemoryContext(new byte[8]));
        var took = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Assert.True(r.Succeeded, r.ToString());
        // Linux 6.18 returns 8388607: the width clamped to FIELD_WIDTH_MAX, the line cut at 511 bytes.
        Assert.Equal(8388607ul, r.R0);
        Assert.True(took < TimeSpan.FromSeconds(1), $"took {took} of CPU time");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.True(env.TraceLog.TryDequeue(out var line));
        Assert.Equal(511, line.Length);
        Assert.Equal(new string(' ', 511), line);
    }

    // ---- 1: map sizes ----

    // Each row's errno is what Linux 6.18 answers to BPF_MAP_CREATE with these attributes (probed as root).
    [Theory]
    [InlineData(MapType.Hash, 4u, 4194252u, 1u, 0u, MapError.TooBig)] // key + value >= KMALLOC_MAX_SIZE - sizeof(htab_elem)
    [InlineData(MapType.Hash, 4u, 4u, 0x10000001u, 1u, MapError.TooBig)] // n_buckets > U32_MAX / sizeof(bucket)
    [InlineData(MapType.Hash, 4u, 4u, 0xffffffffu, 1u, MapError.TooBig)]
    [InlineData(MapType.LruHash, 4u, 4u, 0x10000001u, 0u, MapError.TooBig)]
    [InlineData(MapType.HashOfMaps, 4u, 4u, 0x10000001u, 0u, MapError.TooBig)]
    [InlineData(MapType.PerCpuHash, 4u, 32769u, 1u, 0u, MapError.TooBig)] // PCPU_MIN_UNIT_SIZE
    [InlineData(MapType.PerCpuArray, 4u, 32769u, 1u, 0u, MapError.TooBig)]
    [InlineData(MapType.Array, 4u, 0x80000000u, 1u, 0u, MapError.TooBig)] // value size above INT_MAX
    [InlineData(MapType.LpmTrie, 8u, 4194025u, 1u, 1u, MapError.Invalid)] // LPM_VAL_SIZE_MAX
    [InlineData(MapType.LpmTrie, 261u, 4u, 1u, 1u, MapError.Invalid)] // LPM_KEY_SIZE_MAX
    [InlineData(MapType.Queue, 0u, 4194305u, 1u, 0u, MapError.TooBig)] // KMALLOC_MAX_SIZE
    [InlineData(MapType.RingBuf, 0u, 0u, 0x80000001u, 0u, MapError.Invalid)] // not a power of 2
    [InlineData(MapType.ProgArray, 4u, 8u, 1u, 0u, MapError.Invalid)]
    public void Sizes_the_kernel_refuses_fail_with_its_errno_naming_the_map(MapType type, uint key, uint value, uint max, uint flags, MapError errno)
    {
        var spec = new MapSpec("extreme", type, key, value, max, (MapFlags)flags);
        if (type == MapType.HashOfMaps) spec.InnerMap = new MapSpec("inner", MapSource.InnerMap, MapType.Array, 4, 4, 1, 0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<MapException>(() =>
        {
            // FromSpec refuses what it cannot represent; CreateMap refuses the rest, before allocating.
            var definition = MapDefinition.FromSpec(spec);
            Collection().CreateMap(definition);
        });
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal(errno, e.Error);
        Assert.StartsWith("map 'extreme': create (", e.Message);
    }

    [Theory]
    [InlineData(MapType.Hash, 4u, 4194251u, 1u, 0u)] // the largest hash value the kernel takes
    [InlineData(MapType.PerCpuHash, 4u, 32768u, 1u, 0u)]
    [InlineData(MapType.LpmTrie, 8u, 4194024u, 1u, 1u)]
    [InlineData(MapType.Queue, 0u, 4194304u, 1u, 0u)]
    public void Sizes_at_the_kernels_limits_are_accepted(MapType type, uint key, uint value, uint max, uint flags)
    {
        var map = Collection().CreateMap(new MapSpec("edge", type, key, value, max, (MapFlags)flags));
        Assert.Equal((int)value, map.ValueSize);
    }

    [Fact]
    public void Max_entries_0xffffffff_never_overflows()
    {
        // An array: the kernel answers ENOMEM (32 GiB); so does the runtime, without trying.
        var array = new MapSpec("big", MapSource.BtfMaps, MapType.Array, 4, 8, 0xffffffff, 0);
        Assert.Equal(MapError.NoMemory, Assert.Throws<MapException>(() => MapDefinition.FromSpec(array)).Error);

        // An LPM trie: the kernel accepts it (it allocates lazily); the definition keeps the largest count it can,
        // and the managed trie, lazy too, starts small and grows.
        var lpm = MapDefinition.FromSpec(new MapSpec("lpm", MapType.LpmTrie, 8, 4, 0xffffffff, MapFlags.NoPrealloc));
        Assert.Equal(int.MaxValue, lpm.MaxEntries);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var trie = Collection().CreateMap(lpm);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        for (var i = 0u; i < 1000; i++) trie.Update(Lpm(32, i << 8), i);
        Assert.Equal(1000, trie.Keys().Count);
        Assert.True(trie.TryLookup(Lpm(32, 777u << 8), out uint v));
        Assert.Equal(777u, v);
    }

    private static ulong Lpm(uint prefix, uint address) => prefix | (ulong)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(address) << 32;

    [Fact]
    public void A_no_prealloc_hash_map_grows_lazily_and_its_values_never_move()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 2, MaxMapMemory = 1 << 20 });
        var map = c.CreateMap(new MapDefinition("lazy", MapType.Hash, 4, 8, 1 << 24, MapFlags.NoPrealloc));
        // The kernel accepts 2^24 entries without preallocating; so does the runtime (2^24 × 8 bytes would be 128 MiB).
        var p = c.LoadProgram("bump", ProgramType.Kprobe, Asm("""
            r1 = 0 ll
            r2 = 0
            *(u32 *)(r10 - 4) = r2
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto out
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            out:
            r0 = 0
            exit
            """), [new InstructionReference(0, ReferenceKind.Map, "lazy", 0)]);
        map.Update(0u, 41ul);
        for (var i = 1u; i < 5000; i++) map.Update(i, (ulong)i); // grows the slots many times
        Assert.True(p.Run(new MemoryContext(new byte[8])).Succeeded);
        Assert.True(map.TryLookup(0u, out ulong zero));
        Assert.Equal(42ul, zero); // the program found key 0 where it was first put
        Assert.True(map.TryLookup(4999u, out ulong last));
        Assert.Equal(4999ul, last);
        // Growth stops at the per-map memory limit with ENOMEM, as a failed allocation does in the kernel.
        MapException? e = null;
        for (var i = 5000u; i < 1 << 20 && e is null; i++)
        {
            try
            {
                map.Update(i, 1ul);
            }
            catch (MapException x)
            {
                e = x;
            }
        }
        Assert.NotNull(e);
        Assert.Equal(MapError.NoMemory, e.Error);
    }

    [Fact]
    public void Inner_map_templates_are_checked_too()
    {
        var outer = new MapSpec("outer", MapSource.BtfMaps, MapType.ArrayOfMaps, 4, 4, 4, 0)
        {
            InnerMap = new MapSpec("inner", MapSource.InnerMap, MapType.Hash, 4, 8, 0xffffffff, 0),
        };
        var e = Assert.Throws<MapException>(() => MapDefinition.FromSpec(outer));
        Assert.Equal(MapError.TooBig, e.Error);
        Assert.StartsWith("map 'inner'", e.Message);

        var fits = new MapDefinition("outer", MapType.ArrayOfMaps, 4, 4, 4, 0, new MapDefinition("inner", MapType.Queue, 0, 4194305, 1));
        e = Assert.Throws<MapException>(() => Collection().CreateMap(fits));
        Assert.Equal(MapError.TooBig, e.Error);
        Assert.Contains("inner map of 'outer'", e.Message);
    }

    [Fact]
    public void The_per_map_memory_limit_is_checked_before_allocating()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 2, MaxMapMemory = 1 << 20 });
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<MapException>(() => c.CreateMap(new MapDefinition("large", MapType.Array, 4, 8, 1 << 18)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 10);
        Assert.Equal(MapError.NoMemory, e.Error);
        Assert.Contains("2097152 bytes", e.Message);
        Assert.Equal(1 << 17, c.CreateMap(new MapDefinition("fits", MapType.Array, 4, 8, 1 << 17)).MaxEntries);
    }
}
