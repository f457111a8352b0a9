using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using Bpf.Loader;
using Bpf.Runtime;

namespace Bpf.Bench;

/// <summary>Where the benchmark inputs live: the runtime corpus in the test tree.</summary>
internal static class RuntimeBenchInputs
{
    public static string FilterObject
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("rt_xdp_filter.o not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A 64-byte Ethernet/IPv4/UDP frame from 10.0.0.1: the filter's counting path (two hash lookups, an atomic add).</summary>
    public static byte[] Packet()
    {
        var frame = new byte[64];
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[23] = 17;
        frame[26] = 10;
        frame[29] = 1;
        frame[30] = 10;
        frame[33] = 2;
        return frame;
    }
}

/// <summary>
/// The XDP filter sample (rt_xdp_filter.o) per packet: in the managed runtime, and in the kernel through
/// BPF_PROG_TEST_RUN (one syscall per packet, and 1,000 packets per syscall), in the same run.
/// </summary>
[MemoryDiagnoser]
public class XdpFilterBenchmarks : IKernelReference
{
    private ManagedProgram _managed = null!;
    private byte[] _packet = null!;
    private XdpContext _context = null!;
    private KernelFilter? _kernel;

    [GlobalSetup]
    public void Setup()
    {
        var spec = ObjectSpec.ReadFile(RuntimeBenchInputs.FilterObject);
        _managed = ManagedCollection.Load(spec).Program("xdp_filter");
        _packet = RuntimeBenchInputs.Packet();
        _context = new XdpContext(_packet);
        if (OperatingSystem.IsLinux()) _kernel = KernelFilter.TryCreate(spec);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (OperatingSystem.IsLinux()) _kernel?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public uint Interpreter() => _managed.Run(new XdpContext(_packet)).ReturnValue;

    /// <summary>The same packet through one context reused from packet to packet (the kernel's repeated test run
    /// also reuses its buffer): the program, the context written in and read back, no allocation.</summary>
    [Benchmark]
    public uint InterpreterReusedContext() => _managed.Run(_context).ReturnValue;

    /// <summary>Per packet, 1,000 runs in one repeat loop, which is what the kernel's duration measures: the context
    /// written once before the loop and read once after it (<see cref="ManagedProgram"/>'s repeat loop, which
    /// <c>IBpfProgram.Run(packet, context, repeat)</c> uses).</summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public uint InterpreterRepeatLoop1000() => _managed.RunRepeated(_context, 0, 1000, out _).ReturnValue;

    /// <summary>Per packet, the duration the kernel reports for the same program (100,000 repetitions).</summary>
    public double? KernelNanosecondsPerOperation(string method)
    {
        if (!OperatingSystem.IsLinux() || method.StartsWith("Kernel", StringComparison.Ordinal)) return null;
        using var kernel = KernelFilter.TryCreate(ObjectSpec.ReadFile(RuntimeBenchInputs.FilterObject));
        return kernel?.Duration(RuntimeBenchInputs.Packet(), 100_000);
    }

    [Benchmark]
    public uint KernelTestRun()
    {
        if (_kernel is null) throw new InvalidOperationException("the kernel is unavailable (needs Linux and root)");
        return OperatingSystem.IsLinux() ? _kernel.Run(_packet, 1) : 0;
    }

    [Benchmark(OperationsPerInvoke = 1000)]
    public uint KernelTestRunRepeat1000()
    {
        if (_kernel is null) throw new InvalidOperationException("the kernel is unavailable (needs Linux and root)");
        return OperatingSystem.IsLinux() ? _kernel.Run(_packet, 1000) : 0;
    }
}

/// <summary>The filter loaded into the kernel.</summary>
[SupportedOSPlatform("linux")]
internal sealed class KernelFilter : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly BpfProgram _program;
    private readonly byte[] _context = new byte[24];

    private KernelFilter(ObjectSpec spec)
    {
        var maps = new Dictionary<string, BpfMap>();
        foreach (var m in spec.Maps)
        {
            var map = BpfMap.Create(new Bpf.Loader.MapCreateSpec
            {
                Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize,
                MaxEntries = m.MaxEntries, Flags = m.Flags, Name = m.Name,
            });
            _owned.Add(map);
            maps[m.Name] = map;
        }
        var p = spec.Program("xdp_filter")!;
        _program = BpfProgram.Load(ProgramType.Xdp, p.Instructions, p.License, new LoadOptions
        {
            Name = p.Name,
            MapRelocations = p.References.Select(r => new MapRelocation(r.InstructionIndex, maps[r.Name])).ToList(),
        });
        _owned.Add(_program);
    }

    public static KernelFilter? TryCreate(ObjectSpec spec)
    {
        try
        {
            return new KernelFilter(spec);
        }
        catch (BpfSyscallException)
        {
            return null;
        }
    }

    public uint Run(byte[] packet, uint repeat) =>
        _program.TestRun(packet, default, new TestRunOptions { Repeat = repeat, DataOutCapacity = 128 }).ReturnValue;

    public double Duration(byte[] packet, uint repeat) =>
        _program.TestRun(packet, default, new TestRunOptions { Repeat = repeat, DataOutCapacity = 128 }).NanosecondsPerRun ?? double.NaN;

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
    }
}

/// <summary>Map operations from C#: the managed hash map against a Dictionary&lt;uint, ulong&gt; baseline, 1,024 keys.</summary>
[MemoryDiagnoser]
public class MapBenchmarks
{
    private const int Keys = 1024;
    private ManagedMap _hash = null!;
    private ManagedMap _array = null!;
    private readonly Dictionary<uint, ulong> _dictionary = new();
    // The same hash map as a user of BpfEngine holds it (a generated class's field): through the engine's typed view.
    private IBpfMap<uint, ulong> _engineHash = null!;
    private readonly uint[] _keys = new uint[Keys];
    private readonly ulong[] _values = new ulong[Keys];

    [GlobalSetup]
    public void Setup()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 2 });
        _hash = c.CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, Keys));
        _array = c.CreateMap(new MapDefinition("a", MapType.Array, 4, 8, Keys));
        c.CreateMap(new MapDefinition("e", MapType.Hash, 4, 8, Keys));
        _engineHash = new InterpreterCollection(c).Map("e").As<uint, ulong>();
        for (var i = 0u; i < Keys; i++)
        {
            _keys[i] = i * 2654435761u;
            _values[i] = i;
            _hash.Update(i * 2654435761u, (ulong)i);
            _engineHash.Update(i * 2654435761u, (ulong)i);
            _dictionary[i * 2654435761u] = i;
        }
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public ulong EngineHashLookup()
    {
        ulong sum = 0;
        for (var i = 0u; i < Keys; i++)
        {
            _engineHash.TryLookup(i * 2654435761u, out var v);
            sum += v;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public void EngineHashUpdate()
    {
        for (var i = 0u; i < Keys; i++) _engineHash.Update(i * 2654435761u, (ulong)i + 1);
    }

    /// <summary>Per element: <c>LookupBatch</c> of every key (the list of found entries included).</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public int EngineLookupBatch() => _engineHash.Map.LookupBatch<uint, ulong>(_keys).Count;

    /// <summary>Per element: <c>UpdateBatch</c> of every key.</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public void EngineUpdateBatch() => _engineHash.Map.UpdateBatch<uint, ulong>(_keys, _values);

    /// <summary>Per element: <c>Entries()</c>, the get_next_key walk and a lookup per key.</summary>
    [Benchmark(OperationsPerInvoke = Keys)]
    public int EngineEntries() => _engineHash.Entries().Count;

    [Benchmark(OperationsPerInvoke = Keys)]
    public ulong HashLookup()
    {
        ulong sum = 0;
        for (var i = 0u; i < Keys; i++)
        {
            _hash.TryLookup(i * 2654435761u, out ulong v);
            sum += v;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public void HashUpdate()
    {
        for (var i = 0u; i < Keys; i++) _hash.Update(i * 2654435761u, (ulong)i + 1);
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public ulong ArrayLookup()
    {
        ulong sum = 0;
        for (var i = 0u; i < Keys; i++)
        {
            _array.TryLookup(i, out ulong v);
            sum += v;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys, Baseline = true)]
    public ulong DictionaryLookup()
    {
        ulong sum = 0;
        for (var i = 0u; i < Keys; i++)
        {
            _dictionary.TryGetValue(i * 2654435761u, out var v);
            sum += v;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public void DictionaryUpdate()
    {
        for (var i = 0u; i < Keys; i++) _dictionary[i * 2654435761u] = (ulong)i + 1;
    }
}
