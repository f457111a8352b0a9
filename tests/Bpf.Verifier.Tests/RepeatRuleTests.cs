using Bpf.Verifier;
using Bpf.Verifier.Internal;

namespace Bpf.Verifier.Tests;

/// <summary>
/// <see cref="Checker"/> repeats a run that found newly decided branches only when the run relied on imprecision
/// (pruned or widened where full precision would not have). These tests check that the shortcut changes nothing:
/// every corpus program and a few thousand generated ones give the same verdict, error, processed and stored-state
/// counts as with the old rule (always repeat).
/// </summary>
public sealed class RepeatRuleTests
{
    private static void AssertSame(Instruction[] program, VerifierOptions options, string what)
    {
        var fast = Checker.Verify(program, options);
        var full = Checker.Verify(program, options, repeatAlways: true);
        Assert.True(fast.Verdict == full.Verdict, $"{what}: {fast} vs always repeating: {full}");
        Assert.True(fast.Error?.Code == full.Error?.Code && fast.Error?.InstructionIndex == full.Error?.InstructionIndex, $"{what}: {fast} vs {full}");
        Assert.True(fast.ProcessedInstructions == full.ProcessedInstructions, $"{what}: processed {fast.ProcessedInstructions} vs {full.ProcessedInstructions}");
        Assert.True(fast.TotalStates == full.TotalStates && fast.PeakStates == full.PeakStates,
            $"{what}: states {fast.TotalStates}/{fast.PeakStates} vs {full.TotalStates}/{full.PeakStates}");
    }

    [Theory]
    [MemberData(nameof(Corpus.Names), MemberType = typeof(Corpus))]
    public void CorpusProgram_SameResultAsAlwaysRepeating(string name)
    {
        var c = Corpus.Get(name);
        if (c.NeedsKernelBtf && Bpf.Loader.KernelBtf.TryGet() is null) Assert.Skip($"{name} needs the kernel's BTF (/sys/kernel/btf/vmlinux), which this machine lacks");
        var btf = c.NeedsKernelBtf ? Bpf.Loader.KernelBtf.TryGet() : null;
        foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
        {
            AssertSame(c.Source.Instructions, c.Source.ToOptions(mode, kernelBtf: btf), $"{c.File}:{c.Line} ({mode})");
        }
    }

    [Theory]
    [InlineData(PruningFuzz.Target.Memory)]
    [InlineData(PruningFuzz.Target.Kernel)]
    [InlineData(PruningFuzz.Target.Xdp)]
    public void GeneratedPrograms_SameResultAsAlwaysRepeating(PruningFuzz.Target target)
    {
        for (var i = 0; i < 1000; i++)
        {
            var program = PruningFuzz.Build(new Random(PruningFuzz.ProgramSeed(20261204, i)), target);
            foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
            {
                AssertSame(program, PruningFuzz.Options(target, mode), $"{target} #{i} ({mode})");
            }
        }
    }
}
