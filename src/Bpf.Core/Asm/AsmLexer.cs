namespace Bpf.Asm;

/// <summary>The kinds of token one assembly line splits into.</summary>
internal enum TokenKind : byte
{
    /// <summary>End of the line (always the last token).</summary>
    End,
    /// <summary>A name: mnemonic, label, keyword, or an LLVM-dialect register such as <c>r1</c>/<c>w1</c>.</summary>
    Ident,
    /// <summary>An unsigned number (decimal or 0x-hex); signs are separate tokens.</summary>
    Number,
    /// <summary>A <c>%name</c> register in the conformance dialect (Text holds the name without %).</summary>
    PercentName,
    /// <summary>Punctuation or an operator (<c>,</c> <c>[</c> <c>+=</c> <c>s&gt;&gt;=</c> ...).</summary>
    Punct,
}

/// <summary>One token, with its 1-based column.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Column, ulong Value)
{
    public bool Is(string punct) => Kind == TokenKind.Punct && Text == punct;

    public bool IsIdent(string name) => Kind == TokenKind.Ident && string.Equals(Text, name, StringComparison.Ordinal);

    public override string ToString() => Kind switch
    {
        TokenKind.End => "end of line",
        TokenKind.PercentName => $"'%{Text}'",
        _ => $"'{Text}'",
    };
}

/// <summary>Splits one line of assembly into tokens. Comments (<c>#</c>, <c>;</c>, <c>//</c>) end the line.</summary>
internal static class AsmLexer
{
    // Longest first, so "s>>=" wins over "s>" and ">>=" over ">".
    private static readonly string[] Operators =
    [
        "s>>=", "s<=", "s>=", "s/=", "s%=", "<<=", ">>=",
        "s<", "s>", "+=", "-=", "*=", "/=", "|=", "&=", "%=", "^=", "==", "!=", "<=", ">=",
        "<", ">", "=", "&", "+", "-", "*", "(", ")", "[", "]", ",", ":",
    ];

    public static List<Token> Tokenize(string line, int lineNumber, string? sourceName)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#' || c == ';' || (c == '/' && i + 1 < line.Length && line[i + 1] == '/')) break;

            var column = i + 1;
            if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_')) i++;
                var text = line[start..i];
                tokens.Add(new Token(TokenKind.Number, text, column, ParseNumber(text, lineNumber, column, sourceName)));
                continue;
            }
            // 's' directly followed by an operator character is a signed operator (s/=, s<, s>>=), not a name.
            if (c == 's' && i + 1 < line.Length && line[i + 1] is '<' or '>' or '/' or '%' && TryOperator(line, i, out var sop))
            {
                tokens.Add(new Token(TokenKind.Punct, sop, column, 0));
                i += sop.Length;
                continue;
            }
            if (IsNameStart(c))
            {
                var start = i;
                while (i < line.Length && IsNamePart(line[i])) i++;
                tokens.Add(new Token(TokenKind.Ident, line[start..i], column, 0));
                continue;
            }
            if (c == '%' && i + 1 < line.Length && IsNameStart(line[i + 1]))
            {
                var start = ++i;
                while (i < line.Length && IsNamePart(line[i])) i++;
                tokens.Add(new Token(TokenKind.PercentName, line[start..i], column, 0));
                continue;
            }
            if (TryOperator(line, i, out var op))
            {
                tokens.Add(new Token(TokenKind.Punct, op, column, 0));
                i += op.Length;
                continue;
            }
            throw new AsmException(char.IsControl(c) || char.IsSurrogate(c) || c == '\uFFFD'
                ? $"unexpected character U+{(int)c:X4} (is this a binary file?)"
                : $"unexpected character '{c}'", lineNumber, column, sourceName);
        }
        tokens.Add(new Token(TokenKind.End, string.Empty, line.Length + 1, 0));
        return tokens;
    }

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_' || c == '.';

    private static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.';

    private static bool TryOperator(string line, int at, out string op)
    {
        foreach (var candidate in Operators)
        {
            if (string.CompareOrdinal(line, at, candidate, 0, candidate.Length) == 0)
            {
                op = candidate;
                return true;
            }
        }
        op = string.Empty;
        return false;
    }

    private static ulong ParseNumber(string text, int line, int column, string? sourceName)
    {
        ulong value = 0;
        if (text.Length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        {
            for (var k = 2; k < text.Length; k++)
            {
                var d = HexDigit(text[k]);
                if (d < 0) throw new AsmException($"bad number '{text}'", line, column, sourceName);
                if (value > ulong.MaxValue >> 4) throw new AsmException($"number '{text}' does not fit in 64 bits", line, column, sourceName);
                value = (value << 4) | (uint)d;
            }
            return value;
        }
        foreach (var ch in text)
        {
            if (!char.IsAsciiDigit(ch)) throw new AsmException($"bad number '{text}'", line, column, sourceName);
            var digit = (ulong)(ch - '0');
            if (value > (ulong.MaxValue - digit) / 10) throw new AsmException($"number '{text}' does not fit in 64 bits", line, column, sourceName);
            value = value * 10 + digit;
        }
        return value;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
