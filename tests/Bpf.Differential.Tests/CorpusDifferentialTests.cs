using System.Buffers.Binary;
using Bpf.Loader;
using Bpf.Runtime;
using ObjProgramType = Bpf.ProgramType;
using ObjMapType = Bpf.MapType;

namespace Bpf.Differential.Tests;

/// <summary>
/// Every corpus object, run on the same random packets in the managed runtime and in the kernel
/// (BPF_PROG_TEST_RUN): equal return values, equal output packets, equal context fields the test run reports,
/// and equal map contents afterwards.
/// </summary>
public sealed class CorpusDifferentialTests : KernelTest
{
    private const int PacketsPerProgram = 300;
    private readonly ITestOutputHelper _output;

    public CorpusDifferentialTests(ITestOutputHelper output) => _output = output;

    public static string ProgramsDir => Path.Combine(AppContext.BaseDirectory, "programs");

    /// <summary>Program types BPF_PROG_TEST_RUN runs on a packet: the only ones this differential can compare.</summary>
    private static bool HasPacketRun(ObjProgramType t) => t is ObjProgramType.Xdp or ObjProgramType.SocketFilter or ObjProgramType.SchedCls;

    /// <summary>Objects the kernel refuses on purpose (they exercise the ELF reader), with the map it refuses.</summary>
    private static readonly Dictionary<string, string> UnloadableObjects = new(StringComparer.Ordinal)
    {
        ["xdp_filter.o"] = "blocked", // an LRU hash with BPF_F_NO_PREALLOC: ENOTSUPP; rt_xdp_filter.o is its loadable twin
    };

    /// <summary>Every corpus object with at least one program of a packet-run type, except the deliberately
    /// unloadable ones (<see cref="Unloadable_objects_are_refused_by_both_engines"/>). Objects with no such program
    /// (tracepoint.o) have nothing to run here: the loader and runtime tests cover them.</summary>
    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(ProgramsDir, "*.o").Order(StringComparer.Ordinal))
        {
            if (UnloadableObjects.ContainsKey(Path.GetFileName(f))) continue;
            if (ObjectSpec.ReadFile(f).Programs.Any(p => HasPacketRun(p.Type))) data.Add(Path.GetFileName(f));
        }
        return data;
    }

    [KernelFact]
    public void Unloadable_objects_are_refused_by_both_engines()
    {
        foreach (var (file, map) in UnloadableObjects)
        {
            var path = Path.Combine(ProgramsDir, file);
            var e = Assert.Throws<BpfSyscallException>(() => KernelCollection.Load(ObjectSpec.ReadFile(path)).Dispose());
            Assert.Equal("BPF_MAP_CREATE", e.Command);
            Assert.Contains($"'{map}'", e.Message);
            var refused = Assert.Throws<MapException>(() => ManagedCollection.LoadFile(path));
            Assert.Equal(e.Errno, (int)refused.Error);
            _output.WriteLine($"{file}: both refuse: kernel {e.Message}; managed {refused.Message}");
        }
    }

    [KernelTheory]
    [MemberData(nameof(Objects))]
    public void Object_agrees_with_the_kernel(string file)
    {
        var path = Path.Combine(ProgramsDir, file);
        using var pins = new PinDirectory();
        KernelCollection kernelCollection;
        try
        {
            // The loader's own object loading, with the object's BTF (func/line info), keeping going past programs
            // the kernel rejects so the rest are still compared.
            kernelCollection = KernelCollection.Load(ObjectSpec.ReadFile(path), new KernelCollectionOptions { SkipFailedPrograms = true, PinPath = pins.Path });
        }
        catch (Exception e) when (Need.IsPermissionRefusal(e))
        {
            // Not permitted for this process (e.g. started without CAP_SYS_ADMIN): skip naming the capability, or
            // rethrow when the process has every capability bpf() cares about.
            Need.PermittedOrSkip($"loading {file}", () => throw e);
            throw;
        }
        using var kernel = kernelCollection;
        _output.WriteLine($"{file}: {kernel}{(kernel.BtfDiagnostic is { } why ? " (" + why + ")" : "")}");
        foreach (var d in kernel.Diagnostics) _output.WriteLine($"{file}: loader: {d}");
        Assert.True(kernel.HasBtf || kernel.Spec.Btf is null, $"{file}: the object's BTF did not load: {kernel.BtfDiagnostic}");
        var mismatches = new List<string>();
        var env = new BpfEnvironment { RandomSeed = 1 };
        foreach (var (name, error) in kernel.FailedPrograms) _output.WriteLine($"{file}: kernel rejected {name}: {error.Message.Split('\n')[0]}");
        var managed = ManagedCollection.Load(ObjectSpec.ReadFile(path), new CollectionOptions { CpuCount = PossibleCpus.Count, Environment = env, TargetBtf = KernelBtf.TryGet() });
        var rng = new Random(file.Aggregate(17, (h, ch) => h * 31 + ch));
        foreach (var (name, reason) in managed.UnsupportedPrograms)
        {
            _output.WriteLine($"{file}: managed runtime cannot run {name}: {reason}");
            if (!KnownUnsupported.Contains((file, name))) mismatches.Add($"{file}: {name}: unexpectedly unsupported by the managed runtime: {reason}");
        }
        SeedMaps(managed, kernel, rng);

        var compared = 0;
        var refusedByBoth = 0;
        var packetPrograms = managed.Programs.Values.Count(p => HasPacketRun(p.Type));
        foreach (var program in managed.Programs.Values.OrderBy(p => p.Id))
        {
            if (program.Type is not (ObjProgramType.Xdp or ObjProgramType.SocketFilter or ObjProgramType.SchedCls))
            {
                _output.WriteLine($"{file}: {program.Name}: {program.Type} programs have no packet test run; not compared");
                continue;
            }
            if (!kernel.Programs.TryGetValue(program.Name, out var kprog))
            {
                var reason = kernel.FailedPrograms.GetValueOrDefault(program.Name)?.Message.Split('\n')[0];
                if (KnownKernelRejections.Contains((file, program.Name))) _output.WriteLine($"{file}: {program.Name}: not compared: {reason}");
                else mismatches.Add($"{program.Name}: the kernel rejected it: {reason}");
                continue;
            }
            for (var n = 0; n < PacketsPerProgram; n++)
            {
                var frame = Packets.Random(rng);
                // Every tenth packet runs three times in one test run: the kernel keeps the packet and context across
                // its repeat loop, and the interpreter's repeat loop must too (each run sees the last one's output).
                var repeat = n % 10 == 9 ? 3 : 1;
                var where = $"{file}: {program.Name}: packet #{n}{(repeat > 1 ? " (repeat 3)" : "")} {Convert.ToHexString(frame)}";
                compared++;
                if (program.Type == ObjProgramType.Xdp)
                {
                    var rx = 0u; // the loopback device has one rx queue; the kernel refuses others
                    var kctx = new byte[24];
                    BinaryPrimitives.WriteUInt32LittleEndian(kctx.AsSpan(4), (uint)frame.Length); // data_end must equal the size
                    BinaryPrimitives.WriteUInt32LittleEndian(kctx.AsSpan(12), 1); // ingress_ifindex = lo
                    BinaryPrimitives.WriteUInt32LittleEndian(kctx.AsSpan(16), rx);
                    var k = kprog.TestRun(frame, kctx, new TestRunOptions { DataOutCapacity = 4096, Repeat = (uint)repeat });
                    var ctx = new XdpContext(frame, 1, rx);
                    var m = program.RunRepeated(ctx, 0, repeat, out _);
                    Compare(mismatches, where, m, k.ReturnValue, ctx.Packet, k.Data);
                }
                else
                {
                    var mark = (uint)rng.Next(20);
                    var priority = (uint)rng.Next(8);
                    var kctx = new byte[SkBuffContext.StructSize];
                    BinaryPrimitives.WriteUInt32LittleEndian(kctx.AsSpan(8), mark);
                    BinaryPrimitives.WriteUInt32LittleEndian(kctx.AsSpan(32), priority);
                    RunResult k;
                    try
                    {
                        k = kprog.TestRun(frame, kctx, new TestRunOptions { DataOutCapacity = 4096, ContextOutCapacity = SkBuffContext.StructSize, Repeat = (uint)repeat });
                    }
                    catch (BpfSyscallException e) when (e.Errno == 22)
                    {
                        // The kernel refuses some frames as test-run input; the managed context must refuse them too.
                        try
                        {
                            SkBuffContext.ForTestRun(frame, program.Type);
                            mismatches.Add($"{where}: the kernel refused the frame (EINVAL) but the managed runtime accepted it");
                        }
                        catch (ArgumentException)
                        {
                            refusedByBoth++;
                        }
                        compared--;
                        continue;
                    }
                    var ctx = SkBuffContext.ForTestRun(frame, program.Type);
                    ctx.Mark = mark;
                    ctx.Priority = priority;
                    var m = program.RunRepeated(ctx, 0, repeat, out _);
                    Compare(mismatches, where, m, k.ReturnValue, ctx.TestRunOutput(), k.Data);
                    CompareSkbFields(mismatches, where, ctx, k.Context);
                }
            }
        }
        CompareMaps(mismatches, file, managed, kernel);
        _output.WriteLine($"{file}: {compared} program runs compared, {refusedByBoth} frames refused by both test runs, {mismatches.Count} mismatches");
        // Every packet program ran every packet; frames the kernel's test run refuses (and the managed context
        // refuses too) are the only ones not compared, and they may not be most of them.
        var expectedRuns = packetPrograms * PacketsPerProgram;
        Assert.True(packetPrograms > 0, $"{file}: no program of a packet-run type: nothing compared");
        Assert.True(compared + refusedByBoth == expectedRuns && compared >= expectedRuns / 2,
            $"{file}: {compared} runs compared and {refusedByBoth} frames refused of {expectedRuns} ({packetPrograms} programs x {PacketsPerProgram} packets)");
        foreach (var m in mismatches.Take(15)) _output.WriteLine(m);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(15)));
    }

    /// <summary>Programs the managed runtime does not run (none at the moment).</summary>
    private static readonly HashSet<(string File, string Program)> KnownUnsupported = [];

    /// <summary>Programs the kernel refuses to load (none: with the object's BTF loaded, bpf2bpf.o's tc_sum, whose
    /// bpf_loop callback needs func_info, loads too).</summary>
    private static readonly HashSet<(string File, string Program)> KnownKernelRejections = [];

    private static void Compare(List<string> mismatches, string where, RunResult m, uint kernelRetval, byte[] managedOut, byte[] kernelOut)
    {
        if (!m.Succeeded)
        {
            mismatches.Add($"{where}: managed run faulted: {m.Fault}");
            return;
        }
        if (m.ReturnValue != kernelRetval) mismatches.Add($"{where}: retval managed {m.ReturnValue} kernel {kernelRetval}");
        if (!managedOut.AsSpan().SequenceEqual(kernelOut))
        {
            mismatches.Add($"{where}: output packet differs:\n  managed {Convert.ToHexString(managedOut)}\n  kernel  {Convert.ToHexString(kernelOut)}");
        }
    }

    /// <summary>The __sk_buff fields BPF_PROG_TEST_RUN copies back (convert_skb_to___skb).</summary>
    private static readonly (string Name, int Offset, int Size)[] ReportedFields =
    [
        ("mark", 8, 4), ("priority", 32, 4), ("ingress_ifindex", 36, 4), ("ifindex", 40, 4), ("cb", 48, 20),
        ("tstamp", 152, 8), ("wire_len", 160, 4), ("gso_segs", 164, 4), ("hwtstamp", 184, 8),
    ];

    private static void CompareSkbFields(List<string> mismatches, string where, SkBuffContext ctx, byte[] kernelCtx)
    {
        foreach (var (name, offset, size) in ReportedFields)
        {
            var m = ctx.Fields.Slice(offset, size);
            var k = kernelCtx.AsSpan(offset, size);
            if (!m.SequenceEqual(k)) mismatches.Add($"{where}: __sk_buff.{name} managed {Convert.ToHexString(m)} kernel {Convert.ToHexString(k)}");
        }
    }

    /// <summary>Puts the same few entries into every plain map of both sides so lookups hit; device maps get the
    /// loopback device (ifindex 1) at keys 0 and 7, CPU maps CPU 1 (when there is one), so redirects succeed.</summary>
    private static void SeedMaps(ManagedCollection managed, KernelCollection kernel, Random rng)
    {
        foreach (var (name, map) in managed.Maps)
        {
            if (!kernel.Maps.TryGetValue(name, out var kmap)) continue;
            if (map.Type is ObjMapType.DevMap or ObjMapType.DevMapHash or ObjMapType.CpuMap)
            {
                var value = new byte[map.UserValueSize];
                BinaryPrimitives.WriteUInt32LittleEndian(value, map.Type == ObjMapType.CpuMap ? 192u : 1u);
                foreach (var k in map.Type == ObjMapType.CpuMap ? (Environment.ProcessorCount > 1 && map.MaxEntries > 1 ? [1u] : []) : new[] { 0u, 7u })
                {
                    if (map.Type != ObjMapType.DevMapHash && k >= (uint)map.MaxEntries) continue;
                    var key = BitConverter.GetBytes(k);
                    map.Update(key, value);
                    kmap.Update(key, value);
                }
                continue;
            }
            if (map.Type is not (ObjMapType.Hash or ObjMapType.LruHash or ObjMapType.LpmTrie or ObjMapType.Array)) continue;
            if (map.Type == ObjMapType.Array && map.MaxEntries == 1) continue; // global data keeps its initial value
            for (var i = 0; i < 3; i++)
            {
                var key = new byte[map.KeySize];
                var value = new byte[map.UserValueSize];
                if (map.Type == ObjMapType.LpmTrie)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)(8 * (i + 2)));
                    BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(4), Packets.Addresses[rng.Next(Packets.Addresses.Length)]);
                    BinaryPrimitives.WriteUInt32LittleEndian(value, (uint)rng.Next(5));
                }
                else
                {
                    rng.NextBytes(value);
                    if (map.KeySize >= 4) BinaryPrimitives.WriteUInt32BigEndian(key, Packets.Addresses[rng.Next(Packets.Addresses.Length)]);
                    if (map.Type == ObjMapType.Array) BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)rng.Next(map.MaxEntries));
                }
                map.Update(key, value);
                kmap.Update(key, value);
            }
        }
    }

    private static void CompareMaps(List<string> mismatches, string file, ManagedCollection managed, KernelCollection kernel)
    {
        foreach (var (name, map) in managed.Maps)
        {
            if (!kernel.Maps.TryGetValue(name, out var kmap)) continue;
            switch (map.Type)
            {
                case ObjMapType.ProgArray or ObjMapType.ArrayOfMaps or ObjMapType.HashOfMaps or ObjMapType.RingBuf
                    or ObjMapType.XskMap or ObjMapType.SockMap or ObjMapType.SockHash or ObjMapType.PerfEventArray:
                    continue; // values are fds / sockets / records: compared through the programs' results instead
                case ObjMapType.Queue or ObjMapType.Stack:
                {
                    var q = (QueueStackMap)map;
                    var mv = new byte[map.ValueSize];
                    var kv = new byte[map.ValueSize];
                    while (true)
                    {
                        var mh = q.Take(mv, remove: true) == MapError.None;
                        var kh = kmap.TryLookupAndDelete(ReadOnlySpan<byte>.Empty, kv);
                        if (mh != kh) mismatches.Add($"{file}: map {name}: managed has {(mh ? "more" : "fewer")} values than the kernel");
                        if (!mh || !kh) break;
                        if (!mv.AsSpan().SequenceEqual(kv)) mismatches.Add($"{file}: map {name}: value managed {Convert.ToHexString(mv)} kernel {Convert.ToHexString(kv)}");
                    }
                    continue;
                }
            }
            var mine = new Dictionary<string, string>();
            foreach (var (k, v) in map.Entries()) mine[Convert.ToHexString(k)] = Canonical(map, v);
            var theirs = new Dictionary<string, string>();
            var key = Array.Empty<byte>();
            var next = new byte[map.KeySize];
            while (kmap.TryGetNextKey(key, next))
            {
                key = next.ToArray();
                var value = new byte[map.UserValueSize];
                if (kmap.TryLookup(key, value)) theirs[Convert.ToHexString(key)] = Canonical(map, value);
                if (theirs.Count > map.MaxEntries + 1) break;
            }
            foreach (var (k, v) in mine)
            {
                if (!theirs.TryGetValue(k, out var kv)) mismatches.Add($"{file}: map {name}: key {k} only in managed (value {v})");
                else if (kv != v) mismatches.Add($"{file}: map {name}: key {k}: managed {v} kernel {kv}");
            }
            foreach (var k in theirs.Keys.Except(mine.Keys)) mismatches.Add($"{file}: map {name}: key {k} only in the kernel (value {theirs[k]})");
        }
    }

    /// <summary>A fresh directory in bpffs for maps the object pins by name, so runs never share pinned state; removed afterwards.</summary>
    private sealed class PinDirectory : IDisposable
    {
        public PinDirectory()
        {
            BpfFs.EnsureMounted();
            Path = System.IO.Path.Combine("/sys/fs/bpf", $"bpfnet-diff-{Environment.ProcessId}-{Random.Shared.Next(1_000_000)}");
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose()
        {
            foreach (var f in Directory.GetFiles(Path)) File.Delete(f);
            Directory.Delete(Path);
        }
    }

    /// <summary>Per-CPU values are compared as per-lane sums over CPUs: the kernel's test runs land on whichever CPU
    /// the thread is on, the managed runs on CPU 0.</summary>
    private static string Canonical(ManagedMap map, byte[] value)
    {
        if (!map.IsPerCpu) return Convert.ToHexString(value);
        var stride = (map.ValueSize + 7) & ~7;
        var sums = new ulong[stride / 8];
        for (var cpu = 0; cpu < map.CpuCount; cpu++)
        {
            for (var lane = 0; lane < sums.Length; lane++) sums[lane] += BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(cpu * stride + lane * 8));
        }
        return "sum:" + string.Join(",", sums);
    }
}
