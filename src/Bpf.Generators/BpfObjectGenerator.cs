using System.IO;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Bpf.Generators;

/// <summary>
/// Generates C# from BPF objects: every AdditionalFile ending in <c>.o</c> is read with Bpf.Core's own ELF/BTF
/// reader and becomes a partial class (named by the file's <c>BpfClassName</c> metadata, else the file name in
/// PascalCase) in the namespace of its <c>BpfNamespace</c> metadata (else the project's RootNamespace), holding
/// one exactly laid-out type per BTF struct/union/enum and the names of its maps, variables and programs.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class BpfObjectGenerator : IIncrementalGenerator
{
    /// <summary>Tracking name of the step that turns an AdditionalFile and its options into a request.</summary>
    public const string RequestStep = "BpfObjectRequest";

    /// <summary>Tracking name of the step that reads the object and generates its source.</summary>
    public const string GenerateStep = "BpfObjectGenerate";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // What the consuming compilation offers, as plain values (so an unrelated edit leaves the steps cached).
        var inlineArrays = context.CompilationProvider.Select(static (c, _) =>
            (c.GetTypeByMetadataName("System.Runtime.CompilerServices.InlineArrayAttribute") is not null
             && c is CSharpCompilation { LanguageVersion: >= LanguageVersion.CSharp12 },
             c.GetTypeByMetadataName("Bpf.IBpfCollection") is null ? EngineReferences.None
             : c.GetTypeByMetadataName("Bpf.BpfEngine") is null ? EngineReferences.Core
             : EngineReferences.CoreAndLoader));
        var requests = context.AdditionalTextsProvider
            .Where(static t => t.Path.EndsWith(".o", StringComparison.OrdinalIgnoreCase))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Combine(inlineArrays)
            .Select(static (x, ct) => MakeRequest(x.Left.Left, x.Left.Right, x.Right, ct))
            .WithTrackingName(RequestStep);
        var results = requests
            .Select(static (r, ct) => Generate(r.Request, r.Diagnostics))
            .WithTrackingName(GenerateStep);
        context.RegisterSourceOutput(results, static (spc, result) =>
        {
            foreach (var d in result.Diagnostics)
            {
                spc.ReportDiagnostic(d.ToDiagnostic());
            }
            if (result.Source is not null)
            {
                spc.AddSource(result.HintName, result.Source);
            }
        });
    }

    private static (ObjectRequest Request, EquatableArray<DiagnosticData> Diagnostics) MakeRequest(
        AdditionalText file, AnalyzerConfigOptionsProvider options, (bool InlineArrays, EngineReferences Engines) target, System.Threading.CancellationToken ct)
    {
        // The object is binary: AdditionalText.GetText would make the compiler fail (CS2015), so its length and
        // modification time stand for its contents (one stat per AdditionalFile or options change).
        ct.ThrowIfCancellationRequested();
#pragma warning disable RS1035 // File IO in an analyzer: Roslyn has no binary AdditionalFile API.
        var info = new FileInfo(file.Path);
        var fingerprint = info.Exists
            ? info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "missing";
#pragma warning restore RS1035
        var fileOptions = options.GetOptions(file);
        var diagnostics = new List<DiagnosticData>();
        var stem = Path.GetFileNameWithoutExtension(file.Path);
        if (stem.EndsWith(".bpf", StringComparison.OrdinalIgnoreCase))
        {
            stem = stem.Substring(0, stem.Length - 4);
        }
        var className = Option(fileOptions, "build_metadata.AdditionalFiles.BpfClassName") ?? Naming.Pascal(stem);
        if (!Naming.IsUsableIdentifier(className))
        {
            var fixedName = Naming.MakeIdentifier(className);
            diagnostics.Add(new DiagnosticData(GeneratorDiagnostics.BadIdentifier.Id, file.Path, new EquatableArray<string>(
                [Path.GetFileName(file.Path), "class name", className, Describe(className), fixedName])));
            className = fixedName;
        }
        var ns = Option(fileOptions, "build_metadata.AdditionalFiles.BpfNamespace")
            ?? Option(options.GlobalOptions, "build_property.RootNamespace") ?? string.Empty;
        var parts = ns.Length == 0 ? [] : ns.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            if (!Naming.IsUsableIdentifier(parts[i]))
            {
                var fixedPart = Naming.MakeIdentifier(parts[i]);
                diagnostics.Add(new DiagnosticData(GeneratorDiagnostics.BadIdentifier.Id, file.Path, new EquatableArray<string>(
                    [Path.GetFileName(file.Path), "namespace part", parts[i], Describe(parts[i]), fixedPart])));
                parts[i] = fixedPart;
            }
        }
        var resource = Option(fileOptions, "build_metadata.AdditionalFiles.BpfResourceName");
        return (new ObjectRequest(file.Path, string.Join(".", parts), className, target.InlineArrays, resource, fingerprint, target.Engines), new EquatableArray<DiagnosticData>([.. diagnostics]));
    }

    private static string Describe(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "a C# keyword" : "not a C# identifier";

    private static string? Option(AnalyzerConfigOptions options, string key) =>
        options.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static GenerationResult Generate(ObjectRequest request, EquatableArray<DiagnosticData> earlier)
    {
        byte[]? bytes = null;
        string? error = null;
        try
        {
            // Roslyn has no API for binary AdditionalFiles (AdditionalText is text), so the object is read from its
            // path. The step reruns whenever the AdditionalText changes, which is when the file does.
#pragma warning disable RS1035 // File IO in an analyzer: see above.
            bytes = File.ReadAllBytes(request.Path);
#pragma warning restore RS1035
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = ex.Message;
        }
        var result = ObjectEmitter.Emit(request, bytes, error);
        return earlier.Count == 0 ? result : result with { Diagnostics = new EquatableArray<DiagnosticData>([.. earlier, .. result.Diagnostics]) };
    }
}
