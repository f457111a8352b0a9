using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Variable offsets into map values and packets with every access size (<see cref="VarOffsetGen"/>): our verdict
/// against the truth known by construction, and against the kernel's.
/// </summary>
public sealed class VarOffsetTests(ITestOutputHelper output)
{
    private const int Count = 600;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("BPFNET_SEED"), out var s) ? s : 16_2026;

    private static VerifierOptions Options(VarOffsetGen.Case c, PrivilegeMode mode) => new()
    {
        ProgramType = ProgramType.Xdp,
        Privilege = mode,
        Maps = VarOffsetGen.Maps(c.Region == "map value" ? c.RegionSize : 8),
    };

    [Fact]
    public void Verdicts_MatchTheBoundsKnownByConstruction()
    {
        var cases = VarOffsetGen.Sample(Seed, Count);
        output.WriteLine($"seed {Seed} (set BPFNET_SEED to reproduce), {cases.Count} programs");
        var wrong = new List<string>();
        var covered = new HashSet<(string, int, bool, bool)>();
        foreach (var c in cases)
        {
            covered.Add((c.Region, c.Size, c.Write, c.InBounds));
            var r = BpfVerifier.Verify(c.Program, Options(c, PrivilegeMode.Privileged));
            if (r.IsAccepted != c.InBounds) wrong.Add($"{c}: ours {r}");
        }
        // Every region x size x direction, in and out of bounds (packet-after-check cases are in bounds only with a
        // constant-0 offset, so they are counted out of bounds only).
        var expected = new[] { "map value", "packet" }.Sum(_ => 4 * 2 * 2) + 4 * 2;
        output.WriteLine($"{covered.Count} of {expected} (region, size, direction, in/out) combinations generated, {wrong.Count} wrong verdicts");
        Assert.True(covered.Count >= expected, $"the generator covered only {covered.Count} of {expected} combinations");
        Assert.True(wrong.Count == 0, "verdicts that contradict the bounds:\n" + string.Join("\n", wrong.Take(20)));
    }

    [Theory]
    [InlineData(PrivilegeMode.Privileged)]
    [InlineData(PrivilegeMode.CapBpfOnly)]
    public void Verdicts_AgreeWithKernel(PrivilegeMode mode)
    {
        Need.Kernel();
        var cases = VarOffsetGen.Sample(Seed, Count);
        var kernel = KernelOracle.LoadAll(cases.Select(c => (c.Program, Options(c, mode).Maps, ProgramType.Xdp)).ToList(), mode);
        int compared = 0, accepted = 0;
        var disagreements = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var k = kernel[i];
            Assert.False(k.SetupFailed, $"{c}: {k.Message}");
            compared++;
            if (k.Accepted) accepted++;
            var ours = BpfVerifier.Verify(c.Program, Options(c, mode));
            var sameReason = ours.IsAccepted || k.Accepted || RejectionClasses.Same(ours.Error!, k.Message);
            if (ours.IsAccepted != k.Accepted || !sameReason)
                disagreements.Add($"#{i} {c}: ours [{ours}] kernel [{(k.Accepted ? "accept" : k.Message)}]");
            if (mode == PrivilegeMode.Privileged && k.Accepted != c.InBounds)
                disagreements.Add($"#{i} {c}: the kernel says {(k.Accepted ? "accept" : k.Message)}: the generator's premise is wrong");
        }
        output.WriteLine($"{mode}: {compared} programs compared, kernel accepted {accepted}, {disagreements.Count} disagreements");
        foreach (var d in disagreements.Take(20)) output.WriteLine(d);
        Assert.True(compared == Count && accepted >= Count / 5, $"{compared} compared, {accepted} accepted by the kernel: too few to mean anything");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements.Take(20)));
    }
}
