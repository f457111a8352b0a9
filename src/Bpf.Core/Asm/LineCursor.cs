namespace Bpf.Asm;

/// <summary>Reads the tokens of one line and reports errors at the offending token.</summary>
internal sealed class LineCursor
{
    private readonly List<Token> _tokens;
    private int _pos;

    public LineCursor(List<Token> tokens, int line, string? sourceName)
    {
        _tokens = tokens;
        Line = line;
        SourceName = sourceName;
    }

    public int Line { get; }

    public string? SourceName { get; }

    public Token Peek => _tokens[_pos];

    public Token PeekAt(int ahead) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];

    public bool AtEnd => Peek.Kind == TokenKind.End;

    public Token Next()
    {
        var t = _tokens[_pos];
        if (t.Kind != TokenKind.End) _pos++;
        return t;
    }

    public bool TryPunct(string punct)
    {
        if (!Peek.Is(punct)) return false;
        _pos++;
        return true;
    }

    public Token Expect(string punct)
    {
        if (!Peek.Is(punct)) throw Error(Peek, $"expected '{punct}' but found {Peek}");
        return Next();
    }

    public bool TryIdent(string name)
    {
        if (!Peek.IsIdent(name)) return false;
        _pos++;
        return true;
    }

    public Token ExpectIdent(string name)
    {
        if (!Peek.IsIdent(name)) throw Error(Peek, $"expected '{name}' but found {Peek}");
        return Next();
    }

    public void ExpectEnd()
    {
        if (!AtEnd) throw Error(Peek, $"unexpected {Peek} after the instruction");
    }

    public AsmException Error(Token at, string reason) => new(reason, Line, at.Column, SourceName);

    /// <summary>Reads an optionally signed number. Returns its two's-complement 64-bit value and checks it lies in [min, max].</summary>
    public long SignedNumber(long min, long max, string what) => (long)Number(min, (ulong)max, what);

    /// <summary>
    /// Reads an optionally signed number as a 64-bit pattern. Negative values down to <paramref name="min"/> and
    /// non-negative values up to <paramref name="maxUnsigned"/> are accepted (so a 32-bit immediate can be written
    /// -1 or 0xffffffff).
    /// </summary>
    public ulong Number(long min, ulong maxUnsigned, string what)
    {
        var start = Peek;
        var negative = false;
        if (TryPunct("-")) negative = true;
        else TryPunct("+");
        var t = Peek;
        if (t.Kind != TokenKind.Number) throw Error(t, $"expected {what} but found {t}");
        Next();
        if (negative)
        {
            // Magnitude of min as unsigned: works for long.MinValue too.
            var limit = (ulong)(-(min + 1)) + 1;
            if (min >= 0 || t.Value > limit) throw Error(start, $"{what} -{t.Text} is out of range");
            return unchecked(0UL - t.Value);
        }
        if (t.Value > maxUnsigned) throw Error(start, $"{what} {t.Text} is out of range");
        return t.Value;
    }

    /// <summary>True when the next token starts a number (a digit or a sign followed by a digit).</summary>
    public bool AtNumber =>
        Peek.Kind == TokenKind.Number || ((Peek.Is("-") || Peek.Is("+")) && PeekAt(1).Kind == TokenKind.Number);
}
