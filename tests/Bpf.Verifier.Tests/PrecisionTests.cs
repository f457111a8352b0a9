using Bpf.Asm;
using Bpf.Verifier;
using Bpf.Verifier.Internal;

namespace Bpf.Verifier.Tests;

/// <summary>The static "needs precision" analysis lets pruning ignore scalars whose value can no longer matter.</summary>
public sealed class PrecisionTests(ITestOutputHelper output)
{
    public static string HelperDecidedBranches(int n) =>
        "r6 = 0\n" + string.Concat(Enumerable.Range(0, n).Select(_ => "call 7\nif r0 > 5 goto +1\nr6 += 1\n")) + "r0 = r6\nexit";

    [Fact]
    public void CounterNeverCompared_IsImprecise_SoBranchesPrune()
    {
        var p = Assembler.Assemble(HelperDecidedBranches(12), AsmDialect.Llvm);
        var s = Structure.Build(p, VerifierOptions.Default);
        var need = Precision.Analyse(p, s, ProgramType.SocketFilter);
        Assert.Equal(0, need[^1] & (1 << 6)); // r6 only reaches the (unchecked) return value
        var r = BpfVerifier.Verify(p);
        output.WriteLine(r.ToString());
        Assert.True(r.IsAccepted);
        Assert.True(r.ProcessedInstructions < 400, r.ToString());
    }

    [Fact]
    public void ReturnValueOfCgroupSkb_StaysPrecise()
    {
        var p = Assembler.Assemble(HelperDecidedBranches(3).Replace("r0 = r6", "r0 = r6\nr0 &= 1"), AsmDialect.Llvm);
        var s = Structure.Build(p, new VerifierOptions { ProgramType = ProgramType.CgroupSkb });
        var need = Precision.Analyse(p, s, ProgramType.CgroupSkb);
        Assert.NotEqual(0, need[0] & 1 << 6 | need[1] & 1 << 6 | need[^3] & 1 << 6);
    }
}
