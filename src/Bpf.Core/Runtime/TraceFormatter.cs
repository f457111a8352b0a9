using System.Globalization;
using System.Text;
using Bpf.Vm;

namespace Bpf.Runtime;

/// <summary>Formats a bpf_trace_printk line: the kernel's subset of printf (%d %i %u %x %X %c %s %p %%, with
/// l/ll/h modifiers, flags, width and precision; at most three arguments).</summary>
internal static class TraceFormatter
{
    public static string Format(ref HelperContext c, ReadOnlySpan<byte> fmt, ulong a1, ulong a2, ulong a3, out bool ok)
    {
        var args = new[] { a1, a2, a3 };
        var text = Encoding.ASCII.GetString(fmt);
        var output = new StringBuilder();
        var next = 0;
        ok = true;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (ch != '%')
            {
                output.Append(ch);
                continue;
            }
            if (++i >= text.Length) break;
            if (text[i] == '%')
            {
                output.Append('%');
                continue;
            }
            var flagsStart = i;
            while (i < text.Length && "-+ 0#".Contains(text[i])) i++;
            var flags = text[flagsStart..i];
            var widthStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            var width = i > widthStart ? int.Parse(text[widthStart..i], CultureInfo.InvariantCulture) : 0;
            int? precision = null;
            if (i < text.Length && text[i] == '.')
            {
                var p = ++i;
                while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
                precision = i > p ? int.Parse(text[p..i], CultureInfo.InvariantCulture) : 0;
            }
            var longs = 0;
            while (i < text.Length && (text[i] == 'l' || text[i] == 'h' || text[i] == 'z'))
            {
                if (text[i] != 'h') longs++;
                i++;
            }
            if (i >= text.Length || next >= args.Length)
            {
                ok = false;
                return output.ToString();
            }
            var raw = args[next++];
            var value = longs > 0 ? raw : (uint)raw;
            string piece;
            switch (text[i])
            {
                case 'd':
                case 'i':
                    piece = (longs > 0 ? (long)value : (int)(uint)value).ToString(CultureInfo.InvariantCulture);
                    if (flags.Contains('+') && !piece.StartsWith('-')) piece = "+" + piece;
                    break;
                case 'u':
                    piece = value.ToString(CultureInfo.InvariantCulture);
                    break;
                case 'x':
                    piece = (flags.Contains('#') && value != 0 ? "0x" : "") + value.ToString("x", CultureInfo.InvariantCulture);
                    break;
                case 'X':
                    piece = (flags.Contains('#') && value != 0 ? "0X" : "") + value.ToString("X", CultureInfo.InvariantCulture);
                    break;
                case 'c':
                    piece = ((char)(byte)raw).ToString();
                    break;
                case 'p':
                    piece = "0x" + raw.ToString("x", CultureInfo.InvariantCulture);
                    break;
                case 's':
                    piece = ReadString(ref c, raw, precision ?? 256);
                    break;
                default:
                    ok = false;
                    return output.ToString();
            }
            if (precision is { } digits && text[i] is 'd' or 'i' or 'u' or 'x' or 'X' && piece.Length < digits) piece = piece.PadLeft(digits, '0');
            if (piece.Length < width)
            {
                piece = flags.Contains('-') ? piece.PadRight(width) : flags.Contains('0') && text[i] != 's' ? piece.PadLeft(width, '0') : piece.PadLeft(width);
            }
            output.Append(piece);
        }
        return output.ToString();
    }

    private static string ReadString(ref HelperContext c, ulong address, int max)
    {
        var bytes = new List<byte>();
        for (var k = 0; k < max; k++)
        {
            // Byte by byte so a string that ends right at a region's end is fine. An unreadable byte fails the run
            // (the kernel prints "(efault)"; the managed runtime prefers to report the bad pointer).
            if (!c.TryGetMemory(address + (ulong)k, 1, false, out var b)) break;
            if (b[0] == 0) break;
            bytes.Add(b[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
