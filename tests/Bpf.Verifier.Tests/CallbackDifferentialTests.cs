using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Callbacks against the kernel, both privilege modes, loaded with BTF func_info (which callbacks need; the corpus's
/// raw programs carry none, so until this sweep no callback program of ours had a kernel verdict):
/// <list type="bullet">
/// <item>bpf_for_each_map_elem over every map type the assembler declares (the kernel iterates six);</item>
/// <item>what a for_each callback does with its arguments — the key (read-only, key-size bytes), the value, the
/// map, the context — by load, store and as a helper's memory argument;</item>
/// <item>bpf_loop callbacks writing to the caller's stack through the context pointer, the caller using what they
/// wrote, and callbacks whose target is not a proper subprogram (instruction 0, the middle of the main body).</item>
/// </list>
/// Mutation testing found the for_each map-type list, the key's bounds and its write check, and the check of a
/// callback at instruction 0 changeable with every test passing (docs/testing.md).
/// </summary>
public sealed class CallbackDifferentialTests(ITestOutputHelper output)
{
    private static readonly (string Type, string Decl)[] MapDecls =
    [
        ("hash", "key=4 value=8 entries=4"), ("percpu_hash", "key=4 value=8 entries=4"), ("lru_hash", "key=4 value=8 entries=4"),
        ("lru_percpu_hash", "key=4 value=8 entries=4"), ("array", "key=4 value=8 entries=4"), ("percpu_array", "key=4 value=8 entries=4"),
        ("prog_array", "key=4 value=4 entries=4"), ("perf_event_array", "key=4 value=4 entries=4"), ("ringbuf", "key=0 value=0 entries=4096"),
        ("queue", "key=0 value=8 entries=4"), ("stack", "key=0 value=8 entries=4"), ("bloom_filter", "key=0 value=8 entries=4"),
        ("lpm_trie", "key=8 value=8 entries=4 flags=1"), ("devmap", "key=4 value=4 entries=4"), ("devmap_hash", "key=4 value=4 entries=4"),
        ("cpumap", "key=4 value=4 entries=4"), ("sockmap", "key=4 value=4 entries=4"), ("stack_trace", "key=4 value=8 entries=4"),
        ("cgroup_array", "key=4 value=4 entries=4"),
    ];

    /// <summary>for_each_map_elem(map m, cb, ctx = fp-8 (written), flags 0); the callback gets r1 = map, r2 = key,
    /// r3 = value, r4 = ctx. Two more maps for helper calls in the callback: k4 (key 4 bytes) and k8 (key 8).</summary>
    private static string ForEach(string type, string decl, string body) => $"""
        .map m {type} {decl}
        .map k4 hash key=4 value=8 entries=4
        .map k8 hash key=8 value=8 entries=4
        *(u64 *)(r10 - 8) = 0
        r1 = map:m ll
        r2 = func cb ll
        r3 = r10
        r3 += -8
        r4 = 0
        call 164
        r0 = 0
        exit
        cb:
        {body}
        r0 = 0
        exit
        """;

    /// <summary>Callback bodies for a hash map of 4-byte keys and 8-byte values.</summary>
    private static readonly (string Name, string Body)[] ForEachBodies =
    [
        ("nothing", ""),
        ("read key u32", "r0 = *(u32 *)(r2 + 0)"),
        ("read key u8 at 3", "r0 = *(u8 *)(r2 + 3)"),
        ("read key u8 at 4", "r0 = *(u8 *)(r2 + 4)"),
        ("read key u64", "r0 = *(u64 *)(r2 + 0)"),
        ("read key at -1", "r0 = *(u8 *)(r2 - 1)"),
        ("write key", "*(u32 *)(r2 + 0) = 1"),
        ("write key from register", "r0 = 1\n*(u32 *)(r2 + 0) = r0"),
        ("key to lookup, 4-byte key", "r1 = map:k4 ll\ncall 1"),
        ("key to lookup, 8-byte key", "r1 = map:k8 ll\ncall 1"),
        ("key plus 1 to lookup, 4-byte key", "r2 += 1\nr1 = map:k4 ll\ncall 1"),
        ("key plus 4 to lookup, 4-byte key", "r2 += 4\nr1 = map:k4 ll\ncall 1"),
        ("key as update value", "r1 = map:k4 ll\nr3 = r2\nr4 = 0\ncall 2"),
        ("key as probe_read destination", "r1 = r2\nr2 = 4\nr3 = 0\ncall 113"),
        ("key as probe_read source", "r6 = r2\nr1 = r10\nr1 += -8\nr2 = 4\nr3 = r6\ncall 113"),
        ("read value u64", "r0 = *(u64 *)(r3 + 0)"),
        ("read value u64 at 4", "r0 = *(u64 *)(r3 + 4)"),
        ("write value", "*(u64 *)(r3 + 0) = 1"),
        ("value to lookup, 8-byte key", "r2 = r3\nr1 = map:k8 ll\ncall 1"),
        ("value as probe_read destination", "r1 = r3\nr2 = 8\nr3 = 0\ncall 113"),
        ("map to lookup", "call 1"),
        ("read ctx", "r0 = *(u64 *)(r4 + 0)"),
        ("read ctx past its end", "r0 = *(u64 *)(r4 + 8)"),
        ("write ctx", "*(u64 *)(r4 + 0) = 1"),
        ("return 2", "r0 = 2\nexit"),
        ("return unknown", "r0 = *(u32 *)(r2 + 0)\nexit"),
        ("return bounded", "r0 = *(u32 *)(r2 + 0)\nr0 &= 1\nexit"),
        ("return pointer", "r0 = r2\nexit"),
    ];

    /// <summary>bpf_loop(4, cb, ctx = fp-16, 0) in a program that uses fp-16 and fp-8 after the call; the callback
    /// gets r1 = index, r2 = ctx.</summary>
    private static readonly (string Name, string Text)[] LoopPrograms =
    [
        ("loop writes index, caller bounds it", Loop("*(u64 *)(r2 + 0) = r1", "r1 = *(u64 *)(r10 - 16)\nif r1 > 7 goto out\nr6 += r1\nr0 = *(u8 *)(r6 + 0)")),
        ("loop writes index, caller uses it unbounded", Loop("*(u64 *)(r2 + 0) = r1", "r1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u8 *)(r6 + 0)")),
        ("loop writes constant, caller uses it as offset", Loop("*(u64 *)(r2 + 0) = 4", "r1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u32 *)(r6 + 0)")),
        ("loop writes too large constant", Loop("*(u64 *)(r2 + 0) = 8", "r1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u32 *)(r6 + 0)")),
        ("loop writes pointer, caller reads through it", Loop("*(u64 *)(r2 + 0) = r2", "r1 = *(u64 *)(r10 - 16)\nr0 = *(u64 *)(r1 + 8)")),
        ("loop writes the caller's next slot", Loop("*(u64 *)(r2 + 8) = 1", "r0 = *(u64 *)(r10 - 8)")),
        ("loop writes below the ctx", Loop("*(u64 *)(r2 - 8) = 1", "r0 = *(u64 *)(r10 - 24)")),
        ("loop writes past the caller's frame", Loop("*(u64 *)(r2 + 16) = 1", "")),
        ("loop keeps caller registers", Loop("r6 = 0", "r0 = *(u8 *)(r6 + 0)")),
        ("loop reads uninitialized caller slot", Loop("r0 = *(u64 *)(r2 - 8)", "")),
        ("caller writes after the loop, twice", Loop("*(u64 *)(r2 + 0) = r1", "r1 = *(u64 *)(r10 - 16)\n*(u64 *)(r10 - 8) = r1\nr1 = *(u64 *)(r10 - 8)\nif r1 > 7 goto out\nr6 += r1\nr0 = *(u8 *)(r6 + 0)")),
        ("two loops, the second undoes the first's bound", Loop("*(u64 *)(r2 + 0) = 1", "r1 = r10\nr1 += -16\n" + LoopCall("cb2") + "r1 = *(u64 *)(r10 - 16)\nr6 += r1\nr0 = *(u32 *)(r6 + 0)", "cb2:\nr3 = 100\n*(u64 *)(r2 + 0) = r3\nr0 = 0\nexit")),
        // The path with r6 in [0, 7] reaches the callback first; the one with r6 >= 8 must not be pruned at the
        // callback's entry by a state whose caller frame was changed after its return (r6 overwritten there).
        ("caller's registers after the callback, two paths", """
            .map a array key=4 value=8 entries=1
            *(u32 *)(r10 - 4) = 0
            r9 = r1
            r1 = map:a ll
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto out
            r7 = r0
            r6 = *(u32 *)(r9 + 0)
            r0 = 0
            if r6 > 7 goto join
            r8 = 0
            join:
            r1 = 1
            r2 = func cb ll
            r3 = 0
            r4 = 0
            call 181
            r7 += r6
            r0 = *(u8 *)(r7 + 0)
            call 5
            r6 = r0
            out:
            r0 = 0
            exit
            cb:
            r0 = 0
            exit
            """),
        ("callback at instruction 0", """
            r1 = 1
            r2 = func -2 ll
            r3 = 0
            r4 = 0
            call 181
            r0 = 0
            exit
            """),
        ("callback into the main body", """
            r1 = 1
            r2 = func +4 ll
            r3 = 0
            r4 = 0
            call 181
            r0 = 0
            exit
            """),
        ("callback is the caller's subprogram", """
            call sub
            r0 = 0
            exit
            sub:
            r1 = 1
            r2 = func sub ll
            r3 = 0
            r4 = 0
            call 181
            r0 = 0
            exit
            """),
    ];

    /// <summary>r6 = an 8-byte array value (null-checked); fp-16 and fp-8 zeroed; bpf_loop(4, cb, fp-16); then
    /// <paramref name="after"/>; the callback's body is <paramref name="body"/>.</summary>
    private static string Loop(string body, string after, string more = "") => $"""
        .map a array key=4 value=8 entries=1
        *(u32 *)(r10 - 4) = 0
        r1 = map:a ll
        r2 = r10
        r2 += -4
        call 1
        if r0 == 0 goto out
        r6 = r0
        *(u64 *)(r10 - 16) = 0
        *(u64 *)(r10 - 8) = 0
        r1 = r10
        r1 += -16
        {LoopCall("cb")}{after}
        out:
        r0 = 0
        exit
        cb:
        {body}
        r0 = 0
        exit
        {more}
        """;

    private static string LoopCall(string cb) => $"r3 = r1\nr1 = 4\nr2 = func {cb} ll\nr4 = 0\ncall 181\n";

    /// <summary>Programs the kernel accepts and ours refuses (sound, less precise), each with why. A callback's
    /// return joins the caller's state with the one before the call: scalars spilled to the caller's stack that
    /// differ between the two are widened to unknown (registers the precision analysis needs are kept; stack slots are
    /// not tracked by it), where the kernel keeps both constants apart until one is found imprecise.</summary>
    private static readonly HashSet<(PrivilegeMode, string)> KnownStricter = [(PrivilegeMode.Privileged, "loop writes constant, caller uses it as offset")];

    internal static IEnumerable<(string Name, string Text)> Programs()
    {
        foreach (var (type, decl) in MapDecls) yield return ($"for_each over {type}", ForEach(type, decl, ""));
        foreach (var (type, decl) in MapDecls.Where(d => d.Type is "hash" or "array" or "percpu_hash"))
        {
            foreach (var (name, body) in ForEachBodies) yield return ($"for_each over {type}: {name}", ForEach(type, decl, body));
        }
        foreach (var p in LoopPrograms) yield return p;
    }

    [Fact]
    public void Callbacks_agree_with_the_kernel()
    {
        Need.Kernel();
        var programs = Programs().Select(p => (p.Name, Source: VerifierSource.Parse(p.Text, AsmDialect.Llvm, p.Name))).ToList();
        foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
        {
            var kernel = KernelOracle.LoadAll(programs.Select(p => (p.Source.Instructions, p.Source.Maps, p.Source.ProgramType ?? ProgramType.SocketFilter)).ToList(), mode, funcInfo: true);
            int compared = 0, kernelAccepted = 0, notCreated = 0;
            var disagreements = new List<string>();
            var wording = new WordingDifferences();
            for (var i = 0; i < programs.Count; i++)
            {
                var k = kernel[i];
                if (k.SetupFailed)
                {
                    // A map type this kernel or this mode cannot create: named, not compared.
                    output.WriteLine($"{mode} {programs[i].Name}: not compared ({k.Message})");
                    notCreated++;
                    continue;
                }
                compared++;
                if (k.Accepted) kernelAccepted++;
                var src = programs[i].Source;
                var ours = BpfVerifier.Verify(src.Instructions, new VerifierOptions
                {
                    ProgramType = src.ProgramType ?? ProgramType.SocketFilter, Privilege = mode, Maps = src.Maps, HasFuncInfo = true,
                });
                var agree = ours.IsAccepted == k.Accepted
                            && (ours.IsAccepted || (ours.Error!.Code != VerifierErrorCode.NotSupported && RejectionClasses.Same(ours.Error, k.Message)));
                if (agree) wording.Check($"{mode} {programs[i].Name}", ours, k);
                output.WriteLine($"{mode} {programs[i].Name}: ours [{(ours.IsAccepted ? "accept" : ours.Error!.ToString())}] kernel [{(k.Accepted ? "accept" : k.Message)}]");
                if (!agree && !(KnownStricter.Contains((mode, programs[i].Name)) && k.Accepted && !ours.IsAccepted)) disagreements.Add($"{mode} {programs[i].Name}: ours [{(ours.IsAccepted ? "accept" : ours.Error!.ToString())}] kernel [{(k.Accepted ? "accept" : k.Message)}]");
            }
            foreach (var (_, name) in KnownStricter.Where(k => k.Item1 == mode))
            {
                var i = programs.FindIndex(p => p.Name == name);
                Assert.True(i >= 0, $"KnownStricter names '{name}', which is not a program");
                if (kernel[i].Accepted) continue;
                disagreements.Add($"{mode} {name}: listed as accepted by the kernel and refused by ours, but the kernel refuses it here ({kernel[i].Message}): remove it from KnownStricter");
            }
            foreach (var w in wording.Report()) output.WriteLine("  wording: " + w);
            // Refused by both: our message is in the kernel's log word for word (measured: every one).
            disagreements.AddRange(wording.Report().Select(w => $"{mode} worded differently from the kernel's log: {w}"));
            output.WriteLine($"{mode}: {compared} compared, {notCreated} not created, kernel accepted {kernelAccepted}, {disagreements.Count} disagree");
            Assert.True(compared >= programs.Count - 4 && kernelAccepted >= 20 && kernelAccepted < compared,
                $"{mode}: {compared} of {programs.Count} compared, the kernel accepted {kernelAccepted}");
            Assert.True(disagreements.Count == 0, $"{disagreements.Count} of {compared} judged differently from the kernel:\n" + string.Join("\n", disagreements));
        }
    }
}
