using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Our verdict against the kernel's on every corpus program, privileged (root) and CAP_BPF-only. Prints the
/// agreement rate; fails on any disagreement not listed (with a reason) in known-disagreements.txt. A listed
/// one that agrees on this kernel is printed, not failed: the kernel's verdict on a few cases differs between
/// machines of our kind.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    /// <summary>Cases both reject where the first error found differs in class, and why that is acceptable.</summary>
    private static readonly Dictionary<string, string> KnownReasonDifferences = new(StringComparer.Ordinal)
    {
        ["privileged ringbuf-use-after-submit"] = "the kernel turns the submitted record pointer into a scalar; we mark the register uninitialised: both refuse the dereference",
    };

    /// <summary>Rejected by both, for reasons worded differently (the key is MODE CASE).</summary>
    private static readonly Dictionary<string, string> KnownWordingDifferences = new()
    {
        ["cap_bpf loop-bounded-10"] = "without CAP_PERFMON the kernel finds an exact earlier state on the loop's path (infinite loop); ours runs the loop into the instruction limit",
    };

    [Theory]
    [InlineData(PrivilegeMode.Privileged)]
    [InlineData(PrivilegeMode.CapBpfOnly)]
    public void Corpus_AgreesWithKernel(PrivilegeMode mode)
    {
        Need.Kernel();
        var cases = Corpus.Cases;
        Assert.True(cases.Count >= 200, $"the corpus has {cases.Count} programs; at least 200 are required");
        var kernel = KernelOracle.LoadAll(cases.Select(c => (c.Source.Instructions, c.Source.Maps, c.Source.ProgramType ?? ProgramType.SocketFilter)).ToList(), mode);
        var known = KnownDisagreements.Load();
        var modeKey = KnownDisagreements.ModeKey(mode);
        var agree = 0;
        int bothReject = 0, sameClass = 0;
        var reasonDiffers = new List<string>();
        var unexplained = new List<string>();
        var seen = new HashSet<string>();
        var categories = new Dictionary<string, int>();
        var wording = new WordingDifferences();
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            // This machine's kernel BTF, as the CLI and ObjectVerifier pass it: reads through map pointers.
            var ours = BpfVerifier.Verify(c.Source.Instructions, c.Source.ToOptions(mode, kernelBtf: Bpf.Loader.KernelBtf.TryGet()));
            var k = kernel[i];
            // "Not modelled" is not a verdict: it agrees with nothing, even a kernel rejection.
            var notModelled = !ours.IsAccepted && ours.Error!.Code == VerifierErrorCode.NotSupported;
            if (ours.IsAccepted == k.Accepted && !notModelled)
            {
                agree++;
                if (!k.Accepted)
                {
                    bothReject++;
                    wording.Check($"{modeKey} {c.Name}", ours, k);
                    if (RejectionClasses.Same(ours.Error!, k.Message)) sameClass++;
                    else if (!KnownReasonDifferences.ContainsKey($"{modeKey} {c.Name}")) reasonDiffers.Add($"{modeKey} {c.Name}: ours [{ours.Error}] kernel [{k.Message}]");
                    else output.WriteLine($"REASON-DIFFERS {modeKey} {c.Name}: ours {RejectionClasses.Of(ours.Error!.Code)} [{ours.Error}] kernel {RejectionClasses.OfKernel(k.Message)} [{k.Message}] ({c.File}:{c.Line})");
                }
                continue;
            }
            var direction = ours.IsAccepted ? "we-accept" : "we-reject";
            var cat = ours.IsAccepted ? "we accept, kernel rejects" : $"we reject ({ours.Error!.Code}), kernel accepts";
            categories[cat] = categories.GetValueOrDefault(cat) + 1;
            var key = $"{modeKey} {c.Name}";
            seen.Add(key);
            var line = $"{key} {direction}: ours=[{(ours.IsAccepted ? "accept" : ours.Error!.ToString())}] kernel=[{(k.Accepted ? "accept" : k.Message)}] ({c.File}:{c.Line})";
            output.WriteLine("DISAGREE " + line);
            if (!known.TryGetValue(key, out var entry) || entry.Direction != direction) unexplained.Add(line);
        }
        output.WriteLine($"agreement ({modeKey}): {agree}/{cases.Count} = {100.0 * agree / cases.Count:F1}%");
        output.WriteLine($"both reject: {bothReject}, same reason class: {sameClass}, worded as in the kernel's log: {bothReject - wording.Count}");
        foreach (var w in wording.Report()) output.WriteLine("  wording: " + w);
        // Refused by both: our message is in the kernel's log word for word, except the cases listed with why.
        var unexplainedWording = wording.Names.Where(n => !KnownWordingDifferences.ContainsKey(n)).ToList();
        Assert.True(unexplainedWording.Count == 0, "both reject, worded differently from the kernel's log:\n" + string.Join("\n", wording.Report()));
        foreach (var (cat, n) in categories) output.WriteLine($"  {n} x {cat}");
        var stale = known.Keys.Where(k => k.StartsWith(modeKey + " ", StringComparison.Ordinal) && !seen.Contains(k)).ToList();
        Assert.True(bothReject >= 150, $"only {bothReject} programs rejected by both: the reason comparison means little");
        Assert.True(reasonDiffers.Count == 0, "both reject, for reasons of a different class (RejectionClass):\n" + string.Join("\n", reasonDiffers));
        Assert.True(unexplained.Count == 0, "new disagreements with the kernel (add a reason to known-disagreements.txt or fix):\n" + string.Join("\n", unexplained));
        // A listed disagreement that agrees on this kernel is reported, not failed: kernels of our kind differ in
        // patch level (helper-value-narrow-spill-slot is accepted by some 6.18 builds and rejected by others).
        foreach (var k in stale) output.WriteLine($"KNOWN-BUT-AGREES-HERE {k}: listed in known-disagreements.txt, agrees on this kernel ({Environment.OSVersion.Version})");
    }
}

/// <summary>
/// known-disagreements.txt: one line per known disagreement, <c>MODE CASE DIRECTION: reason</c>, where MODE is
/// privileged or cap_bpf and DIRECTION is we-accept (a possible soundness bug: the reason must say why the
/// program is still safe) or we-reject (a precision gap: the reason says what we do not model).
/// </summary>
public static class KnownDisagreements
{
    public sealed record Entry(string Direction, string Reason);

    public static string ModeKey(PrivilegeMode mode) => mode == PrivilegeMode.Privileged ? "privileged" : "cap_bpf";

    /// <summary>Kernel message fragments of "we accept, kernel rejects" random-program cases that are explained
    /// (lines <c>random we-accept: FRAGMENT: reason</c>).</summary>
    public static List<string> RandomPatterns()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "known-disagreements.txt");
        var list = new List<string>();
        foreach (var raw in File.ReadAllLines(path))
        {
            const string prefix = "random we-accept: ";
            if (!raw.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = raw[prefix.Length..];
            var colon = rest.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0) throw new InvalidDataException($"known-disagreements.txt: '{raw}' needs 'random we-accept: FRAGMENT: reason'");
            list.Add(rest[..colon]);
        }
        return list;
    }

    public static Dictionary<string, Entry> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "known-disagreements.txt");
        var result = new Dictionary<string, Entry>();
        var n = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("random ", StringComparison.Ordinal)) continue;
            var colon = line.IndexOf(':');
            var head = (colon < 0 ? line : line[..colon]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (colon < 0 || head.Length != 3 || head[2] is not ("we-accept" or "we-reject") || line[(colon + 1)..].Trim().Length == 0)
            {
                throw new InvalidDataException($"known-disagreements.txt:{n}: expected 'MODE CASE we-accept|we-reject: reason'");
            }
            result[$"{head[0]} {head[1]}"] = new Entry(head[2], line[(colon + 1)..].Trim());
        }
        return result;
    }
}
