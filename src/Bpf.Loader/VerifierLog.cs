using System.Globalization;
using System.Text.RegularExpressions;

namespace Bpf.Loader;

/// <summary>Reads the kernel verifier's text log: summary lines, failing instruction, statistics.</summary>
public static partial class VerifierLog
{
    /// <summary>
    /// A short summary: the last meaningful line(s) before the statistics trailer
    /// ("processed N insns", "verification time", "stack depth"), at most two lines joined with "; ".
    /// </summary>
    public static string Summarize(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var picked = new List<string>(2);
        for (int i = lines.Length - 1; i >= 0 && picked.Count < 2; i--)
        {
            string l = lines[i];
            if (IsTrailer(l)) continue;
            // An instruction dump line ("12: (85) call ...") is context, not the error: stop once we have the error.
            if (InsnLine().IsMatch(l) && picked.Count > 0) break;
            picked.Insert(0, l);
        }
        return string.Join("; ", picked);
    }

    /// <summary>The index of the last instruction the log prints (the one being checked when it failed), if any.</summary>
    public static int? FindFailedInstruction(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        int? last = null;
        foreach (Match m in InsnLine().Matches(log))
            last = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        return last;
    }

    /// <summary>Parses "processed N insns" from a log; null when absent.</summary>
    public static long? ProcessedInstructions(string log)
    {
        var m = Processed().Match(log);
        return m.Success ? long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Parses "verification time N usec" (printed with BPF_LOG_STATS); null when absent.</summary>
    public static TimeSpan? VerificationTime(string log)
    {
        var m = VerifTime().Match(log);
        return m.Success ? TimeSpan.FromMicroseconds(long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture)) : null;
    }

    private static bool IsTrailer(string l) =>
        l.StartsWith("processed ", StringComparison.Ordinal) ||
        l.StartsWith("verification time", StringComparison.Ordinal) ||
        l.StartsWith("stack depth", StringComparison.Ordinal) ||
        l.StartsWith("-- END PROG LOAD LOG --", StringComparison.Ordinal) ||
        l.StartsWith("mark_precise", StringComparison.Ordinal);

    [GeneratedRegex(@"^(\d+): \([0-9a-f]{2}\)", RegexOptions.Multiline)]
    private static partial Regex InsnLine();

    [GeneratedRegex(@"processed (\d+) insns")]
    private static partial Regex Processed();

    [GeneratedRegex(@"verification time (\d+) usec")]
    private static partial Regex VerifTime();
}
