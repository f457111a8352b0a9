using static Bpf.Core.Tests.Vm.VmTestKit;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

/// <summary>
/// Every signed division and modulo edge (RFC 9669 §4.1, the kernel's semantics) in both widths, register and
/// immediate divisor: −1 with ordinary dividends (where −x ≠ x), INT_MIN / −1 (wraps), a zero divisor (sdiv → 0,
/// smod → dividend unchanged), and the sign rules of truncating division. Expected values are written out, not
/// computed. 32-bit forms start from a dividend with garbage in the upper half, which they must ignore and zero.
/// </summary>
public sealed class SignedDivisionTests
{
    private const short Signed = 1; // the offset that selects sdiv/smod

    public static TheoryData<long, int, ulong> SDiv64 => new()
    {
        { 7, -1, unchecked((ulong)-7L) },
        { -7, -1, 7 },
        { 0x1234_5678_9abc, -1, unchecked((ulong)-0x1234_5678_9abcL) },
        { long.MinValue, -1, unchecked((ulong)long.MinValue) },
        { long.MaxValue, -1, unchecked((ulong)-long.MaxValue) },
        { 0, -1, 0 },
        { 7, 0, 0 },
        { long.MinValue, 0, 0 },
        { -7, 2, unchecked((ulong)-3L) },
        { 7, -2, unchecked((ulong)-3L) },
        { -7, -2, 3 },
        { long.MinValue, 2, unchecked((ulong)(long.MinValue / 2)) },
        { 100, 7, 14 },
    };

    public static TheoryData<long, int, ulong> SMod64 => new()
    {
        { 7, -1, 0 },
        { -7, -1, 0 },
        { long.MinValue, -1, 0 },
        { 7, 0, 7 },
        { -7, 0, unchecked((ulong)-7L) },
        { long.MinValue, 0, unchecked((ulong)long.MinValue) },
        { -7, 2, unchecked((ulong)-1L) },
        { 7, -2, 1 },
        { -7, -2, unchecked((ulong)-1L) },
        { long.MinValue, 3, unchecked((ulong)-2L) },
        { 100, 7, 2 },
    };

    public static TheoryData<int, int, ulong> SDiv32 => new()
    {
        { 7, -1, 0xFFFF_FFF9 },
        { -7, -1, 7 },
        { 0x1234_5678, -1, 0xEDCB_A988 },
        { int.MinValue, -1, 0x8000_0000 },
        { int.MaxValue, -1, 0x8000_0001 },
        { 7, 0, 0 },
        { int.MinValue, 0, 0 },
        { -7, 2, 0xFFFF_FFFD },
        { 7, -2, 0xFFFF_FFFD },
        { -7, -2, 3 },
        { 100, 7, 14 },
    };

    public static TheoryData<int, int, ulong> SMod32 => new()
    {
        { 7, -1, 0 },
        { -7, -1, 0 },
        { int.MinValue, -1, 0 },
        { 7, 0, 7 },
        { -7, 0, 0xFFFF_FFF9 },
        { int.MinValue, 0, 0x8000_0000 },
        { -7, 2, 0xFFFF_FFFF },
        { 7, -2, 1 },
        { -7, -2, 0xFFFF_FFFF },
        { int.MinValue, 3, 0xFFFF_FFFE },
        { 100, 7, 2 },
    };

    [Theory, MemberData(nameof(SDiv64))]
    public void Sdiv64(long dividend, int divisor, ulong expected) => Check64(AluOp.Div, dividend, divisor, expected);

    [Theory, MemberData(nameof(SMod64))]
    public void Smod64(long dividend, int divisor, ulong expected) => Check64(AluOp.Mod, dividend, divisor, expected);

    [Theory, MemberData(nameof(SDiv32))]
    public void Sdiv32(int dividend, int divisor, ulong expected) => Check32(AluOp.Div, dividend, divisor, expected);

    [Theory, MemberData(nameof(SMod32))]
    public void Smod32(int dividend, int divisor, ulong expected) => Check32(AluOp.Mod, dividend, divisor, expected);

    private static void Check64(AluOp op, long dividend, int divisor, ulong expected)
    {
        var byRegister = R0(Lddw(R.R0, (ulong)dividend), Mov(R.R1, divisor), Alu64(op, R.R0, R.R1, Signed), Exit);
        var byImmediate = R0(Lddw(R.R0, (ulong)dividend), Alu64(op, R.R0, divisor, Signed), Exit);
        Assert.Equal((expected, expected), (byRegister, byImmediate));
    }

    private static void Check32(AluOp op, int dividend, int divisor, ulong expected)
    {
        // Upper half set: a 32-bit operation reads only the lower half and zero-extends its result.
        var dst = 0xDEAD_BEEF_0000_0000UL | (uint)dividend;
        var byRegister = R0(Lddw(R.R0, dst), Lddw(R.R1, 0x1111_1111_0000_0000UL | (uint)divisor), Alu32(op, R.R0, R.R1, Signed), Exit);
        var byImmediate = R0(Lddw(R.R0, dst), Alu32(op, R.R0, divisor, Signed), Exit);
        Assert.Equal((expected, expected), (byRegister, byImmediate));
    }
}
