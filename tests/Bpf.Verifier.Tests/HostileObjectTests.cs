using System.Buffers.Binary;
using System.Diagnostics;
using Bpf.Runtime;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Well-formed but extreme objects through the whole pipeline (issue 10): corpus objects whose BTF map
/// definitions are mutated — max_entries, key and value sizes, flags and types (every <c>__uint(...)</c> is a BTF
/// array's nelems), the sizes of key and value types, and the definitions of nested inner maps — are read, verified,
/// loaded into the managed runtime and run. Every stage either succeeds or ends in an exception its API documents,
/// each case within <see cref="TimeBound"/> and <see cref="MemoryBound"/>.
/// </summary>
public class HostileObjectTests
{
    /// <summary>CPU time of the process per case: a hang detector, not a benchmark. CPU time, not wall-clock time,
    /// so a machine busy with other builds does not fail it; the pipeline is run once unmutated first, so the
    /// first case does not pay for JIT compilation.</summary>
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(5);
    private const long MemoryBound = 96L << 20;

    // The runtime's per-map limit for these runs: small, so a mutant that the kernel would accept but that needs
    // a lot of memory is refused (ENOMEM) instead of allocated 10,000 times.
    private static readonly CollectionOptions Options = new() { CpuCount = 2, MaxMapMemory = 8 << 20, InstructionBudget = 100_000 };

    private sealed record Target(string Name, byte[] Bytes, MapField[] Fields);

    private static readonly Target[] Targets = LoadTargets();

    static HostileObjectTests()
    {
        foreach (var t in Targets) _ = Pipeline(t.Bytes);
    }

    private static Target[] LoadTargets()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "objects");
        return Directory.GetFiles(dir, "*.o").Order(StringComparer.Ordinal)
            .Select(path => (Name: Path.GetFileNameWithoutExtension(path), Bytes: File.ReadAllBytes(path)))
            .Select(o => new Target(o.Name, o.Bytes, BtfMapFields.Find(o.Bytes)))
            .Where(t => t.Fields.Length > 0)
            .ToArray();
    }

    public sealed record Mutation(int Target, int Field, uint Value, int Second, uint SecondValue)
    {
        public override string ToString()
        {
            var t = Targets[Target];
            var f = t.Fields[Field % t.Fields.Length];
            return $"{t.Name}: {f.Label} = 0x{Value:x}" + (Second >= 0 ? $", {t.Fields[Second % t.Fields.Length].Label} = 0x{SecondValue:x}" : "");
        }
    }

    // The kernel's boundaries and their neighbours, the u32 extremes, and small values.
    private static readonly uint[] Extremes =
    [
        0, 1, 2, 3, 4, 5, 8, 16, 255, 256, 260, 261, 4095, 4096, 4097, 8192, 32768, 32769, 1 << 20,
        4194024, 4194025, 4194251, 4194252, 4194304, 4194305, 0x0fffffff, 0x10000000, 0x10000001,
        0x7ffffff8, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffff8, 0xffffffff,
    ];

    private static readonly Gen<uint> Values = Gen.Frequency(
        (6, Gen.Elements(Extremes)),
        (1, Gen.Choose(0, 1 << 16).Select(v => (uint)v)),
        (1, Gen.Choose(int.MinValue, int.MaxValue).Select(v => (uint)v)));

    private static readonly Gen<Mutation> Mutations =
        from target in Gen.Choose(0, Targets.Length - 1)
        from field in Gen.Choose(0, 1000)
        from value in Values
        from second in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, 1000)))
        from secondValue in Values
        select new Mutation(target, field, value, second, secondValue);

    internal static byte[] Apply(Mutation m)
    {
        var t = Targets[m.Target];
        var b = (byte[])t.Bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(t.Fields[m.Field % t.Fields.Length].FileOffset), m.Value);
        if (m.Second >= 0) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(t.Fields[m.Second % t.Fields.Length].FileOffset), m.SecondValue);
        return b;
    }

    /// <summary>Reads, verifies, loads and runs one mutant; returns what happened at each stage. Throws (failing
    /// the property) on an exception no API documents.</summary>
    internal static List<string> Pipeline(byte[] bytes)
    {
        var outcomes = new List<string>();
        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.Read(bytes);
        }
        catch (BpfObjectException)
        {
            outcomes.Add("read: BpfObjectException");
            return outcomes;
        }
        outcomes.Add("read: ok");

        foreach (var program in spec.Programs)
        {
            try
            {
                outcomes.Add(ObjectVerifier.Verify(spec, program.Name).IsAccepted ? "verify: accept" : "verify: reject");
            }
            catch (MapException e)
            {
                // MapDefinition.FromSpec: a map the kernel would not create, before any program is looked at.
                outcomes.Add($"verify: map refused {MapException.Describe(e.Error)}");
                break;
            }
        }

        ManagedCollection collection;
        try
        {
            collection = ManagedCollection.Load(spec, Options);
        }
        catch (MapException e)
        {
            outcomes.Add($"load: map refused {MapException.Describe(e.Error)}");
            return outcomes;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException or ProgramLoadException or KeyNotFoundException)
        {
            outcomes.Add($"load: {e.GetType().Name}");
            if (System.Environment.GetEnvironmentVariable("BPFNET_HOSTILE_VERBOSE") is not null) outcomes.Add($"  {e.Message}");
            return outcomes;
        }
        outcomes.Add("load: ok");

        foreach (var program in collection.Programs.Values)
        {
            ProgramContext context = program.Kind switch
            {
                ContextKind.Xdp => new XdpContext(new byte[64]),
                ContextKind.SkBuff => new SkBuffContext(new byte[64]),
                _ => new MemoryContext(new byte[64]),
            };
            var r = program.Run(context);
            outcomes.Add(r.Succeeded ? "run: ok" : $"run: fault {r.Fault!.Kind}");
        }
        return outcomes;
    }

    private static void Check(Mutation m, Action<string>? record)
    {
        var bytes = Apply(m);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var outcomes = Pipeline(bytes);
        var took = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(took < TimeBound, $"{m} took {took} of CPU time");
        Assert.True(allocated < MemoryBound, $"{m} allocated {allocated} bytes");
        foreach (var o in outcomes.Distinct()) record?.Invoke(o);
    }

    [Property(MaxTest = 10_000, QuietOnSuccess = true)]
    public Property Mutated_map_definitions_read_verify_load_and_run_or_fail_as_documented() =>
        Prop.ForAll(Mutations.ToArbitrary(), m => Check(m, null));

    [Fact]
    public void The_mutator_finds_map_definitions_including_inner_maps()
    {
        var labels = Targets.SelectMany(t => t.Fields.Select(f => $"{t.Name}: {f.Label}")).ToList();
        var all = string.Join(", ", labels);
        Assert.True(labels.Exists(l => l.EndsWith(".max_entries", StringComparison.Ordinal)), all);
        Assert.True(labels.Exists(l => l.EndsWith(".key size", StringComparison.Ordinal)), all);
        Assert.True(labels.Exists(l => l.EndsWith(".value size", StringComparison.Ordinal) || l.EndsWith(".value_size", StringComparison.Ordinal)), all);
        Assert.True(labels.Exists(l => l.Contains(".values(inner).", StringComparison.Ordinal)), all);
        Assert.True(Targets.Length >= 5, string.Join(", ", Targets.Select(t => t.Name)));
    }

    [Fact]
    public void Mutants_reach_every_stage_with_every_documented_outcome()
    {
        // Guards the property against being vacuous: a fixed sample must reach the verifier, the runtime's loader
        // and program runs, and produce the kernel's refusals (E2BIG, EINVAL) and the runtime's (ENOMEM).
        // BPFNET_HOSTILE_CASES=N runs N cases instead (to measure the outcome distribution of a larger sample).
        var cases = int.TryParse(System.Environment.GetEnvironmentVariable("BPFNET_HOSTILE_CASES"), out var n) ? n : 1000;
        var random = new Random(10);
        var seen = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < cases; i++)
        {
            var t = random.Next(Targets.Length);
            var m = new Mutation(t, random.Next(1000), Extremes[random.Next(Extremes.Length)], random.Next(4) == 0 ? random.Next(1000) : -1, Extremes[random.Next(Extremes.Length)]);
            Check(m, o => seen[o] = seen.GetValueOrDefault(o) + 1);
        }
        var summary = $"{cases} cases in {clock.Elapsed.TotalSeconds:F1} s, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 >> 20} MiB: "
            + string.Join("; ", seen.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"));
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        foreach (var expected in new[] { "read: ok", "verify: accept", "verify: reject", "load: ok", "run: ok", "load: map refused E2BIG (7)", "load: map refused EINVAL (22)", "load: map refused ENOMEM (12)" })
        {
            Assert.True(seen.ContainsKey(expected), $"no '{expected}' in: {summary}");
        }
    }
}
