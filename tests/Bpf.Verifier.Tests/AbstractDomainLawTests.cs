using Bpf.Verifier.Internal;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Laws of the verifier's value domain (tnums, scalar bounds, abstract ALU, branch decisions, branch refinement),
/// checked against the instruction set's concrete semantics (RFC 9669) on random values:
/// <list type="bullet">
/// <item>soundness — every concrete value an abstract value stands for is still contained after any operation;</item>
/// <item>exactness on constants — constants in, the exact constant out (what lets the verifier follow a loop
/// counter or decide a branch, as the kernel does);</item>
/// <item>interval completeness — a branch whose outcome follows from the operands' bounds alone is decided, as the
/// kernel's is_branch_taken decides it (an undecided branch walks a dead path, which may hold anything).</item>
/// </list>
/// Before these, the domain was tested only through whole programs; mutation testing found its arithmetic changeable
/// in many places with every program test still passing (docs/testing.md, Verifier/Internal).
/// </summary>
public sealed class AbstractDomainLawTests
{
    private static readonly AluOp[] AluOps =
        [AluOp.Add, AluOp.Sub, AluOp.Mul, AluOp.Div, AluOp.Mod, AluOp.Or, AluOp.And, AluOp.Xor, AluOp.Lsh, AluOp.Rsh, AluOp.Arsh];

    private static readonly JumpOp[] JumpOps =
        [JumpOp.Jeq, JumpOp.Jne, JumpOp.Jgt, JumpOp.Jge, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jslt, JumpOp.Jsle, JumpOp.Jset];

    /// <summary>The concrete result of <c>a op= b</c> (RFC 9669: x / 0 = 0, x % 0 = x; 32-bit results zero-extended).</summary>
    internal static ulong Concrete(AluOp op, bool is32, ulong a, ulong b)
    {
        // 32-bit: the operands' low halves, shifts masked to 31, the sign at bit 31, the result zero-extended.
        if (is32)
        {
            a = (uint)a;
            b = (uint)b;
        }
        var shift = (int)(b & (is32 ? 31UL : 63UL));
        var r = op switch
        {
            AluOp.Add => a + b,
            AluOp.Sub => a - b,
            AluOp.Mul => a * b,
            AluOp.Div => b == 0 ? 0 : a / b,
            AluOp.Mod => b == 0 ? a : a % b,
            AluOp.Or => a | b,
            AluOp.And => a & b,
            AluOp.Xor => a ^ b,
            AluOp.Lsh => a << shift,
            AluOp.Rsh => a >> shift,
            AluOp.Arsh => is32 ? (uint)((int)(uint)a >> shift) : (ulong)((long)a >> shift),
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        return is32 ? (uint)r : r;
    }

    /// <summary>Whether <c>if a op b goto</c> jumps.</summary>
    internal static bool Taken(JumpOp op, bool is32, ulong a, ulong b)
    {
        if (is32)
        {
            a = (uint)a;
            b = (uint)b;
        }
        long sa = is32 ? (int)(uint)a : (long)a, sb = is32 ? (int)(uint)b : (long)b;
        return op switch
        {
            JumpOp.Jeq => a == b,
            JumpOp.Jne => a != b,
            JumpOp.Jgt => a > b,
            JumpOp.Jge => a >= b,
            JumpOp.Jlt => a < b,
            JumpOp.Jle => a <= b,
            JumpOp.Jsgt => sa > sb,
            JumpOp.Jsge => sa >= sb,
            JumpOp.Jslt => sa < sb,
            JumpOp.Jsle => sa <= sb,
            JumpOp.Jset => (a & b) != 0,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }

    /// <summary>
    /// An abstract value holding <paramref name="v"/>, of a shape <paramref name="shape"/> picks: the constant, an
    /// unsigned range, a signed range, a tnum with random unknown bits, an unsigned range [lo, hi] with its tnum, a
    /// 32-bit value, or unknown. <paramref name="r1"/> and <paramref name="r2"/> size it.
    /// </summary>
    internal static Scalar Around(ulong v, byte shape, ulong r1, ulong r2)
    {
        var width = (int)(r2 % 65);
        ulong Spread(ulong r) => width == 0 ? 0 : r >> (64 - width);
        switch (shape % 7)
        {
            case 0:
                return Scalar.Const(v);
            case 1:
                return Scalar.UpTo(v + Spread(r1) < v ? ulong.MaxValue : v + Spread(r1));
            case 2:
            {
                var s = (long)v;
                var below = (long)(Spread(r1) >> 1);
                var above = (long)(Spread(r2 * 0x9E37_79B9_7F4A_7C15UL) >> 1);
                var min = s - below > s ? long.MinValue : s - below;
                var max = s + above < s ? long.MaxValue : s + above;
                return Scalar.SignedRange(min, max);
            }
            case 3:
            {
                var mask = Spread(r1) & (r2 | (r2 << 17));
                var t = Scalar.Unknown;
                t.T = new Tnum(v & ~mask, mask);
                t.Sync();
                return t;
            }
            case 4:
            {
                var lo = v - Spread(r1) > v ? 0 : v - Spread(r1);
                var hi = v + Spread(r2 ^ r1) < v ? ulong.MaxValue : v + Spread(r2 ^ r1);
                return Range(lo, hi);
            }
            case 5:
                return v <= uint.MaxValue ? Around(v, (byte)(shape / 7 % 5), r1, r2).Zext32() : Around(v, (byte)(shape / 7 % 5), r1, r2);
            default:
                return Scalar.Unknown;
        }
    }

    private static readonly ulong[] Edges =
        [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
         0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, ulong.MaxValue];

    /// <summary>
    /// A 64-bit number from anywhere in the range (FsCheck's own stay small): small, next to an edge of a signed or
    /// unsigned width (within 3), of a random bit length, or any 64 bits.
    /// </summary>
    internal static ulong Draw(Random rng) => rng.Next(4) switch
    {
        0 => (ulong)rng.Next(0, 300),
        1 => Edges[rng.Next(Edges.Length)] + (ulong)(rng.Next(7) - 3),
        2 => (ulong)rng.NextInt64() >> rng.Next(64),
        _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63),
    };

    private static string Show(in Scalar s) =>
        $"[T={s.T} u=[{s.UMin:x},{s.UMax:x}] s=[{s.SMin},{s.SMax}] u32=[{s.U32Min:x},{s.U32Max:x}] s32=[{s.S32Min},{s.S32Max}]]";

    private static bool Holds(in Scalar s, ulong v) => s.Contains(Scalar.Const(v)) && s.IsConsistent;

    [Property(MaxTest = 4000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Abstract_values_hold_the_value_they_were_built_around(int seed)
    {
        var rng = new Random(seed);
        ulong v = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        var shape = (byte)rng.Next(256);
        var s = Around(v, shape, r1, r2);
        return Holds(s, v).Label($"shape {shape % 7}: 0x{v:x} not in {Show(s)}");
    }

    /// <summary>
    /// Bounds are at least as tight as the known bits say (the kernel's __update_reg_bounds): after Sync, the unsigned
    /// bounds of both widths lie within the tnum's smallest and largest values.
    /// </summary>
    [Property(MaxTest = 4000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Bounds_are_as_tight_as_the_known_bits(int seed)
    {
        var rng = new Random(seed);
        ulong v = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        var s = Around(v, (byte)(7 * rng.Next(36) + rng.Next(7)), r1, r2);
        var sub = s.T.Subreg;
        return (s.UMin >= s.T.Min && s.UMax <= s.T.Max && s.U32Min >= (uint)sub.Min && s.U32Max <= (uint)sub.Max)
            .Label($"{Show(s)}: bounds wider than the tnum allows");
    }

    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Alu_is_sound(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        byte shapeA = (byte)rng.Next(256), shapeB = (byte)rng.Next(256), pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = AluOps[pick % AluOps.Length];
        // Shift amounts in range half of the time (out of range they leave the result unknown).
        if (op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh && pick % 2 == 0) b %= is32 ? 32UL : 64UL;
        var x = Around(a, shapeA, r1, r2);
        var y = Around(b, shapeB, r2, r1);
        var r = ScalarOps.Alu(op, is32, x, y);
        var c = Concrete(op, is32, a, b);
        return Holds(r, c).Label($"{op}{(is32 ? "32" : "")} 0x{a:x} in {Show(x)}, 0x{b:x} in {Show(y)}: 0x{c:x} not in {Show(r)}");
    }

    /// <summary>
    /// Bitwise AND and OR bound their result at least as tightly as the kernel's scalar_min_max_and/or: a | b is no
    /// smaller than either operand's minimum (and, both non-negative, no smaller signed either); a &amp; b no larger
    /// than either's maximum. Soundness alone lets these bounds go.
    /// </summary>
    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Bitwise_bounds_are_as_tight_as_the_kernels(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        var x = Around(a, (byte)rng.Next(256), r1, r2);
        var y = Around(b, (byte)rng.Next(256), r2, r1);
        var or = ScalarOps.Alu(AluOp.Or, false, x, y);
        var and = ScalarOps.Alu(AluOp.And, false, x, y);
        var failures = new List<string>();
        if (or.UMin < Math.Max(x.UMin, y.UMin)) failures.Add($"or: umin 0x{or.UMin:x} below 0x{Math.Max(x.UMin, y.UMin):x}");
        if (x.SMin >= 0 && y.SMin >= 0 && or.SMin < Math.Max(x.SMin, y.SMin)) failures.Add($"or: smin {or.SMin} below {Math.Max(x.SMin, y.SMin)}");
        if (and.UMax > Math.Min(x.UMax, y.UMax)) failures.Add($"and: umax 0x{and.UMax:x} above 0x{Math.Min(x.UMax, y.UMax):x}");
        if (x.SMin >= 0 && y.SMin >= 0 && (and.SMin < 0 || and.SMax > Math.Min(x.SMax, y.SMax))) failures.Add($"and: [{and.SMin}, {and.SMax}] not within [0, {Math.Min(x.SMax, y.SMax)}]");
        return (failures.Count == 0).Label($"{Show(x)}, {Show(y)}: {string.Join("; ", failures)}");
    }

    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Alu_on_constants_is_exact(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng);
        var pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = AluOps[pick % AluOps.Length];
        // The kernel tracks nothing through division and modulo (unknown is its answer, and ours).
        if (op is AluOp.Div or AluOp.Mod) return true.ToProperty();
        if (op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh) b %= is32 ? 32UL : 64UL;
        var r = ScalarOps.Alu(op, is32, Scalar.Const(a), Scalar.Const(b));
        var c = Concrete(op, is32, a, b);
        return r.SameAs(Scalar.Const(c)).Label($"{op}{(is32 ? "32" : "")} 0x{a:x}, 0x{b:x}: expected the constant 0x{c:x}, got {Show(r)}");
    }

    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Branch_decisions_are_sound(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        byte shapeA = (byte)rng.Next(256), shapeB = (byte)rng.Next(256), pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = JumpOps[pick % JumpOps.Length];
        if (pick % 3 == 0) b = a + (ulong)(pick % 5) - 2; // near-equal operands: the boundaries of every comparison
        var x = Around(a, shapeA, r1, r2);
        var y = Around(b, shapeB, r2, r1);
        var decided = ScalarOps.BranchTaken(op, is32, x, y);
        var taken = Taken(op, is32, a, b);
        return (decided == -1 || decided == (taken ? 1 : 0))
            .Label($"{op}{(is32 ? "32" : "")} 0x{a:x} in {Show(x)}, 0x{b:x} in {Show(y)}: decided {decided}, but the jump is {(taken ? "" : "not ")}taken");
    }

    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Branches_on_constants_are_decided(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng);
        var pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = JumpOps[pick % JumpOps.Length];
        if (pick % 3 == 0) b = a + (ulong)(pick % 5) - 2;
        var decided = ScalarOps.BranchTaken(op, is32, Scalar.Const(a), Scalar.Const(b));
        var taken = Taken(op, is32, a, b);
        return (decided == (taken ? 1 : 0)).Label($"{op}{(is32 ? "32" : "")} 0x{a:x}, 0x{b:x}: decided {decided}, the jump is {(taken ? "" : "not ")}taken");
    }

    /// <summary>
    /// Unsigned and signed ranges: when every pair of values from the two ranges compares the same way — which, for
    /// ranges, the four endpoints settle — the branch is decided.
    /// </summary>
    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Branches_on_disjoint_ranges_are_decided(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        var pick = (byte)rng.Next(256);
        var signed = rng.Next(2) == 0;
        var ops = signed ? new[] { JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jslt, JumpOp.Jsle } : new[] { JumpOp.Jgt, JumpOp.Jge, JumpOp.Jlt, JumpOp.Jle };
        var op = ops[pick % 4];
        var x = Around(a, (byte)(signed ? 2 : 4), r1, r2);
        var y = Around(b, (byte)(signed ? 2 : 4), r2, r1);
        bool all = true, none = true;
        foreach (var p in signed ? new[] { (ulong)x.SMin, (ulong)x.SMax } : new[] { x.UMin, x.UMax })
        {
            foreach (var q in signed ? new[] { (ulong)y.SMin, (ulong)y.SMax } : new[] { y.UMin, y.UMax })
            {
                var t = Taken(op, false, p, q);
                all &= t;
                none &= !t;
            }
        }
        var decided = ScalarOps.BranchTaken(op, false, x, y);
        var expected = all ? 1 : none ? 0 : -1;
        return (expected == -1 || decided == expected)
            .Label($"{op} {Show(x)} vs {Show(y)}: every pair {(all ? "jumps" : "falls through")}, but decided {decided}");
    }

    /// <summary>
    /// Refining the operands for the edge a concrete pair takes keeps that pair (and says the edge is possible):
    /// on the jump edge by the condition, on the fall-through edge by its negation.
    /// </summary>
    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Refinement_keeps_the_values_that_take_the_edge(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        byte shapeA = (byte)rng.Next(256), shapeB = (byte)rng.Next(256), pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = JumpOps[pick % JumpOps.Length];
        if (pick % 3 == 0) b = a + (ulong)(pick % 5) - 2;
        var x = Around(a, shapeA, r1, r2);
        var y = Around(b, shapeB, r2, r1);
        var taken = Taken(op, is32, a, b);
        var (edge, negJset) = taken ? (op, false) : (ScalarOps.Negate(op), op == JumpOp.Jset);
        var rx = x;
        var ry = y;
        var possible = ScalarOps.Refine(edge, negJset, is32, ref rx, ref ry);
        return (possible && rx.Contains(Scalar.Const(a)) && ry.Contains(Scalar.Const(b)))
            .Label($"{op}{(is32 ? "32" : "")} {(taken ? "jump" : "fall-through")} edge: 0x{a:x} in {Show(x)}, 0x{b:x} in {Show(y)}; " +
                   $"refined: possible={possible}, {Show(rx)}, {Show(ry)}");
    }

    /// <summary>Refining by a condition two constants make true or false leaves them constants, or says the edge is dead.</summary>
    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Refinement_of_constants_is_exact(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng);
        var pick = (byte)rng.Next(256);
        var is32 = rng.Next(2) == 0;
        var op = JumpOps[pick % JumpOps.Length];
        if (pick % 3 == 0) b = a + (ulong)(pick % 5) - 2;
        var taken = Taken(op, is32, a, b);
        // The edge the constants do not take.
        var (edge, negJset) = taken ? (ScalarOps.Negate(op), op == JumpOp.Jset) : (op, false);
        var rx = Scalar.Const(a);
        var ry = Scalar.Const(b);
        var possible = ScalarOps.Refine(edge, negJset, is32, ref rx, ref ry);
        rx.Sync();
        ry.Sync();
        // Dead, or (as the kernel, which decides such branches before refining) at least never a value that is not a or b.
        return (!possible || !rx.IsConsistent || !ry.IsConsistent || (rx.SameAs(Scalar.Const(a)) && ry.SameAs(Scalar.Const(b))))
            .Label($"{op}{(is32 ? "32" : "")} 0x{a:x}, 0x{b:x}: the {(taken ? "fall-through" : "jump")} edge refined to {Show(rx)}, {Show(ry)}");
    }

    /// <summary>
    /// Refining a range by a comparison with a constant is as tight as the kernel's (regs_refine_cond_op): an
    /// unsigned range by an unsigned comparison, a signed range by a signed one, either by (in)equality, keeps exactly
    /// the interval of values that take the edge — an inequality with an end of the range moves that end — or says
    /// the edge is dead when none does. Soundness alone lets a refinement keep more than it should.
    /// </summary>
    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Refinement_against_a_constant_is_tight(int seed)
    {
        var rng = new Random(seed);
        var signed = rng.Next(2) == 0;
        ulong a = Draw(rng), b = Draw(rng);
        if (signed ? (long)a > (long)b : a > b) (a, b) = (b, a);
        var k = rng.Next(6) switch { 0 => a, 1 => b, 2 => a - 1, 3 => b + 1, 4 => a + (b - a) / 2, _ => Draw(rng) };
        JumpOp[] ops = signed
            ? [JumpOp.Jslt, JumpOp.Jsle, JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jeq, JumpOp.Jne]
            : [JumpOp.Jlt, JumpOp.Jle, JumpOp.Jgt, JumpOp.Jge, JumpOp.Jeq, JumpOp.Jne];
        var op = ops[rng.Next(ops.Length)];
        var x = signed ? Scalar.SignedRange((long)a, (long)b) : Range(a, b);
        var failures = new List<string>();
        foreach (var (edge, negJset) in new[] { (op, false), (ScalarOps.Negate(op), false) })
        {
            var rx = x;
            var ry = Scalar.Const(k);
            var possible = ScalarOps.Refine(edge, negJset, false, ref rx, ref ry);
            rx.Sync();
            // The values of [a, b] that take the edge form an interval (or, for != inside the range, the whole range).
            var (lo, hi, any) = signed ? SignedHull(edge, (long)a, (long)b, (long)k) : UnsignedHull(edge, a, b, k);
            if (!any)
            {
                if (possible && rx.IsConsistent) failures.Add($"{edge} 0x{k:x}: no value of {Show(x)} takes it, refined to {Show(rx)}");
                continue;
            }
            var tight = possible && (signed ? rx.SMin == (long)lo && rx.SMax == (long)hi : rx.UMin == lo && rx.UMax == hi);
            if (!tight) failures.Add($"{edge} 0x{k:x}: {Show(x)} should refine to [0x{lo:x}, 0x{hi:x}], got possible={possible} {Show(rx)}");
        }
        return (failures.Count == 0).Label(string.Join("; ", failures));
    }

    /// <summary>The unsigned range [lo, hi] with its tnum, synced.</summary>
    private static Scalar Range(ulong lo, ulong hi)
    {
        var t = Scalar.Unknown;
        t.UMin = lo;
        t.UMax = hi;
        t.T = Tnum.Range(lo, hi);
        t.Sync();
        return t;
    }

    private static (ulong Lo, ulong Hi, bool Any) UnsignedHull(JumpOp op, ulong a, ulong b, ulong k) => op switch
    {
        JumpOp.Jlt => k > a ? (a, Math.Min(b, k - 1), true) : (0, 0, false),
        JumpOp.Jle => k >= a ? (a, Math.Min(b, k), true) : (0, 0, false),
        JumpOp.Jgt => k < b ? (Math.Max(a, k + 1), b, true) : (0, 0, false),
        JumpOp.Jge => k <= b ? (Math.Max(a, k), b, true) : (0, 0, false),
        JumpOp.Jeq => k >= a && k <= b ? (k, k, true) : (0, 0, false),
        _ => a == b && k == a ? (0, 0, false) : (k == a ? a + 1 : a, k == b ? b - 1 : b, true),
    };

    private static (ulong Lo, ulong Hi, bool Any) SignedHull(JumpOp op, long a, long b, long k) => op switch
    {
        JumpOp.Jslt => k > a ? ((ulong)a, (ulong)Math.Min(b, k - 1), true) : (0, 0, false),
        JumpOp.Jsle => k >= a ? ((ulong)a, (ulong)Math.Min(b, k), true) : (0, 0, false),
        JumpOp.Jsgt => k < b ? ((ulong)Math.Max(a, k + 1), (ulong)b, true) : (0, 0, false),
        JumpOp.Jsge => k <= b ? ((ulong)Math.Max(a, k), (ulong)b, true) : (0, 0, false),
        JumpOp.Jeq => k >= a && k <= b ? ((ulong)k, (ulong)k, true) : (0, 0, false),
        _ => a == b && k == a ? (0, 0, false) : ((ulong)(k == a ? a + 1 : a), (ulong)(k == b ? b - 1 : b), true),
    };

    [Property(MaxTest = 20_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Tnum_operations_are_sound_and_exact_on_constants(int seed)
    {
        var rng = new Random(seed);
        ulong a = Draw(rng), b = Draw(rng), m1 = Draw(rng) & Draw(rng), m2 = Draw(rng) & Draw(rng);
        var pick = (byte)rng.Next(256);
        var ta = new Tnum(a & ~m1, m1);
        var tb = new Tnum(b & ~m2, m2);
        var shift = pick % 64;
        var (name, abs, c, exact) = (pick % 11) switch
        {
            0 => ("+", ta + tb, a + b, Tnum.Const(a) + Tnum.Const(b)),
            1 => ("-", ta - tb, a - b, Tnum.Const(a) - Tnum.Const(b)),
            2 => ("&", ta & tb, a & b, Tnum.Const(a) & Tnum.Const(b)),
            3 => ("|", ta | tb, a | b, Tnum.Const(a) | Tnum.Const(b)),
            4 => ("^", ta ^ tb, a ^ b, Tnum.Const(a) ^ Tnum.Const(b)),
            5 => ("*", Tnum.Mul(ta, tb), a * b, Tnum.Mul(Tnum.Const(a), Tnum.Const(b))),
            6 => ("<<", ta.Lsh(shift), a << shift, Tnum.Const(a).Lsh(shift)),
            7 => (">>", ta.Rsh(shift), a >> shift, Tnum.Const(a).Rsh(shift)),
            8 => ("s>>", ta.Arsh(shift, 64), (ulong)((long)a >> shift), Tnum.Const(a).Arsh(shift, 64)),
            9 => ("s>>32", ta.Arsh(shift % 32, 32), (uint)((int)(uint)a >> (shift % 32)), Tnum.Const(a).Arsh(shift % 32, 32)),
            _ => ("cast", ta.Cast(1 << (pick % 4)), (1 << (pick % 4)) == 8 ? a : a & ((1UL << (8 << (pick % 4))) - 1), Tnum.Const(a).Cast(1 << (pick % 4))),
        };
        return (abs.ContainsValue(c) && (abs.Value & abs.Mask) == 0 && exact == Tnum.Const(c))
            .Label($"{name} {ta} {tb} (shift {shift}): 0x{c:x}; abstract {abs}, on constants {exact}");
    }

    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Tnum_range_intersection_and_containment(int seed)
    {
        var rng = new Random(seed);
        ulong lo = Draw(rng), span = Draw(rng), pickValue = Draw(rng), m1 = Draw(rng), m2 = Draw(rng), v = Draw(rng);
        var hi = lo + span < lo ? ulong.MaxValue : lo + span;
        var inRange = span == 0 ? lo : lo + pickValue % (hi - lo + 1 == 0 ? ulong.MaxValue : hi - lo + 1);
        var range = Tnum.Range(lo, hi);
        var t1 = new Tnum(v & ~m1, m1);
        var t2 = new Tnum(v & ~m2, m2);
        var both = t1.Intersect(t2);
        var smaller = new Tnum(v & ~(m1 & m2), m1 & m2);
        // The smallest such tnum: every bit above the highest one where lo and hi differ is known.
        var differing = 64 - System.Numerics.BitOperations.LeadingZeroCount(lo ^ hi);
        var smallest = differing == 64 || (range.Mask >> differing) == 0;
        return (range.ContainsValue(lo) && range.ContainsValue(hi) && range.ContainsValue(inRange) && smallest
                && both.ContainsValue(v) && both == smaller
                && t1.Contains(smaller) && (smaller.Contains(t1) == ((m1 & ~m2) == 0)))
            .Label($"range [{lo:x},{hi:x}] = {range} (0x{inRange:x}); {t1} ∩ {t2} = {both}");
    }

    /// <summary>Narrowing a value to fewer bytes (zero- or sign-extended) holds the narrowed concrete value, exactly for a constant.</summary>
    [Property(MaxTest = 10_000, StartSize = 1 << 20, EndSize = int.MaxValue >> 1)]
    public Property Truncation_and_sign_extension_are_sound(int seed)
    {
        var rng = new Random(seed);
        ulong v = Draw(rng), r1 = Draw(rng), r2 = Draw(rng);
        byte shape = (byte)rng.Next(256), pick = (byte)rng.Next(256);
        var bytes = 1 << (pick % 4);
        var bits = bytes * 8;
        var s = Around(v, shape, r1, r2);
        var zext = bytes == 8 ? v : v & ((1UL << bits) - 1);
        var sext = bytes == 8 ? v : (ulong)((long)(v << (64 - bits)) >> (64 - bits));
        var t = s.Truncate(bytes);
        var x = s.SignExtend(bytes);
        var exactT = Scalar.Const(v).Truncate(bytes);
        var exactX = Scalar.Const(v).SignExtend(bytes);
        return (Holds(t, zext) && Holds(x, sext) && exactT.SameAs(Scalar.Const(zext)) && exactX.SameAs(Scalar.Const(sext)))
            .Label($"{bytes} bytes of 0x{v:x} in {Show(s)}: truncated {Show(t)} (0x{zext:x}), sign-extended {Show(x)} (0x{sext:x})");
    }
}
