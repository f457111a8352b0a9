namespace Bpf.Tests;

/// <summary>Finds the repository root and the shared conformance suite beside it, from any test's output directory.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    /// <summary>The directory holding BpfNet.sln.</summary>
    public static string Root => RootLazy.Value;

    /// <summary><c>../shared/conformance</c> beside the repository root.</summary>
    public static string ConformanceDir => Path.GetFullPath(Path.Combine(Root, "..", "shared", "conformance"));

    /// <summary>The C corpus written for this project and its committed objects (built by build.sh there).</summary>
    public static string CorpusDir => Path.Combine(Root, "tests", "Bpf.Core.Tests", "programs");

    /// <summary>The committed object of one corpus program, e.g. <c>CorpusObject("xdp_filter")</c>.</summary>
    public static string CorpusObject(string name) => Path.Combine(CorpusDir, name + ".o");

    /// <summary>One object of the feature corpus (one C file per reader/loader feature, built by its build.sh).</summary>
    public static string FeatureObject(string name) => Path.Combine(CorpusDir, "features", name + ".o");

    /// <summary>Every conformance data file, sorted by name.</summary>
    public static IEnumerable<string> ConformanceFiles()
    {
        if (!Directory.Exists(ConformanceDir))
        {
            throw new DirectoryNotFoundException($"conformance suite not found at {ConformanceDir} (expected ../shared/conformance beside the repository)");
        }
        return Directory.EnumerateFiles(ConformanceDir, "*.data").OrderBy(f => f, StringComparer.Ordinal);
    }

    /// <summary>xunit MemberData rows: one file name per row.</summary>
    public static TheoryData<string> ConformanceFileNames()
    {
        var data = new TheoryData<string>();
        foreach (var file in ConformanceFiles()) data.Add(Path.GetFileName(file));
        return data;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BpfNet.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no BpfNet.sln above {AppContext.BaseDirectory}");
    }
}
