using System.Text.Json;
using Bpf.Cli.Commands;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

public class InspectCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = CliRunner.Run(["inspect", .. args]);
        return (o.ExitCode, o.Stdout, o.Stderr);
    }

    [Fact]
    public void Text_shows_programs_disassembly_with_source_maps_globals_and_btf()
    {
        var (code, text, err) = Run(RepoPaths.CorpusObject("globals"));
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, err);
        Assert.Contains("use_globals: section socket, type SocketFilter, 43 instructions", text);
        Assert.Contains("; packets_seen++;  [globals.c:16:14]", text);
        Assert.Contains("MapValue .data+8", text);
        Assert.Contains(".rodata: type Array, key 4, value 12, max entries 1, flags 0x80", text);
        Assert.Contains("filter_port: section .rodata, offset 0, size 4, type const volatile __u32, value bb010000", text);
        Assert.Contains("DataSec '.bss'", text);
        Assert.Contains("exit", text);
    }

    [Fact]
    public void Text_disassembly_uses_llvm_syntax_and_marks_subprograms()
    {
        var (code, text, _) = Run(RepoPaths.CorpusObject("bpf2bpf"));
        Assert.Equal(0, code);
        Assert.Contains("    mix:", text);
        Assert.Contains("    loop_body:", text);
        Assert.Contains("r0 *= 31", text);
    }

    [Fact]
    public void Json_is_stable_and_complete()
    {
        var (code, json, _) = Run(RepoPaths.CorpusObject("map_in_map"), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(InspectCommand.JsonSchemaVersion, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("GPL", root.GetProperty("license").GetString());
        var program = root.GetProperty("programs")[0];
        Assert.Equal("lookup_nested", program.GetProperty("name").GetString());
        Assert.Equal("SocketFilter", program.GetProperty("type").GetString());
        var count = program.GetProperty("instructionCount").GetInt32();
        var slots = program.GetProperty("instructions").EnumerateArray().Sum(i => i.GetProperty("bytes").GetString()!.Length / 16);
        Assert.Equal(count, slots);
        Assert.Contains(program.GetProperty("instructions").EnumerateArray(), i => i.TryGetProperty("source", out var s) && s.GetProperty("line").GetInt32() == 24);
        var outer = root.GetProperty("maps").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "outer");
        Assert.Equal("ArrayOfMaps", outer.GetProperty("type").GetString());
        Assert.Equal("Hash", outer.GetProperty("innerMap").GetProperty("type").GetString());
        Assert.Equal("inner_b", outer.GetProperty("initialValues")[1].GetProperty("name").GetString());
        Assert.Equal("__u32", outer.GetProperty("keyType").GetString());
        Assert.True(root.GetProperty("btfTypes").GetArrayLength() > 10);
    }

    [Fact]
    public void Json_shows_struct_ops_bindings_and_map_extra()
    {
        var (code, json, _) = Run(RepoPaths.FeatureObject("struct_ops"), "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(json);
        var map = doc.RootElement.GetProperty("maps").EnumerateArray().Single();
        Assert.Equal(("StructOps", "StructOps", 8192), (map.GetProperty("source").GetString(), map.GetProperty("type").GetString(), map.GetProperty("flags").GetInt32()));
        var ops = map.GetProperty("structOps").EnumerateArray().Select(o => (o.GetProperty("member").GetString(), o.GetProperty("offset").GetInt32(), o.GetProperty("program").GetString())).ToList();
        Assert.Equal([("init", 0, "cc_init"), ("ssthresh", 8, "cc_ssthresh")], ops);

        (code, json, _) = Run(RepoPaths.FeatureObject("arena_map"), "--json");
        Assert.Equal(0, code);
        using var arena = JsonDocument.Parse(json);
        Assert.Equal(0x7f000000UL, arena.RootElement.GetProperty("maps")[0].GetProperty("mapExtra").GetUInt64());
    }

    [Fact]
    public void Json_for_every_corpus_object_parses()
    {
        foreach (var name in Directory.GetFiles(RepoPaths.CorpusDir, "*.o").Select(Path.GetFileNameWithoutExtension))
        {
            var (code, json, _) = Run(RepoPaths.CorpusObject(name!), "--json");
            Assert.Equal(0, code);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal(JsonValueKind.Array, doc.RootElement.GetProperty("programs").ValueKind);
        }
    }

    [Fact]
    public void Unusable_input_exits_2_with_a_located_message()
    {
        var path = Path.Combine(Path.GetTempPath(), $"bpfnet-bad-{Guid.NewGuid():n}.o");
        File.WriteAllBytes(path, File.ReadAllBytes(RepoPaths.CorpusObject("socket_filter"))[..100]);
        try
        {
            var (code, _, err) = Run(path);
            Assert.Equal(2, code);
            Assert.Contains(path, err);
            Assert.Contains("extends past the end", err);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Equal(2, Run("/nonexistent/x.o").Code);
        Assert.Equal(2, Run().Code);
        Assert.Equal(2, Run("--bogus", "x.o").Code);
        Assert.Equal(2, Run("a.o", "b.o").Code);
    }
}
