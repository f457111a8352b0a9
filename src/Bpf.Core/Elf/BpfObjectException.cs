namespace Bpf;

/// <summary>
/// The one exception thrown when a BPF object file (ELF, BTF or BTF.ext) is malformed, truncated or uses
/// something this reader does not support. The message says what was wrong; <see cref="SectionName"/> and
/// <see cref="FileOffset"/> say where.
/// </summary>
public sealed class BpfObjectException : BpfException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="sectionName">The ELF section involved, if any.</param>
    /// <param name="fileOffset">The byte offset in the file where the problem was found, if known.</param>
    public BpfObjectException(string message, string? sectionName = null, long? fileOffset = null)
        : base(BpfErrno.EINVAL, Compose(message, sectionName, fileOffset))
    {
        SectionName = sectionName;
        FileOffset = fileOffset;
        Reason = message;
    }

    /// <summary>The ELF section in which the problem was found, or null when it concerns the file as a whole.</summary>
    public string? SectionName { get; }

    /// <summary>The file offset of the offending bytes, or null when not tied to one place.</summary>
    public long? FileOffset { get; }

    /// <summary>The description of the problem without the location prefix.</summary>
    public string Reason { get; }

    private static string Compose(string message, string? section, long? offset) =>
        (section, offset) switch
        {
            (null, null) => message,
            (null, { } o) => $"at file offset 0x{o:x}: {message}",
            ({ } s, null) => $"section '{s}': {message}",
            ({ } s, { } o) => $"section '{s}' at file offset 0x{o:x}: {message}",
        };
}
