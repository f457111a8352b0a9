using System.Diagnostics;
using Bpf.Loader;
using Xunit.Abstractions;
using static Bpf.Loader.Tests.Asm;
using R = Bpf.Register;

namespace Bpf.Loader.Tests;

public sealed class LifetimeAndProbeTests(ITestOutputHelper output) : KernelTest
{
    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    [KernelFact]
    public void TenThousandLoadCloseCycles_LeakNoFds()
    {
        var insns = new[] { Mov(R.R0, 2), Exit() };
        // Warm up (JIT, lazy statics), then count.
        BpfProgram.Load(ProgramType.Xdp, insns, "GPL").Dispose();
        int before = OpenFds();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 10_000; i++)
        {
            using var p = BpfProgram.Load(ProgramType.Xdp, insns, "GPL");
        }
        sw.Stop();
        int after = OpenFds();
        output.WriteLine($"10,000 load/close cycles in {sw.ElapsedMilliseconds} ms; fds before {before}, after {after}");
        Assert.Equal(before, after);
    }

    [KernelFact]
    public void FailedLoads_LeakNoFds()
    {
        var bad = new[] { Mov(R.R0, R.R7), Exit() };
        int before = OpenFds();
        for (int i = 0; i < 200; i++) Assert.Throws<VerifierException>(() => BpfProgram.Load(ProgramType.Xdp, bad, "GPL"));
        Assert.Equal(before, OpenFds());
    }

    [KernelFact]
    public void Fd_ClosesOnce_AndDuplicateIsIndependent()
    {
        var m = BpfMap.Create(new MapSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        using var dup = m.Fd.Duplicate();
        Assert.NotEqual(m.Fd.Value, dup.Value);
        Assert.True(dup.IsCloseOnExec);
        m.Dispose();
        m.Dispose(); // second dispose is a no-op
        Assert.True(m.Fd.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => m.Update(0u, 1u));
        Assert.True(File.Exists($"/proc/self/fd/{dup.Value}"));
    }

    [KernelFact]
    public void Probes_ProgramTypes()
    {
        foreach (var t in new[] { ProgramType.SocketFilter, ProgramType.Xdp, ProgramType.SchedCls, ProgramType.Tracepoint, ProgramType.CgroupSkb, ProgramType.Kprobe, ProgramType.CgroupSockAddr, ProgramType.SkLookup })
            Assert.True(FeatureProbes.SupportsProgramType(t), t.ToString());
        Assert.False(FeatureProbes.SupportsProgramType((ProgramType)999));
        var ex = Assert.Throws<BpfNotSupportedException>(() => FeatureProbes.RequireProgramType((ProgramType)999));
        Assert.Null(ex.MinimumKernelVersion);
        Assert.Throws<NotSupportedException>(() => FeatureProbes.SupportsProgramType(ProgramType.Tracing));
    }

    [KernelFact]
    public void Probes_MapTypes()
    {
        var supported = Enum.GetValues<MapType>().Where(t => t is not (MapType.Unspecified or MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage or MapType.StructOps) && FeatureProbes.SupportsMapType(t)).ToList();
        output.WriteLine("map types supported: " + string.Join(", ", supported));
        foreach (var t in new[] { MapType.Hash, MapType.Array, MapType.PerCpuArray, MapType.LpmTrie, MapType.RingBuf, MapType.Queue, MapType.ArrayOfMaps, MapType.HashOfMaps, MapType.BloomFilter, MapType.LruHash, MapType.StackTrace })
            Assert.Contains(t, supported);
        Assert.Throws<NotSupportedException>(() => FeatureProbes.SupportsMapType(MapType.TaskStorage));
        Assert.False(FeatureProbes.SupportsMapType((MapType)999));
        var ex = Assert.Throws<BpfNotSupportedException>(() => BpfMap.Create(new MapSpec { Type = (MapType)999, KeySize = 4, ValueSize = 4, MaxEntries = 1 }));
        Assert.Contains("999", ex.Feature);
    }

    [KernelFact]
    public void Probes_Helpers()
    {
        Assert.True(FeatureProbes.SupportsHelper(ProgramType.Xdp, 1)); // map_lookup_elem
        Assert.True(FeatureProbes.SupportsHelper(ProgramType.Tracepoint, 14)); // get_current_pid_tgid
        Assert.True(FeatureProbes.SupportsHelper(ProgramType.Xdp, 44)); // xdp_adjust_head
        Assert.False(FeatureProbes.SupportsHelper(ProgramType.SocketFilter, 44)); // XDP-only
        Assert.False(FeatureProbes.SupportsHelper(ProgramType.Xdp, 100_000));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 1000; i++) FeatureProbes.SupportsHelper(ProgramType.Xdp, 1);
        Assert.True(sw.ElapsedMilliseconds < 200, "probes are cached");
    }

    [KernelFact]
    public void NotSupported_CarriesMinimumVersion()
    {
        Assert.Equal(new Version(5, 8), KernelVersions.Of(MapType.RingBuf));
        Assert.Equal(new Version(4, 8), KernelVersions.Of(ProgramType.Xdp));
        var ex = new BpfNotSupportedException("map type RingBuf", KernelVersions.Of(MapType.RingBuf));
        Assert.Contains("Linux 5.8", ex.Message);
    }
}

public sealed class VerifierLogTests
{
    private const string Log =
        "func#0 @0\n0: R1=ctx() R10=fp0\n0: (b7) r0 = 0                        ; R0_w=0\n1: (b7) r1 = 1                        ; R1_w=1\n" +
        "2: (bf) r0 = r3\nR3 !read_ok\nprocessed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

    [Fact]
    public void Summarize_TakesErrorLine_NotStatistics() => Assert.Equal("R3 !read_ok", VerifierLog.Summarize(Log));

    [Fact]
    public void FailedInstruction_IsLastPrinted() => Assert.Equal(2, VerifierLog.FindFailedInstruction(Log));

    [Fact]
    public void Stats_AreParsed()
    {
        Assert.Equal(3, VerifierLog.ProcessedInstructions(Log));
        Assert.Null(VerifierLog.VerificationTime(Log));
        Assert.Equal(TimeSpan.FromMicroseconds(42), VerifierLog.VerificationTime("verification time 42 usec\nstack depth 0\n"));
    }

    [Fact]
    public void EmptyLog_WithEperm_ExplainsPrivileges()
    {
        var ex = new VerifierException(1, "", truncated: false);
        Assert.Contains("CAP_BPF", ex.Message);
        Assert.Contains("RLIMIT_MEMLOCK", ex.Message);
        Assert.Equal("EPERM", ex.ErrnoName);
        Assert.Null(ex.FailedInstructionIndex);
    }

    [Fact]
    public void Message_IsShort_LogIsWhole()
    {
        var ex = new VerifierException(13, Log, truncated: true);
        Assert.Contains("at instruction 2: R3 !read_ok (log truncated)", ex.Message);
        Assert.Equal(Log, ex.Log);
        Assert.DoesNotContain("processed", ex.Message);
    }
}
