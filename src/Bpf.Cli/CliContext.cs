namespace Bpf.Cli;

/// <summary>The streams a command talks to; the console in production, buffers in tests.</summary>
internal sealed class CliContext
{
    public CliContext(TextReader stdin, TextWriter stdout, TextWriter stderr, Func<Stream> openBinaryStdout, bool errorIsTerminal = false)
    {
        In = stdin;
        Out = stdout;
        Err = stderr;
        OpenBinaryStdout = openBinaryStdout;
        ErrorIsTerminal = errorIsTerminal;
    }

    public TextReader In { get; }
    public TextWriter Out { get; }
    public TextWriter Err { get; }
    public Func<Stream> OpenBinaryStdout { get; }

    /// <summary>Whether stderr is a terminal: then long work shows a live <see cref="Progress"/> line there.</summary>
    public bool ErrorIsTerminal { get; }

    public static CliContext Console() => new(
        System.Console.In, System.Console.Out, System.Console.Error, System.Console.OpenStandardOutput,
        errorIsTerminal: !System.Console.IsErrorRedirected);
}

/// <summary>Exit codes shared by every command.</summary>
internal static class ExitCodes
{
    /// <summary>Success (and, for verify, accept).</summary>
    public const int Ok = 0;
    /// <summary>The program failed (a fault at run time, a rejection).</summary>
    public const int Failed = 1;
    /// <summary>Unusable input or usage error.</summary>
    public const int Usage = 2;
}

/// <summary>A usage error or unusable input: printed on one line, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
