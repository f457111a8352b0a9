using System.Globalization;
using System.Text;

namespace Bpf.Asm;

/// <summary>
/// One test of the bpf_conformance suite (a <c>.data</c> file): sections opened by <c>-- NAME</c> lines
/// (<c>asm</c>, <c>mem</c>, <c>result</c>, <c>raw</c>, <c>c</c>, <c>no register offset</c>); lines starting with
/// <c>#</c> are comments outside the <c>asm</c> and <c>c</c> sections.
/// </summary>
public sealed class ConformanceDataFile
{
    private ConformanceDataFile(string name, string asm, int asmFirstLine, byte[] memory, ulong? expectedResult,
        ulong[]? raw, string? cSource, bool noRegisterOffset)
    {
        Name = name;
        Asm = asm;
        AsmFirstLine = asmFirstLine;
        Memory = memory;
        ExpectedResult = expectedResult;
        Raw = raw;
        CSource = cSource;
        NoRegisterOffset = noRegisterOffset;
    }

    /// <summary>The test name (the file name without <c>.data</c>).</summary>
    public string Name { get; }

    /// <summary>The program text of the <c>-- asm</c> section (conformance dialect), comments included.</summary>
    public string Asm { get; }

    /// <summary>The 1-based line in the file where <see cref="Asm"/> starts, so assembler errors map back to the file.</summary>
    public int AsmFirstLine { get; }

    /// <summary>The input memory of the <c>-- mem</c> section; empty when there is none.</summary>
    public byte[] Memory { get; }

    /// <summary>The expected r0 at exit (<c>-- result</c>), or null when the file gives none.</summary>
    public ulong? ExpectedResult { get; }

    /// <summary>The expected encoding (<c>-- raw</c>), one 64-bit little-endian word per slot, or null.</summary>
    public ulong[]? Raw { get; }

    /// <summary>The C source of the <c>-- c</c> section (documentation only), or null.</summary>
    public string? CSource { get; }

    /// <summary>True when the file has a <c>-- no register offset</c> section.</summary>
    public bool NoRegisterOffset { get; }

    /// <summary>Reads and parses a file.</summary>
    /// <exception cref="FormatException">The file is malformed; the message names the file and line.</exception>
    public static ConformanceDataFile Parse(string path) =>
        ParseText(File.ReadAllText(path), Path.GetFileNameWithoutExtension(path));

    /// <summary>Parses the text of a file.</summary>
    /// <param name="text">The file content.</param>
    /// <param name="name">The test name, used as <see cref="Name"/> and in error messages.</param>
    /// <exception cref="FormatException">The text is malformed; the message names the line.</exception>
    public static ConformanceDataFile ParseText(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(name);
        string? section = null;
        var asm = new StringBuilder();
        var c = new StringBuilder();
        var asmFirstLine = 0;
        var memory = new List<byte>();
        ulong? result = null;
        List<ulong>? raw = null;
        var sawAsm = false;
        var sawC = false;
        var noRegisterOffset = false;

        var lineNumber = 0;
        foreach (var spanLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = spanLine.ToString();
            if (line.StartsWith("-- ", StringComparison.Ordinal))
            {
                section = line[3..].Trim();
                switch (section)
                {
                    case "asm":
                        if (sawAsm) throw Error(name, lineNumber, 1, "second '-- asm' section");
                        sawAsm = true;
                        asmFirstLine = lineNumber + 1;
                        break;
                    case "c": sawC = true; break;
                    case "raw": raw ??= new List<ulong>(); break;
                    case "no register offset": noRegisterOffset = true; break;
                    case "mem" or "result": break;
                    default: throw Error(name, lineNumber, 4, $"unknown section '-- {section}'");
                }
                continue;
            }

            switch (section)
            {
                case "asm":
                    asm.Append(line).Append('\n');
                    continue;
                case "c":
                    c.Append(line).Append('\n');
                    continue;
            }

            var content = line.Trim();
            if (content.Length == 0 || content.StartsWith('#')) continue;
            switch (section)
            {
                case "mem":
                    ParseHexBytes(line, name, lineNumber, memory);
                    break;
                case "result":
                    if (result is not null) throw Error(name, lineNumber, 1, "more than one value in the '-- result' section");
                    result = ParseHexWord(content, name, lineNumber, line.IndexOf(content, StringComparison.Ordinal) + 1);
                    break;
                case "raw":
                    raw!.Add(ParseHexWord(content, name, lineNumber, line.IndexOf(content, StringComparison.Ordinal) + 1));
                    break;
                case "no register offset":
                    break; // free-text note
                default:
                    throw Error(name, lineNumber, 1, "text outside any section");
            }
        }

        if (!sawAsm) throw Error(name, 1, 1, "no '-- asm' section");
        // Trailing blank lines carry nothing; dropping them keeps Asm tidy without moving any line number.
        var asmText = asm.ToString().TrimEnd('\n', '\r', ' ', '\t');
        return new ConformanceDataFile(name, asmText, asmFirstLine, memory.ToArray(), result, raw?.ToArray(),
            sawC ? c.ToString() : null, noRegisterOffset);
    }

    /// <summary>Assembles <see cref="Asm"/>; errors name this file and the file's line numbers.</summary>
    /// <exception cref="AsmException">The program does not assemble.</exception>
    public Instruction[] Assemble() => Assembler.Assemble(Asm, AsmDialect.Conformance, AsmFirstLine, Name + ".data");

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static void ParseHexBytes(string line, string name, int lineNumber, List<byte> into)
    {
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i])) { i++; continue; }
            if (line[i] == '#') return;
            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            var token = line.AsSpan(start, i - start);
            if (token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) token = token[2..];
            if (token.Length is < 1 or > 2 || !byte.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                throw Error(name, lineNumber, start + 1, $"bad memory byte '{line[start..i]}' (expected two hex digits)");
            }
            into.Add(b);
        }
    }

    private static ulong ParseHexWord(string content, string name, int lineNumber, int column)
    {
        var hash = content.IndexOf('#');
        var token = (hash >= 0 ? content[..hash] : content).Trim().AsSpan();
        if (token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) token = token[2..];
        if (token.Length is < 1 or > 16 || !ulong.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            throw Error(name, lineNumber, column, $"bad hex value '{content}'");
        }
        return value;
    }

    private static FormatException Error(string name, int line, int column, string reason) =>
        new($"{name}.data: line {line}, column {column}: {reason}");
}
