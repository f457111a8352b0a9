using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// The pruning soundness fuzzer (<see cref="PruningFuzz"/>) in CI: a fixed time budget of interpreter-checked
/// programs, and its kernel-target programs against the kernel's verdicts. Long campaigns:
/// <c>dotnet run -c Release --project tests/Bpf.Verifier.Fuzz -- --seconds 3600</c>.
/// </summary>
public sealed class PruningFuzzTests(ITestOutputHelper output)
{
    private static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

    /// <summary>Every accepted program runs on <see cref="PruningFuzz.RunsPerProgram"/> boundary inputs; any fault fails.
    /// BPFNET_SEED fixes the master seed (else a fresh one, printed); BPFNET_FUZZ_SECONDS sets the budget.</summary>
    [Fact]
    public void AcceptedPrograms_NeverFault_WithinTimeBudget()
    {
        var seed = Env("BPFNET_SEED", Random.Shared.Next());
        var seconds = Env("BPFNET_FUZZ_SECONDS", 35);
        output.WriteLine($"master seed {seed} (BPFNET_SEED={seed} reproduces), budget {seconds} s");
        var stats = PruningFuzz.Campaign(seed, TimeSpan.FromSeconds(seconds));
        output.WriteLine(stats.ToString());
        foreach (var (code, n) in stats.Rejections.OrderByDescending(x => x.Value).Take(10)) output.WriteLine($"  rejected {n} x {code}");
        foreach (var f in stats.Faults.Take(10)) output.WriteLine("FAULT " + f);
        Assert.True(stats.Faults.Count == 0, $"{stats.Faults.Count} accepted programs faulted (seed {seed}):\n" + string.Join("\n", stats.Faults.Take(5)));
        // The floor is set well under the rate measured alone on the 2-core machine, so a busy CI still passes;
        // a generator that stops producing accepted programs fails.
        var minimum = 1_000L * seconds;
        Assert.True(stats.Programs >= minimum, $"only {stats.Programs} programs in {seconds} s (minimum {minimum})");
        Assert.True(stats.Accepted >= stats.Programs / 5, $"only {stats.Accepted} of {stats.Programs} accepted; the generator no longer exercises pruning");
    }

    /// <summary>Generated kernel-target programs (socket filters over an array-map value, XDP over the packet) agree with the kernel.
    /// A "we accept, kernel rejects" case must match a "random we-accept:" pattern in known-disagreements.txt.</summary>
    [Theory]
    [InlineData(PruningFuzz.Target.Kernel, PrivilegeMode.Privileged)]
    [InlineData(PruningFuzz.Target.Kernel, PrivilegeMode.CapBpfOnly)]
    [InlineData(PruningFuzz.Target.Xdp, PrivilegeMode.Privileged)]
    [InlineData(PruningFuzz.Target.Xdp, PrivilegeMode.CapBpfOnly)]
    public void KernelTargetPrograms_AgreeWithKernel(PruningFuzz.Target target, PrivilegeMode mode)
    {
        Need.Kernel();
        var seed = Env("BPFNET_SEED", 20261204);
        const int count = 1500;
        output.WriteLine($"seed {seed} (BPFNET_SEED reproduces), {count} {target} programs, {mode}");
        var programs = Enumerable.Range(0, count)
            .Select(i => PruningFuzz.Build(new Random(PruningFuzz.ProgramSeed(seed, i)), target)).ToList();
        var (type, maps) = PruningFuzz.KernelSetup(target);
        var kernel = KernelOracle.LoadAll(programs.Select(p => (p, maps, type)).ToList(), mode);
        var options = PruningFuzz.Options(target, mode);
        var patterns = KnownDisagreements.RandomPatterns();
        int agree = 0, weReject = 0, kernelAccepts = 0, bothAccept = 0;
        var unexplained = new List<string>();
        var byCategory = new Dictionary<string, int>();
        var wording = new WordingDifferences();
        for (var i = 0; i < count; i++)
        {
            var ours = BpfVerifier.Verify(programs[i], options);
            var k = kernel[i];
            Assert.False(k.SetupFailed, $"#{i}: {k.Message}");
            if (k.Accepted) kernelAccepts++;
            if (ours.IsAccepted == k.Accepted)
            {
                agree++;
                if (k.Accepted) bothAccept++;
                else wording.Check($"#{i}", ours, k);
                continue;
            }
            var hex = string.Join(" ", programs[i].Select(x => x.ToRaw().ToString("x16")));
            string category;
            if (ours.IsAccepted)
            {
                category = "we accept, kernel rejects: " + k.Message;
                if (!patterns.Any(p => k.Message.Contains(p, StringComparison.Ordinal))) unexplained.Add($"#{i} kernel=[{k.Message}] prog={hex}");
            }
            else
            {
                weReject++;
                category = $"we reject ({ours.Error!.Code}: {ours.Error.Message}), kernel accepts";
            }
            byCategory[category] = byCategory.GetValueOrDefault(category) + 1;
            output.WriteLine($"DISAGREE #{i}: {category} prog={hex}");
        }
        output.WriteLine($"agreement: {agree}/{count} = {100.0 * agree / count:F1}%; kernel accepted {kernelAccepts}, both accepted {bothAccept}");
        output.WriteLine($"worded as in the kernel's log: {agree - bothAccept - wording.Count} of {agree - bothAccept} refused by both");
        foreach (var w in wording.Report()) output.WriteLine("  wording: " + w);
        foreach (var (cat, n) in byCategory.OrderByDescending(x => x.Value)) output.WriteLine($"  {n} x {cat}");
        Assert.True(unexplained.Count == 0, "we accept programs the kernel rejects (possible soundness bugs):\n" + string.Join("\n", unexplained));
        Assert.True(kernelAccepts >= count / 10, $"the kernel accepted only {kernelAccepts} of {count}: the comparison would be mostly both-reject");
        Assert.True(weReject <= count * 5 / 100, $"{weReject} programs rejected by us but accepted by the kernel (over 5%)");
    }
}
