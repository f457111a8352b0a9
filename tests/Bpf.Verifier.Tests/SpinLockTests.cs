using Bpf.Loader;
using Bpf.Runtime;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>bpf_spin_lock in a compiled object (programs/spin_lock.c): the lock found through the map's BTF, the
/// verdicts and messages against the kernel's, and the managed runtime running the locked section on many threads.</summary>
public sealed class SpinLockTests(ITestOutputHelper output)
{
    private static ObjectSpec Object() =>
        ObjectSpec.ReadFile(Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "programs", "spin_lock.o"));

    private static VerificationResult Verify(ObjectSpec obj, string name)
    {
        Assert.True(ObjectVerifier.TryPrepare(obj, obj.Program(name)!, PrivilegeMode.Privileged, out var insns, out var options, out var error), error?.Message);
        return BpfVerifier.Verify(insns, options);
    }

    [Fact]
    public void MapDefinition_FindsTheLockInTheValueBtf()
    {
        var map = MapDefinition.FromSpec(Object().Maps.Single(m => m.Name == "counters"));
        Assert.True(map.HasBtf);
        Assert.Equal(0, map.SpinLockOffset);
        // A map without BTF (a raw definition) has no lock the verifier could find.
        Assert.False(new MapDefinition("raw", MapType.Array, 4, 24, 4).HasSpinLock);
    }

    [Fact]
    public void Verdicts_AndMessages_AgreeWithTheKernel()
    {
        var obj = Object();
        var count = Verify(obj, "spin_count");
        Assert.True(count.IsAccepted, count.ToString());
        var exit = Verify(obj, "spin_exit_held");
        Assert.Equal("BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region", exit.Error?.Message);
        var helper = Verify(obj, "spin_helper_held");
        Assert.Equal("function calls are not allowed while holding a lock", helper.Error?.Message);
        Assert.NotNull(helper.Error!.Source); // the C line of the helper call
        output.WriteLine($"ours: spin_count accepted; spin_exit_held [{exit.Error}]; spin_helper_held [{helper.Error}] at {helper.Error.Source!.File}:{helper.Error.Source.Line}");

        Need.Kernel();
        using var kernel = Need.PermittedOrSkip("loading spin_lock.o", () => KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true }));
        Assert.True(kernel.Programs.ContainsKey("spin_count"), kernel.FailedPrograms.GetValueOrDefault("spin_count")?.Message);
        Assert.Contains(exit.Error!.Message, kernel.FailedPrograms["spin_exit_held"].Message, StringComparison.Ordinal);
        Assert.Contains(helper.Error.Message, kernel.FailedPrograms["spin_helper_held"].Message, StringComparison.Ordinal);
        output.WriteLine("the kernel accepts spin_count and refuses the other two with the same messages");
    }

    [Fact]
    public void ManagedRuntime_RunsTheCriticalSection_OnManyThreads()
    {
        var c = ManagedCollection.Load(Object(), new CollectionOptions { CpuCount = 4 });
        const int threads = 4, runs = 2_000;
        var packet = new byte[60];
        var failures = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (var i = 0; i < runs; i++)
            {
                var r = c.Run("spin_count", new XdpContext(packet), cpu: t);
                if (!r.Succeeded || r.ReturnValue != 2) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
        var value = new byte[24];
        Assert.Equal(MapError.None, c.Map("counters").TryLookup(BitConverter.GetBytes(0u), value));
        // Unlocked, the read-modify-writes of 4 threads would lose updates; under the lock none is lost.
        Assert.Equal((ulong)(threads * runs), BitConverter.ToUInt64(value, 8));
        Assert.Equal((ulong)(threads * runs * packet.Length), BitConverter.ToUInt64(value, 16));
        Assert.Equal(0u, BitConverter.ToUInt32(value, 0)); // released after every run
    }
}
