using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Sweeps of the memory accesses and pointer arithmetic the kernel judges by offset, size, region and operand kind,
/// against the kernel, in both privilege modes: each generated program does one thing after a fixed prologue, and
/// the kernel's verdict is the oracle (both refusing: the reason must be of the same class, and our message must be
/// in the kernel's log word for word).
/// <list type="bullet">
/// <item>stack: load, register store (a scalar, a pointer), immediate store, atomic add, at every offset from past
/// the frame's bottom to past its top, every size, on a stack written before or not;</item>
/// <item>a map value (12 bytes): the same accesses from 8 before it to 8 past it;</item>
/// <item>a packet checked to be 8 bytes long: loads and stores around those 8 bytes;</item>
/// <item>pointer arithmetic: every ALU operation, 64 and 32 bits, on each pointer kind (context, stack, map value,
/// packet, map), with an immediate, a known register, an unknown bounded register, any 64-bit value and another pointer, then the
/// result used for a one-byte load.</item>
/// </list>
/// The corpus covers these by hand at a few points each; mutation testing found many of their conditions changeable
/// with every test passing (docs/testing.md). Programs are assembly text, so a failure reads as a program.
/// </summary>
public sealed class AccessSweepDifferentialTests(ITestOutputHelper output)
{
    private static readonly string[] Sizes = ["u8", "u16", "u32", "u64"];

    private const string Exit = "r0 = 0\nexit\n";

    /// <summary>A 12-byte array value in r6 (null-checked), the map's key on the stack at fp-4.</summary>
    private const string MapValuePrologue =
        ".map m array key=4 value=12 entries=1\n*(u32 *)(r10 - 4) = 0\nr1 = map:m ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto out\nr6 = r0\n";

    /// <summary>An XDP packet pointer in r2, checked to be 8 bytes long (r3 is data_end).</summary>
    private const string PacketPrologue =
        ".type xdp\nr2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 8\nif r4 > r3 goto out\n";

    internal static IEnumerable<(string Name, string Text)> StackPrograms()
    {
        var init = string.Concat(Enumerable.Range(1, 64).Select(i => $"*(u64 *)(r10 - {i * 8}) = 0\n"));
        for (var off = -520; off <= 8; off++)
        {
            var o = off < 0 ? $"- {-off}" : $"+ {off}";
            foreach (var size in Sizes)
            {
                yield return ($"stack load {size} fp{off}", $"r1 = *({size} *)(r10 {o})\n{Exit}");
                yield return ($"stack load {size} fp{off} written", $"{init}r1 = *({size} *)(r10 {o})\n{Exit}");
                yield return ($"stack store {size} fp{off} scalar", $"r1 = 7\n*({size} *)(r10 {o}) = r1\n{Exit}");
                yield return ($"stack store {size} fp{off} pointer", $"*({size} *)(r10 {o}) = r1\n{Exit}");
                yield return ($"stack store {size} fp{off} imm", $"*({size} *)(r10 {o}) = 7\n{Exit}");
                if (size is "u32" or "u64")
                {
                    yield return ($"stack atomic add {size} fp{off} written", $"{init}r1 = 1\nlock *({size} *)(r10 {o}) += r1\n{Exit}");
                }
            }
        }
    }

    internal static IEnumerable<(string Name, string Text)> MapValuePrograms()
    {
        for (var off = -8; off <= 20; off++)
        {
            var o = off < 0 ? $"- {-off}" : $"+ {off}";
            foreach (var size in Sizes)
            {
                yield return ($"map value load {size} {off}", $"{MapValuePrologue}r1 = *({size} *)(r6 {o})\nout: {Exit}");
                yield return ($"map value store {size} {off} scalar", $"{MapValuePrologue}r1 = 7\n*({size} *)(r6 {o}) = r1\nout: {Exit}");
                yield return ($"map value store {size} {off} pointer", $"{MapValuePrologue}*({size} *)(r6 {o}) = r6\nout: {Exit}");
                yield return ($"map value store {size} {off} imm", $"{MapValuePrologue}*({size} *)(r6 {o}) = 7\nout: {Exit}");
                if (size is "u32" or "u64")
                {
                    yield return ($"map value atomic add {size} {off}", $"{MapValuePrologue}r1 = 1\nlock *({size} *)(r6 {o}) += r1\nout: {Exit}");
                    yield return ($"map value atomic add {size} {off} pointer", $"{MapValuePrologue}lock *({size} *)(r6 {o}) += r6\nout: {Exit}");
                }
            }
        }
    }

    internal static IEnumerable<(string Name, string Text)> PacketPrograms()
    {
        for (var off = -3; off <= 11; off++)
        {
            var o = off < 0 ? $"- {-off}" : $"+ {off}";
            foreach (var size in Sizes)
            {
                yield return ($"packet load {size} {off}", $"{PacketPrologue}r1 = *({size} *)(r2 {o})\nout: r0 = 2\nexit\n");
                yield return ($"packet store {size} {off}", $"{PacketPrologue}r1 = 7\n*({size} *)(r2 {o}) = r1\nout: r0 = 2\nexit\n");
                yield return ($"packet store {size} {off} pointer", $"{PacketPrologue}*({size} *)(r2 {o}) = r2\nout: r0 = 2\nexit\n");
            }
        }
    }

    internal static IEnumerable<(string Name, string Text)> PointerArithmeticPrograms()
    {
        // Each base leaves the pointer in r6 (and a second pointer of its kind in r7), then "out:" ends the program.
        var bases = new (string Name, string Setup, string Type)[]
        {
            ("ctx", "r6 = r1\nr7 = r1\n", "socket_filter"),
            ("stack", "*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\nr6 = r10\nr6 += -16\nr7 = r10\nr7 += -8\n", "socket_filter"),
            ("map value", MapValuePrologue + "r7 = r6\n", "socket_filter"),
            ("packet", PacketPrologue + "r6 = r2\nr7 = r2\n", "xdp"),
            ("map", ".map m array key=4 value=12 entries=1\nr6 = map:m ll\nr7 = map:m ll\n", "socket_filter"),
        };
        var ops = new[] { "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=", "s>>=" };
        var operands = new (string Name, string Setup, string Use)[]
        {
            ("imm 4", "", "4"),
            ("imm -4", "", "-4"),
            ("known reg 4", "r8 = 4\n", "r8"),
            // At the kernel's limit on a pointer's offset (1 << 29).
            ("imm 2^29", "", "536870912"),
            ("known reg 2^29", "r8 = 536870912\n", "r8"),
            // An unknown in [0, 3]: the low bits of the ctx's length (socket filter) or the packet's first byte (xdp).
            ("bounded reg", "", "r8"),
            ("pointer", "", "r7"),
            // Any 64-bit value (ktime_get_ns), smin = S64_MIN: the kernel refuses such math on most pointers.
            ("unknown reg", "", "r8"),
        };
        foreach (var (bname, setup, type) in bases)
        {
            // The unknown in [0, 3] comes first, while r1 is still the context: the length (socket filter) or the
            // receive queue (xdp), masked. r8 survives the map lookup of the map-value base.
            var bounded = (type == "xdp" ? "r8 = *(u32 *)(r1 + 12)\n" : "r8 = *(u32 *)(r1 + 0)\n") + "r8 &= 3\n";
            foreach (var op in ops)
            {
                foreach (var (oname, osetup, use) in operands)
                {
                    foreach (var w in new[] { "64", "32" })
                    {
                        var dst = w == "32" ? "w6" : "r6";
                        var src = use.StartsWith('r') && w == "32" ? "w" + use[1..] : use;
                        var unknown = "r9 = r1\ncall 5\nr8 = r0\nr1 = r9\n";
                        var body = (oname == "bounded reg" ? bounded : oname == "unknown reg" ? unknown : "") + setup + osetup + $"{dst} {op} {src}\n";
                        if (type == "xdp") body = ".type xdp\n" + body.Replace(".type xdp\n", "");
                        var end = type == "xdp" ? "out: r0 = 2\nexit\n" : $"out: {Exit}";
                        yield return ($"ptr {bname} {dst} {op} {oname}", $"{body}{end}");
                        yield return ($"ptr {bname} {dst} {op} {oname} then load", $"{body}r0 = *(u8 *)(r6 + 0)\n{end}");
                    }
                }
            }
        }
    }

    /// <summary>Stack slots written three ways: the slot fp-8 prepared (unwritten, a spilled 0, unknown, pointer or
    /// narrow scalar, zeros, unknown bytes), then a variable-offset store over it and its neighbour (each size, every
    /// aligned range of one to four positions, a zero or non-zero register or immediate), then a fill of each size at
    /// each aligned offset of fp-16..fp-1, returned (whether the fill is allowed) or deciding a branch to an
    /// uninitialized read (whether its value is known) — so the fill's type and value, not only its permission, must
    /// agree with the kernel.</summary>
    /// <summary>Every atomic operation (add, or, and, xor with and without fetch, xchg, cmpxchg, load-acquire,
    /// store-release) at each width it has, on each region (stack written, unwritten or holding a spilled pointer; a
    /// map value, read-only or holding a spin lock; the context; a packet; a map pointer; a scalar), at an aligned, a
    /// misaligned and an out-of-bounds offset, with a scalar, a pointer or an uninitialised operand, then the fetched
    /// register returned.</summary>
    internal static IEnumerable<(string Name, string Text)> AtomicPrograms()
    {
        var written = string.Concat(Enumerable.Range(1, 4).Select(i => $"*(u64 *)(r10 - {i * 8}) = 0\n"));
        // Each region leaves its address in r6; "out:" ends the program.
        var regions = new (string Name, string Setup, int[] Offsets)[]
        {
            ("stack written", written + "r6 = r10\n", [-8, -12, -4, 0]),
            ("stack unwritten", "r6 = r10\n", [-8, -12]),
            ("stack spilled pointer", "*(u64 *)(r10 - 8) = r1\nr6 = r10\n", [-8, -4]),
            ("map value", MapValuePrologue, [0, 4, 8, 12]),
            ("read-only map value", MapValuePrologue.Replace(".map m array key=4 value=12 entries=1", ".map m array key=4 value=12 entries=1 flags=128", StringComparison.Ordinal), [0]),
            ("map value with a spin lock", MapValuePrologue.Replace(".map m array key=4 value=12 entries=1", ".map m array key=4 value=16 entries=1 btf spin_lock=0", StringComparison.Ordinal), [0, 8]),
            ("context", "r6 = r1\n", [0]),
            ("packet", PacketPrologue + "r6 = r2\n", [0, 2]),
            ("map", ".map m array key=4 value=12 entries=1\nr6 = map:m ll\n", [0]),
            ("scalar", "r6 = 0\n", [0]),
        };
        var operands = new (string Name, string Setup, string Reg)[] { ("scalar", "r1 = 1\nr0 = 1\n", "1"), ("pointer", "r1 = r10\nr0 = r10\n", "1"), ("uninit", "", "9") };
        foreach (var (rname, setup, offsets) in regions)
        {
            foreach (var off in offsets)
            {
                var o = off < 0 ? $"- {-off}" : $"+ {off}";
                foreach (var (oname, osetup, reg) in operands)
                {
                    foreach (var wide in new[] { false, true })
                    {
                        var (sz, r) = wide ? ("u64", "r") : ("u32", "w");
                        var src = r + reg;
                        var ops = new List<(string, string)>
                        {
                            ("add", $"lock *({sz} *)(r6 {o}) += {src}"),
                            ("or", $"lock *({sz} *)(r6 {o}) |= {src}"),
                            ("and", $"lock *({sz} *)(r6 {o}) &= {src}"),
                            ("xor", $"lock *({sz} *)(r6 {o}) ^= {src}"),
                            ("fetch add", $"{src} = atomic_fetch_add(({sz} *)(r6 {o}), {src})"),
                            ("fetch or", $"{src} = atomic_fetch_or(({sz} *)(r6 {o}), {src})"),
                            ("fetch and", $"{src} = atomic_fetch_and(({sz} *)(r6 {o}), {src})"),
                            ("fetch xor", $"{src} = atomic_fetch_xor(({sz} *)(r6 {o}), {src})"),
                            ("xchg", $"{src} = {(wide ? "xchg_64" : "xchg32_32")}(r6 {o}, {src})"),
                            ("cmpxchg", $"{r}0 = {(wide ? "cmpxchg_64" : "cmpxchg32_32")}(r6 {o}, {r}0, {src})"),
                            ("store-release", $"store_release(({sz} *)(r6 {o}), {src})"),
                            ("load-acquire", $"{r}{reg} = load_acquire(({sz} *)(r6 {o}))"),
                        };
                        if (!wide)
                        {
                            ops.Add(("store-release u8", $"store_release((u8 *)(r6 {o}), w{reg})"));
                            ops.Add(("load-acquire u16", $"w{reg} = load_acquire((u16 *)(r6 {o}))"));
                        }
                        var type = rname == "packet" ? "" : ".type socket_filter\n";
                        foreach (var (op, insn) in ops)
                        {
                            var result = op.StartsWith("cmpxchg", StringComparison.Ordinal) ? "" : $"r0 = r{reg}\n";
                            var end = setup.Contains("goto out", StringComparison.Ordinal) ? "out: r0 = 0\nexit\n" : "";
                            yield return ($"atomic {op} {sz} {rname} {off} {oname}", $"{type}{setup}{osetup}{insn}\n{result}exit\n{end}");
                        }
                    }
                }
            }
        }
    }

    /// <summary>A 16-byte array value in r6 (null-checked), two unknown 64-bit values from it in r1 and r2.</summary>
    private const string UnknownsPrologue = ".map m array key=4 value=16 entries=1\n*(u32 *)(r10 - 4) = 0\nr1 = map:m ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto out\nr6 = r0\nr1 = *(u64 *)(r6 + 0)\nr2 = *(u64 *)(r6 + 8)\n";

    /// <summary>Shapes of the unknown in r1: a byte, a signed byte, anything, a 32-bit value, a signed one, a mask, three small
    /// ranges (one negative), a 32-bit value with its top bit set, a 32-bit signed range whose 64-bit value is unbounded in sign.</summary>
    private static readonly (string Name, string Code)[] Shapes =
    [
        ("u8", "r1 &= 255\n"), ("s8", "r1 = (s8)r1\n"), ("any", ""), ("u32", "w1 = w1\n"), ("s32", "r1 = (s32)r1\n"),
        ("mask 0xf0", "r1 &= 240\n"), ("3..10", "r1 &= 7\nr1 += 3\n"), ("-4..3", "r1 &= 7\nr1 += -4\n"),
        ("-7..0", "r1 &= 7\nr1 = -r1\n"), ("w top bit and 0..15", "w1 &= 15\nw1 |= 0x80000000\n"),
        // A 32-bit subtraction: s32 in [-5, 10] while the zero-extended 64-bit value is anywhere in [0, 2^32).
        ("w -5..10", "w1 &= 15\nw1 -= 5\n"),
    ];

    /// <summary>Branch refinement: an unknown of some shape (a byte, a signed byte, any 64-bit value, a 32-bit value,
    /// a signed 32-bit value, a mask, a small range) compared by every conditional jump, 64 and 32 bits, with an
    /// immediate at the edges that matter or a register (a constant, a range), then used, on one branch, as the
    /// offset of a one-byte read of a 16-byte map value: accepted only where both verifiers bound it to [0, 15].</summary>
    internal static IEnumerable<(string Name, string Text)> BranchRefinementPrograms()
    {
        const string prologue = UnknownsPrologue;
        var shapes = Shapes[..^1];
        var operands = new (string Name, string Setup, string Use)[]
        {
            ("0", "", "0"), ("1", "", "1"), ("7", "", "7"), ("15", "", "15"), ("16", "", "16"), ("-1", "", "-1"), ("255", "", "255"),
            ("0x7fffffff", "", "2147483647"), ("-0x80000000", "", "-2147483648"),
            ("reg 8", "r2 = 8\n", "r2"), ("reg 4..12", "r2 &= 7\nr2 += 4\n", "r2"),
        };
        var ops = new[] { "==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&" };
        foreach (var (sname, shape) in shapes)
        {
            foreach (var (oname, osetup, use) in operands)
            {
                foreach (var op in ops)
                {
                    foreach (var w in new[] { "r", "w" })
                    {
                        var right = use.StartsWith('r') ? w + use[1..] : use;
                        const string read = "r6 += r1\nr0 = *(u8 *)(r6 + 0)\n";
                        // The unknown on the left, and (against a register) on the right: the refinement of the
                        // second operand.
                        var conds = new List<(string, string)> { ("", $"if {w}1 {op} {right} goto taken\n") };
                        if (use.StartsWith('r')) conds.Add((" swapped", $"if {right} {op} {w}1 goto taken\n"));
                        foreach (var (order, cond) in conds)
                        {
                            var head = $"{prologue}{shape}{osetup}{cond}";
                            yield return ($"branch {sname} {w}{op} {oname}{order} fallthrough", $"{head}{read}r0 = 0\nexit\ntaken: r0 = 0\nexit\nout: r0 = 0\nexit\n");
                            yield return ($"branch {sname} {w}{op} {oname}{order} taken", $"{head}r0 = 0\nexit\ntaken: {read}r0 = 0\nexit\nout: r0 = 0\nexit\n");
                        }
                    }
                }
            }
        }
    }

    /// <summary>Scalar arithmetic: an unknown of some shape (as for branch refinement) put through every ALU
    /// operation, 64 and 32 bits, with an immediate or a register operand, then used as the offset of a one-byte read
    /// of a 16-byte map value — directly, after an unsigned check of its top (so its bottom must be known to be
    /// non-negative) and after a signed check of its bottom (so its top must be known) — accepted only where both
    /// verifiers bound the result alike.</summary>
    internal static IEnumerable<(string Name, string Text)> ScalarArithmeticPrograms()
    {
        const string prologue = UnknownsPrologue;
        var shapes = Shapes;
        var operands = new (string Name, string Setup, string Use)[]
        {
            ("1", "", "1"), ("3", "", "3"), ("8", "", "8"), ("-1", "", "-1"), ("31", "", "31"), ("63", "", "63"),
            ("reg 2", "r2 = 2\n", "r2"), ("reg 0..3", "r2 &= 3\n", "r2"), ("reg any", "", "r2"),
        };
        var ops = new[] { "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=", "s>>=", "s/=", "s%=" };
        var uses = new (string Name, string Code)[]
        {
            ("direct", ""), ("top checked", "if r1 > 15 goto out\n"), ("bottom checked", "if r1 s< 0 goto out\n"),
        };
        foreach (var (sname, shape) in shapes)
        {
            foreach (var w in new[] { "r", "w" })
            {
                var unary = new List<(string, string)>
                {
                    ("neg", $"{w}1 = -{w}1\n"), ("be16", "r1 = be16 r1\n"), ("le32", "r1 = le32 r1\n"), ("bswap64", "r1 = bswap64 r1\n"),
                    ("movsx8", $"{w}1 = (s8){w}1\n"), ("movsx16", $"{w}1 = (s16){w}1\n"),
                };
                if (w == "r") unary.Add(("movsx32", "r1 = (s32)r1\n"));
                var binary = from o in operands from op in ops
                             select ($"{op} {o.Name}", $"{o.Setup}{w}1 {op} {(o.Use.StartsWith('r') ? w + o.Use[1..] : o.Use)}\n");
                foreach (var (oname, code) in unary.Concat(binary))
                {
                    foreach (var (uname, use) in uses)
                    {
                        yield return ($"alu {sname} {w}{oname} {uname}", $"{prologue}{shape}{code}{use}r6 += r1\nr0 = *(u8 *)(r6 + 0)\nout: r0 = 0\nexit\n");
                    }
                }
            }
        }
    }

    /// <summary>Comparisons of pointers: each pointer kind (context, stack, map value, a map value not yet
    /// null-checked, packet, packet end, packet meta, map, a scalar) compared by every conditional jump, 64 and 32 bits,
    /// with 0, 1 or a register holding each kind, then, on one branch, read through at offset 0 and (for packets) 7 —
    /// null checks, packet ranges, pointer leaks through comparisons.</summary>
    internal static IEnumerable<(string Name, string Text)> PointerComparisonPrograms()
    {
        // Each kind leaves its pointer in r7 (r6 keeps the context: xdp, so packets exist); "out:" ends the program.
        const string lookup = ".map m array key=4 value=16 entries=1\n*(u32 *)(r10 - 4) = 0\nr1 = map:m ll\nr2 = r10\nr2 += -4\ncall 1\n";
        var kinds = new (string Name, string Setup)[]
        {
            ("ctx", "r7 = r6\n"),
            ("stack", "*(u64 *)(r10 - 16) = 0\nr7 = r10\nr7 += -16\n"),
            ("map value", lookup + "if r0 == 0 goto out\nr7 = r0\n"),
            ("map value or null", lookup + "r7 = r0\n"),
            ("packet", "r7 = *(u32 *)(r6 + 0)\n"),
            ("packet end", "r7 = *(u32 *)(r6 + 4)\n"),
            ("packet meta", "r7 = *(u32 *)(r6 + 8)\n"),
            ("map", ".map m array key=4 value=16 entries=1\nr7 = map:m ll\n"),
            ("scalar", "r7 = *(u32 *)(r6 + 12)\n"),
        };
        var others = new (string Name, string Setup, string Use)[]
        {
            ("0", "", "0"), ("1", "", "1"),
            ("same", "r8 = r7\n", "r8"),
            ("packet", "r8 = *(u32 *)(r6 + 0)\n", "r8"),
            ("packet+8", "r8 = *(u32 *)(r6 + 0)\nr8 += 8\n", "r8"),
            ("packet end", "r8 = *(u32 *)(r6 + 4)\n", "r8"),
            ("scalar", "r8 = *(u32 *)(r6 + 12)\n", "r8"),
            ("stack", "r8 = r10\n", "r8"),
        };
        var ops = new[] { "==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&" };
        foreach (var (kname, setup) in kinds)
        {
            foreach (var (oname, osetup, use) in others)
            {
                foreach (var op in ops)
                {
                    foreach (var w in new[] { "r", "w" })
                    {
                        var right = use.StartsWith('r') ? w + use[1..] : use;
                        var head = $".type xdp\nr6 = r1\n{setup}{osetup}if {w}7 {op} {right} goto taken\n";
                        const string read = "r0 = *(u8 *)(r7 + 0)\nr0 = *(u8 *)(r7 + 7)\n";
                        var end = setup.Contains("goto out", StringComparison.Ordinal) ? "out: r0 = 2\nexit\n" : "";
                        yield return ($"compare {kname} {w}{op} {oname} fallthrough", $"{head}{read}r0 = 2\nexit\ntaken: r0 = 2\nexit\n{end}");
                        yield return ($"compare {kname} {w}{op} {oname} taken", $"{head}r0 = 2\nexit\ntaken: {read}r0 = 2\nexit\n{end}");
                    }
                }
            }
        }
    }

    internal static IEnumerable<(string Name, string Text)> StackSlotPrograms()
    {
        var slots = new (string Name, string Setup)[]
        {
            ("unwritten", ""),
            ("spilled 0", "r3 = 0\n*(u64 *)(r10 - 8) = r3\n"),
            ("spilled unknown", "r3 = *(u32 *)(r6 + 4)\n*(u64 *)(r10 - 8) = r3\n"),
            ("spilled pointer", "*(u64 *)(r10 - 8) = r6\n"),
            ("spilled u32 low", "r3 = 5\n*(u32 *)(r10 - 8) = r3\n"),
            ("spilled u32 high", "r3 = 0\n*(u32 *)(r10 - 4) = r3\n"),
            ("zeros", "*(u32 *)(r10 - 8) = 0\n*(u32 *)(r10 - 4) = 0\n"),
            ("unknown bytes", "r3 = *(u32 *)(r6 + 4)\n*(u8 *)(r10 - 8) = r3\n*(u8 *)(r10 - 7) = r3\n*(u16 *)(r10 - 6) = r3\n*(u32 *)(r10 - 4) = r3\n"),
        };
        var writes = new List<(string Name, string Text)> { ("no write", "") };
        foreach (var (size, bytes) in new[] { ("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8) })
        {
            foreach (var mask in new[] { bytes, 3 * bytes })
            {
                foreach (var b in new[] { -16, -12, -8, -4 })
                {
                    if (b % bytes != 0 || b + mask + bytes > 0) continue;
                    var at = $"r7 &= {mask}\nr2 = r10\nr2 += {b}\nr2 += r7\n";
                    writes.Add(($"{size} at fp{b}+[0,{mask}] reg 0", $"{at}r4 = 0\n*({size} *)(r2 + 0) = r4\n"));
                    writes.Add(($"{size} at fp{b}+[0,{mask}] reg 1", $"{at}r4 = 1\n*({size} *)(r2 + 0) = r4\n"));
                    writes.Add(($"{size} at fp{b}+[0,{mask}] imm 0", $"{at}*({size} *)(r2 + 0) = 0\n"));
                }
            }
        }
        // An offset of any 32-bit value: past the kernel's bound on variable offsets, for a store and a load.
        yield return ("unbounded variable-offset store", "r6 = r1\nr7 = *(u32 *)(r6 + 0)\nr2 = r10\nr2 += -8\nr2 += r7\n*(u8 *)(r2 + 0) = 0\n" + Exit);
        yield return ("unbounded variable-offset load", "r6 = r1\nr7 = *(u32 *)(r6 + 0)\n*(u64 *)(r10 - 8) = 0\nr2 = r10\nr2 += -8\nr2 += r7\nr0 = *(u8 *)(r2 + 0)\n" + Exit);
        foreach (var (sname, setup) in slots)
        {
            foreach (var (wname, write) in writes)
            {
                foreach (var (size, bytes) in new[] { ("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8) })
                {
                    for (var off = -16; off < 0; off += bytes)
                    {
                        var prefix = $"r6 = r1\nr7 = *(u32 *)(r6 + 0)\n{setup}{write}r5 = *({size} *)(r10 - {-off})\n";
                        yield return ($"slot {sname}, {wname}, fill {size} fp{off} decides", $"{prefix}if r5 == 0 goto ok\nr0 = r9\nok: {Exit}");
                        yield return ($"slot {sname}, {wname}, fill {size} fp{off} returned", $"{prefix}r0 = r5\nexit\n");
                    }
                }
            }
        }
    }

    public static TheoryData<string> Sweeps() => ["stack", "stack slots", "map value", "packet", "pointer arithmetic", "atomics", "branch refinement", "scalar arithmetic", "pointer comparisons"];

    [Theory]
    [MemberData(nameof(Sweeps))]
    public void Sweep_agrees_with_the_kernel(string sweep)
    {
        Need.Kernel();
        var programs = (sweep switch
        {
            "stack" => StackPrograms(),
            "stack slots" => StackSlotPrograms(),
            "map value" => MapValuePrograms(),
            "packet" => PacketPrograms(),
            "atomics" => AtomicPrograms(),
            "branch refinement" => BranchRefinementPrograms(),
            "scalar arithmetic" => ScalarArithmeticPrograms(),
            "pointer comparisons" => PointerComparisonPrograms(),
            _ => PointerArithmeticPrograms(),
        }).Select(p => (p.Name, Source: VerifierSource.Parse(p.Text, AsmDialect.Llvm, p.Name), p.Text)).ToList();
        // The kernel judges map pointer reads by its own BTF: ours is given it too.
        var kernelBtf = Bpf.Loader.KernelBtf.TryGet();
        foreach (var mode in new[] { PrivilegeMode.Privileged, PrivilegeMode.CapBpfOnly })
        {
            var kernel = KernelOracle.LoadAll(programs.Select(p => (p.Source.Instructions, p.Source.Maps, p.Source.ProgramType ?? ProgramType.SocketFilter)).ToList(), mode);
            int compared = 0, kernelAccepted = 0;
            var disagreements = new List<string>();
            var wording = new WordingDifferences();
            for (var i = 0; i < programs.Count; i++)
            {
                var k = kernel[i];
                Assert.False(k.SetupFailed, $"{programs[i].Name}: the kernel could not be asked ({k.Message})");
                compared++;
                if (k.Accepted) kernelAccepted++;
                var ours = BpfVerifier.Verify(programs[i].Source.Instructions, programs[i].Source.ToOptions(mode, kernelBtf: kernelBtf));
                var agree = ours.IsAccepted == k.Accepted
                            && (ours.IsAccepted || (ours.Error!.Code != VerifierErrorCode.NotSupported && RejectionClasses.Same(ours.Error, k.Message)));
                if (agree) wording.Check(programs[i].Name, ours, k);
                if (!agree)
                {
                    disagreements.Add($"{mode} {programs[i].Name}: ours [{(ours.IsAccepted ? "accept" : ours.Error!.ToString())}] kernel [{(k.Accepted ? "accept" : k.Message)}]");
                }
            }
            output.WriteLine($"{sweep} {mode}: {compared} compared, kernel accepted {kernelAccepted}, {disagreements.Count} disagree");
            foreach (var d in disagreements.Take(80)) output.WriteLine("  " + d);
            foreach (var w in wording.Report()) output.WriteLine("  wording: " + w);
            // Both verdicts exercised: the kernel accepts some (measured without CAP_PERFMON: 23 pointer-arithmetic
            // programs, 18 pointer comparisons; thousands of stack accesses) and refuses some.
            Assert.True(kernelAccepted >= 15 && kernelAccepted < compared, $"{sweep} {mode}: the kernel accepted {kernelAccepted} of {compared}");
            Assert.True(disagreements.Count == 0, $"{disagreements.Count} of {compared} judged differently from the kernel:\n" + string.Join("\n", disagreements.Take(40)));
            // Refused by both: every line of our message is a line of the kernel's log (measured: all of them).
            Assert.True(wording.Count == 0, $"{wording.Count} refusals worded differently from the kernel's log:\n" + string.Join("\n", wording.Report().Take(10)));
        }
    }
}
