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
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            GeneratorHarness.Generate([path]);
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        // The median and the fastest run: on a shared machine the mean follows the other processes' load.
        var median = times[runs / 2];
        output.WriteLine($"{name} ({new FileInfo(path).Length} bytes): median {median:F2} ms, fastest {times[0]:F2} ms per generator run ({runs} runs)");
        Assert.True(median < 2000, $"{name}: {median:F0} ms per run");
    }
}
