extern alias gen;

namespace Bpf.Generators.Tests;

/// <summary>The objects the generator is tested on: the project's C corpus, the runtime corpus, the feature corpus,
/// the quickstart sample and this project's layout corpus.</summary>
internal static class Corpus
{
    public static string GeneratorDir => Path.Combine(RepoPaths.Root, "tests", "Bpf.Generators.Tests");

    public static string LayoutObject => Path.Combine(GeneratorDir, "bpf", "layouts.o");

    public static string SnapshotDir => Path.Combine(GeneratorDir, "snapshots");

    /// <summary>Every corpus object with BTF, by a unique snapshot name.</summary>
    public static IReadOnlyList<(string Name, string Path)> Objects()
    {
        var list = new List<(string, string)>();
        void Add(string prefix, string dir)
        {
            foreach (var f in Directory.EnumerateFiles(dir, "*.o").Order(StringComparer.Ordinal))
            {
                list.Add((prefix + Path.GetFileNameWithoutExtension(f), f));
            }
        }
        Add("corpus.", RepoPaths.CorpusDir);
        Add("features.", Path.Combine(RepoPaths.CorpusDir, "features"));
        Add("runtime.", Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs"));
        Add("sample.", Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf"));
        Add("generators.", Path.Combine(GeneratorDir, "bpf"));
        return list.Where(o => !Path.GetFileName(o.Item2).StartsWith("nobtf", StringComparison.Ordinal)).ToList();
    }

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in Objects()) data.Add(name);
        return data;
    }

    public static string PathOf(string name) => Objects().Single(o => o.Name == name).Path;
}

/// <summary>Options giving each corpus object a namespace of its own, so all of them compile together.</summary>
internal static class CorpusOptions
{
    public static TestOptionsProvider For(IEnumerable<(string Name, string Path)> objects) =>
        new(new Dictionary<string, string> { ["build_property.RootNamespace"] = "Generated" },
            objects.ToDictionary(o => o.Path, o => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>
            {
                ["build_metadata.AdditionalFiles.BpfNamespace"] = "Generated." + gen::Bpf.Generators.Naming.Pascal(o.Name[..o.Name.IndexOf('.')]),
            }));
}
