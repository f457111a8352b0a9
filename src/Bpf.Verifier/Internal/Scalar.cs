namespace Bpf.Verifier.Internal;

/// <summary>Signed and unsigned bounds at one width (32-bit bounds are stored widened).</summary>
internal struct Bounds
{
    public long SMin, SMax;
    public ulong UMin, UMax;

    public static Bounds Full(int width) => width == 64
        ? new Bounds { SMin = long.MinValue, SMax = long.MaxValue, UMin = 0, UMax = ulong.MaxValue }
        : new Bounds { SMin = int.MinValue, SMax = int.MaxValue, UMin = 0, UMax = uint.MaxValue };
}

/// <summary>
/// The abstract value of a scalar (or the variable part of a pointer's offset): a tnum plus signed and
/// unsigned bounds at 64 and 32 bits. <see cref="Sync"/> keeps the five views consistent with each other.
/// </summary>
internal struct Scalar
{
    public Tnum T;
    public long SMin, SMax;
    public ulong UMin, UMax;
    public int S32Min, S32Max;
    public uint U32Min, U32Max;

    public static Scalar Unknown => new()
    {
        T = Tnum.Unknown,
        SMin = long.MinValue, SMax = long.MaxValue, UMin = 0, UMax = ulong.MaxValue,
        S32Min = int.MinValue, S32Max = int.MaxValue, U32Min = 0, U32Max = uint.MaxValue,
    };

    public static Scalar Const(ulong v) => new()
    {
        T = Tnum.Const(v),
        SMin = (long)v, SMax = (long)v, UMin = v, UMax = v,
        S32Min = (int)(uint)v, S32Max = (int)(uint)v, U32Min = (uint)v, U32Max = (uint)v,
    };

    /// <summary>Any value in [0, max] (an unsigned load of a narrow field).</summary>
    public static Scalar UpTo(ulong max)
    {
        var s = Unknown;
        s.UMax = max;
        s.Sync();
        return s;
    }

    /// <summary>Any value in [min, max] as signed (a sign-extending load).</summary>
    public static Scalar SignedRange(long min, long max)
    {
        var s = Unknown;
        s.SMin = min;
        s.SMax = max;
        s.Sync();
        return s;
    }

    public readonly bool IsConst => T.IsConst;

    public readonly ulong ConstValue => T.Value;

    public readonly bool IsConst32 => T.Subreg.IsConst;

    public readonly bool IsZero => T.IsConst && T.Value == 0;

    public readonly bool IsConsistent =>
        UMin <= UMax && SMin <= SMax && U32Min <= U32Max && S32Min <= S32Max && (T.Value & T.Mask) == 0
        && T.Min <= UMax && T.Max >= UMin;

    /// <summary>The 32-bit subregister zero-extended to 64 bits (what every 32-bit ALU result is).</summary>
    public readonly Scalar Zext32()
    {
        var r = new Scalar
        {
            T = T.Subreg,
            U32Min = U32Min, U32Max = U32Max, S32Min = S32Min, S32Max = S32Max,
            UMin = U32Min, UMax = U32Max, SMin = U32Min, SMax = U32Max,
        };
        r.Sync();
        return r;
    }

    /// <summary>Truncates to <paramref name="bytes"/> bytes, zero-extending (a narrow load or register fill).</summary>
    public readonly Scalar Truncate(int bytes)
    {
        if (bytes >= 8) return this;
        if (bytes == 4) return Zext32();
        var max = (1UL << (bytes * 8)) - 1;
        if (UMax <= max) return this;
        var r = UpTo(max);
        r.T = r.T.Intersect(T.Cast(bytes));
        r.Sync();
        return r;
    }

    /// <summary>Truncates to <paramref name="bytes"/> bytes and sign-extends to 64 bits.</summary>
    public readonly Scalar SignExtend(int bytes)
    {
        var bits = bytes * 8;
        var min = -(1L << (bits - 1));
        var max = (1L << (bits - 1)) - 1;
        long Sext(ulong v) => (long)(v << (64 - bits)) >> (64 - bits);
        if (T.IsConst) return Const((ulong)Sext(T.Value));
        if (SMin >= min && SMax <= max) return this;
        // The low 32 bits within the narrower width: sign-extending them gives the 32-bit signed value itself
        // (measured: the kernel keeps [s32_min, s32_max] for (s32) and (s16) of a register whose s32 range fits).
        if (S32Min >= min && S32Max <= max) return SignedRange(S32Min, S32Max);
        // The 64-bit bounds share their bits above the width: each end sign-extends on its own, when both land on
        // the same side of zero (the kernel's coerce_reg_to_size_sx).
        if ((ulong)SMin >> bits == (ulong)SMax >> bits)
        {
            long lo = Sext((ulong)SMin), hi = Sext((ulong)SMax);
            if (lo <= hi && (lo >= 0) == (hi >= 0)) return SignedRange(lo, hi);
        }
        return SignedRange(min, max);
    }

    /// <summary>Propagates information between the tnum and the four pairs of bounds until stable.</summary>
    public void Sync()
    {
        for (var round = 0; round < 3; round++)
        {
            // Bounds implied by the known bits.
            UMin = Math.Max(UMin, T.Min);
            UMax = Math.Min(UMax, T.Max);
            if ((T.Mask >> 63) == 0)
            {
                SMin = Math.Max(SMin, (long)T.Value);
                SMax = Math.Min(SMax, (long)(T.Value | T.Mask));
            }
            else
            {
                SMin = Math.Max(SMin, (long)(T.Value | (1UL << 63)));
                SMax = Math.Min(SMax, (long)((T.Value | T.Mask) & ~(1UL << 63)));
            }
            var sub = T.Subreg;
            U32Min = Math.Max(U32Min, (uint)sub.Value);
            U32Max = Math.Min(U32Max, (uint)(sub.Value | sub.Mask));
            if (((sub.Mask >> 31) & 1) == 0)
            {
                S32Min = Math.Max(S32Min, (int)(uint)sub.Value);
                S32Max = Math.Min(S32Max, (int)(uint)(sub.Value | sub.Mask));
            }
            else
            {
                S32Min = Math.Max(S32Min, (int)((uint)sub.Value | 0x8000_0000u));
                S32Max = Math.Min(S32Max, (int)((uint)(sub.Value | sub.Mask) & 0x7fff_ffffu));
            }

            // 64-bit ranges whose upper halves agree pin the 32-bit ranges.
            if ((UMin >> 32) == (UMax >> 32))
            {
                U32Min = Math.Max(U32Min, (uint)UMin);
                U32Max = Math.Min(U32Max, (uint)UMax);
                if ((int)(uint)UMin <= (int)(uint)UMax)
                {
                    S32Min = Math.Max(S32Min, (int)(uint)UMin);
                    S32Max = Math.Min(S32Max, (int)(uint)UMax);
                }
            }
            if ((SMin >> 32) == (SMax >> 32))
            {
                if ((int)SMin <= (int)SMax)
                {
                    S32Min = Math.Max(S32Min, (int)SMin);
                    S32Max = Math.Min(S32Max, (int)SMax);
                }
                if ((uint)SMin <= (uint)SMax)
                {
                    U32Min = Math.Max(U32Min, (uint)SMin);
                    U32Max = Math.Min(U32Max, (uint)SMax);
                }
            }

            // Upper halves that are two consecutive numbers, lower halves going from negative to non-negative: the
            // 32-bit view is one signed range (the kernel's __reg32_deduce_bounds, [-1, 1] gives s32 [-1, 1]).
            if ((uint)(UMin >> 32) + 1 == (uint)(UMax >> 32) && (int)(uint)UMin < 0 && (int)(uint)UMax >= 0)
            {
                S32Min = Math.Max(S32Min, (int)(uint)UMin);
                S32Max = Math.Min(S32Max, (int)(uint)UMax);
            }
            if ((uint)((ulong)SMin >> 32) + 1 == (uint)((ulong)SMax >> 32) && (int)SMin < 0 && (int)SMax >= 0)
            {
                S32Min = Math.Max(S32Min, (int)SMin);
                S32Max = Math.Min(S32Max, (int)SMax);
            }

            // Signed and unsigned 32-bit views agree when the range does not cross the sign boundary; when the unsigned
            // range crosses it, it may still meet only one end of the signed range (the kernel's __reg32_deduce_bounds).
            if ((int)U32Min <= (int)U32Max)
            {
                S32Min = Math.Max(S32Min, (int)U32Min);
                S32Max = Math.Min(S32Max, (int)U32Max);
            }
            else if (U32Max < (uint)S32Min)
            {
                S32Min = Math.Max(S32Min, (int)U32Min);
                U32Max = Math.Min(U32Max, (uint)S32Max);
            }
            else if ((uint)S32Max < U32Min)
            {
                S32Max = Math.Min(S32Max, (int)U32Max);
                U32Min = Math.Max(U32Min, (uint)S32Min);
            }
            if ((uint)S32Min <= (uint)S32Max)
            {
                U32Min = Math.Max(U32Min, (uint)S32Min);
                U32Max = Math.Min(U32Max, (uint)S32Max);
            }

            // The 32-bit range in the low half of the 64-bit bounds (the kernel's __reg_deduce_mixed_bounds); and a
            // 64-bit value within the s32 range whose low half is non-negative is that low half (a sign extension).
            UMin = Math.Max(UMin, (UMin & 0xffff_ffff_0000_0000UL) | U32Min);
            UMax = Math.Min(UMax, (UMax & 0xffff_ffff_0000_0000UL) | U32Max);
            SMin = Math.Max(SMin, (long)(((ulong)SMin & 0xffff_ffff_0000_0000UL) | U32Min));
            SMax = Math.Min(SMax, (long)(((ulong)SMax & 0xffff_ffff_0000_0000UL) | U32Max));
            if (S32Min >= 0 && SMin >= int.MinValue && SMax <= int.MaxValue)
            {
                SMin = Math.Max(SMin, S32Min);
                SMax = Math.Min(SMax, S32Max);
            }

            // Signed and unsigned 64-bit views (and, as above, an unsigned range crossing the sign boundary that meets
            // only one end of the signed range: the kernel's __reg64_deduce_bounds).
            if ((long)UMin <= (long)UMax)
            {
                SMin = Math.Max(SMin, (long)UMin);
                SMax = Math.Min(SMax, (long)UMax);
            }
            else if (UMax < (ulong)SMin)
            {
                SMin = Math.Max(SMin, (long)UMin);
                UMax = Math.Min(UMax, (ulong)SMax);
            }
            else if ((ulong)SMax < UMin)
            {
                SMax = Math.Min(SMax, (long)UMax);
                UMin = Math.Max(UMin, (ulong)SMin);
            }
            if ((ulong)SMin <= (ulong)SMax)
            {
                UMin = Math.Max(UMin, (ulong)SMin);
                UMax = Math.Min(UMax, (ulong)SMax);
            }

            if (UMin > UMax || SMin > SMax || U32Min > U32Max || S32Min > S32Max) return;

            // Known bits implied by the ranges.
            T = T.Intersect(Tnum.Range(UMin, UMax));
            T = T.WithSubreg(T.Subreg.Intersect(Tnum.Range(U32Min, U32Max)));
        }
    }

    /// <summary>True when every value <paramref name="cur"/> may hold, this may hold too.</summary>
    public readonly bool Contains(in Scalar cur) =>
        SMin <= cur.SMin && cur.SMax <= SMax && UMin <= cur.UMin && cur.UMax <= UMax
        && S32Min <= cur.S32Min && cur.S32Max <= S32Max && U32Min <= cur.U32Min && cur.U32Max <= U32Max
        && T.Contains(cur.T);

    public readonly bool SameAs(in Scalar o) =>
        T == o.T && SMin == o.SMin && SMax == o.SMax && UMin == o.UMin && UMax == o.UMax
        && S32Min == o.S32Min && S32Max == o.S32Max && U32Min == o.U32Min && U32Max == o.U32Max;

    public readonly Bounds Get(int width) => width == 64
        ? new Bounds { SMin = SMin, SMax = SMax, UMin = UMin, UMax = UMax }
        : new Bounds { SMin = S32Min, SMax = S32Max, UMin = U32Min, UMax = U32Max };

    /// <summary>The kernel's notation: a constant prints as its value, otherwise the non-trivial bounds.</summary>
    public readonly string Format()
    {
        if (T.IsConst) return ((long)T.Value).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var parts = new List<string>();
        if (SMin != long.MinValue) parts.Add($"smin={SMin}");
        if (SMax != long.MaxValue) parts.Add($"smax={SMax}");
        if (UMin != 0) parts.Add($"umin={UMin}");
        if (UMax != ulong.MaxValue) parts.Add($"umax={UMax}");
        if (S32Min != int.MinValue) parts.Add($"smin32={S32Min}");
        if (S32Max != int.MaxValue) parts.Add($"smax32={S32Max}");
        if (U32Min != 0) parts.Add($"umin32={U32Min}");
        if (U32Max != uint.MaxValue) parts.Add($"umax32={U32Max}");
        if (T.Mask != ulong.MaxValue) parts.Add($"var_off=(0x{T.Value:x}; 0x{T.Mask:x})");
        return string.Join(",", parts);
    }
}
