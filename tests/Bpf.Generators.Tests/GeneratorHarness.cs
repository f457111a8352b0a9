extern alias gen;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using BpfObjectGenerator = gen::Bpf.Generators.BpfObjectGenerator;

namespace Bpf.Generators.Tests;

/// <summary>An AdditionalFile on disk (the generator reads the object's bytes from its path and must never ask for
/// its text: the real compiler fails with CS2015 on a binary AdditionalFile's text, so this one fails too).</summary>
internal sealed class FileText(string path) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText? GetText(CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException($"CS2015: '{Path}' is a binary file instead of a text file");
}

/// <summary>Per-file metadata (build_metadata.AdditionalFiles.*) and global properties, as MSBuild would pass them.</summary>
internal sealed class TestOptionsProvider(IReadOnlyDictionary<string, string> global, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> perFile)
    : AnalyzerConfigOptionsProvider
{
    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(global);

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(new Dictionary<string, string>());

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        new Options(perFile.TryGetValue(textFile.Path, out var o) ? o : new Dictionary<string, string>());

    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}

/// <summary>Runs the generator the way the compiler does and compiles its output against the running .NET's assemblies.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<MetadataReference[]> Framework = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray());

    /// <summary>BpfNet's libraries as a user project references them: Bpf.Core (the typed collection class) and Bpf.Loader
    /// (its Open), with the Verifier Bpf.Loader's public API mentions.</summary>
    private static readonly Lazy<MetadataReference[]> BpfNet = new(() =>
        [.. new[] { typeof(IBpfCollection).Assembly, typeof(BpfEngine).Assembly, typeof(PrivilegeMode).Assembly }
            .Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location))]);

    public static CSharpParseOptions Parse(LanguageVersion version = LanguageVersion.Latest) => new(version);

    /// <summary>A compilation of <paramref name="trees"/> against the framework and the first <paramref name="bpfNetLibraries"/>
    /// of BpfNet's libraries (Bpf.Core, Bpf.Loader, Bpf.Verifier).</summary>
    public static CSharpCompilation Compilation(string name, IEnumerable<SyntaxTree> trees, int bpfNetLibraries = 3) =>
        CSharpCompilation.Create(name, trees, [.. Framework.Value, .. BpfNet.Value.Take(bpfNetLibraries)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(
        IEnumerable<AdditionalText> files, CSharpParseOptions? parse = null, AnalyzerConfigOptionsProvider? options = null, bool track = false) =>
        CSharpGeneratorDriver.Create(
            [new BpfObjectGenerator().AsSourceGenerator()],
            files,
            parse ?? Parse(),
            options ?? new TestOptionsProvider(new Dictionary<string, string> { ["build_property.RootNamespace"] = "Generated" }, new Dictionary<string, IReadOnlyDictionary<string, string>>()),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    /// <summary>Generates from the given objects; returns the run result and the compilation including the generated code.</summary>
    public static (GeneratorDriverRunResult Run, Compilation Output) Generate(
        IEnumerable<string> objects, CSharpParseOptions? parse = null, AnalyzerConfigOptionsProvider? options = null, int bpfNetLibraries = 3)
    {
        parse ??= Parse();
        var input = Compilation("GeneratorInput", [CSharpSyntaxTree.ParseText("class UserCode { }", parse)], bpfNetLibraries);
        var driver = Driver(objects.Select(o => (AdditionalText)new FileText(o)), parse, options)
            .RunGeneratorsAndUpdateCompilation(input, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Emits a compilation into a collectible context and returns the assembly; fails with the compiler's errors.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        Assert.True(emit.Success, "generated code does not compile:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        return new AssemblyLoadContext("generated", isCollectible: true).LoadFromStream(stream);
    }

    /// <summary>Errors and warnings of a compilation (generated code must have neither).</summary>
    public static ImmutableArray<Diagnostic> Problems(Compilation compilation) =>
        [.. compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
}
