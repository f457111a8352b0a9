using Bpf.Loader;

namespace Bpf.Loader.Tests;

public sealed class MapTests : KernelTest
{
    private static BpfMap Hash(uint max = 64, MapType type = MapType.Hash, uint valueSize = 8) =>
        BpfMap.Create(new MapSpec { Type = type, KeySize = 4, ValueSize = valueSize, MaxEntries = max, Name = "t_" + type });

    [KernelFact]
    public void Hash_RoundTripsValues()
    {
        using var m = Hash();
        for (uint k = 0; k < 50; k++) m.Update(k, (ulong)k * 1_000_003);
        for (uint k = 0; k < 50; k++) Assert.Equal((ulong)k * 1_000_003, m.Lookup<uint, ulong>(k));
        Assert.False(m.TryLookup<uint, ulong>(999, out _));
        Assert.True(m.TryDelete(7u));
        Assert.False(m.TryDelete(7u));
        Assert.Equal(49, m.Keys<uint>().Count());
        Assert.Equal(Enumerable.Range(0, 50).Where(i => i != 7).Select(i => (uint)i).Order(), m.Keys<uint>().Order());
    }

    [KernelFact]
    public void Update_Flags_AreHonoured()
    {
        using var m = Hash();
        m.Update(1u, 10ul, MapUpdateFlags.NoExist);
        var ex = Assert.Throws<BpfSyscallException>(() => m.Update(1u, 11ul, MapUpdateFlags.NoExist));
        Assert.Equal("EEXIST", ex.ErrnoName);
        Assert.Equal("BPF_MAP_UPDATE_ELEM", ex.Command);
        var ex2 = Assert.Throws<BpfSyscallException>(() => m.Update(2u, 11ul, MapUpdateFlags.Exist));
        Assert.True(ex2.IsNotFound);
        m.Update(1u, 12ul, MapUpdateFlags.Exist);
        Assert.Equal(12ul, m.Lookup<uint, ulong>(1));
    }

    [KernelFact]
    public void Hash_Full_ReportsE2BIG()
    {
        using var m = Hash(max: 4);
        for (uint k = 0; k < 4; k++) m.Update(k, 1ul);
        var ex = Assert.Throws<BpfSyscallException>(() => m.Update(9u, 1ul));
        Assert.Equal(7, ex.Errno);
        Assert.Contains("full", ex.Message);
    }

    [KernelFact]
    public void Array_RoundTripsAndCannotDelete()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 8 });
        var v = Enumerable.Range(0, 16).Select(i => (byte)(i + 100)).ToArray();
        m.Update(BitConverter.GetBytes(3u), v);
        var got = new byte[16];
        m.Lookup(BitConverter.GetBytes(3u), got);
        Assert.Equal(v, got);
        m.Lookup(BitConverter.GetBytes(4u), got);
        Assert.All(got, b => Assert.Equal(0, b));
        Assert.Throws<BpfSyscallException>(() => m.TryDelete(BitConverter.GetBytes(3u)));
        Assert.Equal(8, m.Keys().Count());
        Assert.Throws<ArgumentException>(() => m.Update(BitConverter.GetBytes(3u), new byte[15]));
    }

    [KernelFact]
    public void PerCpu_HoldsOneValuePerPossibleCpu()
    {
        int n = PossibleCpus.Count;
        Assert.Equal(PossibleCpus.Parse(File.ReadAllText("/sys/devices/system/cpu/possible")), n);
        foreach (var type in new[] { MapType.PerCpuArray, MapType.PerCpuHash })
        {
            using var m = BpfMap.Create(new MapSpec { Type = type, KeySize = 4, ValueSize = 4, MaxEntries = 4 });
            Assert.Equal(8 * n, m.UserValueSize); // 4-byte values are padded to 8 per CPU
            var values = Enumerable.Range(0, n).Select(i => (uint)(i * 11 + 1)).ToArray();
            m.UpdatePerCpu(2u, values);
            Assert.Equal(values, m.LookupPerCpu<uint, uint>(2u));
            Assert.Throws<ArgumentException>(() => m.UpdatePerCpu(2u, new uint[n + 1]));
        }
    }

    [KernelFact]
    public void PerCpu_ProgramIncrementsCurrentCpuSlot()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.PerCpuArray, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        var insns = Asm.Prog(Asm.Mov(Register.R6, 0), Asm.CountInto(Register.R6), Asm.Mov(Register.R0, 2), Asm.Exit());
        using var p = BpfProgram.Load(ProgramType.Xdp, insns, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(2, m)] });
        p.TestRun(ProgramTests.MakePacket(64), options: new TestRunOptions { Repeat = 10 });
        var perCpu = m.LookupPerCpu<uint, ulong>(0u);
        Assert.Equal(10ul, perCpu.Aggregate(0ul, (a, b) => a + b));
    }

    [KernelFact]
    public void LpmTrie_LongestPrefixWins()
    {
        // key: u32 prefixlen + 4 address bytes
        using var m = BpfMap.Create(new MapSpec { Type = MapType.LpmTrie, KeySize = 8, ValueSize = 4, MaxEntries = 16, Flags = MapFlags.NoPrealloc });
        static byte[] Key(int len, byte a, byte b, byte c, byte d) => [.. BitConverter.GetBytes(len), a, b, c, d];
        m.Update(Key(8, 10, 0, 0, 0), BitConverter.GetBytes(8));
        m.Update(Key(16, 10, 1, 0, 0), BitConverter.GetBytes(16));
        m.Update(Key(24, 10, 1, 2, 0), BitConverter.GetBytes(24));
        var v = new byte[4];
        m.Lookup(Key(32, 10, 1, 2, 3), v); Assert.Equal(24, BitConverter.ToInt32(v));
        m.Lookup(Key(32, 10, 1, 9, 3), v); Assert.Equal(16, BitConverter.ToInt32(v));
        m.Lookup(Key(32, 10, 9, 9, 3), v); Assert.Equal(8, BitConverter.ToInt32(v));
        Assert.False(m.TryLookup(Key(32, 11, 1, 2, 3), v));
    }

    [KernelFact]
    public void Iteration_SurvivesConcurrentDeletes_EachKeyAtMostOnce()
    {
        using var m = Hash(max: 256);
        for (uint k = 0; k < 200; k++) m.Update(k, (ulong)k);
        var seen = new List<uint>();
        var deleted = new HashSet<uint>();
        foreach (var k in m.Keys<uint>())
        {
            seen.Add(k);
            // Delete the key just returned (forcing the kernel to restart from the first key) and another one.
            m.TryDelete(k);
            uint other = (k * 37 + 11) % 200;
            if (m.TryDelete(other)) deleted.Add(other);
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        // Every key that was never deleted by someone else was seen.
        foreach (uint k in Enumerable.Range(0, 200).Select(i => (uint)i))
            if (!deleted.Contains(k)) Assert.Contains(k, seen);
        Assert.Empty(m.Keys());
    }

    [KernelFact]
    public void Entries_SkipKeysDeletedMeanwhile()
    {
        using var m = Hash();
        for (uint k = 0; k < 10; k++) m.Update(k, (ulong)k + 100);
        var entries = m.Entries<uint, ulong>().ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(10, entries.Count);
        Assert.All(entries, e => Assert.Equal(e.Key + 100ul, e.Value));
    }

    [KernelFact]
    public void Batch_UpdateLookupDelete()
    {
        Assert.True(FeatureProbes.HasBatchOps());
        using var m = Hash(max: 1024);
        const int N = 300;
        var keys = new byte[N * 4];
        var vals = new byte[N * 8];
        for (int i = 0; i < N; i++)
        {
            BitConverter.TryWriteBytes(keys.AsSpan(i * 4), (uint)i);
            BitConverter.TryWriteBytes(vals.AsSpan(i * 8), (ulong)i * 3);
        }
        Assert.Equal(N, m.UpdateBatch(keys, vals));
        var cursor = new MapBatchCursor();
        var got = new Dictionary<uint, ulong>();
        var kb = new byte[64 * 4];
        var vb = new byte[64 * 8];
        int batches = 0;
        while (!cursor.Done)
        {
            int n = m.LookupBatch(cursor, kb, vb);
            for (int i = 0; i < n; i++) got.Add(BitConverter.ToUInt32(kb, i * 4), BitConverter.ToUInt64(vb, i * 8));
            Assert.True(batches++ < 1000);
        }
        Assert.Equal(N, got.Count);
        Assert.All(got, e => Assert.Equal(e.Key * 3ul, e.Value));
        Assert.Equal(100, m.DeleteBatch(keys.AsSpan(0, 100 * 4)));
        Assert.Equal(N - 100, m.Keys().Count());
    }

    [KernelFact]
    public void Batch_LookupAndDelete_DrainsMap()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 10 });
        var cursor = new MapBatchCursor();
        var kb = new byte[4 * 4];
        var vb = new byte[4 * 4];
        int total = 0;
        while (!cursor.Done) total += m.LookupBatch(cursor, kb, vb);
        Assert.Equal(10, total);
    }

    [KernelFact]
    public void Freeze_BlocksUserWrites()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        m.Update(0u, 5ul);
        m.Freeze();
        var ex = Assert.Throws<BpfSyscallException>(() => m.Update(0u, 6ul));
        Assert.Equal("EPERM", ex.ErrnoName);
        Assert.Equal(5ul, m.Lookup<uint, ulong>(0));
    }

    [KernelFact]
    public void QueueMap_PushPop()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.Queue, KeySize = 0, ValueSize = 4, MaxEntries = 8 });
        for (int i = 1; i <= 3; i++) m.Update([], BitConverter.GetBytes(i));
        var v = new byte[4];
        for (int i = 1; i <= 3; i++)
        {
            Assert.True(m.TryLookupAndDelete([], v));
            Assert.Equal(i, BitConverter.ToInt32(v));
        }
        Assert.False(m.TryLookupAndDelete([], v));
    }

    [KernelFact]
    public void MapInMap_InnerMapTemplate()
    {
        using var inner = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4 });
        using var outer = BpfMap.Create(new MapSpec { Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMap = inner });
        outer.Update(1u, (uint)inner.Fd.Value);
        Assert.Equal(inner.Id, outer.Lookup<uint, uint>(1u)); // lookups return the inner map's id
    }

    [KernelFact]
    public void Pin_SurvivesCloseAndReopen()
    {
        BpfFs.EnsureMounted();
        Assert.True(BpfFs.IsBpfFs(BpfFs.DefaultMountPoint));
        string path = $"{BpfFs.DefaultMountPoint}/bpfnet_test_{Environment.ProcessId}_{Guid.NewGuid():N}";
        try
        {
            uint id;
            using (var m = Hash())
            {
                m.Update(42u, 4242ul);
                m.Pin(path);
                id = m.Id;
            }
            using (var reopened = BpfMap.OpenPinned(path))
            {
                Assert.Equal(id, reopened.Id);
                Assert.Equal(MapType.Hash, reopened.Type);
                Assert.Equal(4u, reopened.KeySize);
                Assert.Equal(8u, reopened.ValueSize);
                Assert.Equal(4242ul, reopened.Lookup<uint, ulong>(42u));
            }
            BpfFs.Unpin(path);
            var ex = Assert.Throws<BpfSyscallException>(() => BpfMap.OpenPinned(path));
            Assert.True(ex.IsNotFound);
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }

    [KernelFact]
    public void PinnedProgram_SurvivesCloseAndReopen()
    {
        BpfFs.EnsureMounted();
        string path = $"{BpfFs.DefaultMountPoint}/bpfnet_prog_{Environment.ProcessId}_{Guid.NewGuid():N}";
        try
        {
            using (var p = BpfProgram.Load(ProgramType.Xdp, [Asm.Mov(Register.R0, 1), Asm.Exit()], "GPL", new LoadOptions { Name = "pinned" }))
                p.Pin(path);
            using var again = BpfProgram.OpenPinned(path);
            Assert.Equal(ProgramType.Xdp, again.Type);
            Assert.Equal("pinned", again.Name);
            Assert.Equal(1u, again.TestRun(ProgramTests.MakePacket(64)).ReturnValue);
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }

    [KernelFact]
    public void Create_BadSizes_NamesTheShape()
    {
        var ex = Assert.Throws<BpfSyscallException>(() => BpfMap.Create(new MapSpec { Type = MapType.Hash, KeySize = 0, ValueSize = 8, MaxEntries = 4 }));
        Assert.Equal("EINVAL", ex.ErrnoName);
        Assert.Contains("key 0", ex.Message);
    }

    [KernelFact]
    public void MmapableArray_SharesMemoryWithProgramsAndSyscalls()
    {
        using var m = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4, Flags = MapFlags.Mmapable });
        using var mem = m.MapMemory();
        Assert.Equal(32, mem.Length);
        BitConverter.TryWriteBytes(mem.Span.Slice(16), 777ul);
        Assert.Equal(777ul, m.Lookup<uint, ulong>(2u));
        m.Update(3u, 31ul);
        Assert.Equal(31ul, BitConverter.ToUInt64(mem.Span.Slice(24)));

        // Global data: a one-entry array; a program adds 5 to the u64 at offset 8 through a map-value pointer
        // (the kernel allows direct value pointers only into single-entry arrays).
        using var data = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 1, Flags = MapFlags.Mmapable, Name = ".data" });
        using var dmem = data.MapMemory();
        var insns = Asm.Prog(Asm.LdMap(Register.R1), Asm.Ldx(MemSize.DW, Register.R2, Register.R1, 0), Asm.Add(Register.R2, 5), Asm.Stx(MemSize.DW, Register.R1, Register.R2, 0), Asm.Mov(Register.R0, 2), Asm.Exit());
        using var p = BpfProgram.Load(ProgramType.Xdp, insns, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(0, data, IsValue: true, ValueOffset: 8)] });
        BitConverter.TryWriteBytes(dmem.Span.Slice(8), 100ul);
        p.TestRun(ProgramTests.MakePacket(64), options: new TestRunOptions { Repeat = 3 });
        Assert.Equal(115ul, BitConverter.ToUInt64(dmem.Span.Slice(8)));
        Assert.Equal(0ul, BitConverter.ToUInt64(dmem.Span.Slice(0)));

        using var plain = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        Assert.Throws<InvalidOperationException>(() => plain.MapMemory());
    }

    [Fact]
    public void PossibleCpus_ParsesKernelLists()
    {
        Assert.Equal(1, PossibleCpus.Parse("0\n"));
        Assert.Equal(4, PossibleCpus.Parse("0-3"));
        Assert.Equal(8, PossibleCpus.Parse("0,2-5,7"));
        Assert.Throws<FormatException>(() => PossibleCpus.Parse("a-b"));
        Assert.Throws<FormatException>(() => PossibleCpus.Parse("3-1"));
        Assert.Throws<FormatException>(() => PossibleCpus.Parse(""));
    }
}
