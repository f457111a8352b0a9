using System.Security.Cryptography;
using System.Text;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Every corpus program's whole outcome, pinned: for both privilege modes, the verdict, error code, instruction,
/// message, register and its state in the kernel's notation, the instructions processed, the peak and total states,
/// the stack depth, and a digest of the kernel-style log (<see cref="VerifierOptions.CollectLog"/>), against
/// <c>corpus/outcomes.txt</c>.
/// <para>
/// <see cref="CorpusRuleTests"/> checks what the kernel decides (verdict and error code); this checks everything else
/// a user sees. Messages and register states are our promise to users (the instruction, the register, what we knew
/// about it); the processed and state counts are the verifier's work — a change in pruning, widening or state
/// comparison shows here even when every verdict stays the same, which the verdict tests cannot notice (mutation
/// testing found pruning made unsoundly eager with every verdict unchanged; docs/testing.md).
/// </para>
/// <para>
/// When a change is meant to alter outcomes: <c>BPFNET_UPDATE_OUTCOMES=1 dotnet test tests/Bpf.Verifier.Tests -c Release
/// --filter FullyQualifiedName~CorpusOutcomeTests</c> rewrites the file (and fails, so that an update is never a pass);
/// review its diff like code. Programs whose outcome depends on this machine's kernel BTF (<c># needs: kernel-btf</c>)
/// are left out: that BTF differs between kernels.
/// </para>
/// </summary>
public sealed class CorpusOutcomeTests(ITestOutputHelper output)
{
    private static string OutcomesPath => Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "corpus", "outcomes.txt");

    /// <summary>One line per program and mode: <c>name mode {json} stack=N log=digest</c>.</summary>
    internal static IEnumerable<(string Key, string Value)> Render()
    {
        foreach (var c in Corpus.Cases)
        {
            if (c.NeedsKernelBtf) continue;
            foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
            {
                var o = c.Source.ToOptions(mode);
                var options = new VerifierOptions { ProgramType = o.ProgramType, Privilege = o.Privilege, Maps = o.Maps, CollectLog = true };
                var r = BpfVerifier.Verify(c.Source.Instructions, options);
                var log = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(r.Log ?? ""))).AsSpan(0, 16).ToString().ToLowerInvariant();
                yield return ($"{c.Name} {mode}", $"{r.ToJson()} stack={r.StackDepth} log={log}");
            }
        }
    }

    [Fact]
    public void Outcomes_MatchTheRecordedOnes()
    {
        var actual = Render().ToList();
        Assert.True(actual.Count >= 800, $"only {actual.Count} outcomes rendered (expected both modes of 400+ corpus programs)");
        if (Environment.GetEnvironmentVariable("BPFNET_UPDATE_OUTCOMES") == "1")
        {
            File.WriteAllLines(OutcomesPath, actual.Select(a => $"{a.Key}\t{a.Value}"));
            Assert.Fail($"{OutcomesPath} rewritten ({actual.Count} lines): review its diff, then run again without BPFNET_UPDATE_OUTCOMES");
        }
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in File.ReadLines(OutcomesPath))
        {
            lineNo++;
            var tab = line.IndexOf('\t');
            if (tab <= 0) throw new InvalidDataException($"{OutcomesPath}:{lineNo}: expected 'name mode<TAB>outcome'");
            expected[line[..tab]] = line[(tab + 1)..];
        }
        var differences = new List<string>();
        foreach (var (key, value) in actual)
        {
            if (!expected.Remove(key, out var want)) differences.Add($"{key}: not recorded; now {value}");
            else if (want != value) differences.Add($"{key}:\n  recorded {want}\n  now      {value}");
        }
        foreach (var key in expected.Keys) differences.Add($"{key}: recorded, but no such corpus program now");
        foreach (var d in differences.Take(40)) output.WriteLine(d);
        Assert.True(differences.Count == 0,
            $"{differences.Count} of {actual.Count} corpus outcomes differ from {OutcomesPath} (first: {differences.FirstOrDefault()}); " +
            "if the change is meant, BPFNET_UPDATE_OUTCOMES=1 rewrites the file (see this class's summary)");
    }
}
