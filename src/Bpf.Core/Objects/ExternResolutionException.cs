namespace Bpf;

/// <summary>
/// An extern (<c>__kconfig</c>, <c>__ksym</c>, kfunc) a program uses cannot be resolved: the kernel lacks a strong one,
/// its value does not fit its type, or the engine does not resolve externs at all. A <see cref="NotSupportedException"/>:
/// the program cannot run here as written.
/// </summary>
public sealed class ExternResolutionException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="externName">The extern's symbol name.</param>
    /// <param name="message">What failed, naming the program and the extern.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public ExternResolutionException(string externName, string message, Exception? inner = null)
        : base(message, inner)
    {
        ExternName = externName;
    }

    /// <summary>The extern's symbol name.</summary>
    public string ExternName { get; }
}
