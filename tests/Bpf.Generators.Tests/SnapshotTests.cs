using System.Text;
using Microsoft.CodeAnalysis;

namespace Bpf.Generators.Tests;

/// <summary>
/// The generated source of every corpus object is committed under snapshots/ and compared here. After a deliberate
/// change to the generator, rerun with BPFNET_UPDATE_SNAPSHOTS=1 to rewrite them, and review the diff in git.
/// </summary>
public sealed class SnapshotTests
{
    private static bool Updating => Environment.GetEnvironmentVariable("BPFNET_UPDATE_SNAPSHOTS") == "1";

    public static TheoryData<string> Objects() => Corpus.Names();

    [Theory]
    [MemberData(nameof(Objects))]
    public void GeneratedSourceMatchesSnapshot(string name)
    {
        var path = Corpus.PathOf(name);
        var (run, _) = GeneratorHarness.Generate([path], options: CorpusOptions.For([(name, path)]));
        var result = Assert.Single(run.Results);
        Assert.Null(result.Exception);
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var source = Assert.Single(result.GeneratedSources).SourceText.ToString();
        var diagnostics = string.Concat(result.Diagnostics.Select(d => "// " + d.Id + ": " + d.GetMessage() + "\n"));
        var actual = diagnostics + source;
        var file = Path.Combine(Corpus.SnapshotDir, name + ".g.cs.txt");
        if (Updating)
        {
            Directory.CreateDirectory(Corpus.SnapshotDir);
            File.WriteAllText(file, actual);
            return;
        }
        Assert.True(File.Exists(file), $"no snapshot {file}: run with BPFNET_UPDATE_SNAPSHOTS=1 to create it");
        var expected = File.ReadAllText(file);
        if (expected != actual)
        {
            Assert.Fail($"generated source for {name} differs from {file} (BPFNET_UPDATE_SNAPSHOTS=1 rewrites it):\n" + Diff(expected, actual));
        }
    }

    [Fact]
    public void EveryCorpusOutputCompilesWithoutWarnings()
    {
        var objects = Corpus.Objects();
        var (run, output) = GeneratorHarness.Generate(objects.Select(o => o.Path), options: CorpusOptions.For(objects));
        Assert.Equal(objects.Count, run.GeneratedTrees.Length);
        var problems = GeneratorHarness.Problems(output);
        Assert.True(problems.IsEmpty, string.Join("\n", problems.Take(30)));
    }

    [Fact]
    public void SnapshotDirectoryHoldsNoStaleFiles()
    {
        var expected = Corpus.Objects().Select(o => o.Name + ".g.cs.txt").ToHashSet();
        var stale = Directory.EnumerateFiles(Corpus.SnapshotDir).Select(Path.GetFileName).Where(f => !expected.Contains(f!)).ToList();
        Assert.True(stale.Count == 0, "snapshots without an object: " + string.Join(", ", stale));
    }

    /// <summary>The first differing line with a few lines of context on each side.</summary>
    internal static string Diff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var i = 0;
        while (i < e.Length && i < a.Length && e[i] == a[i]) i++;
        var sb = new StringBuilder().Append("first difference at line ").Append(i + 1).Append('\n');
        for (var k = Math.Max(0, i - 3); k < i; k++) sb.Append("  ").Append(e[k]).Append('\n');
        for (var k = i; k < Math.Min(e.Length, i + 4); k++) sb.Append("- ").Append(e[k]).Append('\n');
        for (var k = i; k < Math.Min(a.Length, i + 4); k++) sb.Append("+ ").Append(a[k]).Append('\n');
        sb.Append("(expected ").Append(e.Length).Append(" lines, got ").Append(a.Length).Append(')');
        return sb.ToString();
    }
}
