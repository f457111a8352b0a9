namespace Bpf.Verifier.Internal;

/// <summary>Abstract arithmetic and comparison on <see cref="Scalar"/> values.</summary>
internal static class ScalarOps
{
    /// <summary>The abstract result of <c>dst op= src</c> at 64 bits (is32 false) or 32 bits (zero-extended).</summary>
    public static Scalar Alu(AluOp op, bool is32, in Scalar dst, in Scalar src)
    {
        // The kernel tracks nothing through division, nor through a shift by other than a constant below the width
        // (is_safe_to_compute_dst_reg_range) — not even the zero upper half of a 32-bit result: its register is
        // marked unknown before the zero extension.
        if (op is AluOp.Div or AluOp.Mod) return Scalar.Unknown;
        if (op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh && !(is32 ? src.IsConst32 && src.U32Max < 32 : src.IsConst && src.UMax < 64))
        {
            return Scalar.Unknown;
        }

        var width = is32 ? 32 : 64;
        var bounds = Arith(op, width, dst.Get(width), src.Get(width), (int)src.ConstValue);
        var t = ArithTnum(op, width, is32 ? dst.T.Subreg : dst.T, is32 ? src.T.Subreg : src.T, (int)src.ConstValue);

        var r = Scalar.Unknown;
        if (is32)
        {
            r.T = t.Cast(4);
            r.S32Min = (int)bounds.SMin; r.S32Max = (int)bounds.SMax;
            r.U32Min = (uint)bounds.UMin; r.U32Max = (uint)bounds.UMax;
            r.UMin = r.U32Min; r.UMax = r.U32Max; r.SMin = r.U32Min; r.SMax = r.U32Max;
        }
        else
        {
            r.T = t;
            r.SMin = bounds.SMin; r.SMax = bounds.SMax; r.UMin = bounds.UMin; r.UMax = bounds.UMax;
            if (op is not (AluOp.Rsh or AluOp.Arsh))
            {
                // The low half of these results depends only on the low halves of the operands.
                var b32 = Arith(op, 32, dst.Get(32), src.Get(32), (int)src.ConstValue);
                r.S32Min = (int)b32.SMin; r.S32Max = (int)b32.SMax; r.U32Min = (uint)b32.UMin; r.U32Max = (uint)b32.UMax;
            }
        }
        r.Sync();
        return r;
    }

    private static Tnum ArithTnum(AluOp op, int width, Tnum a, Tnum b, int shift) => op switch
    {
        AluOp.Add => a + b,
        AluOp.Sub => a - b,
        AluOp.Mul => Tnum.Mul(a, b),
        AluOp.And => a & b,
        AluOp.Or => a | b,
        AluOp.Xor => a ^ b,
        AluOp.Lsh => a.Lsh(shift),
        AluOp.Rsh => a.Rsh(shift),
        AluOp.Arsh => a.Arsh(shift, width),
        _ => Tnum.Unknown,
    };

    private static Bounds Arith(AluOp op, int width, Bounds a, Bounds b, int shift)
    {
        var full = Bounds.Full(width);
        var r = full;
        Int128 sLo = full.SMin, sHi = full.SMax;
        UInt128 uHi = full.UMax;
        switch (op)
        {
            case AluOp.Add:
            {
                Int128 lo = (Int128)a.SMin + b.SMin, hi = (Int128)a.SMax + b.SMax;
                if (lo >= sLo && hi <= sHi) { r.SMin = (long)lo; r.SMax = (long)hi; }
                UInt128 ulo = (UInt128)a.UMin + b.UMin, uhi = (UInt128)a.UMax + b.UMax;
                if (uhi <= uHi) { r.UMin = (ulong)ulo; r.UMax = (ulong)uhi; }
                // Every sum wraps: the range wraps whole (the kernel's scalar_min_max_add, 6.18).
                else if (ulo > uHi) { r.UMin = (ulong)(ulo - uHi - 1); r.UMax = (ulong)(uhi - uHi - 1); }
                break;
            }
            case AluOp.Sub:
            {
                Int128 lo = (Int128)a.SMin - b.SMax, hi = (Int128)a.SMax - b.SMin;
                if (lo >= sLo && hi <= sHi) { r.SMin = (long)lo; r.SMax = (long)hi; }
                if (a.UMin >= b.UMax) { r.UMin = a.UMin - b.UMax; r.UMax = a.UMax - b.UMin; }
                // Every difference wraps: the range wraps whole (the kernel's scalar_min_max_sub, 6.18).
                else if (a.UMax < b.UMin) { r.UMin = (ulong)((UInt128)a.UMin + uHi + 1 - b.UMax); r.UMax = (ulong)((UInt128)a.UMax + uHi + 1 - b.UMin); }
                break;
            }
            case AluOp.Mul:
            {
                UInt128 uhi = (UInt128)a.UMax * b.UMax;
                if (uhi <= uHi) { r.UMin = a.UMin * b.UMin; r.UMax = (ulong)uhi; }
                Int128 p1 = (Int128)a.SMin * b.SMin, p2 = (Int128)a.SMin * b.SMax, p3 = (Int128)a.SMax * b.SMin, p4 = (Int128)a.SMax * b.SMax;
                var lo = Int128.Min(Int128.Min(p1, p2), Int128.Min(p3, p4));
                var hi = Int128.Max(Int128.Max(p1, p2), Int128.Max(p3, p4));
                if (lo >= sLo && hi <= sHi) { r.SMin = (long)lo; r.SMax = (long)hi; }
                break;
            }
            case AluOp.And:
                r.UMax = Math.Min(a.UMax, b.UMax);
                if (a.SMin >= 0 && b.SMin >= 0) { r.SMin = 0; r.SMax = Math.Min(a.SMax, b.SMax); }
                break;
            case AluOp.Or:
                r.UMin = Math.Max(a.UMin, b.UMin);
                if (a.SMin >= 0 && b.SMin >= 0) { r.SMin = Math.Max(a.SMin, b.SMin); }
                break;
            case AluOp.Xor:
                break;
            case AluOp.Lsh:
                if (shift == 0 || (a.UMax >> (width - shift)) == 0) { r.UMin = a.UMin << shift; r.UMax = a.UMax << shift; }
                break;
            case AluOp.Rsh:
                r.UMin = a.UMin >> shift;
                r.UMax = a.UMax >> shift;
                break;
            case AluOp.Arsh:
                r.SMin = a.SMin >> shift;
                r.SMax = a.SMax >> shift;
                break;
        }
        return r;
    }

    /// <summary>1 when the jump is always taken, 0 when never, -1 when both outcomes are possible.</summary>
    public static int BranchTaken(JumpOp op, bool is32, in Scalar a, in Scalar b)
    {
        var w = is32 ? 32 : 64;
        var x = a.Get(w);
        var y = b.Get(w);
        var ta = is32 ? a.T.Subreg : a.T;
        var tb = is32 ? b.T.Subreg : b.T;
        switch (op)
        {
            case JumpOp.Jeq:
            case JumpOp.Jne:
            {
                int eq;
                if (ta.IsConst && tb.IsConst) eq = ta.Value == tb.Value ? 1 : 0;
                else if (x.UMin > y.UMax || x.UMax < y.UMin || x.SMin > y.SMax || x.SMax < y.SMin) eq = 0;
                else if (((ta.Value ^ tb.Value) & ~(ta.Mask | tb.Mask)) != 0) eq = 0;
                else eq = -1;
                return eq < 0 ? -1 : op == JumpOp.Jeq ? eq : 1 - eq;
            }
            case JumpOp.Jgt: return x.UMin > y.UMax ? 1 : x.UMax <= y.UMin ? 0 : -1;
            case JumpOp.Jge: return x.UMin >= y.UMax ? 1 : x.UMax < y.UMin ? 0 : -1;
            case JumpOp.Jlt: return x.UMax < y.UMin ? 1 : x.UMin >= y.UMax ? 0 : -1;
            case JumpOp.Jle: return x.UMax <= y.UMin ? 1 : x.UMin > y.UMax ? 0 : -1;
            case JumpOp.Jsgt: return x.SMin > y.SMax ? 1 : x.SMax <= y.SMin ? 0 : -1;
            case JumpOp.Jsge: return x.SMin >= y.SMax ? 1 : x.SMax < y.SMin ? 0 : -1;
            case JumpOp.Jslt: return x.SMax < y.SMin ? 1 : x.SMin >= y.SMax ? 0 : -1;
            case JumpOp.Jsle: return x.SMax <= y.SMin ? 1 : x.SMin > y.SMax ? 0 : -1;
            case JumpOp.Jset:
                // The kernel decides a JSET only against a constant (is_scalar_branch_taken).
                if (!tb.IsConst)
                {
                    if (!ta.IsConst) return -1;
                    (ta, tb) = (tb, ta);
                }
                if ((ta.Value & tb.Value) != 0) return 1;
                if ((ta.Max & tb.Value) == 0) return 0;
                return -1;
            default: return -1;
        }
    }

    /// <summary>A byte swap or truncation (BPF_END) of <paramref name="v"/> to <paramref name="bits"/>: swapped, only the
    /// known bits remain (the ranges are re-derived from them, the kernel's scalar_byte_swap); 16 and 32 bits are then
    /// zero-extended.</summary>
    public static Scalar ByteSwap(in Scalar v, int bits, bool swap)
    {
        var r = v;
        if (swap)
        {
            var t = bits switch
            {
                16 => new Tnum(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v.T.Value), System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v.T.Mask)),
                32 => new Tnum(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v.T.Value), System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v.T.Mask)),
                _ => new Tnum(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v.T.Value), System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v.T.Mask)),
            };
            r = Scalar.Unknown;
            r.T = t;
            r.Sync();
        }
        return bits < 64 ? r.Truncate(bits / 8) : r;
    }

    /// <summary>The condition that holds on the fall-through edge of <paramref name="op"/>.</summary>
    public static JumpOp Negate(JumpOp op) => op switch
    {
        JumpOp.Jeq => JumpOp.Jne,
        JumpOp.Jne => JumpOp.Jeq,
        JumpOp.Jgt => JumpOp.Jle,
        JumpOp.Jle => JumpOp.Jgt,
        JumpOp.Jge => JumpOp.Jlt,
        JumpOp.Jlt => JumpOp.Jge,
        JumpOp.Jsgt => JumpOp.Jsle,
        JumpOp.Jsle => JumpOp.Jsgt,
        JumpOp.Jsge => JumpOp.Jslt,
        JumpOp.Jslt => JumpOp.Jsge,
        _ => op,
    };

    /// <summary>The same condition with the operands swapped.</summary>
    public static JumpOp Swap(JumpOp op) => op switch
    {
        JumpOp.Jgt => JumpOp.Jlt,
        JumpOp.Jlt => JumpOp.Jgt,
        JumpOp.Jge => JumpOp.Jle,
        JumpOp.Jle => JumpOp.Jge,
        JumpOp.Jsgt => JumpOp.Jslt,
        JumpOp.Jslt => JumpOp.Jsgt,
        JumpOp.Jsge => JumpOp.Jsle,
        JumpOp.Jsle => JumpOp.Jsge,
        _ => op,
    };

    /// <summary>
    /// Narrows <paramref name="a"/> and <paramref name="b"/> to the values for which <c>a op b</c> holds.
    /// <paramref name="negatedJset"/> selects "a &amp; b == 0" for <see cref="JumpOp.Jset"/>.
    /// Returns false when no values satisfy it (the edge is dead).
    /// </summary>
    public static bool Refine(JumpOp op, bool negatedJset, bool is32, ref Scalar a, ref Scalar b)
    {
        if (is32) return Refine32(op, negatedJset, ref a, ref b);
        switch (op)
        {
            case JumpOp.Jeq:
            {
                var t = a.T.Intersect(b.T);
                a.T = t; b.T = t;
                a.UMin = b.UMin = Math.Max(a.UMin, b.UMin);
                a.UMax = b.UMax = Math.Min(a.UMax, b.UMax);
                a.SMin = b.SMin = Math.Max(a.SMin, b.SMin);
                a.SMax = b.SMax = Math.Min(a.SMax, b.SMax);
                a.U32Min = b.U32Min = Math.Max(a.U32Min, b.U32Min);
                a.U32Max = b.U32Max = Math.Min(a.U32Max, b.U32Max);
                a.S32Min = b.S32Min = Math.Max(a.S32Min, b.S32Min);
                a.S32Max = b.S32Max = Math.Min(a.S32Max, b.S32Max);
                break;
            }
            case JumpOp.Jne:
                if (b.IsConst) ExcludeConst(ref a, b.ConstValue);
                else if (a.IsConst) ExcludeConst(ref b, a.ConstValue);
                break;
            case JumpOp.Jgt: return Refine(JumpOp.Jlt, false, false, ref b, ref a);
            case JumpOp.Jge: return Refine(JumpOp.Jle, false, false, ref b, ref a);
            case JumpOp.Jsgt: return Refine(JumpOp.Jslt, false, false, ref b, ref a);
            case JumpOp.Jsge: return Refine(JumpOp.Jsle, false, false, ref b, ref a);
            case JumpOp.Jlt:
                if (b.UMax == 0 || a.UMin == ulong.MaxValue) return false;
                a.UMax = Math.Min(a.UMax, b.UMax - 1);
                b.UMin = Math.Max(b.UMin, a.UMin + 1);
                break;
            case JumpOp.Jle:
                a.UMax = Math.Min(a.UMax, b.UMax);
                b.UMin = Math.Max(b.UMin, a.UMin);
                break;
            case JumpOp.Jslt:
                if (b.SMax == long.MinValue || a.SMin == long.MaxValue) return false;
                a.SMax = Math.Min(a.SMax, b.SMax - 1);
                b.SMin = Math.Max(b.SMin, a.SMin + 1);
                break;
            case JumpOp.Jsle:
                a.SMax = Math.Min(a.SMax, b.SMax);
                b.SMin = Math.Max(b.SMin, a.SMin);
                break;
            case JumpOp.Jset:
                if (b.IsConst) RefineJset(ref a, b.ConstValue, negatedJset, ulong.MaxValue);
                else if (a.IsConst) RefineJset(ref b, a.ConstValue, negatedJset, ulong.MaxValue);
                break;
        }
        a.Sync();
        b.Sync();
        return a.IsConsistent && b.IsConsistent;
    }

    private static bool Refine32(JumpOp op, bool negatedJset, ref Scalar a, ref Scalar b)
    {
        switch (op)
        {
            case JumpOp.Jeq:
            {
                var t = a.T.Subreg.Intersect(b.T.Subreg);
                a.T = a.T.WithSubreg(t); b.T = b.T.WithSubreg(t);
                a.U32Min = b.U32Min = Math.Max(a.U32Min, b.U32Min);
                a.U32Max = b.U32Max = Math.Min(a.U32Max, b.U32Max);
                a.S32Min = b.S32Min = Math.Max(a.S32Min, b.S32Min);
                a.S32Max = b.S32Max = Math.Min(a.S32Max, b.S32Max);
                break;
            }
            case JumpOp.Jne:
                if (b.IsConst32) ExcludeConst32(ref a, (uint)b.T.Value);
                else if (a.IsConst32) ExcludeConst32(ref b, (uint)a.T.Value);
                break;
            case JumpOp.Jgt: return Refine32(JumpOp.Jlt, false, ref b, ref a);
            case JumpOp.Jge: return Refine32(JumpOp.Jle, false, ref b, ref a);
            case JumpOp.Jsgt: return Refine32(JumpOp.Jslt, false, ref b, ref a);
            case JumpOp.Jsge: return Refine32(JumpOp.Jsle, false, ref b, ref a);
            case JumpOp.Jlt:
                if (b.U32Max == 0 || a.U32Min == uint.MaxValue) return false;
                a.U32Max = Math.Min(a.U32Max, b.U32Max - 1);
                b.U32Min = Math.Max(b.U32Min, a.U32Min + 1);
                break;
            case JumpOp.Jle:
                a.U32Max = Math.Min(a.U32Max, b.U32Max);
                b.U32Min = Math.Max(b.U32Min, a.U32Min);
                break;
            case JumpOp.Jslt:
                if (b.S32Max == int.MinValue || a.S32Min == int.MaxValue) return false;
                a.S32Max = Math.Min(a.S32Max, b.S32Max - 1);
                b.S32Min = Math.Max(b.S32Min, a.S32Min + 1);
                break;
            case JumpOp.Jsle:
                a.S32Max = Math.Min(a.S32Max, b.S32Max);
                b.S32Min = Math.Max(b.S32Min, a.S32Min);
                break;
            case JumpOp.Jset:
                if (b.IsConst32) RefineJset(ref a, (uint)b.T.Value, negatedJset, uint.MaxValue);
                else if (a.IsConst32) RefineJset(ref b, (uint)a.T.Value, negatedJset, uint.MaxValue);
                break;
        }
        a.Sync();
        b.Sync();
        return a.IsConsistent && b.IsConsistent;
    }

    private static void RefineJset(ref Scalar a, ulong c, bool negated, ulong widthMask)
    {
        c &= widthMask;
        if (negated)
        {
            // A known bit of c set: the edge is dead (the kernel decides that branch before refining).
            if ((a.T.Value & c) != 0)
            {
                a.UMin = 1;
                a.UMax = 0;
                return;
            }
            // The kernel (6.18) forgets the ranges before narrowing the known bits, against invariant violations on a
            // dead branch: only the known bits remain.
            a = a with { SMin = long.MinValue, SMax = long.MaxValue, UMin = 0, UMax = ulong.MaxValue, S32Min = int.MinValue, S32Max = int.MaxValue, U32Min = 0, U32Max = uint.MaxValue };
            a.T = a.T & Tnum.Const(~c);
        }
        else if (c != 0 && (c & (c - 1)) == 0)
        {
            a.T = a.T | Tnum.Const(c);
        }
    }

    private static void ExcludeConst(ref Scalar a, ulong c)
    {
        if (a.UMin == c && a.UMin != ulong.MaxValue) a.UMin++;
        else if (a.UMax == c && a.UMax != 0) a.UMax--;
        if (a.SMin == (long)c && a.SMin != long.MaxValue) a.SMin++;
        else if (a.SMax == (long)c && a.SMax != long.MinValue) a.SMax--;
        if (a.IsConst && a.ConstValue == c) a.UMin = a.UMax + 1 == 0 ? a.UMax : a.UMax + 1; // dead edge
    }

    private static void ExcludeConst32(ref Scalar a, uint c)
    {
        if (a.U32Min == c && a.U32Min != uint.MaxValue) a.U32Min++;
        else if (a.U32Max == c && a.U32Max != 0) a.U32Max--;
        if (a.S32Min == (int)c && a.S32Min != int.MaxValue) a.S32Min++;
        else if (a.S32Max == (int)c && a.S32Max != int.MinValue) a.S32Max--;
    }
}
