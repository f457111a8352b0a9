extern alias gen;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Bpf.Generators.Tests;

/// <summary>Each diagnostic id on an input that provokes it, with its location (the object file) and message.</summary>
public sealed class DiagnosticTests
{
    private static string Dir => Path.Combine(Corpus.GeneratorDir, "bpf", "diagnostics");

    private static IReadOnlyList<Diagnostic> Run(string path, TestOptionsProvider? options = null, LanguageVersion version = LanguageVersion.Latest) =>
        GeneratorHarness.Generate([path], GeneratorHarness.Parse(version), options).Run.Diagnostics;

    [Fact]
    public void MissingObjectIsBpfGen0001()
    {
        var path = Path.Combine(Dir, "does_not_exist.o");
        var d = Assert.Single(Run(path));
        Assert.Equal("BPFGEN0001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(path, d.Location.GetLineSpan().Path);
        Assert.Contains("does_not_exist.o", d.GetMessage());
    }

    [Fact]
    public void NonElfFileIsBpfGen0002WithTheOffset()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bpfgen-not-elf-{Environment.ProcessId}.o");
        File.WriteAllText(path, "this is not an object file");
        try
        {
            var d = Assert.Single(Run(path));
            Assert.Equal("BPFGEN0002", d.Id);
            Assert.Contains("not an ELF file (bad magic)", d.GetMessage());
            Assert.Contains("offset 0x0", d.GetMessage());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncatedObjectIsBpfGen0002NotACrash()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "clashes.o"));
        var path = Path.Combine(Path.GetTempPath(), $"bpfgen-truncated-{Environment.ProcessId}.o");
        try
        {
            foreach (var length in new[] { 10, 64, bytes.Length / 2, bytes.Length - 100 })
            {
                File.WriteAllBytes(path, bytes[..length]);
                var run = GeneratorHarness.Generate([path]).Run;
                Assert.Null(run.Results[0].Exception);
                Assert.Contains(run.Diagnostics, d => d.Id == "BPFGEN0002");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ObjectWithoutBtfIsBpfGen0003SayingCompileWithG()
    {
        var d = Assert.Single(Run(Path.Combine(Dir, "nobtf.o")));
        Assert.Equal("BPFGEN0003", d.Id);
        Assert.Contains("-g", d.GetMessage());
        Assert.Contains("clang -target bpf -O2 -g -c nobtf.c -o nobtf.o", d.GetMessage());
    }

    [Fact]
    public void FlexibleArrayIsBpfGen0004AndClashesAreBpfGen0005()
    {
        var (run, output) = GeneratorHarness.Generate([Path.Combine(Dir, "clashes.o")]);
        var messages = run.Diagnostics.Select(d => d.Id + " " + d.GetMessage()).ToList();
        Assert.Contains(messages, m => m.StartsWith("BPFGEN0004", StringComparison.Ordinal) && m.Contains("'Packet'") && m.Contains("flexible array member"));
        Assert.Contains(messages, m => m.StartsWith("BPFGEN0005", StringComparison.Ordinal) && m.Contains("'fooBar' becomes 'FooBar'") && m.Contains("'FooBar_2'"));
        Assert.Contains(messages, m => m.StartsWith("BPFGEN0005", StringComparison.Ordinal) && m.Contains("'node' becomes 'Node'") && m.Contains("'Node_2'"));
        Assert.Contains(messages, m => m.StartsWith("BPFGEN0005", StringComparison.Ordinal) && m.Contains("'Layout' becomes 'Layout'") && m.Contains("'Layout_2'"));
        Assert.Equal(4, run.Diagnostics.Length);
        Assert.Empty(GeneratorHarness.Problems(output)); // the renamed code still compiles
        var source = run.GeneratedTrees.Single().ToString();
        Assert.Contains("public partial struct FooBar_2", source);
        Assert.Contains("public uint Node_2;", source);
    }

    [Fact]
    public void KeywordClassNameIsBpfGen0006AndEscaped()
    {
        var path = Path.Combine(Dir, "clashes.o");
        var options = new TestOptionsProvider(
            new Dictionary<string, string>(),
            new Dictionary<string, IReadOnlyDictionary<string, string>>
            {
                [path] = new Dictionary<string, string>
                {
                    ["build_metadata.AdditionalFiles.BpfClassName"] = "class",
                    ["build_metadata.AdditionalFiles.BpfNamespace"] = "My.event.Names",
                },
            });
        var (run, output) = GeneratorHarness.Generate([path], options: options);
        var bad = run.Diagnostics.Where(d => d.Id == "BPFGEN0006").Select(d => d.GetMessage()).ToList();
        Assert.True(bad.Count == 2, string.Join("\n", run.Diagnostics));
        Assert.Equal(2, bad.Count);
        Assert.Contains(bad, m => m.Contains("class name 'class' is a C# keyword") && m.Contains("'@class'"));
        Assert.Contains(bad, m => m.Contains("namespace part 'event' is a C# keyword"));
        Assert.Empty(GeneratorHarness.Problems(output));
        Assert.NotNull(GeneratorHarness.Load(output).GetType("My.event.Names.class"));
    }

    [Fact]
    public void WithoutInlineArrayArraysAreOpaqueAndBpfGen0007()
    {
        var (run, output) = GeneratorHarness.Generate([Corpus.LayoutObject], GeneratorHarness.Parse(LanguageVersion.CSharp11));
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("BPFGEN0007", d.Id);
        Assert.Empty(GeneratorHarness.Problems(output));
        var type = GeneratorHarness.Load(output).GetType("Generated.Layouts+Event")!;
        Assert.Equal(120, (int)typeof(System.Runtime.CompilerServices.Unsafe).GetMethod("SizeOf")!.MakeGenericMethod(type).Invoke(null, null)!);
    }

    [Fact]
    public void WithoutBpfNetLibraries_OnlyTypes_OrNoOpen_AndBpfGen0008()
    {
        var (run, output) = GeneratorHarness.Generate([RepoPaths.CorpusObject("globals")], bpfNetLibraries: 0);
        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("BPFGEN0008", d.Id);
        Assert.Contains("Bpf.Core", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(GeneratorHarness.Problems(output));
        var types = GeneratorHarness.Load(output).GetType("Generated.Globals")!;
        Assert.Null(types.GetProperty("Collection"));
        Assert.NotNull(types.GetNestedType("PairType"));

        (run, output) = GeneratorHarness.Generate([RepoPaths.CorpusObject("globals")], bpfNetLibraries: 1); // Bpf.Core only
        d = Assert.Single(run.Diagnostics);
        Assert.Equal("BPFGEN0008", d.Id);
        Assert.Contains("Bpf.Loader", d.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(GeneratorHarness.Problems(output));
        var globals = GeneratorHarness.Load(output).GetType("Generated.Globals")!;
        Assert.NotNull(globals.GetProperty("Collection"));
        Assert.NotNull(globals.GetConstructor([typeof(IBpfCollection)]));
        Assert.DoesNotContain(globals.GetMethods(), m => m.Name == "Open");
    }

    [Fact]
    public void EveryDescriptorHasHelpAndAStableId()
    {
        var all = gen::Bpf.Generators.GeneratorDiagnostics.All;
        Assert.Equal(Enumerable.Range(1, all.Length).Select(i => $"BPFGEN{i:0000}"), all.Select(d => d.Id));
        Assert.All(all, d => Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString())));
        Assert.All(all, d => Assert.EndsWith("#" + d.Id.ToLowerInvariant(), d.HelpLinkUri));
    }
}
