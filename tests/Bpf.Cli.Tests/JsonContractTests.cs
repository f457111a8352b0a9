using System.Text.Json;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary>
/// Every command's <c>--json</c> output, on every object of the corpus and on the error paths, parses with a
/// parser that rejects duplicate keys: a consumer that keeps the first or the last of two keys must never see a
/// different document (docs/cli.md).
/// </summary>
public class JsonContractTests
{
    private static readonly string[] ObjectDirs =
    [
        RepoPaths.CorpusDir,
        Path.Combine(RepoPaths.CorpusDir, "features"),
        Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs"),
        Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs"),
    ];

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (var dir in ObjectDirs.Where(Directory.Exists))
        {
            foreach (var file in Directory.GetFiles(dir, "*.o").Order(StringComparer.Ordinal)) data.Add(Path.GetRelativePath(RepoPaths.Root, file));
        }
        return data;
    }

    private static JsonDocument Json(string what, params string[] args)
    {
        var o = CliRunner.Run(args);
        Assert.True(o.ExitCode is 0 or 1 or 2, $"{what}: exit {o.ExitCode}");
        return StrictJson.Parse(o.Stdout, $"bpfnet {string.Join(' ', args)} (exit {o.ExitCode}, stderr {o.Stderr})");
    }

    [Fact]
    public void The_strict_parser_rejects_duplicate_keys()
    {
        // Without this the tests below could not fail on the defect they exist for.
        Assert.Throws<Xunit.Sdk.XunitException>(() => StrictJson.Parse("""{ "file": "a.o", "x": { "file": "a.c", "file": "b.c" } }""", "duplicate"));
        StrictJson.Parse("""{ "file": "a.o", "source": { "file": "a.c" } }""", "nested").Dispose();
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void Verify_and_inspect_of_every_object_and_program_are_strict_json(string relative)
    {
        var path = Path.Combine(RepoPaths.Root, relative);
        Json("verify", "verify", path, "--json").Dispose();
        Json("inspect", "inspect", path, "--json").Dispose();
        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.ReadFile(path);
        }
        catch (Bpf.BpfObjectException)
        {
            return; // a deliberately malformed object: the two documents above are its error forms
        }
        foreach (var program in spec.Programs)
        {
            // One program: its verifier fields are also at the top level, beside the object's "file".
            using var doc = Json("verify --program", "verify", path, "--program", program.Name, "--json");
            Assert.Equal(path, doc.RootElement.GetProperty("file").GetString());
            Json("cfg", "cfg", path, "--program", program.Name, "--json").Dispose();
        }
    }

    [Fact]
    public void A_rejection_with_a_source_line_keeps_the_object_as_file_and_nests_the_source()
    {
        var rejected = Path.Combine(RepoPaths.Root, "tests", "Bpf.Loader.Tests", "programs", "rejected.o");
        using var doc = Json("verify", "verify", rejected, "--program", "unchecked_read", "--json");
        var root = doc.RootElement;
        Assert.Equal(rejected, root.GetProperty("file").GetString());
        var source = root.GetProperty("source");
        Assert.EndsWith("rejected.c", source.GetProperty("file").GetString());
        Assert.Equal(8, source.GetProperty("line").GetInt32());
        Assert.Equal("return data[20];", source.GetProperty("text").GetString());
        var entry = Assert.Single(root.GetProperty("programs").EnumerateArray());
        Assert.Equal(8, entry.GetProperty("source").GetProperty("line").GetInt32());
        Assert.False(entry.TryGetProperty("file", out _), "the program entry has no 'file' of its own: the source is under 'source'");
    }

    [Fact]
    public void Program_commands_and_error_forms_are_strict_json()
    {
        using var text = new CliRunner.TempFile(".s", "mov %r0, 7\nexit\n");
        using var bad = new CliRunner.TempFile(".bin", new byte[] { 1, 2, 3 });
        var output = Path.Combine(Path.GetTempPath(), $"bpfnet-json-{Guid.NewGuid():N}.bin");
        var data = Path.Combine(RepoPaths.ConformanceDir, "add.data");
        var filter = Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o");
        const string packet = "0000000000000200000000020800" + "4500003200000000401100000a0000010a000002";
        try
        {
            string[][] runs =
            [
                ["asm", text.Path, "--json"],
                ["asm", text.Path, "-o", output, "--json"],
                ["disasm", output, "--json"],
                ["disasm", output, "--dialect", "llvm", "--json"],
                ["run", text.Path, "--json"],
                ["run", data, "--json", "--repeat", "3"],
                ["run", filter, "--program", "xdp_filter", "--data", packet, "--maps", "--json"],
                ["run", filter, "--program", "xdp_filter", "--data", packet, "--map", "blocked", "0x0a000001=1", "--maps", "--json"],
                ["run", filter, "--program", "xdp_filter", "--data", packet, "--maps", "--json", "--kernel"],
                ["verify", text.Path, "--type", "xdp", "--json"],
                ["verify", bad.Path, "--json"],
                ["verify", "/nonexistent/x.o", "--json"],
                ["verify", "--json"],
                ["btf", "dump", Path.Combine(RepoPaths.CorpusDir, "xdp_filter.o"), "--json"],
                ["btf", "dump", bad.Path, "--json"],
                ["btf", "dump", "/nonexistent/x.o", "--json"],
            ];
            foreach (var args in runs) Json(string.Join(' ', args), args).Dispose();
        }
        finally
        {
            File.Delete(output);
        }
    }
}
