using System.Diagnostics;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Per-rule unit tests without a kernel: every corpus program carries the verdict (and error code) the rule it
/// exercises should produce — "# expect:" for a privileged load, "# expect-cap:" for CAP_BPF-only — and our
/// verifier must produce it. The expectations were checked against Linux 6.18 (see DifferentialTests).
/// </summary>
public sealed class CorpusRuleTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names() => Corpus.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void Program_MatchesExpectation(string name)
    {
        var c = Corpus.Get(name);
        Assert.NotNull(c.ExpectPrivileged);
        if (c.NeedsKernelBtf && Bpf.Loader.KernelBtf.TryGet() is null) Assert.Skip($"{name} needs the kernel's BTF (/sys/kernel/btf/vmlinux), which this machine lacks");
        Check(c, PrivilegeMode.Privileged, c.ExpectPrivileged!);
        // Without an explicit expect-cap line only the verdict carries over (the kernel often names a
        // different first error when Spectre checks apply).
        Check(c, PrivilegeMode.CapBpfOnly, c.ExpectCapBpf ?? c.ExpectPrivileged!.Split(' ')[0]);
    }

    private void Check(CorpusCase c, PrivilegeMode mode, string expectation)
    {
        var sw = Stopwatch.StartNew();
        var result = BpfVerifier.Verify(c.Source.Instructions, c.Source.ToOptions(mode, kernelBtf: c.NeedsKernelBtf ? Bpf.Loader.KernelBtf.TryGet() : null));
        sw.Stop();
        output.WriteLine($"{mode}: {result} in {sw.Elapsed.TotalMilliseconds:F1} ms; json {result.ToJson()}");
        var parts = expectation.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var where = $"{c.File}:{c.Line} ({mode})";
        if (parts[0] == "accept")
        {
            Assert.True(result.IsAccepted, $"{where}: expected accept, got {result}");
        }
        else
        {
            Assert.False(result.IsAccepted, $"{where}: expected reject, got accept");
            if (parts.Length > 1) Assert.True(parts[1] == result.Error!.Code.ToString(), $"{where}: expected {parts[1]}, got {result.Error}");
        }
    }
}
