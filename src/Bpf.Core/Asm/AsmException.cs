namespace Bpf.Asm;

/// <summary>An assembly text error, located by a 1-based line and column.</summary>
public sealed class AsmException : FormatException
{
    /// <summary>Creates an error.</summary>
    /// <param name="reason">What is wrong, without the location.</param>
    /// <param name="line">1-based line.</param>
    /// <param name="column">1-based column.</param>
    /// <param name="sourceName">The file or program name the text came from, if known.</param>
    public AsmException(string reason, int line, int column, string? sourceName = null)
        : base(sourceName is null ? $"line {line}, column {column}: {reason}" : $"{sourceName}: line {line}, column {column}: {reason}")
    {
        Reason = reason;
        Line = line;
        Column = column;
        SourceName = sourceName;
    }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    /// <summary>1-based line of the error.</summary>
    public int Line { get; }

    /// <summary>1-based column of the error.</summary>
    public int Column { get; }

    /// <summary>The file or program name the text came from, or null.</summary>
    public string? SourceName { get; }
}
