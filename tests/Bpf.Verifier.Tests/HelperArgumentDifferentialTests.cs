using Bpf.Asm;
using Bpf.Helpers;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Every helper of our table whose arguments need no special setup, called with each argument in turn replaced by
/// each of a set of argument shapes (zero, constants, an unknown scalar, stack pointers initialized or not and at
/// the frame's edge, map pointers of fourteen map types (one read-only for programs), a map value, the context, a modified context), the others left
/// as the helper expects them — against the kernel, in both privilege modes, in a program type that offers the
/// helper and in socket filters. The kernel's verdict is the oracle; both refusing, the reason must be of the same
/// class.
/// <para>
/// The corpus calls helpers by hand, a few shapes each; mutation testing found the argument checks
/// (Checker.Call.cs) changeable in many places with every test passing (docs/testing.md).
/// </para>
/// </summary>
public sealed class HelperArgumentDifferentialTests(ITestOutputHelper output)
{
    private static readonly HashSet<HelperArgKind> Plain =
    [
        HelperArgKind.None, HelperArgKind.Anything, HelperArgKind.MapPointer, HelperArgKind.MapKey, HelperArgKind.MapValue,
        HelperArgKind.Context, HelperArgKind.ReadableMemory, HelperArgKind.ReadableMemoryOrNull, HelperArgKind.WritableMemory, HelperArgKind.ReadWriteMemory,
        HelperArgKind.Size, HelperArgKind.SizeOrZero, HelperArgKind.AllocSize, HelperArgKind.UninitMapValue,
    ];

    /// <summary>Argument shapes: a name and the text that puts it into register rN ("{r}").</summary>
    private static readonly (string Name, string Text)[] Shapes =
    [
        ("zero", "{r} = 0\n"),
        ("const 8", "{r} = 8\n"),
        ("const -1", "{r} = -1\n"),
        ("const 100000", "{r} = 100000\n"),
        ("unknown", "{r} = r7\n"),
        ("unknown 0..15", "{r} = r7\n{r} &= 15\n"),
        ("unknown -8..7", "{r} = r7\n{r} &= 15\n{r} += -8\n"),
        ("fp-16 written", "{r} = r10\n{r} += -16\n"),
        ("fp-8 written", "{r} = r10\n{r} += -8\n"),
        ("fp-200 unwritten", "{r} = r10\n{r} += -200\n"),
        ("fp+0", "{r} = r10\n"),
        ("fp-12 (not 8-aligned)", "{r} = r10\n{r} += -12\n"),
        ("fp-16 or fp-8 (variable)", "{r} = r7\n{r} &= 8\n{r} += -16\n{r} += r10\n"),
        ("map value+8", "{r} = r9\n{r} += 8\n"),
        ("map value+0 or +8 (variable)", "{r} = r7\n{r} &= 8\n{r} += r9\n"),
        ("map array", "{r} = map:a ll\n"),
        ("map hash", "{r} = map:h ll\n"),
        ("map queue", "{r} = map:q ll\n"),
        ("map ringbuf", "{r} = map:rb ll\n"),
        ("map prog_array", "{r} = map:pa ll\n"),
        ("map perf_event_array", "{r} = map:pe ll\n"),
        // Map types no helper of a plain prototype is made for: each helper's map checks, both ways.
        ("map stack_trace", "{r} = map:st ll\n"),
        ("map cpumap", "{r} = map:cm ll\n"),
        ("map devmap", "{r} = map:dm ll\n"),
        ("map percpu_array", "{r} = map:pca ll\n"),
        ("map lru_hash", "{r} = map:lh ll\n"),
        ("map bloom_filter", "{r} = map:bf ll\n"),
        ("map xskmap", "{r} = map:xm ll\n"),
        ("map read-only array", "{r} = map:ro ll\n"),
        ("map value", "{r} = r9\n"),
        ("ctx", "{r} = r6\n"),
        ("ctx+4", "{r} = r6\n{r} += 4\n"),
        // Only where the program type reads packets directly (r8 = data, checked for 16 bytes; r5 = data unchecked).
        ("packet 16 checked", "{r} = r8\n"),
        ("packet unchecked", "{r} = r5\n"),
        ("packet end", "{r} = *(u64 *)(r10 - 72)\n"),
        ("packet meta", "{r} = *(u32 *)(r6 + {meta})\n"),
    ];

    /// <summary>Loads data into r8 checked for 16 bytes against data_end (jumping out otherwise) and into r5
    /// unchecked, and spills data_end at fp-72, for the program types that read packets directly; empty elsewhere.</summary>
    private static string PacketPrologue(string type) => type switch
    {
        "tc" => "r8 = *(u32 *)(r6 + 76)\nr3 = *(u32 *)(r6 + 80)\n*(u64 *)(r10 - 72) = r3\nr5 = r8\nr8 += 16\nif r8 > r3 goto out\nr8 = r5\nr5 = *(u32 *)(r6 + 76)\n",
        "xdp" => "r8 = *(u32 *)(r6 + 0)\nr3 = *(u32 *)(r6 + 4)\n*(u64 *)(r10 - 72) = r3\nr5 = r8\nr8 += 16\nif r8 > r3 goto out\nr8 = r5\nr5 = *(u32 *)(r6 + 0)\n",
        _ => "",
    };

    private static string Default(HelperArgKind kind) => kind switch
    {
        HelperArgKind.MapPointer => "{r} = map:a ll\n",
        HelperArgKind.MapKey => "{r} = r10\n{r} += -8\n",
        HelperArgKind.MapValue or HelperArgKind.UninitMapValue => "{r} = r10\n{r} += -32\n",
        HelperArgKind.Context => "{r} = r6\n",
        HelperArgKind.ReadableMemory or HelperArgKind.ReadableMemoryOrNull or HelperArgKind.WritableMemory or HelperArgKind.ReadWriteMemory => "{r} = r10\n{r} += -16\n",
        HelperArgKind.Size or HelperArgKind.SizeOrZero or HelperArgKind.AllocSize => "{r} = 8\n",
        _ => "{r} = 0\n",
    };

    /// <summary>A program type that offers the helper, and how to read an unknown scalar from its context.</summary>
    private static (string Type, string Unknown) Home(HelperPrototype p) =>
        p.Availability.HasFlag(HelperAvailability.Tc) ? ("tc", "r7 = *(u32 *)(r6 + 0)\n")
        : p.Availability.HasFlag(HelperAvailability.Xdp) ? ("xdp", "r7 = *(u32 *)(r6 + 12)\n")
        : p.Availability.HasFlag(HelperAvailability.Tracing) ? ("kprobe", "r7 = *(u64 *)(r6 + 0)\n")
        : ("socket_filter", "r7 = *(u32 *)(r6 + 0)\n");

    internal static List<(string Name, string Text)> Programs()
    {
        var list = new List<(string, string)>();
        var helpers = HelperPrototypes.Prototypes.Concat(HelperPrototypes.VerifierOnly)
            .Where(p => p.Args.All(Plain.Contains))
            .DistinctBy(p => p.Id)
            .OrderBy(p => p.Id);
        foreach (var p in helpers)
        {
            var homes = new List<(string Type, string Unknown)> { Home(p) };
            if (homes[0].Type != "socket_filter") homes.Add(("socket_filter", "r7 = *(u32 *)(r6 + 0)\n"));
            // Helpers offered everywhere meet packet pointers too (tc: the packet shapes).
            else if ((p.Availability & (HelperAvailability.Base | HelperAvailability.BaseCapBpf | HelperAvailability.BasePerfmon)) != 0)
            {
                homes.Add(("tc", "r7 = *(u32 *)(r6 + 0)\n"));
            }
            foreach (var (type, unknown) in homes)
            {
                var prologue =
                    $".type {type}\n.map a array key=4 value=16 entries=4\n.map h hash key=4 value=16 entries=4\n.map q queue key=0 value=16 entries=4\n" +
                    ".map rb ringbuf key=0 value=0 entries=4096\n.map pa prog_array key=4 value=4 entries=4\n.map pe perf_event_array key=4 value=4 entries=4\n" +
                    ".map st stack_trace key=4 value=16 entries=4\n.map cm cpumap key=4 value=4 entries=4\n.map dm devmap key=4 value=4 entries=4\n" +
                    ".map pca percpu_array key=4 value=16 entries=4\n.map lh lru_hash key=4 value=16 entries=4\n.map bf bloom_filter key=0 value=16 entries=4\n" +
                    ".map xm xskmap key=4 value=4 entries=4\n.map ro array key=4 value=16 entries=4 flags=128\n" +
                    "r6 = r1\n" + unknown +
                    string.Concat(Enumerable.Range(1, 8).Select(i => $"*(u64 *)(r10 - {i * 8}) = 0\n")) +
                    "r1 = map:a ll\nr2 = r10\nr2 += -8\ncall 1\nif r0 == 0 goto out\nr9 = r0\n" + PacketPrologue(type);
                var packets = PacketPrologue(type).Length > 0;
                var argCount = p.Args.Length;
                for (var i = 0; i < Math.Max(argCount, 1); i++)
                {
                    foreach (var (shape, text) in argCount == 0 ? [("none", "")] : Shapes)
                    {
                        if (shape.StartsWith("packet", StringComparison.Ordinal) && !packets) continue;
                        var args = "";
                        for (var a = 0; a < argCount; a++)
                        {
                            args += (a == i ? text : Default(p.Args[a])).Replace("{r}", $"r{a + 1}").Replace("{meta}", type == "xdp" ? "8" : "140");
                        }
                        list.Add(($"{p.Name}({p.Id}) in {type}: arg {i + 1} = {shape}", $"{prologue}{args}call {p.Id}\nout: r0 = 0\nexit\n"));
                    }
                }
            }
        }
        return list;
    }

    [Fact]
    public void Helper_arguments_agree_with_the_kernel()
    {
        Need.Kernel();
        var programs = Programs().Select(p => (p.Name, Source: VerifierSource.Parse(p.Text, AsmDialect.Llvm, p.Name))).ToList();
        Assert.True(programs.Count >= 1000, $"only {programs.Count} programs: the helper table's plain helpers were not found");
        var failures = new List<string>();
        foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
        {
            var kernel = KernelOracle.LoadAll(programs.Select(p => (p.Source.Instructions, p.Source.Maps, p.Source.ProgramType ?? ProgramType.SocketFilter)).ToList(), mode);
            int compared = 0, kernelAccepted = 0, notModelled = 0;
            var disagreements = new List<string>();
            var wording = new WordingDifferences();
            for (var i = 0; i < programs.Count; i++)
            {
                var k = kernel[i];
                Assert.False(k.SetupFailed, $"{programs[i].Name}: the kernel could not be asked ({k.Message})");
                var ours = BpfVerifier.Verify(programs[i].Source.Instructions, programs[i].Source.ToOptions(mode));
                if (!ours.IsAccepted && ours.Error!.Code == VerifierErrorCode.NotSupported)
                {
                    notModelled++;
                    continue;
                }
                compared++;
                if (k.Accepted) kernelAccepted++;
                var agree = ours.IsAccepted == k.Accepted && (ours.IsAccepted || RejectionClasses.Same(ours.Error!, k.Message));
                if (agree) wording.Check($"{mode} {programs[i].Name}", ours, k);
                if (!agree)
                {
                    disagreements.Add($"{mode} {programs[i].Name}: ours [{(ours.IsAccepted ? "accept" : ours.Error!.ToString())}] kernel [{(k.Accepted ? "accept" : k.Message)}]");
                }
            }
            output.WriteLine($"{mode}: {programs.Count} programs, {notModelled} not modelled by ours, {compared} compared, kernel accepted {kernelAccepted}, {disagreements.Count} disagree");
            foreach (var d in disagreements.Take(200)) output.WriteLine("  " + d);
            foreach (var w in wording.Report()) output.WriteLine("  wording: " + w);
            // Refused by both: our message is in the kernel's log word for word (measured: every one).
            failures.AddRange(wording.Report().Select(w => $"{mode} worded differently from the kernel's log: {w}"));
            Assert.True(compared >= programs.Count * 9 / 10, $"{mode}: only {compared} of {programs.Count} compared");
            Assert.True(kernelAccepted >= compared / 20, $"{mode}: the kernel accepted {kernelAccepted} of {compared}");
            failures.AddRange(disagreements);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} helper calls judged differently from the kernel:\n" + string.Join("\n", failures.Take(40)));
    }
}
