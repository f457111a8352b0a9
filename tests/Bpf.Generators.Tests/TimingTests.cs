using System.Diagnostics;

namespace Bpf.Generators.Tests;

/// <summary>Generation cost on the largest corpus objects (printed; bounded loosely so a hang or a blow-up fails).</summary>
public sealed class TimingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("runtime.rt_xdp")]
    [InlineData("generators.layouts")]
    public void GenerationIsFast(string name)
    {
        var path = Corpus.PathOf(name);
        GeneratorHarness.Generate([path]); // warm up (JIT)
        const int runs = 20;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++) GeneratorHarness.Generate([path]);
        var perRun = watch.Elapsed.TotalMilliseconds / runs;
        output.WriteLine($"{name} ({new FileInfo(path).Length} bytes): {perRun:F2} ms per generator run (mean of {runs})");
        Assert.True(perRun < 2000, $"{name}: {perRun:F0} ms per run");
    }
}
