using System.Text.Json;
using Bpf.Tests;

namespace Bpf.Cli.Tests;

/// <summary><c>bpfnet btf dump FILE --format c</c>: an object's or the kernel's BTF as a C header.</summary>
public class BtfCommandTests
{
    private static readonly string XdpFilter = Path.Combine(RepoPaths.CorpusDir, "xdp_filter.o");

    [Fact]
    public void Dump_of_an_object_prints_its_types_inside_the_vmlinux_h_frame()
    {
        var o = CliRunner.Run("btf", "dump", XdpFilter, "--format", "c");
        Assert.True(o.ExitCode == 0, o.Stderr);
        Assert.StartsWith("#ifndef __VMLINUX_H__", o.Stdout, StringComparison.Ordinal);
        Assert.Contains("struct xdp_md {\n\t__u32 data;\n\t__u32 data_end;", o.Stdout, StringComparison.Ordinal);
        Assert.Contains("typedef unsigned int __u32;", o.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("#endif /* __VMLINUX_H__ */\n", o.Stdout, StringComparison.Ordinal);
        Assert.Equal(o.Stdout, CliRunner.Run("btf", "dump", XdpFilter).Stdout); // c is the default format
    }

    [Fact]
    public void Output_file_and_json()
    {
        var output = Path.Combine(Path.GetTempPath(), $"bpfnet-btf-{Guid.NewGuid():N}.h");
        try
        {
            var o = CliRunner.Run("btf", "dump", XdpFilter, "-o", output, "--json");
            Assert.Equal(0, o.ExitCode);
            using var doc = JsonDocument.Parse(o.Stdout);
            Assert.True(doc.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal(output, doc.RootElement.GetProperty("output").GetString());
            Assert.True(doc.RootElement.GetProperty("types").GetInt32() > 10);
            Assert.Equal(CliRunner.Run("btf", "dump", XdpFilter).Stdout, File.ReadAllText(output));

            using var inline = JsonDocument.Parse(CliRunner.Run("btf", "dump", XdpFilter, "--json").Stdout);
            Assert.Equal(File.ReadAllText(output), inline.RootElement.GetProperty("text").GetString());
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Unusable_input_is_exit_2_naming_the_file()
    {
        using var notBtf = new CliRunner.TempFile(".bin", new byte[] { 1, 2, 3, 4, 5 });
        var o = CliRunner.Run("btf", "dump", notBtf.Path);
        Assert.Equal(2, o.ExitCode);
        Assert.Equal($"bpfnet btf: {notBtf.Path}: at file offset 0x0: neither raw BTF (magic 0xeb9f) nor an ELF object", o.Stderr.Trim());

        var json = CliRunner.Run("btf", "dump", notBtf.Path, "--json");
        Assert.Equal(2, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains("neither raw BTF", doc.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);

        Assert.Equal(2, CliRunner.Run("btf", "frob", XdpFilter).ExitCode);
        Assert.Equal(2, CliRunner.Run("btf", "dump").ExitCode);
        Assert.Equal(2, CliRunner.Run("btf", "dump", XdpFilter, "--format", "raw").ExitCode);
    }

    [Fact]
    public void Kernel_btf_dumps_like_bpftool()
    {
        Need.SystemFile("/sys/kernel/btf/vmlinux");
        var o = CliRunner.Run("btf", "dump", "/sys/kernel/btf/vmlinux", "--format", "c");
        Assert.True(o.ExitCode == 0, o.Stderr);
        Assert.Contains("struct task_struct {", o.Stdout, StringComparison.Ordinal);
        Assert.Contains("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)", o.Stdout, StringComparison.Ordinal);
    }
}
