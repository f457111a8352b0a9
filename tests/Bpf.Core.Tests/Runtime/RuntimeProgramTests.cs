using System.Buffers.Binary;
using Bpf.Asm;
using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>Context rewrites, helpers and tail calls on hand-written programs (LLVM assembly).</summary>
public class RuntimeProgramTests
{
    private static Instruction[] Asm(string text) => Assembler.Assemble(text, AsmDialect.Llvm);

    private static ManagedCollection Collection(BpfEnvironment? env = null) =>
        new(new CollectionOptions { CpuCount = 2, Environment = env ?? new BpfEnvironment() });

    [Fact]
    public void Context_pointer_spilled_copied_and_passed_to_a_subprogram_still_reads_data_and_data_end()
    {
        var c = Collection();
        var p = c.LoadProgram("len", ProgramType.Xdp, Asm("""
            r6 = r1
            *(u64 *)(r10 - 8) = r6
            r1 = 0
            r7 = *(u64 *)(r10 - 8)
            r1 = r7
            call len_of
            r8 = r0
            r2 = *(u32 *)(r7 + 4)
            r3 = *(u32 *)(r7 + 0)
            r2 -= r3
            r0 = r8
            r0 <<= 16
            r0 |= r2
            exit
            len_of:
            r2 = *(u32 *)(r1 + 4)
            r3 = *(u32 *)(r1 + 0)
            r0 = r2
            r0 -= r3
            exit
            """));
        var r = p.Run(new XdpContext(new byte[77]));
        Assert.True(r.Succeeded, r.ToString());
        Assert.Equal((77ul << 16) | 77, r.R0);
    }

    [Fact]
    public void Plain_xdp_md_fields_read_at_their_uapi_offsets()
    {
        var c = Collection();
        var p = c.LoadProgram("f", ProgramType.Xdp, Asm("""
            r0 = *(u32 *)(r1 + 12)
            r2 = *(u32 *)(r1 + 16)
            r0 <<= 8
            r0 |= r2
            exit
            """));
        Assert.Equal(0x0503ul, p.Run(new XdpContext(new byte[20], ingressIfindex: 5, rxQueueIndex: 3)).R0);
    }

    [Fact]
    public void A_load_reached_by_the_context_and_by_another_pointer_is_refused_like_the_kernel()
    {
        var e = Assert.Throws<ProgramLoadException>(() => Collection().LoadProgram("mixed", ProgramType.Xdp, Asm("""
            if r2 == 0 goto +2
            r1 = r10
            r1 += -8
            r0 = *(u32 *)(r1 + 0)
            exit
            """)));
        Assert.Contains("context pointer and with another pointer", e.Message);
        Assert.Equal(3, e.InstructionIndex);
    }

    [Fact]
    public void A_wide_read_of_data_is_refused()
    {
        var e = Assert.Throws<ProgramLoadException>(() => Collection().LoadProgram("wide", ProgramType.Xdp, Asm("""
            r0 = *(u64 *)(r1 + 0)
            exit
            """)));
        Assert.Contains("data must be read with a 4-byte load", e.Message);
    }

    [Fact]
    public void Legacy_packet_loads_are_relative_to_skb_data_and_end_the_program_when_out_of_range()
    {
        var c = Collection();
        var p = c.LoadProgram("ld", ProgramType.SocketFilter, Asm("""
            r6 = r1
            r0 = *(u16 *)skb[2]
            r7 = r0
            r8 = 1
            r0 = *(u8 *)skb[r8 + 3]
            r7 <<= 8
            r0 |= r7
            exit
            """));
        var packet = new byte[] { 0, 0, 0x12, 0x34, 0x56 };
        Assert.Equal(0x123456ul, p.Run(new SkBuffContext(packet)).R0);
        Assert.Equal(0ul, p.Run(new SkBuffContext(packet[..4])).R0);
    }

    [Fact]
    public void Trace_printk_formats_into_the_sink_and_returns_the_length()
    {
        var lines = new List<string>();
        var c = Collection(new BpfEnvironment { TraceSink = lines.Add });
        // "x=%d y=%x\n" on the stack.
        var fmt = "x=%d y=%x\n\0"u8.ToArray();
        var stores = string.Join("\n", Enumerable.Range(0, fmt.Length).Select(i => $"*(u8 *)(r10 - {16 - i}) = {fmt[i]}"));
        var p = c.LoadProgram("t", ProgramType.SocketFilter, Asm(stores + """

            r1 = r10
            r1 += -16
            r2 = 11
            r3 = -5
            r4 = 255
            call 6
            exit
            """));
        var r = p.Run(new SkBuffContext(new byte[1]));
        Assert.True(r.Succeeded, r.ToString());
        Assert.Equal(["x=-5 y=ff"], lines);
        Assert.Equal(10ul, r.R0);
    }

    [Fact]
    public void Trace_printk_of_an_unreadable_string_prints_it_empty_and_the_run_goes_on()
    {
        // As the kernel (bpf_bprintf_prepare): bpf_printk("f=%s", NULL), e.g. after a failed probe read.
        var lines = new List<string>();
        var c = Collection(new BpfEnvironment { TraceSink = lines.Add });
        var fmt = "f=%s.\0"u8.ToArray();
        var stores = string.Join("\n", Enumerable.Range(0, fmt.Length).Select(i => $"*(u8 *)(r10 - {8 - i}) = {fmt[i]}"));
        var p = c.LoadProgram("t", ProgramType.Kprobe, Asm(stores + """

            r1 = r10
            r1 += -8
            r2 = 6
            r3 = 0
            call 6
            exit
            """));
        var r = p.Run(new MemoryContext(new byte[8]));
        Assert.True(r.Succeeded, r.ToString());
        Assert.Equal(["f=."], lines);
        Assert.Equal(3ul, r.R0); // the length of what was printed
    }

    [Fact]
    public void Clock_random_and_task_helpers_are_injectable()
    {
        var env = new BpfEnvironment { MonotonicNanoseconds = () => 1234, PidTgid = 0x0000_0007_0000_0009, RandomSeed = 42 };
        var c = Collection(env);
        var time = c.LoadProgram("time", ProgramType.Kprobe, Asm("call 5\nexit"));
        var pid = c.LoadProgram("pid", ProgramType.Kprobe, Asm("call 14\nexit"));
        var rnd = c.LoadProgram("rnd", ProgramType.Kprobe, Asm("call 7\nexit"));
        var cpu = c.LoadProgram("cpu", ProgramType.Kprobe, Asm("call 8\nexit"));
        Assert.Equal(1234ul, time.Run(new MemoryContext([])).R0);
        Assert.Equal(0x0000_0007_0000_0009ul, pid.Run(new MemoryContext([])).R0);
        Assert.Equal(1ul, cpu.Run(new MemoryContext([]), cpu: 1).R0);
        var first = Enumerable.Range(0, 5).Select(_ => rnd.Run(new MemoryContext([])).R0).ToList();
        env.RandomSeed = 42;
        var again = Enumerable.Range(0, 5).Select(_ => rnd.Run(new MemoryContext([])).R0).ToList();
        Assert.Equal(first, again);
        Assert.True(first.Distinct().Count() > 1);
    }

    [Fact]
    public void Probe_read_kernel_fails_with_efault_and_zeroes_the_destination()
    {
        var p = Collection().LoadProgram("probe", ProgramType.Kprobe, Asm("""
            r1 = -1
            *(u64 *)(r10 - 8) = r1
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = 4096
            call 113
            r1 = *(u64 *)(r10 - 8)
            r0 <<= 32
            r0 |= r1
            exit
            """));
        Assert.Equal(unchecked((ulong)-14L) << 32, p.Run(new MemoryContext([])).R0);
    }

    [Fact]
    public void User_helpers_with_typed_signatures_are_callable()
    {
        var c = Collection();
        c.Helpers.Register(1000, "mul_add", (ulong a, ulong b, ulong d) => a * b + d);
        c.Helpers.RegisterMemoryHelper(1001, "sum_bytes", writable: false, (buffer, extra) =>
        {
            long s = (long)extra;
            foreach (var b in buffer) s += b;
            return s;
        });
        var p = c.LoadProgram("u", ProgramType.Kprobe, Asm("""
            r6 = r1
            r7 = r2
            r1 = 6
            r2 = 7
            r3 = 8
            call 1000
            r8 = r0
            r1 = r6
            r2 = r7
            r3 = r8
            call 1001
            exit
            """));
        Assert.Equal(50ul + 1 + 2 + 3, p.Run(new MemoryContext([1, 2, 3])).R0);
    }

    [Fact]
    public void Tail_calls_stop_after_33_like_the_kernel()
    {
        var c = Collection();
        c.CreateMap(new MapDefinition("count", MapType.Array, 4, 8, 1));
        var jumps = c.CreateMap(new MapDefinition("jumps", MapType.ProgArray, 4, 4, 1));
        var insns = Asm("""
            r6 = r1
            r1 = 0 ll
            r2 = 0
            *(u32 *)(r10 - 4) = r2
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto +2
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            r1 = r6
            r2 = 0 ll
            r3 = 0
            call 12
            r0 = 7
            exit
            """);
        var p = c.LoadProgram("self", ProgramType.Xdp, insns,
            [new InstructionReference(1, ReferenceKind.Map, "count", 0), new InstructionReference(12, ReferenceKind.Map, "jumps", 0)]);
        ((ProgramArrayMap)jumps).Set(0, p);
        var r = p.Run(new XdpContext(new byte[20]));
        Assert.Equal(7ul, r.R0);
        Assert.Equal(33, r.TailCalls);
        Assert.True(c.Map("count").TryLookup(0u, out ulong runs));
        Assert.Equal(34ul, runs);
    }

    [Fact]
    public void Perf_event_output_records_data_and_packet_bytes_for_the_current_cpu()
    {
        var c = Collection();
        var events = (PerfEventArrayMap)c.CreateMap(new MapDefinition("events", MapType.PerfEventArray, 4, 4, 2));
        var p = c.LoadProgram("perf", ProgramType.Xdp, Asm("""
            r6 = r1
            r1 = 0x04030201
            *(u32 *)(r10 - 4) = r1
            r1 = r6
            r2 = 0 ll
            r3 = 0x3ffffffff ll
            r4 = r10
            r4 += -4
            r5 = 4
            call 25
            exit
            """), [new InstructionReference(4, ReferenceKind.Map, "events", 0)]);
        Assert.Equal(0ul, p.Run(new XdpContext([9, 8, 7, 6, 5]), cpu: 1).R0);
        var record = Assert.Single(events.Drain());
        Assert.Equal(1, record.Cpu);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 9, 8, 7 }, record.Data);
        events.Close(0);
        Assert.Equal(unchecked((ulong)-2L), p.Run(new XdpContext([1, 2, 3]), cpu: 0).R0); // ENOENT: no event on CPU 0
    }

    [Fact]
    public void Runs_on_several_threads_share_maps_with_atomic_counters()
    {
        var c = RuntimeCorpus.Load("rt_xdp_filter.o");
        var packet = RuntimeCorpus.Udp(0x0A000001, 0x0A000002);
        c.Run("xdp_filter", new XdpContext(packet)); // creates the element
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 5000; i++) c.Run("xdp_filter", new XdpContext(packet));
        });
        Assert.True(c.Map("packet_counts").TryLookup(BinaryPrimitives.ReverseEndianness(0x0A000001u), out ulong n));
        Assert.Equal(20_001ul, n);
    }
}

public class HelperTableTests
{
    private static ManagedCollection NewCollection() => new(new CollectionOptions { CpuCount = 1 });

    [Fact]
    public void Runtime_helper_names_agree_with_the_shared_prototype_table()
    {
        var c = NewCollection();
        // Every helper the runtime registers is in the one table, under the table's name.
        foreach (var helper in c.Helpers.Helpers)
        {
            if (helper.Id is BpfHelperIds.InternalLoadPacket or BpfHelperIds.InternalForEachNext)
            {
                Assert.Equal(helper.Id == BpfHelperIds.InternalLoadPacket ? BpfHelperIds.InternalLoadPacketName : BpfHelperIds.InternalForEachNextName, helper.Name);
                Assert.Null(Bpf.Helpers.HelperPrototypes.Find(helper.Id));
                continue;
            }
            if (RuntimeKfuncs.NameOf(helper.Id) is { } kfunc)
            {
                // A kfunc's implementation (kfunc calls are bound to these at load): named as the kfunc table names it.
                Assert.Equal(kfunc, helper.Name);
                Assert.NotNull(Bpf.Helpers.KfuncTable.Find(kfunc));
                Assert.Null(Bpf.Helpers.HelperPrototypes.Find(helper.Id));
                continue;
            }
            var prototype = Bpf.Helpers.HelperPrototypes.Find(helper.Id);
            Assert.True(prototype is not null, $"runtime helper {helper.Id} {helper.Name} has no entry in the helper table");
            Assert.Equal(prototype!.Name, helper.Name);
        }
        // And every helper in the table is implemented by the runtime: registered, or (bpf_loop, bpf_for_each_map_elem)
        // made a bpf-to-bpf call of a loop function before the run, as the kernel's verifier inlines bpf_loop.
        foreach (var prototype in Bpf.Helpers.HelperPrototypes.Prototypes)
        {
            Assert.True(c.Helpers.TryGet(prototype.Id, out _) || prototype.Id is BpfHelperIds.Loop or BpfHelperIds.ForEachMapElem,
                $"helper {prototype.Id} {prototype.Name} has a prototype but no runtime implementation");
        }
        Assert.False(c.Helpers.TryGet(BpfHelperIds.Loop, out _));
        Assert.False(c.Helpers.TryGet(BpfHelperIds.ForEachMapElem, out _));
    }

    /// <summary>The verifier reads a map key or value argument against the map an earlier argument named: every
    /// helper with such an argument has its map pointer before it (the kernel's "invalid map_ptr to access map->key"
    /// cannot arise from this table).</summary>
    [Fact]
    public void Map_key_and_value_arguments_follow_the_map_pointer()
    {
        foreach (var p in Bpf.Helpers.HelperPrototypes.Prototypes.Concat(Bpf.Helpers.HelperPrototypes.VerifierOnly))
        {
            var mapAt = Array.IndexOf(p.Args, Bpf.Helpers.HelperArgKind.MapPointer);
            for (var i = 0; i < p.Args.Length; i++)
            {
                if (p.Args[i] is Bpf.Helpers.HelperArgKind.MapKey or Bpf.Helpers.HelperArgKind.MapValue or Bpf.Helpers.HelperArgKind.UninitMapValue)
                {
                    Assert.True(mapAt >= 0 && mapAt < i, $"helper {p.Id} {p.Name}: argument {i + 1} ({p.Args[i]}) has no map pointer before it");
                }
            }
        }
    }

    /// <summary>The verifier checks a memory argument together with the size argument after it: every size argument
    /// of the table has a memory argument just before it (a size alone would go unchecked).</summary>
    [Fact]
    public void Size_arguments_follow_a_memory_argument()
    {
        foreach (var p in Bpf.Helpers.HelperPrototypes.Prototypes.Concat(Bpf.Helpers.HelperPrototypes.VerifierOnly))
        {
            for (var i = 0; i < p.Args.Length; i++)
            {
                var memory = i > 0 && p.Args[i - 1] is Bpf.Helpers.HelperArgKind.ReadableMemory or Bpf.Helpers.HelperArgKind.ReadableMemoryOrNull
                    or Bpf.Helpers.HelperArgKind.WritableMemory or Bpf.Helpers.HelperArgKind.ReadWriteMemory;
                if (p.Args[i] is Bpf.Helpers.HelperArgKind.Size or Bpf.Helpers.HelperArgKind.SizeOrZero)
                {
                    Assert.True(memory, $"helper {p.Id} {p.Name}: size argument {i + 1} follows no memory argument");
                }
                // And a memory argument is followed by its size.
                if (i > 0 && p.Args[i - 1] is Bpf.Helpers.HelperArgKind.ReadableMemory or Bpf.Helpers.HelperArgKind.ReadableMemoryOrNull
                    or Bpf.Helpers.HelperArgKind.WritableMemory or Bpf.Helpers.HelperArgKind.ReadWriteMemory)
                {
                    Assert.True(p.Args[i] is Bpf.Helpers.HelperArgKind.Size or Bpf.Helpers.HelperArgKind.SizeOrZero,
                        $"helper {p.Id} {p.Name}: memory argument {i} is not followed by a size");
                }
            }
            Assert.False(p.Args.Length > 0 && p.Args[^1] is Bpf.Helpers.HelperArgKind.ReadableMemory or Bpf.Helpers.HelperArgKind.ReadableMemoryOrNull
                or Bpf.Helpers.HelperArgKind.WritableMemory or Bpf.Helpers.HelperArgKind.ReadWriteMemory, $"helper {p.Id} {p.Name}: its last argument is memory without a size");
        }
    }

    [Fact]
    public void Helper_table_ids_and_names_are_unique_and_within_the_kernels_range()
    {
        var all = Bpf.Helpers.HelperPrototypes.Prototypes;
        Assert.Equal(all.Count, all.Select(p => p.Id).Distinct().Count());
        Assert.Equal(all.Count, all.Select(p => p.Name).Distinct().Count());
        Assert.All(all, p => Assert.InRange(p.Id, 1, Bpf.Helpers.HelperPrototypes.MaxKernelHelperId));
        Assert.All(all, p => Assert.Same(p, Bpf.Helpers.HelperPrototypes.Get(p.Id)));
        Assert.Throws<KeyNotFoundException>(() => Bpf.Helpers.HelperPrototypes.Get(13));
    }

    [Fact]
    public void Named_helper_ids_are_the_tables_ids_and_names()
    {
        var constants = typeof(BpfHelperIds).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int) && f.Name != nameof(BpfHelperIds.InternalLoadPacket))
            .ToDictionary(f => (int)f.GetRawConstantValue()!, f => f.Name);
        foreach (var (id, field) in constants)
        {
            var prototype = Bpf.Helpers.HelperPrototypes.Find(id);
            Assert.True(prototype is not null, $"BpfHelperIds.{field} = {id} is not in the helper table");
            Assert.Equal(prototype!.Name, SnakeCase(field));
            Assert.Equal(prototype.Name, BpfHelperIds.NameOf(id));
        }
        // The constants name every helper of the table, no more and no fewer.
        Assert.Equal(Bpf.Helpers.HelperPrototypes.Prototypes.Select(p => p.Id).Order(), constants.Keys.Order());
        Assert.Throws<KeyNotFoundException>(() => BpfHelperIds.NameOf(13));
    }

    private static string SnakeCase(string pascal)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(pascal[i]));
        }
        return sb.ToString();
    }

    [Fact]
    public void Get_current_task_returns_the_environments_task_value_and_probe_reads_through_it_fail()
    {
        var env = new BpfEnvironment();
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1, Environment = env });
        var task = c.LoadProgram("task", ProgramType.Kprobe, Assembler.Assemble("call 35\nexit", AsmDialect.Llvm));
        Assert.Equal(0ul, env.CurrentTask);
        Assert.Equal(0ul, task.Run(new MemoryContext([])).R0);
        env.CurrentTask = 0xffff_8880_1234_5600;
        Assert.Equal(0xffff_8880_1234_5600ul, task.Run(new MemoryContext([])).R0);

        // The usual pattern, bpf_probe_read_kernel(&dst, 8, task + offset), fails with -EFAULT and zeroes dst:
        // there is no task_struct behind the value in a managed run.
        var read = c.LoadProgram("read", ProgramType.Kprobe, Assembler.Assemble("""
            call 35
            r3 = r0
            r3 += 1234
            r1 = -1
            *(u64 *)(r10 - 8) = r1
            r1 = r10
            r1 += -8
            r2 = 8
            call 113
            r1 = *(u64 *)(r10 - 8)
            r0 <<= 32
            r0 |= r1
            exit
            """, AsmDialect.Llvm));
        Assert.Equal(unchecked((ulong)-14L) << 32, read.Run(new MemoryContext([])).R0);

        // The legacy bpf_probe_read_str (45, as libbpf-bootstrap's bootstrap.bpf.c calls it) fails the same way.
        var readStr = c.LoadProgram("read_str", ProgramType.Kprobe, Assembler.Assemble("""
            r1 = -1
            *(u64 *)(r10 - 8) = r1
            r1 = r10
            r1 += -8
            r2 = 8
            r3 = 4096
            call 45
            r1 = *(u64 *)(r10 - 8)
            r0 <<= 32
            r0 |= r1
            exit
            """, AsmDialect.Llvm));
        Assert.Equal(unchecked((ulong)-14L) << 32, readStr.Run(new MemoryContext([])).R0);
    }
}
