using System.Globalization;
using System.Text;

namespace Bpf.Runtime;

/// <summary>Formats a bpf_trace_printk line: the kernel's subset of printf (%d %i %u %x %X %c %s %p %%, with
/// l/ll/h modifiers, flags, width and precision; three arguments for trace_printk, twelve for trace_vprintk), bounded as the kernel bounds it: the
/// line is cut at <see cref="MaxOutput"/> − 1 bytes (MAX_BPRINTF_BUF), widths and precisions are clamped as
/// vsprintf clamps them, and the returned length is what <c>bstr_printf</c> returns — the length the whole line
/// would have had — computed without building it. Time and memory do not depend on the widths.</summary>
internal static class TraceFormatter
{
    /// <summary>MAX_BPRINTF_BUF: the kernel's output buffer for bpf_trace_printk.</summary>
    public const int MaxOutput = 512;

    /// <summary>FIELD_WIDTH_MAX in lib/vsprintf.c: wider fields are clamped (with a warning) to this.</summary>
    public const int FieldWidthMax = (1 << 23) - 1;

    /// <summary>PRECISION_MAX in lib/vsprintf.c.</summary>
    public const int PrecisionMax = (1 << 15) - 1;

    /// <summary>Output cut at <see cref="MaxOutput"/> − 1 bytes, with the untruncated length counted.</summary>
    private sealed class Bounded
    {
        private readonly StringBuilder _text = new();
        public long Length;

        public void Append(string s)
        {
            var room = MaxOutput - 1 - _text.Length;
            if (room > 0) _text.Append(s, 0, Math.Min(room, s.Length));
            Length += s.Length;
        }

        public void Append(char ch, long count)
        {
            var room = MaxOutput - 1 - _text.Length;
            if (room > 0 && count > 0) _text.Append(ch, (int)Math.Min(room, count));
            Length += Math.Max(0, count);
        }

        public override string ToString() => _text.ToString();
    }

    /// <summary>Formats <paramref name="fmt"/> with <paramref name="args"/> (bpf_trace_printk's three registers, or
    /// bpf_trace_vprintk's array of up to MAX_BPRINTF_VARARGS); a conversion without an argument left fails (ok false).</summary>
    public static string Format(ref HelperContext c, ReadOnlySpan<byte> fmt, scoped ReadOnlySpan<ulong> args, out bool ok, out long length)
    {
        var text = Encoding.ASCII.GetString(fmt);
        var output = new Bounded();
        var next = 0;
        ok = true;
        length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (ch != '%')
            {
                output.Append(ch, 1);
                continue;
            }
            if (++i >= text.Length) break;
            if (text[i] == '%')
            {
                output.Append('%', 1);
                continue;
            }
            var flagsStart = i;
            while (i < text.Length && "-+ 0#".Contains(text[i])) i++;
            var flags = text[flagsStart..i];
            var width = (int)Math.Min(ReadNumber(text, ref i), FieldWidthMax);
            int? precision = null;
            if (i < text.Length && text[i] == '.')
            {
                i++;
                precision = (int)Math.Min(ReadNumber(text, ref i), PrecisionMax);
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
                length = output.Length;
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
                    piece = ReadString(ref c, raw, Math.Min(precision ?? 256, MaxOutput));
                    break;
                default:
                    ok = false;
                    length = output.Length;
                    return output.ToString();
            }
            // Zero padding up to the precision, then padding up to the width: counted, never materialised beyond
            // the buffer.
            var zeros = precision is { } digits && text[i] is 'd' or 'i' or 'u' or 'x' or 'X' ? Math.Max(0, digits - piece.Length) : 0;
            var pad = Math.Max(0, width - piece.Length - zeros);
            if (flags.Contains('-'))
            {
                output.Append('0', zeros);
                output.Append(piece);
                output.Append(' ', pad);
            }
            else if (flags.Contains('0') && text[i] != 's' && precision is null)
            {
                output.Append('0', zeros + pad);
                output.Append(piece);
            }
            else
            {
                output.Append(' ', pad);
                output.Append('0', zeros);
                output.Append(piece);
            }
        }
        length = output.Length;
        return output.ToString();
    }

    /// <summary>Reads a decimal field (width or precision) without overflowing: digits beyond any sane value saturate.</summary>
    private static long ReadNumber(string text, ref int i)
    {
        long n = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            n = Math.Min(n * 10 + (text[i] - '0'), int.MaxValue);
            i++;
        }
        return n;
    }

    private static string ReadString(ref HelperContext c, ulong address, int max)
    {
        var bytes = new List<byte>();
        for (var k = 0; k < max; k++)
        {
            // Byte by byte so a string that ends right at a region's end is fine. The kernel copies the string
            // "nofault": an unreadable pointer (a NULL a failed probe read left) prints as the empty string and the
            // run goes on; so here, byte by byte: the string ends at the first unreadable byte.
            if (!c.TryPeekMemory(address + (ulong)k, 1, out var b)) break;
            if (b[0] == 0) break;
            bytes.Add(b[0]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
