using System.Runtime.InteropServices;
using Bpf.Runtime;

namespace Bpf.Loader.Tests;

/// <summary>
/// Every operation of the engine-neutral API (<see cref="IBpfCollection"/>, <see cref="IBpfMap"/>,
/// <see cref="IBpfProgram"/>) on both engines, with the same assertions: typed lookup/update/delete, iteration,
/// per-CPU values, batches, variables, errors (one exception type per failure) and use after Dispose.
/// The kernel half needs a kernel: it skips naming why, or fails under BPFNET_REQUIRE_KERNEL=1.
/// </summary>
public sealed class EngineApiTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Stats
    {
        public ulong Packets;
        public ulong Bytes;
    }

    private const uint Len = 64;
    private static readonly byte[] Packet = ProgramTests.MakePacket((int)Len);

    private static IBpfCollection Open(string engine) => Open("engine_api", engine);

    /// <summary>One of the loader tests' objects (programs/NAME.o) on the interpreter or, needing a kernel, the kernel.</summary>
    internal static IBpfCollection Open(string name, string engine)
    {
        var spec = ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject(name));
        if (engine == "kernel")
        {
            Need.Kernel();
            return BpfEngine.Open(spec, EngineChoice.Kernel);
        }
        return BpfEngine.Open(spec, EngineChoice.Interpreter);
    }

    public static TheoryData<string> Engines => new() { "interpreter", "kernel" };

    [Theory]
    [MemberData(nameof(Engines))]
    public void MapsAndPrograms_ByName_OneRule(string engine)
    {
        using var c = Open(engine);
        Assert.Equal(engine, c.Engine == Engine.Kernel ? "kernel" : "interpreter");
        Assert.Equal(["by_len", "per_cpu"], c.Maps.Keys.Where(k => !k.StartsWith('.')).Order());
        Assert.Equal(["count"], c.Programs.Keys);
        Assert.Same(c.Maps["by_len"], c.Map("by_len"));
        Assert.Contains("by_len", Assert.Throws<KeyNotFoundException>(() => c.Map("nope")).Message);
        Assert.Contains("count", Assert.Throws<KeyNotFoundException>(() => c.Program("nope")).Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void LookupUpdateDelete_Typed(string engine)
    {
        using var c = Open(engine);
        var m = c.Map("by_len");
        Assert.False(m.TryLookup<uint, Stats>(7u, out _));
        Assert.Throws<KeyNotFoundException>(() => m.Lookup<uint, Stats>(7u));
        m.Update(7u, new Stats { Packets = 1, Bytes = 70 });
        Assert.Equal(70ul, m.Lookup<uint, Stats>(7u).Bytes);
        Assert.True(m.TryLookup<uint, Stats>(7u, out var s) && s.Packets == 1);

        // The same failure, the same exception, the same errno on both engines.
        var exists = Assert.Throws<MapException>(() => m.Update(7u, new Stats(), MapUpdateFlags.NoExist));
        Assert.Equal(BpfErrno.EEXIST, exists.Code);
        Assert.Contains("by_len", exists.Message);
        var missing = Assert.Throws<MapException>(() => m.Update(8u, new Stats(), MapUpdateFlags.Exist));
        Assert.Equal(BpfErrno.ENOENT, missing.Code);
        Assert.IsAssignableFrom<BpfException>(missing);
        var arrayDelete = Assert.Throws<MapException>(() => c.Map("per_cpu").TryDelete(0u));
        Assert.Equal(BpfErrno.EINVAL, arrayDelete.Code);

        Assert.True(m.TryDelete(7u));
        Assert.False(m.TryDelete(7u));
        Assert.Throws<KeyNotFoundException>(() => m.Delete(7u));
        Assert.Contains("by_len", Assert.Throws<ArgumentException>(() => m.Update(1u, 1u)).Message); // 4-byte value for a 16-byte one
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Run_UpdatesMaps_AndIteration_IsTyped(string engine)
    {
        using var c = Open(engine);
        var p = c.Program("count");
        var r = p.Run(Packet);
        Assert.Equal(2u, r.ReturnValue); // .rodata verdict
        Assert.Equal(Packet, r.Data);
        var repeated = p.Run(Packet, default, 3);
        Assert.Equal(3, repeated.Runs);
        Assert.NotNull(repeated.NanosecondsPerRun);
        c.Map("by_len").Update(1000u, new Stats { Packets = 9 });
        Assert.Equal([Len, 1000u], c.Map("by_len").Keys<uint>().Order());
        var entries = c.Map("by_len").Entries<uint, Stats>().ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(4ul, entries[Len].Packets);
        Assert.Equal(4 * Len, entries[Len].Bytes);
        Assert.Equal(9ul, entries[1000u].Packets);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void PerCpu_Values(string engine)
    {
        using var c = Open(engine);
        var m = c.Map("per_cpu");
        Assert.True(m.IsPerCpu());
        int cpus = m.CpuCount();
        Assert.True(cpus >= 1);
        // One value where one per CPU is needed: the error says so.
        Assert.Contains("per-CPU", Assert.Throws<ArgumentException>(() => m.Lookup<uint, ulong>(0u)).Message);
        Assert.Contains("per-CPU", Assert.Throws<ArgumentException>(() => m.Update(0u, 1ul)).Message);
        Assert.Contains("not a per-CPU map", Assert.Throws<ArgumentException>(() => c.Map("by_len").LookupPerCpu<uint, ulong>(0u)).Message);

        var values = Enumerable.Range(0, cpus).Select(i => (ulong)(10 * (i + 1))).ToArray();
        m.UpdatePerCpu(0u, values);
        Assert.Equal(values, m.LookupPerCpu<uint, ulong>(0u));
        Assert.Throws<ArgumentException>(() => m.UpdatePerCpu(0u, new ulong[cpus + 1]));
        c.Program("count").Run(Packet);
        // The run counted on one CPU: the sum over CPUs grew by one.
        Assert.Equal(values.Sum(v => (long)v) + 1, m.LookupPerCpu<uint, ulong>(0u).Sum(v => (long)v));
        Assert.Equal(4, m.EntriesPerCpu<uint, ulong>().Count); // an array has every index
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void LookupAndDelete_And_TypedViews(string engine)
    {
        using var c = Open(engine);
        var m = c.Map("by_len");
        m.Update(5u, new Stats { Packets = 3 });
        var value = new byte[16];
        Assert.True(m.TryLookupAndDelete(BitConverter.GetBytes(5u), value));
        Assert.Equal(3ul, BitConverter.ToUInt64(value));
        Assert.False(m.TryLookupAndDelete(BitConverter.GetBytes(5u), value));
        // Arrays have no lookup-and-delete: the kernel's ENOTSUPP (524) on both engines.
        var refused = Assert.Throws<MapException>(() => c.Map("per_cpu").TryLookupAndDelete(BitConverter.GetBytes(0u), new byte[c.Map("per_cpu").UserValueSize]));
        Assert.Equal(MapError.KernelNotSupported, refused.Error);
        Assert.Throws<NotSupportedException>(() => m.TryReadRecord(out _));

        // The typed views are the extension methods above, with the sizes checked once.
        var typed = m.As<uint, Stats>();
        typed.Update(6u, new Stats { Bytes = 60 });
        Assert.Equal(60ul, typed.Lookup(6u).Bytes);
        Assert.Equal([6u], typed.Keys());
        Assert.Contains("use AsPerCpu", Assert.Throws<ArgumentException>(() => c.Map("per_cpu").As<uint, ulong>()).Message);
        var perCpu = c.Map("per_cpu").AsPerCpu<uint, ulong>();
        Assert.Equal(c.Map("per_cpu").CpuCount(), perCpu.CpuCount);
        Assert.Equal(perCpu.CpuCount, perCpu.Lookup(0u).Count);
        Assert.Contains("not a ring buffer", Assert.Throws<ArgumentException>(() => m.AsRingBuffer<Stats>()).Message);
        Assert.Contains("not a program array", Assert.Throws<ArgumentException>(() => m.AsProgramArray()).Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Batches(string engine)
    {
        using var c = Open(engine);
        var m = c.Map("by_len");
        uint[] keys = [1, 2, 3];
        m.UpdateBatch<uint, Stats>(keys, [new() { Packets = 1 }, new() { Packets = 2 }, new() { Packets = 3 }]);
        var found = m.LookupBatch<uint, Stats>([1u, 2u, 9u]);
        Assert.Equal([(1u, 1ul), (2u, 2ul)], found.Select(e => (e.Key, e.Value.Packets)));
        Assert.Throws<ArgumentException>(() => m.UpdateBatch<uint, Stats>(keys, [new()]));
        Assert.Equal(2, m.DeleteBatch<uint>([1u, 3u, 9u]));
        Assert.Equal([2u], m.Keys<uint>());
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Variables_TypedGetAndSet(string engine)
    {
        using var c = Open(engine);
        Assert.Equal(["last_len", "total", "verdict"], c.VariableNames);
        Assert.Equal(5ul, c.GetVariable<ulong>("total"));
        Assert.Equal(2u, c.GetVariable<uint>("verdict"));
        c.Program("count").Run(Packet);
        Assert.Equal(5ul + Len, c.GetVariable<ulong>("total"));
        Assert.Equal(Len, c.GetVariable<uint>("last_len"));
        c.SetVariable("total", 100ul);
        c.Program("count").Run(Packet);
        Assert.Equal(100ul + Len, c.GetVariable<ulong>("total"));

        var frozen = Assert.Throws<BpfException>(() => c.SetVariable("verdict", 1u));
        Assert.Equal(BpfErrno.EPERM, frozen.Code);
        Assert.Contains("verdict", frozen.Message);
        Assert.Throws<ArgumentException>(() => c.SetVariable("total", 1u));
        Assert.Throws<ArgumentException>(() => c.GetVariable<uint>("total"));
        Assert.Contains("total", Assert.Throws<KeyNotFoundException>(() => c.GetVariable<uint>("nope")).Message);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void UseAfterDispose_NamesTheMapOrProgram(string engine)
    {
        var c = Open(engine);
        var map = c.Map("by_len");
        var program = c.Program("count");
        c.Dispose();
        Assert.Contains("map 'by_len'", Assert.Throws<ObjectDisposedException>(() => map.Update(1u, new Stats())).Message);
        Assert.Contains("map 'by_len'", Assert.Throws<ObjectDisposedException>(() => map.TryLookup<uint, Stats>(1u, out _)).Message);
        Assert.Contains("map 'by_len'", Assert.Throws<ObjectDisposedException>(() => map.Keys()).Message);
        Assert.Contains("program 'count'", Assert.Throws<ObjectDisposedException>(() => program.Run(Packet)).Message);
        Assert.Contains("variable 'total'", Assert.Throws<ObjectDisposedException>(() => c.GetVariable<ulong>("total")).Message);
        c.Dispose(); // twice is fine
    }

    /// <summary>Interpreter only: the kernel never runs a program its verifier refused, so it has no faults to report;
    /// an unverified program in the interpreter stops with a fault naming the instruction.</summary>
    [Fact]
    public void Fault_HasItsOwnType_NamingTheInstruction()
    {
        var spec = ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject("past_data_end"));
        using var c = BpfEngine.Open(spec, EngineChoice.Interpreter, new BpfEngineOptions { Verify = false });
        var fault = Assert.Throws<BpfProgramFaultException>(() => c.Program("past_data_end").Run(new byte[14]));
        Assert.Equal(6, fault.InstructionIndex);
        Assert.Equal("past_data_end", fault.ProgramName);
        Assert.Contains("instruction 6", fault.Message);
        Assert.IsAssignableFrom<BpfException>(fault);
    }
}
