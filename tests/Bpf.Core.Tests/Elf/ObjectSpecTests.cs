using Bpf.Btf;

namespace Bpf.Tests.Elf;

/// <summary>What each corpus object must read as: programs, maps, globals, linking.</summary>
public class ObjectSpecTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.Read(Corpus.Bytes(name), name);

    private static int CallTarget(ProgramSpec p, int index)
    {
        var insn = p.Instructions[index];
        return index + insn.Imm + 1;
    }

    private static string FunctionAt(ProgramSpec p, int index) => p.Functions.Single(f => f.StartIndex == index).Name;

    [Fact]
    public void Xdp_filter_has_two_programs_and_two_btf_maps()
    {
        var spec = Read("xdp_filter");
        Assert.Equal("GPL", spec.License);
        Assert.Equal(["xdp_filter", "xdp_pass_frags"], spec.Programs.Select(p => p.Name));
        var filter = spec.Program("xdp_filter")!;
        Assert.Equal(ProgramType.Xdp, filter.Type);
        Assert.Equal(AttachType.Xdp, filter.AttachType);
        Assert.Equal(ProgramFlags.None, filter.Flags);
        Assert.Equal(ProgramFlags.XdpFrags, spec.Program("xdp_pass_frags")!.Flags);

        var counts = spec.Map("packet_counts")!;
        Assert.Equal((MapType.Hash, 4u, 8u, 1024u, MapFlags.None, PinType.None), (counts.Type, counts.KeySize, counts.ValueSize, counts.MaxEntries, counts.Flags, counts.Pinning));
        Assert.Equal("__u32", counts.KeyType!.Name);
        Assert.Equal("__u64", counts.ValueType!.Name);
        var blocked = spec.Map("blocked")!;
        Assert.Equal((MapType.LruHash, 4u, 1u, 256u, MapFlags.NoPrealloc, PinType.ByName), (blocked.Type, blocked.KeySize, blocked.ValueSize, blocked.MaxEntries, blocked.Flags, blocked.Pinning));
        Assert.Equal("__be32", blocked.KeyType!.Name);

        // Two lookups and one update: every map lddw is recorded, rewritten to src=MAP_FD with imm 0.
        var refs = filter.References;
        Assert.Equal(["blocked", "packet_counts", "packet_counts"], refs.Select(r => r.Name));
        foreach (var r in refs)
        {
            Assert.Equal(ReferenceKind.Map, r.Kind);
            var insn = filter.Instructions[r.InstructionIndex];
            Assert.Equal(Opcodes.LdDw, insn.Opcode);
            Assert.Equal((byte)PseudoSource.MapFd, insn.SrcRaw);
            Assert.Equal(0, insn.Imm);
        }
    }

    [Fact]
    public void Socket_filter_reads_license_and_has_no_maps()
    {
        var spec = Read("socket_filter");
        Assert.Equal("Dual BSD/GPL", spec.License);
        var p = Assert.Single(spec.Programs);
        Assert.Equal(("tcp_only", "socket", ProgramType.SocketFilter), (p.Name, p.SectionName, p.Type));
        Assert.Null(p.AttachType);
        Assert.Equal(24, p.Instructions.Length);
        Assert.Empty(spec.Maps);
        Assert.Empty(p.References);
        Assert.Equal("Dual BSD/GPL", p.License);
    }

    [Fact]
    public void Tc_classifier_sections_map_to_sched_cls()
    {
        var spec = Read("tc_classifier");
        Assert.Equal(
            [("tc_mark", "tc", (AttachType?)null), ("cls_ok", "classifier", null), ("tcx_egress", "tcx/egress", AttachType.TcxEgress)],
            spec.Programs.Select(p => (p.Name, p.SectionName, p.AttachType)));
        Assert.All(spec.Programs, p => Assert.Equal(ProgramType.SchedCls, p.Type));
    }

    [Fact]
    public void Tracepoint_object_has_targets_version_strings_and_core_relocation()
    {
        var spec = Read("tracepoint");
        Assert.Equal(0x050f00u, spec.KernelVersion);
        var exec = spec.Program("count_execve")!;
        Assert.Equal((ProgramType.Tracepoint, "syscalls/sys_enter_execve"), (exec.Type, exec.AttachTo));
        Assert.Equal((ProgramType.Tracepoint, "sched/sched_switch"), (spec.Program("on_switch")!.Type, spec.Program("on_switch")!.AttachTo));
        var kprobe = spec.Program("on_new_task")!;
        Assert.Equal((ProgramType.Kprobe, "wake_up_new_task"), (kprobe.Type, kprobe.AttachTo));

        // The trace_printk format string lives in .rodata.str1.1, referenced as a map value.
        var strings = spec.Map(".rodata.str1.1")!;
        Assert.Equal(MapSource.GlobalData, strings.Source);
        Assert.True(strings.IsReadOnly);
        Assert.Equal("execve pid %d\n\0"u8.ToArray(), strings.Contents.ToArray());
        var strRef = exec.References.Single(r => r.Kind == ReferenceKind.MapValue);
        Assert.Equal(".rodata.str1.1", strRef.Name);
        Assert.Equal(0, strRef.Offset);
        Assert.Equal("exec_count", exec.References.Single(r => r.Kind == ReferenceKind.Map).Name);
        Assert.Equal(MapType.PerCpuArray, spec.Map("exec_count")!.Type);

        // task->tgid: field byte offset of member 1 of struct task_struct, at the lddw/add feeding probe_read.
        var relo = Assert.Single(kprobe.CoreRelocations);
        Assert.Equal(CoreRelocationKind.FieldByteOffset, relo.Kind);
        Assert.Equal("0:1", relo.AccessString);
        Assert.Equal("task_struct", relo.Type.Name);
        Assert.Equal(4, kprobe.Instructions[relo.InstructionIndex].Imm); // offsetof(task_struct, tgid) in the local BTF
    }

    [Fact]
    public void Globals_are_array_maps_with_variables_that_can_be_set()
    {
        var spec = Read("globals");
        var dataMaps = spec.Maps.Where(m => m.Source == MapSource.GlobalData).Select(m => m.Name).Order().ToArray();
        Assert.Equal([".bss", ".data", ".data.counters", ".rodata", ".rodata.limits"], dataMaps);
        Assert.All(spec.Maps, m => Assert.Equal((MapType.Array, 4u, 1u), (m.Type, m.KeySize, m.MaxEntries)));
        Assert.True(spec.Map(".rodata")!.IsReadOnly);
        Assert.Equal(MapFlags.ReadOnlyProgram, spec.Map(".rodata.limits")!.Flags);
        Assert.False(spec.Map(".data")!.IsReadOnly);

        var expected = new (string Name, string Section, uint Offset, uint Size, ulong Value)[]
        {
            ("filter_port", ".rodata", 0, 4, 443), ("packets_seen", ".data", 0, 8, 7), ("last_len", ".data", 8, 4, 0xffffffff),
            ("drops", ".bss", 0, 8, 0), ("custom_counter", ".data.counters", 0, 4, 3), ("custom_limit", ".rodata.limits", 0, 2, 1500),
        };
        foreach (var e in expected)
        {
            var v = spec.Variable(e.Name)!;
            Assert.Equal((e.Section, e.Offset, e.Size, e.Value), (v.SectionName, v.Offset, v.Size, v.GetUInt64()));
        }
        var greeting = spec.Variable("greeting")!;
        Assert.Equal((".rodata", 4u, 8u), (greeting.SectionName, greeting.Offset, greeting.Size));
        Assert.Equal("hello\0\0\0"u8.ToArray(), greeting.Get().ToArray());
        Assert.Equal("const volatile char[8]", BtfSpec.DisplayName(greeting.Type!));
        var pair = spec.Variable("pair")!;
        Assert.Equal(BtfKind.Struct, BtfSpec.Underlying(pair.Type!).Kind);
        Assert.Equal(8u, pair.Offset);

        // Setting a variable changes the bytes the loader will write into the map.
        spec.Variable("filter_port")!.SetUInt64(8443);
        Assert.Equal(8443u, BitConverter.ToUInt32(spec.Map(".rodata")!.Contents[..4]));
        Assert.Throws<ArgumentException>(() => spec.Variable("custom_limit")!.SetUInt64(70000));
        Assert.Throws<ArgumentException>(() => spec.Variable("drops")!.Set(new byte[3]));

        // Every global access became a map-value lddw carrying its offset.
        var p = Assert.Single(spec.Programs);
        var last = p.References.Single(r => r.InstructionIndex == 6);
        Assert.Equal((ReferenceKind.MapValue, ".data", 8L), (last.Kind, last.Name, last.Offset));
        Assert.Equal((byte)PseudoSource.MapValue, p.Instructions[6].SrcRaw);
        Assert.Equal(8, p.Instructions[7].Imm);
        Assert.Equal(
            [".data", ".data", ".rodata.limits", ".bss", ".bss", ".rodata", ".data.counters", ".rodata"],
            p.References.Select(r => r.Name));
    }

    [Fact]
    public void Bpf_to_bpf_calls_append_only_the_subprograms_each_program_needs()
    {
        var spec = Read("bpf2bpf");
        var sock = spec.Program("sock_sum")!;
        Assert.Equal(["sock_sum", "checksum", "mix"], sock.Functions.Select(f => f.Name));
        Assert.Equal(2 + 10 + 4, sock.Instructions.Length);
        Assert.Equal("checksum", FunctionAt(sock, CallTarget(sock, 0)));
        var checksumStart = sock.Functions[1].StartIndex;
        var mixCalls = Enumerable.Range(checksumStart, 10).Where(i => sock.Instructions[i].Opcode == Opcodes.Call && sock.Instructions[i].SrcRaw == 1).ToList();
        Assert.Equal(2, mixCalls.Count);
        Assert.All(mixCalls, i => Assert.Equal("mix", FunctionAt(sock, CallTarget(sock, i))));

        var tc = spec.Program("tc_sum")!;
        Assert.Equal(["tc_sum", "mix", "loop_body"], tc.Functions.Select(f => f.Name));
        Assert.Equal("mix", FunctionAt(tc, CallTarget(tc, 2)));
        // bpf_loop's callback: lddw src=BPF_PSEUDO_FUNC with a relative offset to loop_body.
        var fp = tc.Instructions[7];
        Assert.Equal((Opcodes.LdDw, (byte)PseudoSource.Func), (fp.Opcode, fp.SrcRaw));
        Assert.Equal("loop_body", FunctionAt(tc, 7 + fp.Imm + 1));
        Assert.Equal(0, tc.Instructions[8].Imm);

        // func_info: one record per placed function, at its new start; line info follows the code.
        Assert.Equal(tc.Functions.Select(f => f.StartIndex), tc.FuncInfos.Select(f => f.InstructionIndex));
        Assert.Equal(["tc_sum", "mix", "loop_body"], tc.FuncInfos.Select(f => f.Function.Name));
        var loopLine = tc.LineInfoAt(tc.Functions[2].StartIndex)!;
        Assert.Contains("*acc += index;", loopLine.LineText);
    }

    [Fact]
    public void Legacy_maps_section_is_read()
    {
        var spec = Read("legacy_maps");
        var hash = spec.Map("legacy_hash")!;
        Assert.Equal((MapSource.LegacyMaps, MapType.Hash, 4u, 8u, 128u, MapFlags.NoPrealloc), (hash.Source, hash.Type, hash.KeySize, hash.ValueSize, hash.MaxEntries, hash.Flags));
        var array = spec.Map("legacy_array")!;
        Assert.Equal((MapType.Array, 4u, 4u, 4u, MapFlags.None), (array.Type, array.KeySize, array.ValueSize, array.MaxEntries, array.Flags));
        Assert.Null(hash.KeyType);
        Assert.Equal(["legacy_hash", "legacy_array"], spec.Programs.Single().References.Select(r => r.Name));
    }

    [Fact]
    public void Program_array_values_name_the_programs()
    {
        var spec = Read("prog_array");
        Assert.Equal(["stage_one", "stage_two", "dispatch"], spec.Programs.Select(p => p.Name));
        Assert.All(spec.Programs, p => Assert.Equal("xdp", p.SectionName));
        var table = spec.Map("jump_table")!;
        Assert.Equal((MapType.ProgArray, 4u, 4u, 4u), (table.Type, table.KeySize, table.ValueSize, table.MaxEntries));
        Assert.Equal([new MapInitialValue(0, "stage_one"), new MapInitialValue(2, "stage_two")], table.InitialValues);
        Assert.Equal(2, spec.Program("stage_one")!.Instructions.Length);
        Assert.Equal("jump_table", spec.Program("dispatch")!.References.Single().Name);
    }

    [Fact]
    public void Map_in_map_has_inner_template_and_initial_slots()
    {
        var spec = Read("map_in_map");
        var outer = spec.Map("outer")!;
        Assert.Equal((MapType.ArrayOfMaps, 4u, 4u, 8u), (outer.Type, outer.KeySize, outer.ValueSize, outer.MaxEntries));
        var inner = outer.InnerMap!;
        Assert.Equal((MapSource.InnerMap, MapType.Hash, 4u, 4u, 16u), (inner.Source, inner.Type, inner.KeySize, inner.ValueSize, inner.MaxEntries));
        Assert.Equal([new MapInitialValue(1, "inner_a"), new MapInitialValue(3, "inner_b")], outer.InitialValues);
        Assert.NotNull(spec.Map("inner_a"));
        Assert.Equal("outer", spec.Programs.Single().References.Single().Name);
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Linked_programs_are_valid_instruction_streams(string name)
    {
        foreach (var p in Read(name).Programs)
        {
            Assert.Null(InstructionDecoder.Validate(p.Instructions));
            Assert.Equal(Opcodes.Exit, p.Instructions[p.Functions[0].Length - 1].Opcode);
            // Every local call lands on a function start.
            for (var i = 0; i < p.Instructions.Length; i++)
            {
                var insn = p.Instructions[i];
                if ((insn.Opcode == Opcodes.Call && insn.SrcRaw == (byte)CallKind.Local) || (insn.Opcode == Opcodes.LdDw && insn.SrcRaw == (byte)PseudoSource.Func))
                {
                    Assert.Contains(p.Functions, f => f.StartIndex == CallTarget(p, i));
                }
            }
        }
    }
}
