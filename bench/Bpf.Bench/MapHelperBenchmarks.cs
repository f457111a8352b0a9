using System.Runtime.Versioning;
using BenchmarkDotNet.Attributes;
using Bpf.Asm;
using Bpf.Loader;
using Bpf.Runtime;

namespace Bpf.Bench;

/// <summary>A benchmark whose rows have a kernel counterpart: the program the row runs, loaded into the kernel and
/// test-run there; <see cref="KernelNanosecondsPerOperation"/> is the duration the kernel itself reports per run
/// (BPF_PROG_TEST_RUN with many repetitions: the JIT-compiled program, no syscall) divided the same way as the row's
/// Mean, or null when the row has no counterpart. <see cref="KernelDurationColumn"/> prints it next to the Mean.</summary>
public interface IKernelReference
{
    double? KernelNanosecondsPerOperation(string method);

    /// <summary>For rows whose counterpart depends on the row's parameters (<c>[Params]</c>, by name): by default
    /// the same as <see cref="KernelNanosecondsPerOperation(string)"/>.</summary>
    double? KernelNanosecondsPerOperation(string method, IReadOnlyDictionary<string, object?> parameters) => KernelNanosecondsPerOperation(method);
}

/// <summary>
/// bpf_map_lookup_elem / bpf_map_update_elem from a program (issue 12, goal 3): an XDP program loops
/// <see cref="Iterations"/> times over keys 0..1023 of a 1,024-entry u32 → u64 hash map, calling the helper once per
/// iteration (lookup: and adding the value found; update: storing the counter). The managed runtime runs it per
/// <see cref="ManagedProgram.Run"/>; Mean is per iteration (one helper call and the loop's ~10 other instructions).
/// The kernel column is the kernel's own duration for the same program, per iteration.
/// </summary>
[MemoryDiagnoser]
public class MapHelperBenchmarks : IKernelReference
{
    public const int Iterations = 256;
    private const int Keys = 1024;
    private const int MapSlot = 5; // the lddw of the map in both programs

    private static readonly string LookupLoop = $"""
        mov %r6, {Iterations}
        mov %r7, 0
        loop:
        mov %r1, %r6
        and %r1, {Keys - 1}
        stxw [%r10-4], %r1
        lddw %r1, 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, skip
        ldxdw %r1, [%r0]
        add %r7, %r1
        skip:
        sub %r6, 1
        jne %r6, 0, loop
        mov %r0, %r7
        and %r0, 3
        exit
        """;

    private static readonly string UpdateLoop = $"""
        mov %r6, {Iterations}
        mov %r7, 0
        loop:
        mov %r1, %r6
        and %r1, {Keys - 1}
        stxw [%r10-4], %r1
        lddw %r1, 0
        stxdw [%r10-16], %r6
        mov %r2, %r10
        add %r2, -4
        mov %r3, %r10
        add %r3, -16
        mov %r4, 0
        call 2
        add %r7, %r0
        sub %r6, 1
        jne %r6, 0, loop
        mov %r0, 2
        exit
        """;

    private ManagedProgram _lookup = null!;
    private ManagedProgram _update = null!;
    private XdpContext _context = null!;

    public static Instruction[] Program(string method) => Assembler.Assemble(method == nameof(ManagedUpdateLoop) ? UpdateLoop : LookupLoop);

    [GlobalSetup]
    public void Setup()
    {
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var map = collection.CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, Keys));
        for (var k = 0u; k < Keys; k++) map.Update(k, (ulong)k);
        InstructionReference[] refs = [new(MapSlot, ReferenceKind.Map, "h", 0)];
        _lookup = collection.LoadProgram("lookup", ProgramType.Xdp, Program(nameof(ManagedLookupLoop)), refs);
        _update = collection.LoadProgram("update", ProgramType.Xdp, Program(nameof(ManagedUpdateLoop)), refs);
        _context = new XdpContext(RuntimeBenchInputs.Packet());
        var check = _lookup.Run(_context);
        if (!check.Succeeded) throw new InvalidOperationException($"lookup loop: {check}");
        check = _update.Run(_context);
        if (!check.Succeeded) throw new InvalidOperationException($"update loop: {check}");
    }

    [Benchmark(OperationsPerInvoke = Iterations, Baseline = true)]
    public uint ManagedLookupLoop() => _lookup.Run(_context).ReturnValue;

    [Benchmark(OperationsPerInvoke = Iterations)]
    public uint ManagedUpdateLoop() => _update.Run(_context).ReturnValue;

    public double? KernelNanosecondsPerOperation(string method) =>
        OperatingSystem.IsLinux() ? KernelLoop.Duration(Program(method), 10_000) / Iterations : null;
}

/// <summary>The map loop programs in the kernel: a fresh 1,024-entry hash map filled like the managed one.</summary>
[SupportedOSPlatform("linux")]
internal static class KernelLoop
{
    public static double Duration(Instruction[] program, uint repeat)
    {
        using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 1024, Name = "h" });
        for (var k = 0u; k < 1024; k++) map.Update(k, (ulong)k);
        using var loaded = BpfProgram.Load(ProgramType.Xdp, program, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(5, map)] });
        return loaded.TestRun(RuntimeBenchInputs.Packet(), default, new TestRunOptions { Repeat = repeat, DataOutCapacity = 128 }).NanosecondsPerRun ?? double.NaN;
    }
}
