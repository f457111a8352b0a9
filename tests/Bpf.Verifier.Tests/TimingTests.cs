using System.Diagnostics;
using Bpf.Asm;
using Bpf.Loader;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Verification time against program size and loop count, ours next to the kernel's own "verification time"
/// (BPF_LOG_STATS). Prints a table (recorded in docs/benchmarks.md); asserts only that both agree on the verdict.
/// </summary>
public sealed class TimingTests(ITestOutputHelper output)
{
    public static IEnumerable<(string Name, Instruction[] Program)> Workloads()
    {
        foreach (var n in new[] { 100, 1_000, 10_000, 100_000 })
        {
            var text = string.Concat(Enumerable.Repeat("r0 += 1\n", n)) + "exit";
            yield return ($"straight line {n} insns", Assembler.Assemble("r0 = 0\n" + text, AsmDialect.Llvm));
        }
        foreach (var n in new[] { 100, 10_000, 100_000 })
        {
            yield return ($"counted loop {n} iterations",
                Assembler.Assemble($"r0 = 0\nr1 = 0\nl: r0 += 3\nr1 += 1\nif r1 < {n} goto l\nexit", AsmDialect.Llvm));
        }
        yield return ("12 helper-decided branches, counter never compared",
            Assembler.Assemble(PrecisionTests.HelperDecidedBranches(12), AsmDialect.Llvm));
        yield return ("12 independent branches",
            Assembler.Assemble("r6 = r1\ncall 7\nr6 = r0\nr0 = 0\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"if r6 & {1L << (i % 31)} goto +1\nr0 += 1\n")) + "exit", AsmDialect.Llvm));
    }

    [Fact]
    public void VerificationTime_ComparedWithKernel()
    {
        Need.Kernel();
        output.WriteLine("| workload | processed (ours) | processed (kernel) | ours | kernel | ratio ours/kernel |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, program) in Workloads())
        {
            BpfVerifier.Verify(program); // warm up
            var sw = Stopwatch.StartNew();
            const int reps = 5;
            VerificationResult ours = null!;
            for (var i = 0; i < reps; i++) ours = BpfVerifier.Verify(program);
            var oursTime = sw.Elapsed / reps;
            using var prog = BpfProgram.Load(ProgramType.SocketFilter, program, "GPL", new LoadOptions { LogLevel = VerifierLogLevel.Stats });
            Assert.True(ours.IsAccepted, $"{name}: we reject: {ours}");
            var kernel = prog.VerificationTime ?? TimeSpan.Zero;
            var ratio = kernel > TimeSpan.Zero ? oursTime / kernel : double.NaN;
            output.WriteLine($"| {name} | {ours.ProcessedInstructions} | {prog.ProcessedInstructions} | {oursTime.TotalMicroseconds:F0} µs | {kernel.TotalMicroseconds:F0} µs | {ratio:F2} |");
        }
    }
}
