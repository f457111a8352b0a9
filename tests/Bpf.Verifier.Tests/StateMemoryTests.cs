using System.Text;
using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Pending and stored states share the callers' frames (copy on write), so deep call chains with many
/// pending branches stay small.</summary>
public sealed class StateMemoryTests(ITestOutputHelper output)
{
    /// <summary>Eight nested frames, each with six spilled slots, then <paramref name="branches"/> undecided
    /// branches in the innermost one (each leaves a pending state behind).</summary>
    public static string DeepFramesManyBranches(int frames, int branches)
    {
        var sb = new StringBuilder();
        for (var f = 0; f < frames; f++)
        {
            if (f > 0) sb.Append("f").Append(f).Append(":\n");
            for (var s = 1; s <= 6; s++) sb.Append("r1 = ").Append(f * 10 + s).Append("\n*(u64 *)(r10 - ").Append(8 * s).Append(") = r1\n");
            if (f + 1 < frames)
            {
                sb.Append("call f").Append(f + 1).Append('\n');
            }
            else
            {
                sb.Append("call 7\n");
                for (var b = 0; b < branches; b++) sb.Append("if r0 == ").Append(b).Append(" goto +0\n");
            }
            sb.Append("r0 = 0\nexit\n");
        }
        return sb.ToString();
    }

    [Fact]
    public void EightFramesOfSpills_And8200Branches_StayUnder100MB()
    {
        var program = Assembler.Assemble(DeepFramesManyBranches(8, 8200), AsmDialect.Llvm);
        BpfVerifier.Verify(Assembler.Assemble(DeepFramesManyBranches(8, 10), AsmDialect.Llvm)); // warm up the code paths
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = BpfVerifier.Verify(program);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{result}; allocated {allocated / 1e6:F1} MB during Verify");
        // Like the kernel ("The sequence of 8193 jumps is too complex"), the verdict is a rejection; what matters
        // here is that reaching it stays small: everything allocated bounds the peak.
        Assert.False(result.IsAccepted);
        Assert.Equal(VerifierErrorCode.TooComplex, result.Error!.Code);
        Assert.True(allocated < 100_000_000, $"allocated {allocated / 1e6:F1} MB (limit 100 MB)");
    }
}
