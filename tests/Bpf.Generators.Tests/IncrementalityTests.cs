extern alias gen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using BpfObjectGenerator = gen::Bpf.Generators.BpfObjectGenerator;

namespace Bpf.Generators.Tests;

/// <summary>Roslyn's tracked steps: an edit to unrelated C# must not rerun the object reading and generation.</summary>
public sealed class IncrementalityTests
{
    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun(params string[] objects) =>
        FirstRun([.. objects.Select(o => (AdditionalText)new FileText(o))]);

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun(params AdditionalText[] objects)
    {
        var parse = GeneratorHarness.Parse();
        var compilation = GeneratorHarness.Compilation("Incremental", [CSharpSyntaxTree.ParseText("class A { int X; }", parse)]);
        var driver = GeneratorHarness.Driver(objects, parse, track: true).RunGenerators(compilation, TestContext.Current.CancellationToken);
        return (driver, compilation);
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        [.. driver.GetRunResult().Results[0].TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason)];

    [Fact]
    public void UnrelatedCSharpEditLeavesTheStepsCached()
    {
        var (driver, compilation) = FirstRun(Corpus.LayoutObject, RepoPaths.CorpusObject("xdp_filter"));
        Assert.All(Reasons(driver, BpfObjectGenerator.GenerateStep), r => Assert.Equal(IncrementalStepRunReason.New, r));
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From("class A { int X; int Y; }")));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);
        var request = Reasons(driver, BpfObjectGenerator.RequestStep);
        var generate = Reasons(driver, BpfObjectGenerator.GenerateStep);
        Assert.Equal(2, generate.Length);
        Assert.All(request, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.All(generate, r => Assert.Equal(IncrementalStepRunReason.Cached, r));
        Assert.All(driver.GetRunResult().Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void AddingAnObjectGeneratesOnlyThatObject()
    {
        var (driver, compilation) = FirstRun(Corpus.LayoutObject);
        driver = driver.AddAdditionalTexts([new FileText(RepoPaths.CorpusObject("globals"))]).RunGenerators(compilation, TestContext.Current.CancellationToken);
        var generate = Reasons(driver, BpfObjectGenerator.GenerateStep);
        Assert.Equal([IncrementalStepRunReason.Cached, IncrementalStepRunReason.New], generate);
    }

    [Fact]
    public void ChangedObjectAtTheSamePathIsReread()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bpfgen-changing-{Environment.ProcessId}.o");
        File.Copy(Corpus.LayoutObject, path, overwrite: true);
        try
        {
            var first = new FileText(path);
            var (driver, compilation) = FirstRun(first);
            File.Copy(RepoPaths.CorpusObject("globals"), path, overwrite: true);
            driver = driver.ReplaceAdditionalText(first, new FileText(path)).RunGenerators(compilation, TestContext.Current.CancellationToken);
            Assert.Equal([IncrementalStepRunReason.Modified], Reasons(driver, BpfObjectGenerator.GenerateStep));
            Assert.Contains("PacketsSeen", driver.GetRunResult().GeneratedTrees.Single().ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ChangingTheLanguageVersionRegeneratesArrays()
    {
        // The InlineArray decision depends on the compilation: a change there must rerun generation (this is the
        // counter-check that the cached reasons above are not vacuous).
        var (driver, compilation) = FirstRun(Corpus.LayoutObject);
        var older = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText("class A { int X; }", GeneratorHarness.Parse(LanguageVersion.CSharp11), cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.WithUpdatedParseOptions(GeneratorHarness.Parse(LanguageVersion.CSharp11)).RunGenerators(older, TestContext.Current.CancellationToken);
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(driver, BpfObjectGenerator.GenerateStep));
    }
}
