using Bpf.Loader;
using static Bpf.Loader.Tests.Asm;
using R = Bpf.Register;

namespace Bpf.Loader.Tests;

/// <summary>
/// <see cref="BpfProgram.ListLoaded"/>, <see cref="BpfMap.ListLoaded"/>, <c>GetInfo</c> and <c>OpenById</c>: a program
/// and a map this test loads are found by id among everything the kernel holds (other programs may be loaded; ids
/// are arbitrary), with the type, name and sizes they were created with.
/// </summary>
public sealed class KernelObjectListTests : KernelTest
{
    private static (BpfMap Map, BpfProgram Program) LoadPair(string name)
    {
        var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 7, Name = name + "_m" });
        try
        {
            // r1 = map (unused beyond the reference, which makes the program use the map); r0 = 2; exit
            var insns = Prog(LdMap(R.R1), Mov(R.R0, 2), Exit());
            var program = BpfProgram.Load(ProgramType.Xdp, insns, "GPL", new LoadOptions { Name = name + "_p", MapRelocations = [new MapRelocation(0, map)] });
            return (map, program);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    [KernelFact]
    public void ListLoaded_FindsOurProgramById_WithItsTypeNameAndMap()
    {
        NeedSysAdmin();
        var (map, program) = LoadPair("s15list");
        using (map)
        using (program)
        {
            var before = DateTimeOffset.UtcNow;
            var all = BpfProgram.ListLoaded();
            var ours = Assert.Single(all, p => p.Id == program.Id);
            Assert.Equal(ProgramType.Xdp, ours.Type);
            Assert.Equal("s15list_p", ours.Name);
            Assert.Contains(map.Id, ours.MapIds);
            Assert.Equal(16, ours.Tag.Length);
            Assert.Matches("^[0-9a-f]{16}$", ours.Tag);
            Assert.True(ours.GplCompatible);
            Assert.True(ours.XlatedSize > 0 && ours.XlatedSize % 8 == 0, $"xlated {ours.XlatedSize}");
            Assert.Equal(ours.JitedSize > 0, ours.IsJited);
            Assert.True(ours.VerifiedInstructions is null or > 0);
            // Loaded moments ago: the boot-clock conversion puts it within a minute of now.
            Assert.InRange(ours.LoadTime, before.AddMinutes(-1), before.AddMinutes(1));
            Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Id < p.Second.Id), "ids in increasing order");

            // GetInfo on our own handle describes the same program.
            var own = program.GetInfo();
            // (Run statistics may move; the wall-clock load time is recomputed from two clocks read a moment apart.)
            Assert.Equal(ours with { RunTime = default, RunCount = 0, LoadTime = default },
                own with { RunTime = default, RunCount = 0, LoadTime = default, MapIds = ours.MapIds });
            Assert.InRange(own.LoadTime - ours.LoadTime, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
            Assert.Equal(ours.MapIds, own.MapIds);
        }
    }

    [KernelFact]
    public void MapListLoaded_FindsOurMapById_WithItsShape()
    {
        NeedSysAdmin();
        var (map, program) = LoadPair("s15mlist");
        using (map)
        using (program)
        {
            var ours = Assert.Single(BpfMap.ListLoaded(), m => m.Id == map.Id);
            Assert.Equal(MapType.Hash, ours.Type);
            Assert.Equal("s15mlist_m", ours.Name);
            Assert.Equal(4u, ours.KeySize);
            Assert.Equal(8u, ours.ValueSize);
            Assert.Equal(7u, ours.MaxEntries);
            Assert.Equal(0u, ours.Btf.BtfId);
            Assert.Equal(ours, map.GetInfo());
        }
    }

    [KernelFact]
    public void OpenById_OpensTheSameObjects_AndAnUnknownIdIsKeyNotFound()
    {
        NeedSysAdmin();
        var (map, program) = LoadPair("s15open");
        using (map)
        using (program)
        {
            map.Update(1, 42L);
            using var again = BpfMap.OpenById(map.Id);
            Assert.Equal(map.Id, again.Id);
            Assert.Equal(42L, again.Lookup<int, long>(1));
            using var prog = BpfProgram.OpenById(program.Id);
            Assert.Equal(ProgramType.Xdp, prog.Type);
            Assert.Equal(2u, prog.TestRun(new byte[64]).ReturnValue);
        }
        // Ids are allocated cyclically from 1 up to INT_MAX: uint.MaxValue is never one.
        Assert.Throws<KeyNotFoundException>(() => BpfMap.OpenById(uint.MaxValue));
        Assert.Throws<KeyNotFoundException>(() => BpfProgram.OpenById(uint.MaxValue));
    }

    [KernelFact]
    public void EnableRunStatistics_CountsRunsWhileHeld()
    {
        NeedSysAdmin();
        var (map, program) = LoadPair("s15stats");
        using (map)
        using (program)
        {
            BpfFd stats;
            try
            {
                stats = BpfProgram.EnableRunStatistics();
            }
            catch (BpfSyscallException e) when (e.ErrnoName is "EINVAL")
            {
                Assert.Skip("BPF_ENABLE_STATS needs Linux 5.8: " + e.Message);
                return;
            }
            using (stats)
            {
                var before = program.GetInfo().RunCount;
                program.TestRun(new byte[64], options: new TestRunOptions { Repeat = 5 });
                // Counted while held (other holders or the sysctl could only add, never take away).
                Assert.True(program.GetInfo().RunCount >= before + 5, $"{before} -> {program.GetInfo().RunCount}");
            }
        }
    }

    /// <summary>Listing and opening by id (GET_NEXT_ID, GET_FD_BY_ID) and BPF_ENABLE_STATS need CAP_SYS_ADMIN in the
    /// kernel, even with CAP_BPF.</summary>
    private static void NeedSysAdmin() =>
        Need.Capabilities("walking the kernel's BPF objects by id (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID, BPF_ENABLE_STATS)", Capability.SysAdmin);
}
