using Bpf.Asm;

namespace Bpf.Core.Tests.Asm;

public class ConformanceDataFileTests
{
    private const string Sample = """
        # Copyright line
        -- asm
        mov32 %r0, 0 # comment
        ldxb %r0, [%r1+2]
        exit
        -- mem
        aa bb 11
        cc dd
        -- result
        0x11
        -- raw
        0x00000000000000b4
        0x0000000000000095
        -- no register offset
        some note
        """;

    [Fact]
    public void Parses_every_section()
    {
        var f = ConformanceDataFile.ParseText(Sample, "sample");
        Assert.Equal("sample", f.Name);
        Assert.Equal(3, f.AsmFirstLine);
        Assert.StartsWith("mov32 %r0, 0", f.Asm);
        Assert.Equal(new byte[] { 0xaa, 0xbb, 0x11, 0xcc, 0xdd }, f.Memory);
        Assert.Equal(0x11UL, f.ExpectedResult);
        Assert.Equal(new ulong[] { 0xb4, 0x95 }, f.Raw);
        Assert.True(f.NoRegisterOffset);
        Assert.Null(f.CSource);
    }

    [Fact]
    public void Missing_sections_are_empty_or_null()
    {
        var f = ConformanceDataFile.ParseText("-- asm\nexit\n", "t");
        Assert.Empty(f.Memory);
        Assert.Null(f.ExpectedResult);
        Assert.Null(f.Raw);
        Assert.Equal("exit", f.Asm);
    }

    [Fact]
    public void Assembler_errors_name_file_lines()
    {
        var f = ConformanceDataFile.ParseText("# header\n-- asm\nmov %r0, 1\nfrob %r0\nexit\n-- result\n0x1\n", "bad");
        var ex = Assert.Throws<AsmException>(() => f.Assemble());
        Assert.Equal(4, ex.Line);
        Assert.Equal(1, ex.Column);
        Assert.Contains("bad.data", ex.Message);
        Assert.Contains("line 4, column 1", ex.Message);
    }

    [Theory]
    [InlineData("-- asm\nexit\n-- mem\naa zz\n", 4, 4)]
    [InlineData("-- asm\nexit\n-- result\n0xnothex\n", 4, 1)]
    [InlineData("-- asm\nexit\n-- bogus\n", 3, 4)]
    [InlineData("stray\n-- asm\nexit\n", 1, 1)]
    [InlineData("-- result\n0x1\n", 1, 1)]
    public void Malformed_files_report_line_and_column(string text, int line, int column)
    {
        var ex = Assert.Throws<FormatException>(() => ConformanceDataFile.ParseText(text, "x"));
        Assert.Contains($"line {line}, column {column}", ex.Message);
        Assert.StartsWith("x.data:", ex.Message);
    }
}
