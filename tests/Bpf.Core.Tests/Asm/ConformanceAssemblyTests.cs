using Bpf.Asm;
using Bpf.Tests;

namespace Bpf.Core.Tests.Asm;

/// <summary>Every conformance program assembles to valid slots; files with <c>-- raw</c> match it bit for bit.</summary>
public class ConformanceAssemblyTests
{
    public static TheoryData<string> Files() => RepoPaths.ConformanceFileNames();

    [Theory]
    [MemberData(nameof(Files))]
    public void Assembles_to_valid_slots_and_matches_raw(string file)
    {
        var data = ConformanceDataFile.Parse(AsmTestPaths.ConformancePath(file));
        var slots = data.Assemble();

        Assert.NotEmpty(slots);
        var error = InstructionDecoder.Validate(slots);
        Assert.True(error is null, $"{file}: {error}");
        if (data.Raw is { } raw)
        {
            Assert.Equal(raw, slots.Select(s => s.ToRaw()).ToArray());
        }
    }

    [Fact]
    public void The_suite_is_all_there()
    {
        var files = RepoPaths.ConformanceFiles().ToArray();
        Assert.True(files.Length >= 313, $"expected at least 313 conformance files, found {files.Length}");
        // At least one file checks the encoding; the raw comparison above must not be vacuous.
        Assert.Contains(files, f => ConformanceDataFile.Parse(f).Raw is not null);
    }

    [Fact]
    public void Lddw_file_matches_its_raw_section_exactly()
    {
        var data = ConformanceDataFile.Parse(AsmTestPaths.ConformancePath("lddw.data"));
        Assert.Equal(new ulong[] { 0x5566778800000018, 0x1122334400000000, 0x95 }, data.Raw);
        Assert.Equal(0x1122334455667788UL, data.ExpectedResult);
        Assert.Equal(data.Raw, data.Assemble().Select(s => s.ToRaw()).ToArray());
    }
}
