using System.Diagnostics;
using Bpf.Loader;
using Bpf.Loader.Interop;
using static Bpf.Loader.Tests.Asm;
using R = Bpf.Register;

namespace Bpf.Loader.Tests;

public sealed class LifetimeAndProbeTests(ITestOutputHelper output) : KernelTest
{
    /// <summary>Open fds once finalizers have run: the baseline, so objects other tests left to the GC don't close
    /// their fds in the middle of a measurement.</summary>
    private static int SettledFds()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return OpenFdsNow();
    }

    /// <summary>Open fds now, with no collection: what Dispose itself closed, not what a finalizer would.</summary>
    private static int OpenFdsNow() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>A leak over N cycles shows as N more fds; a couple of fds that the runtime opens or closes on
    /// its own threads meanwhile must not fail the test.</summary>
    private static void AssertNoLeak(int before, int after, int cycles)
    {
        Assert.True(after <= before + 2, $"fds before {before}, after {after} over {cycles} cycles: leak");
    }

    [KernelFact]
    public void TenThousandLoadCloseCycles_LeakNoFds()
    {
        var insns = new[] { Mov(R.R0, 2), Exit() };
        // Warm up (JIT, lazy statics), then count.
        BpfProgram.Load(ProgramType.Xdp, insns, "GPL").Dispose();
        int before = SettledFds();
        // The disposed programs stay reachable until counted: a Dispose that closed nothing would leave 10,000 fds
        // open, which no finalizer could close behind its back.
        var disposed = new List<BpfProgram>(10_000);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 10_000; i++)
        {
            using var p = BpfProgram.Load(ProgramType.Xdp, insns, "GPL");
            disposed.Add(p);
        }
        sw.Stop();
        int after = OpenFdsNow();
        GC.KeepAlive(disposed);
        output.WriteLine($"10,000 load/close cycles in {sw.ElapsedMilliseconds} ms; fds before {before}, after {after}");
        AssertNoLeak(before, after, 10_000);
    }

    [KernelFact]
    public void FailedLoads_LeakNoFds()
    {
        var bad = new[] { Mov(R.R0, R.R7), Exit() };
        int before = SettledFds();
        for (int i = 0; i < 200; i++) Assert.Throws<ProgramRejectedException>(() => BpfProgram.Load(ProgramType.Xdp, bad, "GPL"));
        AssertNoLeak(before, OpenFdsNow(), 200);
    }

    [KernelFact]
    public void ReaderCreateDisposeCycles_LeakNoFds()
    {
        using var ring = BpfMap.Create(new MapCreateSpec { Type = MapType.RingBuf, MaxEntries = 4096 });
        using var perf = BpfMap.Create(new MapCreateSpec { Type = MapType.PerfEventArray, KeySize = 4, ValueSize = 4, MaxEntries = (uint)PossibleCpus.Count });
        // Warm up (JIT, lazy statics), then count.
        new RingBufReader(ring).Dispose();
        new PerfEventArrayReader(perf, pagesPerCpu: 1).Dispose();
        int before = SettledFds();
        var disposed = new List<IDisposable>(400); // reachable until counted: no finalizer can close their fds
        for (int i = 0; i < 200; i++)
        {
            using var r = new RingBufReader(ring);
            Assert.False(r.Wait(TimeSpan.Zero)); // the epoll set is used, not only created
            disposed.Add(r);
        }
        for (int i = 0; i < 200; i++)
        {
            using var p = new PerfEventArrayReader(perf, pagesPerCpu: 1);
            Assert.False(p.Wait(TimeSpan.Zero));
            disposed.Add(p);
        }
        // Counted before any collection: Dispose itself must close them, not the SafeHandle finalizers.
        int afterDispose = OpenFdsNow();
        GC.KeepAlive(disposed);
        int after = SettledFds();
        output.WriteLine($"200 ring buffer and 200 perf event array readers; fds before {before}, after Dispose {afterDispose}, after GC {after}");
        AssertNoLeak(before, afterDispose, 400);
        AssertNoLeak(before, after, 400);
    }

    [KernelFact]
    public async Task EpollSet_ReportsTags_CancelsAndWakesAWaiterOnDispose()
    {
        using var ring = BpfMap.Create(new MapCreateSpec { Type = MapType.RingBuf, MaxEntries = 4096 });
        int before = SettledFds();
        var set = new EpollSet("test");
        set.Add(ring.Fd, 42, "ring buffer");
        var tags = new ulong[4];
        Assert.Equal(0, set.Wait(TimeSpan.FromMilliseconds(20), default, tags)); // empty ring: times out
        using (var ev = BpfFd.FromNew(Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK)))
        {
            set.Add(ev, 7, "eventfd");
            WriteEventFd(ev);
            Assert.Equal(1, set.Wait(TimeSpan.FromSeconds(5), default, tags));
            Assert.Equal(7ul, tags[0]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(ring.Fd, ulong.MaxValue, "reserved tag"));

        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            var sw = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() => set.Wait(Timeout.InfiniteTimeSpan, cts.Token, []));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {sw.Elapsed}");
        }
        // The cancelled call's wake is drained: the next wait times out instead of returning early.
        Assert.Equal(0, set.Wait(TimeSpan.FromMilliseconds(20), default, []));

        var waiter = Task.Run(() => set.Wait(Timeout.InfiniteTimeSpan, default, []));
        await Task.Delay(50);
        Assert.False(waiter.IsCompleted);
        set.Dispose();
        Assert.Equal(0, await waiter.WaitAsync(TimeSpan.FromSeconds(5)));
        set.Dispose(); // second dispose is a no-op
        set.Wake(); // after dispose: nothing to wake, no throw
        Assert.Throws<ObjectDisposedException>(() => set.Wait(TimeSpan.Zero, default, []));
        // The set owns two fds (epoll, eventfd): one cycle's leak is 2, so the usual allowance of 2 would hide it.
        int after = OpenFdsNow();
        GC.KeepAlive(set);
        Assert.True(after <= before + 1, $"fds before {before}, after {after}: the disposed set's epoll and eventfd fds are still open");
    }

    private static unsafe void WriteEventFd(BpfFd fd)
    {
        ulong one = 1;
        Assert.Equal(8, (long)Libc.Write(fd.Value, (nint)(&one), 8));
    }

    [KernelFact]
    public void Fd_ClosesOnce_AndDuplicateIsIndependent()
    {
        var m = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
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
        // Every probe answers (never throws for want of a privilege): a machine whose root lacks
        // CAP_SYS_RESOURCE gets "not permitted" for the arena map, not an exception for the whole probe.
        var probed = Enum.GetValues<MapType>()
            .Where(t => t is not (MapType.Unspecified or MapType.SkStorage or MapType.InodeStorage or MapType.TaskStorage or MapType.CgrpStorage or MapType.StructOps))
            .Select(FeatureProbes.ProbeMapType).ToList();
        foreach (var r in probed) output.WriteLine(r.ToString());
        var supported = probed.Where(r => r.IsSupported).Select(r => r.Feature).ToList();
        foreach (var t in new[] { MapType.Hash, MapType.Array, MapType.PerCpuArray, MapType.LpmTrie, MapType.RingBuf, MapType.Queue, MapType.ArrayOfMaps, MapType.HashOfMaps, MapType.BloomFilter, MapType.LruHash, MapType.StackTrace })
            Assert.Contains($"map type {t}", supported);
        foreach (var r in probed.Where(r => r.Status == FeatureStatus.NotPermitted))
        {
            Assert.True(r.Errno is Errno.EPERM or Errno.EACCES, r.ToString());
            Assert.Contains("CAP_", r.Detail);
            var type = Enum.Parse<MapType>(r.Feature["map type ".Length..]);
            Assert.False(FeatureProbes.SupportsMapType(type));
            var denied = Assert.Throws<BpfNotPermittedException>(() => FeatureProbes.RequireMapType(type));
            Assert.Contains("not permitted", denied.Message);
        }
        Assert.Throws<NotSupportedException>(() => FeatureProbes.SupportsMapType(MapType.TaskStorage));
        Assert.False(FeatureProbes.SupportsMapType((MapType)999));
        Assert.Equal(FeatureStatus.NotSupported, FeatureProbes.ProbeMapType((MapType)999).Status);
        Assert.Throws<BpfNotSupportedException>(() => FeatureProbes.RequireMapType((MapType)999));
        var ex = Assert.Throws<BpfNotSupportedException>(() => BpfMap.Create(new MapCreateSpec { Type = (MapType)999, KeySize = 4, ValueSize = 4, MaxEntries = 1 }));
        Assert.Contains("999", ex.Feature);
    }

    [Fact]
    public void ProcessCapabilities_ReadsTheEffectiveSet()
    {
        // Compare with the kernel's own text for this process, not with a fixed mask: machines differ.
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        ulong mask = Convert.ToUInt64(line[7..].Trim(), 16);
        Assert.Equal(mask, ProcessCapabilities.EffectiveMask);
        foreach (var c in Enum.GetValues<Capability>())
            Assert.Equal((mask >> (int)c & 1) == 1, ProcessCapabilities.Has(c));
        string said = ProcessCapabilities.DescribeForEperm();
        foreach (var c in ProcessCapabilities.MissingForBpf()) Assert.Contains(ProcessCapabilities.Name(c), said);
    }

    [Fact]
    public void ProgramLoadEperm_NamesOnlyTheCapabilitiesTheTypeNeeds()
    {
        // Judged against this process's own set: root without CAP_SYS_RESOURCE is not told that CAP_SYS_RESOURCE is
        // why a tracing program was refused, since bpf_prog_load never asks for it.
        bool sysAdmin = ProcessCapabilities.Has(Capability.SysAdmin) == true;
        foreach (var (type, needs) in new (ProgramType, Capability[])[]
        {
            (ProgramType.Tracing, [Capability.Bpf, Capability.Perfmon]),
            (ProgramType.Xdp, [Capability.Bpf, Capability.NetAdmin]),
            (ProgramType.SocketFilter, []),
        })
        {
            string said = ProcessCapabilities.DescribeForProgramLoadEperm(type);
            var lacking = sysAdmin ? [] : needs.Where(c => ProcessCapabilities.Has(c) == false).ToList();
            Assert.DoesNotContain("CAP_SYS_RESOURCE", said);
            if (lacking.Count > 0)
            {
                foreach (var c in lacking) Assert.Contains(ProcessCapabilities.Name(c), said);
            }
            else
            {
                Assert.Contains("not a missing capability", said);
            }
        }
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
        var ex = new ProgramRejectedException(1, "", truncated: false);
        Assert.Contains("CAP_BPF", ex.Message);
        Assert.Contains("RLIMIT_MEMLOCK", ex.Message);
        Assert.Equal("EPERM", ex.ErrnoName);
        Assert.Null(ex.FailedInstructionIndex);
    }

    [Fact]
    public void Message_IsShort_LogIsWhole()
    {
        var ex = new ProgramRejectedException(13, Log, truncated: true);
        Assert.Contains("at instruction 2: R3 !read_ok (log truncated)", ex.Message);
        Assert.Equal(Log, ex.Log);
        Assert.DoesNotContain("processed", ex.Message);
    }
}
