using System.Text;
using System.Text.RegularExpressions;
using Bpf.Asm;

namespace Bpf.Cli;

/// <summary>What kind of file a program came from.</summary>
internal enum ProgramSource
{
    ConformanceData,
    AssemblyText,
    RawBytes,
}

/// <summary>
/// A program read from a file the user named: a conformance <c>.data</c> file, assembly text in either
/// dialect, or raw little-endian instruction bytes. Errors name the file and the line, column or slot.
/// </summary>
internal sealed partial class ProgramInput
{
    private ProgramInput(string path, ProgramSource source, Instruction[] slots, byte[]? memory, ulong? expected, AsmDialect? dialect)
    {
        Path = path;
        Source = source;
        Slots = slots;
        Memory = memory;
        ExpectedResult = expected;
        Dialect = dialect;
    }

    public string Path { get; }
    public ProgramSource Source { get; }
    public Instruction[] Slots { get; }

    /// <summary>The input memory a <c>.data</c> file carries (null for other sources).</summary>
    public byte[]? Memory { get; }

    /// <summary>The expected r0 a <c>.data</c> file carries.</summary>
    public ulong? ExpectedResult { get; }

    /// <summary>The dialect text was assembled in (null for raw bytes).</summary>
    public AsmDialect? Dialect { get; }

    public static ProgramInput Load(string path, AsmDialect? dialect)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{path}: cannot read: {e.Message}");
        }

        if (content.AsSpan().StartsWith("\u007fELF"u8))
        {
            throw new CliUsageException($"{path}: is an ELF object; this command takes a .data file, assembly text or raw instruction bytes");
        }

        if (path.EndsWith(".data", StringComparison.OrdinalIgnoreCase))
        {
            var file = ParseDataFile(path);
            var slots = AssembleText(path, file.Asm, AsmDialect.Conformance, file.AsmFirstLine);
            return new ProgramInput(path, ProgramSource.ConformanceData, slots, file.Memory, file.ExpectedResult, AsmDialect.Conformance);
        }

        if (LooksLikeText(content))
        {
            var text = Encoding.UTF8.GetString(content);
            var chosen = dialect ?? DetectDialect(text);
            return new ProgramInput(path, ProgramSource.AssemblyText, AssembleText(path, text, chosen, 1), null, null, chosen);
        }

        var decoded = InstructionDecoder.Decode(content);
        if (decoded.Error is { } error)
        {
            throw new CliUsageException($"{path}: byte offset {error.Index * 8}: {error.Message}");
        }
        return new ProgramInput(path, ProgramSource.RawBytes, decoded.Instructions, null, null, null);
    }

    /// <summary>Raw programs are full of zero bytes and never valid UTF-8 text; assembly never has a NUL.</summary>
    public static bool LooksLikeText(ReadOnlySpan<byte> content)
    {
        if (content.IndexOf((byte)0) >= 0) return false;
        try
        {
            _ = new UTF8Encoding(false, true).GetCharCount(content);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Conformance text names registers <c>%rN</c>; the LLVM dialect writes <c>r1 = …</c>, <c>if … goto</c>.</summary>
    public static AsmDialect DetectDialect(string text)
    {
        if (text.Contains("%r", StringComparison.Ordinal)) return AsmDialect.Conformance;
        return LlvmShape().IsMatch(text) ? AsmDialect.Llvm : AsmDialect.Conformance;
    }

    [GeneratedRegex(@"(^|\n)\s*(\w+:\s*)?([rw]\d+\s*(s?[-+*/%&|^]|<<|s?>>)?=|if\s|goto\s|gotol\s|\*\()", RegexOptions.CultureInvariant)]
    private static partial Regex LlvmShape();

    private static ConformanceDataFile ParseDataFile(string path)
    {
        try
        {
            return ConformanceDataFile.Parse(path);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
    }

    private static Instruction[] AssembleText(string path, string text, AsmDialect dialect, int firstLine)
    {
        try
        {
            return Assembler.Assemble(text, dialect);
        }
        catch (AsmException e)
        {
            throw new CliUsageException($"{path}:{e.Line + firstLine - 1}:{e.Column}: {e.Reason}");
        }
    }

    public static AsmDialect? ParseDialect(string? value) => value switch
    {
        null => null,
        "conformance" => AsmDialect.Conformance,
        "llvm" or "kernel" => AsmDialect.Llvm,
        _ => throw new CliUsageException($"--dialect must be 'conformance' or 'llvm', not '{value}'"),
    };
}
