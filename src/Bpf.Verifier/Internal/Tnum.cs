using System.Numerics;

namespace Bpf.Verifier.Internal;

/// <summary>
/// A tristate number: each bit is known 0, known 1, or unknown. <see cref="Value"/> holds the known-1 bits and
/// <see cref="Mask"/> the unknown bits (never overlapping). Arithmetic follows the published tnum algebra
/// (Vishwanathan et al., "Sound, precise, and fast abstract interpretation with tristate numbers", CGO 2022).
/// </summary>
internal readonly record struct Tnum(ulong Value, ulong Mask)
{
    public static readonly Tnum Unknown = new(0, ulong.MaxValue);

    public static Tnum Const(ulong v) => new(v, 0);

    public bool IsConst => Mask == 0;

    public ulong Min => Value;

    public ulong Max => Value | Mask;

    /// <summary>The smallest tnum holding every value in [min, max].</summary>
    public static Tnum Range(ulong min, ulong max)
    {
        var chi = min ^ max;
        var bits = 64 - BitOperations.LeadingZeroCount(chi);
        if (bits > 63) return Unknown;
        var delta = (1UL << bits) - 1;
        return new(min & ~delta, delta);
    }

    public static Tnum operator +(Tnum a, Tnum b)
    {
        var sm = a.Mask + b.Mask;
        var sv = a.Value + b.Value;
        var sigma = sm + sv;
        var chi = sigma ^ sv;
        var mu = chi | a.Mask | b.Mask;
        return new(sv & ~mu, mu);
    }

    public static Tnum operator -(Tnum a, Tnum b)
    {
        var dv = a.Value - b.Value;
        var alpha = dv + a.Mask;
        var beta = dv - b.Mask;
        var chi = alpha ^ beta;
        var mu = chi | a.Mask | b.Mask;
        return new(dv & ~mu, mu);
    }

    public static Tnum operator &(Tnum a, Tnum b)
    {
        var alpha = a.Value | a.Mask;
        var beta = b.Value | b.Mask;
        var v = a.Value & b.Value;
        return new(v, alpha & beta & ~v);
    }

    public static Tnum operator |(Tnum a, Tnum b)
    {
        var v = a.Value | b.Value;
        var mu = a.Mask | b.Mask;
        return new(v, mu & ~v);
    }

    public static Tnum operator ^(Tnum a, Tnum b)
    {
        var v = a.Value ^ b.Value;
        var mu = a.Mask | b.Mask;
        return new(v & ~mu, mu);
    }

    public static Tnum Mul(Tnum a, Tnum b)
    {
        var accV = a.Value * b.Value;
        var accM = new Tnum(0, 0);
        while (a.Value != 0 || a.Mask != 0)
        {
            if ((a.Value & 1) != 0) accM += new Tnum(0, b.Mask);
            else if ((a.Mask & 1) != 0) accM += new Tnum(0, b.Value | b.Mask);
            a = a.Rsh(1);
            b = b.Lsh(1);
        }
        return new Tnum(accV, 0) + accM;
    }

    public Tnum Lsh(int shift) => new(Value << shift, Mask << shift);

    public Tnum Rsh(int shift) => new(Value >> shift, Mask >> shift);

    /// <summary>Arithmetic right shift within <paramref name="width"/> bits (32 or 64).</summary>
    public Tnum Arsh(int shift, int width)
    {
        if (width == 32)
        {
            return new((uint)((int)(uint)Value >> shift), (uint)((int)(uint)Mask >> shift));
        }
        return new((ulong)((long)Value >> shift), (ulong)((long)Mask >> shift));
    }

    public Tnum Intersect(Tnum b)
    {
        var v = Value | b.Value;
        var mu = Mask & b.Mask;
        return new(v & ~mu, mu);
    }

    /// <summary>Truncates to the low <paramref name="bytes"/> bytes.</summary>
    public Tnum Cast(int bytes)
    {
        if (bytes >= 8) return this;
        var m = (1UL << (bytes * 8)) - 1;
        return new(Value & m, Mask & m);
    }

    public Tnum Subreg => Cast(4);

    public Tnum ClearSubreg => new(Value & 0xffff_ffff_0000_0000UL, Mask & 0xffff_ffff_0000_0000UL);

    public Tnum WithSubreg(Tnum sub) => new(ClearSubreg.Value | (sub.Value & uint.MaxValue), ClearSubreg.Mask | (sub.Mask & uint.MaxValue));

    /// <summary>True when every value <paramref name="b"/> may hold, this one may hold too.</summary>
    public bool Contains(Tnum b)
    {
        if ((b.Mask & ~Mask) != 0) return false;
        return (b.Value & ~Mask) == Value;
    }

    public bool ContainsValue(ulong v) => (v & ~Mask) == Value;

    public override string ToString() => IsConst ? $"{Value:x}" : $"(0x{Value:x}; 0x{Mask:x})";
}
