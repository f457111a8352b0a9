using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Bpf.Generators.Tests;

/// <summary>The README's "From C#" block compiles as a user's program would (issue 11: `using Bpf;` and at most one
/// more namespace), against Bpf.Core, Bpf.Verifier and Bpf.Loader as a package user references them, with the class
/// Bpf.Generators generates from the quickstart's object.</summary>
public sealed class ReadmeTests
{
    private static string FromCSharpBlock()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var section = readme.IndexOf("## From C#", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## From C#' section");
        var match = Regex.Match(readme[section..], "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "the '## From C#' section has no ```csharp block");
        return match.Groups[1].Value;
    }

    [Fact]
    public void The_readme_sample_compiles_with_using_Bpf_and_at_most_one_more_namespace()
    {
        var code = FromCSharpBlock();
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest), cancellationToken: TestContext.Current.CancellationToken);
        var usings = tree.GetCompilationUnitRoot(TestContext.Current.CancellationToken).Usings.Select(u => u.Name!.ToString()).ToList();
        Assert.Contains("Bpf", usings);
        Assert.True(usings.Count <= 2, "the README sample imports " + string.Join(", ", usings));

        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll");
        var ours = new[] { typeof(ObjectSpec).Assembly, typeof(BpfEngine).Assembly, typeof(BpfVerifier).Assembly }.Select(a => a.Location);
        var compilation = CSharpCompilation.Create("Readme", [tree],
            platform.Concat(ours).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS8019"] = ReportDiagnostic.Suppress }));
        // ImplicitUsings as a new console project has them.
        var implicitUsings = CSharpSyntaxTree.ParseText("global using System; global using System.IO; global using System.Linq; global using System.Collections.Generic;", cancellationToken: TestContext.Current.CancellationToken);
        compilation = compilation.AddSyntaxTrees(implicitUsings);
        // The BpfProgram item the README describes, as the build hands it to the generator: the quickstart's object,
        // ClassName XdpFilter, embedded under a resource name; no namespace (the README's code is top-level).
        var sample = Path.Combine(RepoPaths.Root, "samples", "Bpf.Samples.Quickstart", "bpf", "xdp_filter.o");
        var options = new TestOptionsProvider(new Dictionary<string, string>(), new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [sample] = new Dictionary<string, string>
            {
                ["build_metadata.AdditionalFiles.BpfClassName"] = "XdpFilter",
                ["build_metadata.AdditionalFiles.BpfResourceName"] = "bpf/xdp_filter.o",
            },
        });
        GeneratorHarness.Driver([new FileText(sample)], (CSharpParseOptions)tree.Options, options)
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorErrors, TestContext.Current.CancellationToken);
        Assert.Empty(generatorErrors);
        compilation = (CSharpCompilation)generated;
        var errors = compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(errors.Count == 0, "the README's C# does not compile:\n" + string.Join("\n", errors));
    }
}
