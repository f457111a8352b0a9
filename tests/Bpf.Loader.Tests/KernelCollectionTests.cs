using System.Buffers.Binary;
using Bpf.Tests;

namespace Bpf.Loader.Tests;

public sealed class KernelCollectionTests : KernelTest
{
    /// <summary>Every object of the corpus directory (so a new corpus file is tested without editing this list).</summary>
    public static TheoryData<string> CorpusObjects()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(RepoPaths.CorpusDir, "*.o").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    /// <summary>Objects the kernel legitimately refuses as written, with the reason (checked by the test, never skipped).</summary>
    private static readonly Dictionary<string, string> Refused = new()
    {
        // LRU hash maps are always preallocated; the kernel answers BPF_F_NO_PREALLOC with ENOTSUPP (htab_map_alloc_check).
        ["xdp_filter"] = "blocked",
    };

    [KernelTheory]
    [MemberData(nameof(CorpusObjects))]
    public void CorpusObject_LoadsInTheKernel(string name)
    {
        var spec = ObjectSpec.ReadFile(RepoPaths.CorpusObject(name));
        string pins = PinDir();
        try
        {
            var options = new KernelCollectionOptions { PinPath = pins };
            if (Refused.TryGetValue(name, out var badMap))
            {
                var ex = Assert.Throws<BpfSyscallException>(() => KernelCollection.Load(spec, options));
                Assert.Contains($"map '{badMap}'", ex.Message);
                Assert.Equal("ENOTSUPP", ex.ErrnoName);
                // Without the refused flag everything else in the object loads.
                options = options with { AdjustMap = (m, req) => m.Name == badMap ? req with { Flags = req.Flags & ~MapFlags.NoPrealloc } : req };
            }
            using var c = KernelCollection.Load(spec, options);
            Assert.True(c.HasBtf, c.BtfDiagnostic);
            Assert.Empty(c.Diagnostics);
            Assert.Equal(spec.Programs.Select(p => p.Name).Order(), c.Programs.Keys.Order());
            foreach (var p in c.Programs.Values) Assert.False(p.Fd.IsClosed);
            var expectedMaps = spec.Maps.Where(m => m.Source != MapSource.InnerMap && !(m.Source == MapSource.GlobalData && m.ValueSize == 0)).Select(m => m.Name);
            Assert.Equal(expectedMaps.Order(), c.Maps.Keys.Order());
        }
        finally
        {
            DeletePinDir(pins);
        }
    }

    internal static string LoaderObject(string name) => Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", name + ".o");

    private static ObjectSpec Corpus(string name) => ObjectSpec.ReadFile(RepoPaths.CorpusObject(name));

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    [KernelFact]
    public void HiddenGlobalSubprogram_IsVerifiedInsideItsCaller()
    {
        // fill() is global with hidden visibility: verified alone (global linkage), its store through a maybe-NULL
        // pointer is refused ('mem_or_null'); with the static linkage libbpf gives it, the kernel accepts the program.
        var spec = ObjectSpec.ReadFile(LoaderObject("hidden_subprog"));
        Assert.Equal(["fill"], spec.HiddenSubprograms);
        using var c = KernelCollection.Load(spec);
        Assert.True(c.HasBtf, c.BtfDiagnostic);
        Assert.Equal(42u, c.Run("hidden_caller", new byte[64]).ReturnValue);
    }

    [KernelFact]
    public void Globals_InitialContentsAreInTheMaps_AndRodataIsFrozen()
    {
        var spec = Corpus("globals");
        using var c = KernelCollection.Load(spec);
        Assert.Equal(7ul, c.Map(".data").Lookup<uint, DataSection>(0).PacketsSeen);
        var rodata = c.Map(".rodata");
        Assert.True((rodata.Flags & MapFlags.ReadOnlyProgram) != 0);
        Assert.True((rodata.Flags & MapFlags.Mmapable) != 0);
        var bytes = new byte[rodata.ValueSize];
        rodata.Lookup(U32(0), bytes);
        Assert.Equal(spec.Map(".rodata")!.Contents.ToArray(), bytes);
        var ex = Assert.Throws<BpfSyscallException>(() => rodata.Update(U32(0), bytes));
        Assert.Equal("EPERM", ex.ErrnoName); // frozen: user space may no longer write it
        // .data stays writable from user space.
        c.Map(".data").Update(U32(0), new byte[c.Map(".data").ValueSize]);
    }

    /// <summary>globals.c's .data: packets_seen (u64), last_len (s32), 12 bytes.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Pack = 4)]
    private struct DataSection
    {
        public ulong PacketsSeen;
        public int LastLen;
    }

    [KernelFact]
    public void Globals_RodataVariableSetBeforeLoad_ChangesWhatTheProgramReturns()
    {
        var packet = ProgramTests.MakePacket(64);

        var spec = Corpus("globals");
        uint len;
        using (var c = KernelCollection.Load(spec))
        {
            var r = c.Run("use_globals", packet);
            len = (uint)c.Map(".data").Lookup<uint, DataSection>(0).LastLen;
            Assert.True(len > 0);
            Assert.Equal(len, r.ReturnValue); // filter_port == 443: returns skb->len
            Assert.Equal(8ul, c.Map(".data").Lookup<uint, DataSection>(0).PacketsSeen); // 7, then one run
        }

        spec = Corpus("globals");
        spec.Variable("filter_port")!.SetUInt64(80);
        using (var c = KernelCollection.Load(spec))
        {
            Assert.Equal(0u, c.Run("use_globals", packet).ReturnValue);
            Assert.Equal(len, (uint)c.Map(".data").Lookup<uint, DataSection>(0).LastLen); // the program still ran
        }

        // A limit below the packet length takes the drop branch, which counts in .bss.
        spec = Corpus("globals");
        spec.Variable("custom_limit")!.SetUInt64(10);
        using (var c = KernelCollection.Load(spec))
        {
            Assert.Equal(0u, c.Run("use_globals", packet).ReturnValue);
            var bss = new byte[c.Map(".bss").ValueSize];
            c.Map(".bss").Lookup(U32(0), bss);
            var drops = spec.Variable("drops")!;
            Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(bss.AsSpan((int)drops.Offset)));
        }
    }

    [KernelFact]
    public void Variables_DataIsLiveMemory_RodataIsReadOnly()
    {
        using var c = KernelCollection.Load(Corpus("globals"));
        var packet = ProgramTests.MakePacket(64);
        BinaryPrimitives.WriteUInt64LittleEndian(c.Variable("packets_seen"), 100);
        c.Run("use_globals", packet);
        // The program's increment and its write of last_len are visible through the same mapping.
        Assert.Equal(101ul, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("packets_seen")));
        Assert.Equal(50, BinaryPrimitives.ReadInt32LittleEndian(c.Variable("last_len")));
        Assert.Equal(3u + (uint)'e', BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("custom_counter"))); // .data.counters += greeting[1]
        var ex = Assert.Throws<InvalidOperationException>(() => c.Variable("filter_port"));
        Assert.Contains("frozen", ex.Message);
        Assert.Equal(443u, BinaryPrimitives.ReadUInt32LittleEndian(c.ReadVariable("filter_port")));
        Assert.Equal("hello\0\0\0"u8.ToArray(), c.ReadVariable("greeting"));
        Assert.Throws<KeyNotFoundException>(() => c.Variable("nope"));
    }

    [KernelFact]
    public void ProgramArray_InitialValuesPresent_TailCallTaken()
    {
        using var c = KernelCollection.Load(Corpus("prog_array"));
        var table = c.Map("jump_table");
        Assert.Equal(c.Program("stage_one").Id, table.Lookup<uint, uint>(0));
        Assert.Equal(c.Program("stage_two").Id, table.Lookup<uint, uint>(2));
        Assert.False(table.TryLookup<uint, uint>(1, out _));
        var packet = ProgramTests.MakePacket(64);
        // rx_queue_index is 0 in a test run: the tail call goes to slot 0, stage_one, which passes.
        Assert.Equal(2u, c.Run("dispatch", packet).ReturnValue);
        // Point slot 0 at stage_two (drop), then empty it (the call falls through to XDP_ABORTED).
        table.Update(U32(0), U32(c.Program("stage_two").Fd.Raw));
        Assert.Equal(1u, c.Run("dispatch", packet).ReturnValue);
        Assert.True(table.TryDelete(U32(0)));
        Assert.Equal(0u, c.Run("dispatch", packet).ReturnValue);
    }

    [KernelFact]
    public void MapInMap_InitialValuesPresent_ProgramReadsThroughTheInnerMap()
    {
        using var c = KernelCollection.Load(Corpus("map_in_map"));
        var outer = c.Map("outer");
        Assert.Equal(c.Map("inner_a").Id, outer.Lookup<uint, uint>(1));
        Assert.Equal(c.Map("inner_b").Id, outer.Lookup<uint, uint>(3));
        Assert.False(outer.TryLookup<uint, uint>(0, out _));
        c.Map("inner_a").Update(5u, 4242u);
        // struct __sk_buff up to mark: len and pkt_type must be zero in a test run's context.
        var ctx = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(8), 5);
        Assert.Equal(4242u, c.Run("lookup_nested", ProgramTests.MakePacket(64), ctx).ReturnValue);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(8), 6);
        Assert.Equal(0u, c.Run("lookup_nested", ProgramTests.MakePacket(64), ctx).ReturnValue);
    }

    [KernelFact]
    public void RejectedProgram_VerifierExceptionLogShowsTheSourceLine()
    {
        var ex = Assert.Throws<ProgramRejectedException>(() => KernelCollection.LoadFile(LoaderObject("rejected")));
        Assert.Equal("unchecked_read", ex.ProgramName);
        Assert.StartsWith("program 'unchecked_read'", ex.Message);
        // line_info makes the verifier print "; <source text> @ <file>:<line>" before the instructions.
        Assert.True(ex.Log.Contains("; return data[20]; @ rejected.c:8"), ex.Log);
        Assert.Equal(1, ex.FailedInstructionIndex);
    }

    [KernelFact]
    public void SkipFailedPrograms_LeavesTheRejectedProgramOut_AndSaysWhy()
    {
        using var c = KernelCollection.LoadFile(LoaderObject("rejected"), new KernelCollectionOptions { SkipFailedPrograms = true });
        var error = Assert.IsType<ProgramRejectedException>(Assert.Single(c.FailedPrograms).Value);
        Assert.Equal("unchecked_read", error.ProgramName);
        Assert.False(c.Programs.ContainsKey("unchecked_read"));
        Assert.Contains(c.Diagnostics, d => d.StartsWith("program 'unchecked_read' left out", StringComparison.Ordinal));
        // A program the object has but the engine left out: NotSupportedException on both engines (the interpreter's
        // for what it cannot run), carrying the kernel's refusal; a name the object lacks stays KeyNotFoundException.
        var leftOut = Assert.Throws<NotSupportedException>(() => c.Program("unchecked_read"));
        Assert.Same(error, leftOut.InnerException);
        Assert.Throws<KeyNotFoundException>(() => c.Program("no_such_program"));
    }

    [KernelFact]
    public void RejectedProgram_WithoutBtf_LogHasNoSourceLines()
    {
        var ex = Assert.Throws<ProgramRejectedException>(() => KernelCollection.LoadFile(LoaderObject("rejected"), new KernelCollectionOptions { LoadBtf = false }));
        Assert.DoesNotContain("rejected.c", ex.Log);
        Assert.Equal(1, ex.FailedInstructionIndex);
    }

    [KernelFact]
    public void BtfDefinedMaps_CarryTheirKeyAndValueTypeIds()
    {
        var spec = Corpus("xdp_filter");
        string pins = PinDir();
        try
        {
            using var c = KernelCollection.Load(spec, NoLruPrealloc(pins));
            Assert.True(c.HasBtf);
            Assert.Null(c.BtfDiagnostic);
            var ids = c.Map("packet_counts").BtfIds;
            Assert.NotEqual(0u, ids.BtfId);
            Assert.Equal(spec.Map("packet_counts")!.KeyType!.Id, ids.KeyTypeId);
            Assert.Equal(spec.Map("packet_counts")!.ValueType!.Id, ids.ValueTypeId);
            Assert.Equal(ids.BtfId, c.Map("blocked").BtfIds.BtfId); // one BTF object for the whole collection
        }
        finally
        {
            DeletePinDir(pins);
        }
        using var g = KernelCollection.Load(Corpus("globals"));
        var data = g.Map(".data").BtfIds;
        Assert.Equal(0u, data.KeyTypeId);
        Assert.Equal(Corpus("globals").Map(".data")!.ValueType!.Id, data.ValueTypeId); // the DATASEC
        using var legacy = KernelCollection.Load(Corpus("legacy_maps"));
        Assert.Equal(default, legacy.Map("legacy_hash").BtfIds with { BtfId = 0 }); // legacy maps have no BTF types
    }

    private static KernelCollectionOptions NoLruPrealloc(string pins) => new()
    {
        PinPath = pins,
        AdjustMap = (m, req) => m.Type == MapType.LruHash ? req with { Flags = req.Flags & ~MapFlags.NoPrealloc } : req,
    };

    [KernelFact]
    public void LoadBtfOff_CollectionSaysSo_AndStillLoads()
    {
        var packet = ProgramTests.MakePacket(64);
        using var with = KernelCollection.Load(Corpus("globals"));
        using var without = KernelCollection.Load(Corpus("globals"), new KernelCollectionOptions { LoadBtf = false });
        Assert.False(without.HasBtf);
        Assert.Contains("turned off", without.BtfDiagnostic);
        Assert.Equal(default, without.Map(".data").BtfIds);
        Assert.Equal(with.Run("use_globals", packet).ReturnValue, without.Run("use_globals", packet).ReturnValue);
    }

    [KernelFact]
    public void Bpf2Bpf_Subprograms_AndTheBpfLoopCallbackNeedsBtf()
    {
        var packet = ProgramTests.MakePacket(80);
        using var a = KernelCollection.Load(Corpus("bpf2bpf"));
        uint len = (uint)packet.Length - 14; // a socket filter's skb starts after the Ethernet header
        uint Mix(uint x, uint y) => (x * 31) ^ y;
        // checksum(skb) = mix(len, protocol) + mix(mark, 7); the test run's protocol is the EtherType (big-endian in skb->protocol).
        uint protocol = (uint)(packet[12] | packet[13] << 8);
        Assert.Equal(Mix(len, protocol) + Mix(0, 7), a.Run("sock_sum", packet).ReturnValue);
        // tc_sum passes a callback to bpf_loop: the kernel needs the callback's func_info, so without BTF it refuses.
        var ex = Assert.Throws<ProgramRejectedException>(() => KernelCollection.Load(Corpus("bpf2bpf"), new KernelCollectionOptions { LoadBtf = false }));
        Assert.Equal("tc_sum", ex.ProgramName);
        Assert.Contains("missing btf func_info", ex.Message);
    }

    [KernelFact]
    public void SanitizedBtf_HasNoNewerKinds_AndTheKernelTakesIt_WithLineInfo()
    {
        foreach (var name in new[] { "bpf2bpf", "globals", "map_in_map", "tracepoint" })
        {
            var spec = Corpus(name);
            var blob = new BtfEncoder(spec.Btf!, sanitize: true).Encode();
            var back = Bpf.Btf.BtfSpec.Parse(blob);
            Assert.Equal(spec.Btf!.Types.Count, back.Types.Count); // ids unchanged
            Assert.DoesNotContain(back.Types, t => t.Kind is Bpf.Btf.BtfKind.DeclTag or Bpf.Btf.BtfKind.TypeTag or Bpf.Btf.BtfKind.Enum64 or Bpf.Btf.BtfKind.Float);
            Assert.DoesNotContain(back.Types, t => t is Bpf.Btf.BtfFunc { Linkage: Bpf.Btf.BtfLinkage.Global });
            using var c = KernelCollection.Load(spec, new KernelCollectionOptions { SanitizeBtf = true });
            Assert.True(c.HasBtf);
            Assert.Contains(c.Diagnostics, d => d.Contains("sanitised"));
        }
        var ex = Assert.Throws<ProgramRejectedException>(() => KernelCollection.LoadFile(LoaderObject("rejected"), new KernelCollectionOptions { SanitizeBtf = true }));
        Assert.Contains("@ rejected.c:8", ex.Log);
    }

    [KernelFact]
    public void EncodedBtf_RoundTripsEveryType()
    {
        foreach (var name in new[] { "bpf2bpf", "globals", "map_in_map", "prog_array", "tracepoint", "xdp_filter" })
        {
            var spec = Corpus(name);
            var back = Bpf.Btf.BtfSpec.Parse(new BtfEncoder(spec.Btf!).Encode());
            Assert.Equal(spec.Btf!.Types.Count, back.Types.Count);
            for (int i = 0; i < back.Types.Count; i++)
            {
                Assert.Equal(spec.Btf.Types[i].Kind, back.Types[i].Kind);
                Assert.Equal(spec.Btf.Types[i].Name, back.Types[i].Name);
                Assert.Equal(spec.Btf.Types[i].ToString(), back.Types[i].ToString());
            }
        }
    }

    [KernelFact]
    public void Pinning_ByName_PinSurvivesDispose_AndIsReusedByTheNextLoad()
    {
        string pins = PinDir();
        try
        {
            using (var c = KernelCollection.Load(Corpus("xdp_filter"), NoLruPrealloc(pins)))
            {
                Assert.Equal([Path.Combine(pins, "blocked")], c.PinnedMaps);
                c.Map("blocked").Update(0x0100000au, (byte)1);
            }
            Assert.True(File.Exists(Path.Combine(pins, "blocked")));
            using (var c = KernelCollection.Load(Corpus("xdp_filter"), NoLruPrealloc(pins)))
            {
                Assert.Equal((byte)1, c.Map("blocked").Lookup<uint, byte>(0x0100000au));
                // The program uses the pinned map: a packet from 10.0.0.1 is dropped.
                var pkt = new byte[64];
                pkt[12] = 0x08; // EtherType IPv4
                pkt[14] = 0x45;
                BinaryPrimitives.WriteUInt32LittleEndian(pkt.AsSpan(14 + 12), 0x0100000au);
                Assert.Equal(1u, c.Run("xdp_filter", pkt).ReturnValue);
                pkt[14 + 12] = 11;
                Assert.Equal(2u, c.Run("xdp_filter", pkt).ReturnValue);
            }
        }
        finally
        {
            DeletePinDir(pins);
        }
    }

    [KernelFact]
    public void Pinning_IncompatiblePinnedMap_IsRefusedWithBothShapes()
    {
        string pins = PinDir();
        try
        {
            using (var other = BpfMap.Create(new MapCreateSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 8 }))
                other.Pin(Path.Combine(pins, "blocked"));
            var ex = Assert.Throws<InvalidOperationException>(() => KernelCollection.Load(Corpus("xdp_filter"), NoLruPrealloc(pins)));
            Assert.Contains("map 'blocked'", ex.Message);
            Assert.Contains("does not match", ex.Message);
        }
        finally
        {
            DeletePinDir(pins);
        }
    }

    [KernelFact]
    public void CoreRelocation_FieldOffsetPatchedWithTheKernelsOffset()
    {
        var kernel = KernelBtf.TryGet();
        Assert.NotNull(kernel); // this kernel has /sys/kernel/btf/vmlinux (checked: the tests run where it exists)
        var spec = Corpus("tracepoint");
        var prog = spec.Program("on_new_task")!;
        var relo = Assert.Single(prog.CoreRelocations);
        var insns = prog.Instructions.ToArray();
        Assert.Equal(4, insns[relo.InstructionIndex].Imm); // the local offset of tgid
        CoreRelocator.Apply(prog, insns, kernel!);
        var task = (Bpf.Btf.BtfComposite)kernel!.FindType("task_struct", Bpf.Btf.BtfKind.Struct)!;
        Assert.Equal((int)task.FindMember("tgid")!.ByteOffset, insns[relo.InstructionIndex].Imm);
        Assert.NotEqual(4, insns[relo.InstructionIndex].Imm);
    }

    [KernelFact]
    public void CoreRelocation_AgainstBtfWithoutTheType_PoisonsOnlyThatProgram()
    {
        // The rejected object's BTF has no task_struct: the relocation is poisoned (call 0xbad2310), as libbpf does,
        // so the kernel rejects the program that reaches it — naming the poison — and the rest of the object loads.
        var target = ObjectSpec.ReadFile(LoaderObject("rejected")).Btf!;
        var spec = Corpus("tracepoint");
        var ex = Assert.Throws<ProgramRejectedException>(() => KernelCollection.Load(spec, new KernelCollectionOptions { TargetBtf = target }));
        Assert.Contains("on_new_task", ex.Message);
        Assert.Contains("195896080", ex.Log); // invalid func unknown#195896080
        using var c = KernelCollection.Load(spec, new KernelCollectionOptions { TargetBtf = target, SkipFailedPrograms = true });
        Assert.Contains("on_new_task", c.FailedPrograms.Keys);
        Assert.Contains(c.Diagnostics, d => d.Contains("FieldByteOffset", StringComparison.Ordinal) && d.Contains("task_struct", StringComparison.Ordinal) && d.Contains("poisoned", StringComparison.Ordinal));
        Assert.Equal(spec.Programs.Count - 1, c.Programs.Count);
    }

    [KernelFact]
    public void Dispose_ClosesEveryDescriptor()
    {
        var spec = Corpus("map_in_map");
        using (KernelCollection.Load(spec)) { }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        int before = Directory.GetFiles("/proc/self/fd").Length;
        // The disposed collections stay reachable until counted, and nothing is collected before the count: a
        // Dispose that closed nothing would show, whatever the finalizers would have done.
        var disposed = new List<KernelCollection>(50);
        for (int i = 0; i < 50; i++)
        {
            using var c = KernelCollection.Load(spec);
            disposed.Add(c);
        }
        // A leak shows as 50 or more fds; the runtime mapping an assembly it loads meanwhile (seen: two fds for
        // Microsoft.Win32.Registry.dll) must not fail the test.
        int after = Directory.GetFiles("/proc/self/fd").Length;
        GC.KeepAlive(disposed);
        Assert.True(after <= before + 2, $"fds before {before}, after {after} over 50 load/dispose cycles: leak");
    }

    [KernelFact]
    public void Map_AndProgram_UnknownNames_ListWhatExists()
    {
        using var c = KernelCollection.Load(Corpus("legacy_maps"));
        var ex = Assert.Throws<KeyNotFoundException>(() => c.Map("nope"));
        Assert.Contains("legacy_array, legacy_hash", ex.Message);
        Assert.Contains("legacy", Assert.Throws<KeyNotFoundException>(() => c.Program("nope")).Message);
    }

    internal static string PinDir()
    {
        BpfFs.EnsureMounted();
        string dir = Path.Combine(BpfFs.DefaultMountPoint, "bpfnet-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    internal static void DeletePinDir(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
