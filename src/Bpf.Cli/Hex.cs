using System.Globalization;

namespace Bpf.Cli;

/// <summary>Hex text as the CLI and the bpf_conformance plugin protocol use it.</summary>
internal static class Hex
{
    /// <summary>
    /// Parses bytes written as hex: pairs of digits, optionally separated by whitespace (the bpf_conformance
    /// protocol), or one contiguous run; an optional leading <c>0x</c> on the whole text is allowed.
    /// </summary>
    public static byte[] ParseBytes(string text, string what)
    {
        var bytes = new List<byte>();
        var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        foreach (var raw in tokens)
        {
            var token = raw.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? raw[2..] : raw;
            if (token.Length % 2 != 0)
            {
                throw new CliUsageException($"{what}: '{raw}' has an odd number of hex digits");
            }
            for (var i = 0; i < token.Length; i += 2)
            {
                if (!byte.TryParse(token.AsSpan(i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                {
                    throw new CliUsageException($"{what}: '{token.Substring(i, 2)}' at byte {bytes.Count} is not hex");
                }
                bytes.Add(b);
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Formats bytes as space-separated pairs.</summary>
    public static string Format(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return string.Empty;
        var chars = new char[bytes.Length * 3 - 1];
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i > 0) chars[i * 3 - 1] = ' ';
            bytes[i].TryFormat(chars.AsSpan(i * 3, 2), out _, "x2", CultureInfo.InvariantCulture);
        }
        return new string(chars);
    }
}
