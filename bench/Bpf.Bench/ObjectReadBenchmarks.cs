using BenchmarkDotNet.Attributes;
using Bpf.Elf;

namespace Bpf.Bench;

/// <summary>
/// Reading the committed clang corpus (tests/Bpf.Core.Tests/programs/*.o): the ELF layer alone and the whole
/// ObjectSpec (BTF, BTF.ext, maps, globals, linking). Reported per object, with allocations.
/// </summary>
[MemoryDiagnoser]
public class ObjectReadBenchmarks
{
    private byte[] _bytes = [];

    /// <summary>The corpus object to read.</summary>
    [Params("xdp_filter", "globals", "bpf2bpf", "map_in_map", "tracepoint")]
    public string Object { get; set; } = "xdp_filter";

    [GlobalSetup]
    public void Setup() => _bytes = File.ReadAllBytes(Path.Combine(CorpusDir(), Object + ".o"));

    [Benchmark(Baseline = true)]
    public int ElfOnly() => ElfFile.Parse(_bytes).Symbols.Count;

    [Benchmark]
    public int ObjectSpecRead() => ObjectSpec.Read(_bytes).Programs.Count;

    private static string CorpusDir()
    {
        // BenchmarkDotNet runs from a generated folder below bin/; walk up to the repository root.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BpfNet.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "Bpf.Core.Tests", "programs");
            }
        }
        throw new DirectoryNotFoundException($"no BpfNet.sln above {AppContext.BaseDirectory}");
    }
}
