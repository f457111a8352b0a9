using static Bpf.Core.Tests.Vm.VmTestKit;
using static Bpf.Instruction;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

public class InterpreterSemanticsTests
{
    // ---- division and modulo -------------------------------------------------------------------

    [Fact]
    public void Unsigned_division_by_zero_register_yields_zero()
    {
        Assert.Equal(0UL, R0(Mov(R.R0, 7), Mov(R.R1, 0), Alu64(AluOp.Div, R.R0, R.R1), Exit));
        Assert.Equal(0UL, R0(Mov(R.R0, 7), Mov(R.R1, 0), Alu32(AluOp.Div, R.R0, R.R1), Exit));
    }

    [Fact]
    public void Division_by_zero_immediate_yields_zero() =>
        Assert.Equal(0UL, R0(Mov(R.R0, 7), Alu64(AluOp.Div, R.R0, 0), Exit));

    [Fact]
    public void Modulo_by_zero_leaves_dst_and_32_bit_form_zero_extends()
    {
        Assert.Equal(0xFFFF_FFFF_FFFF_FFF9UL, R0(Mov(R.R0, -7), Mov(R.R1, 0), Alu64(AluOp.Mod, R.R0, R.R1), Exit));
        Assert.Equal(0xFFFF_FFF9UL, R0(Mov(R.R0, -7), Mov(R.R1, 0), Alu32(AluOp.Mod, R.R0, R.R1), Exit));
        Assert.Equal(0xFFFF_FFF9UL, R0(Mov(R.R0, -7), Alu32(AluOp.Mod, R.R0, 0), Exit));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFF9UL, R0(Mov(R.R0, -7), Alu64(AluOp.Mod, R.R0, 0), Exit));
    }

    [Fact]
    public void Signed_division_and_modulo_by_zero()
    {
        Assert.Equal(0UL, R0(Mov(R.R0, -7), Mov(R.R1, 0), Alu64(AluOp.Div, R.R0, R.R1, 1), Exit));
        Assert.Equal(unchecked((ulong)-7L), R0(Mov(R.R0, -7), Mov(R.R1, 0), Alu64(AluOp.Mod, R.R0, R.R1, 1), Exit));
        Assert.Equal(0xFFFF_FFF9UL, R0(Mov(R.R0, -7), Mov(R.R1, 0), Alu32(AluOp.Mod, R.R0, R.R1, 1), Exit));
        Assert.Equal(0UL, R0(Mov(R.R0, -7), Alu32(AluOp.Div, R.R0, 0, 1), Exit));
    }

    [Fact]
    public void Int_min_divided_by_minus_one_wraps_and_modulo_is_zero()
    {
        var min64 = Lddw(R.R0, 0x8000_0000_0000_0000);
        Assert.Equal(0x8000_0000_0000_0000UL, R0(min64, Mov(R.R1, -1), Alu64(AluOp.Div, R.R0, R.R1, 1), Exit));
        Assert.Equal(0x8000_0000_0000_0000UL, R0(min64, Alu64(AluOp.Div, R.R0, -1, 1), Exit));
        Assert.Equal(0UL, R0(min64, Mov(R.R1, -1), Alu64(AluOp.Mod, R.R0, R.R1, 1), Exit));
        Assert.Equal(0UL, R0(min64, Alu64(AluOp.Mod, R.R0, -1, 1), Exit));
        var min32 = Alu32(AluOp.Mov, R.R0, int.MinValue);
        Assert.Equal(0x8000_0000UL, R0(min32, Mov(R.R1, -1), Alu32(AluOp.Div, R.R0, R.R1, 1), Exit));
        Assert.Equal(0x8000_0000UL, R0(min32, Alu32(AluOp.Div, R.R0, -1, 1), Exit));
        Assert.Equal(0UL, R0(min32, Mov(R.R1, -1), Alu32(AluOp.Mod, R.R0, R.R1, 1), Exit));
    }

    [Fact]
    public void Signed_division_truncates_toward_zero()
    {
        Assert.Equal(unchecked((ulong)-3L), R0(Mov(R.R0, -7), Alu64(AluOp.Div, R.R0, 2, 1), Exit));
        Assert.Equal(unchecked((ulong)-1L), R0(Mov(R.R0, -7), Alu64(AluOp.Mod, R.R0, 2, 1), Exit));
        Assert.Equal(0xFFFF_FFFDUL, R0(Mov(R.R0, -7), Mov(R.R1, 2), Alu32(AluOp.Div, R.R0, R.R1, 1), Exit));
    }

    [Fact]
    public void Unsigned_64_bit_division_sign_extends_the_immediate() =>
        // imm -1 becomes 0xffff...ffff, so any smaller dividend gives 0.
        Assert.Equal(0UL, R0(Mov(R.R0, 100), Alu64(AluOp.Div, R.R0, -1), Exit));

    // ---- shifts, zero-extension, sign-extension -----------------------------------------------------

    [Fact]
    public void Shift_counts_are_masked()
    {
        Assert.Equal(2UL, R0(Mov(R.R0, 1), Mov(R.R1, 65), Alu64(AluOp.Lsh, R.R0, R.R1), Exit));
        Assert.Equal(2UL, R0(Mov(R.R0, 1), Mov(R.R1, 33), Alu32(AluOp.Lsh, R.R0, R.R1), Exit));
        Assert.Equal(0x4000_0000UL, R0(Mov(R.R0, 1), Alu32(AluOp.Lsh, R.R0, 62), Exit));
        Assert.Equal(0xFFFF_FFFFUL, R0(Mov(R.R0, -1), Mov(R.R1, 32), Alu32(AluOp.Arsh, R.R0, R.R1), Exit));
        Assert.Equal(0x7FFF_FFFFUL, R0(Mov(R.R0, -1), Alu32(AluOp.Rsh, R.R0, 33), Exit));
        Assert.Equal(ulong.MaxValue, R0(Mov(R.R0, -1), Alu64(AluOp.Arsh, R.R0, 127), Exit));
    }

    [Fact]
    public void Alu32_results_are_zero_extended()
    {
        Assert.Equal(0UL, R0(Mov(R.R0, -1), Alu32(AluOp.Add, R.R0, 1), Exit));
        Assert.Equal(0xFFFF_FFFFUL, R0(Mov(R.R0, -1), Alu32(AluOp.Mov, R.R0, R.R0), Exit));
        Assert.Equal(0xFFFF_FFFFUL, R0(Alu32(AluOp.Mov, R.R0, -1), Exit));
        Assert.Equal(0x8000_0000UL, R0(Alu32(AluOp.Mov, R.R0, int.MinValue), Alu32(AluOp.Neg, R.R0, 0), Exit));
    }

    [Fact]
    public void Movsx_sign_extends_8_16_32()
    {
        Assert.Equal(ulong.MaxValue - 0x7f, R0(Mov(R.R1, 0x180), Alu64(AluOp.Mov, R.R0, R.R1, 8), Exit));
        Assert.Equal(0xFFFF_FF80UL, R0(Mov(R.R1, 0x180), Alu32(AluOp.Mov, R.R0, R.R1, 8), Exit));
        Assert.Equal(0xFFFF_FFFF_FFFF_8000UL, R0(Mov(R.R1, 0x18000), Alu64(AluOp.Mov, R.R0, R.R1, 16), Exit));
        Assert.Equal(0xFFFF_8000UL, R0(Mov(R.R1, 0x18000), Alu32(AluOp.Mov, R.R0, R.R1, 16), Exit));
        Assert.Equal(0xFFFF_FFFF_8000_0000UL, R0(Lddw(R.R1, 0x1_8000_0000), Alu64(AluOp.Mov, R.R0, R.R1, 32), Exit));
    }

    [Fact]
    public void Neg_64_wraps_int_min()
    {
        Assert.Equal(0x8000_0000_0000_0000UL, R0(Lddw(R.R0, 0x8000_0000_0000_0000), Alu64(AluOp.Neg, R.R0, 0), Exit));
        Assert.Equal(unchecked((ulong)-5L), R0(Mov(R.R0, 5), Alu64(AluOp.Neg, R.R0, 0), Exit));
    }

    [Theory]
    [InlineData(OpClass.Alu, Source.Imm, 16, 0x3344UL)]               // le16: truncate
    [InlineData(OpClass.Alu, Source.Imm, 32, 0x55667788_11223344UL & 0xFFFFFFFF)]
    [InlineData(OpClass.Alu, Source.Imm, 64, 0x55667788_11223344UL)]
    [InlineData(OpClass.Alu, Source.Reg, 16, 0x4433UL)]               // be16: swap + truncate
    [InlineData(OpClass.Alu, Source.Reg, 32, 0x44332211UL)]
    [InlineData(OpClass.Alu, Source.Reg, 64, 0x44332211_88776655UL)]
    [InlineData(OpClass.Alu64, Source.Imm, 16, 0x4433UL)]             // bswap
    [InlineData(OpClass.Alu64, Source.Imm, 32, 0x44332211UL)]
    [InlineData(OpClass.Alu64, Source.Imm, 64, 0x44332211_88776655UL)]
    public void Byte_order_operations(OpClass cls, Source source, int bits, ulong expected)
    {
        var end = new Instruction(Opcodes.Alu(cls, AluOp.End, source), R.R0, R.R0, 0, bits);
        Assert.Equal(expected, R0(Lddw(R.R0, 0x55667788_11223344), end, Exit));
    }

    // ---- jumps ----------------------------------------------------------------------------------------

    [Fact]
    public void Jump32_compares_low_halves_and_signedness_matters()
    {
        // r1 = 0x1_0000_0000: JMP64 sees it as non-zero, JMP32 as zero.
        var r1 = Lddw(R.R1, 0x1_0000_0000);
        Assert.Equal(1UL, R0(r1, Mov(R.R0, 0), JumpImm(OpClass.Jmp32, JumpOp.Jeq, R.R1, 0, 1), Exit, Mov(R.R0, 1), Exit));
        Assert.Equal(0UL, R0(r1, Mov(R.R0, 0), JumpImm(OpClass.Jmp, JumpOp.Jeq, R.R1, 0, 1), Exit, Mov(R.R0, 1), Exit));
        // -1 is s< 0 but not u< 0
        Assert.Equal(1UL, R0(Mov(R.R1, -1), Mov(R.R0, 0), JumpImm(OpClass.Jmp, JumpOp.Jslt, R.R1, 0, 1), Exit, Mov(R.R0, 1), Exit));
        Assert.Equal(0UL, R0(Mov(R.R1, -1), Mov(R.R0, 0), JumpImm(OpClass.Jmp, JumpOp.Jlt, R.R1, 0, 1), Exit, Mov(R.R0, 1), Exit));
    }

    [Fact]
    public void Ja32_takes_its_offset_from_imm()
    {
        var gotol = new Instruction(Opcodes.Ja32, (byte)0, (byte)0, 0, 1);
        Assert.Equal(2UL, R0(Mov(R.R0, 2), gotol, Mov(R.R0, 3), Exit));
    }

    // ---- memory and atomics ------------------------------------------------------------------------

    [Fact]
    public void Loads_and_stores_round_trip_through_input_memory_and_sign_extending_loads()
    {
        var memory = new byte[] { 0x80, 0xff, 0, 0, 0, 0, 0, 0 };
        var program = Prog(
            Load(MemSize.B, R.R0, R.R1, 0, signExtend: true),   // -128
            Load(MemSize.H, R.R2, R.R1, 0, signExtend: true),   // 0xff80 -> -128
            Alu64(AluOp.Add, R.R0, R.R2),                       // -256
            StoreReg(MemSize.W, R.R1, R.R0, 4),
            Exit);
        var result = Run(program, memory);
        Assert.Equal(unchecked((ulong)-256L), result.R0);
        Assert.Equal(new byte[] { 0x00, 0xff, 0xff, 0xff }, memory[4..8]);
    }

    [Fact]
    public void Unaligned_accesses_are_allowed()
    {
        var memory = new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        Assert.Equal(0x0807060504030201UL, Run(Prog(Load(MemSize.DW, R.R0, R.R1, 1), Exit), memory).R0);
    }

    private static ulong AtomicOnStack(MemSize size, AtomicOp op, ulong initial, ulong operand, ulong r0, out ulong memoryAfter, out ulong srcAfter, short offset = -8)
    {
        var program = Prog(
            Lddw(R.R3, initial), StoreReg(MemSize.DW, R.R10, R.R3, offset),
            Lddw(R.R1, operand), Lddw(R.R0, r0),
            Atomic(size, op, R.R10, R.R1, offset),
            Load(MemSize.DW, R.R2, R.R10, offset),
            Exit);
        var (result, regs) = RunWithRegisters(program, []);
        Assert.True(result.Succeeded, result.Fault?.Message);
        memoryAfter = regs[2];
        srcAfter = regs[1];
        return regs[0];
    }

    [Theory]
    [InlineData(AtomicOp.Add, 0x1_0000_0005UL, 3UL, 0x1_0000_0008UL)]
    [InlineData(AtomicOp.Or, 0xF0UL, 0x0FUL, 0xFFUL)]
    [InlineData(AtomicOp.And, 0xF0UL, 0x3CUL, 0x30UL)]
    [InlineData(AtomicOp.Xor, 0xF0UL, 0xFFUL, 0x0FUL)]
    public void Atomics_without_fetch_update_memory_and_leave_src(AtomicOp op, ulong initial, ulong operand, ulong expected)
    {
        AtomicOnStack(MemSize.DW, op, initial, operand, 0, out var mem, out var src);
        Assert.Equal(expected, mem);
        Assert.Equal(operand, src);
    }

    [Theory]
    [InlineData(AtomicOp.FetchAdd, 0x1_0000_0005UL, 3UL, 0x1_0000_0008UL)]
    [InlineData(AtomicOp.FetchOr, 0xF0UL, 0x0FUL, 0xFFUL)]
    [InlineData(AtomicOp.FetchAnd, 0xF0UL, 0x3CUL, 0x30UL)]
    [InlineData(AtomicOp.FetchXor, 0xF0UL, 0xFFUL, 0x0FUL)]
    [InlineData(AtomicOp.Xchg, 0x1234UL, 0x9999UL, 0x9999UL)]
    public void Fetch_atomics_return_the_old_value_in_src(AtomicOp op, ulong initial, ulong operand, ulong expected)
    {
        AtomicOnStack(MemSize.DW, op, initial, operand, 0, out var mem, out var src);
        Assert.Equal(expected, mem);
        Assert.Equal(initial, src);
    }

    [Fact]
    public void Atomic32_fetch_zero_extends_the_old_value_and_touches_only_the_low_word()
    {
        AtomicOnStack(MemSize.W, AtomicOp.FetchAdd, 0xAAAA_AAAA_FFFF_FFFF, 0xDEAD_0000_0000_0001, 0, out var mem, out var src);
        Assert.Equal(0xAAAA_AAAA_0000_0000UL, mem); // the carry does not reach the upper word
        Assert.Equal(0xFFFF_FFFFUL, src);
        AtomicOnStack(MemSize.W, AtomicOp.Xchg, 0x1111_1111_8000_0000, 7, 0, out mem, out src);
        Assert.Equal(0x1111_1111_0000_0007UL, mem);
        Assert.Equal(0x8000_0000UL, src);
    }

    [Fact]
    public void Cmpxchg_stores_only_on_match_and_puts_the_old_value_in_r0()
    {
        var r0 = AtomicOnStack(MemSize.DW, AtomicOp.CmpXchg, 5, 9, 5, out var mem, out var src);
        Assert.Equal((9UL, 5UL, 9UL), (mem, r0, src));
        r0 = AtomicOnStack(MemSize.DW, AtomicOp.CmpXchg, 5, 9, 6, out mem, out _);
        Assert.Equal((5UL, 5UL), (mem, r0));
        // 32-bit: compares only the low half of r0, and zero-extends the old value into r0.
        r0 = AtomicOnStack(MemSize.W, AtomicOp.CmpXchg, 0x7777_7777_8000_0005, 9, 0xFFFF_FFFF_8000_0005, out mem, out _);
        Assert.Equal((0x7777_7777_0000_0009UL, 0x8000_0005UL), (mem, r0));
    }

    public static TheoryData<MemSize, AtomicOp, short> EveryAtomicAlignedAndNot()
    {
        var data = new TheoryData<MemSize, AtomicOp, short>();
        foreach (var size in new[] { MemSize.W, MemSize.DW })
        foreach (var op in new[] { AtomicOp.Add, AtomicOp.Or, AtomicOp.And, AtomicOp.Xor, AtomicOp.FetchAdd, AtomicOp.FetchOr,
                     AtomicOp.FetchAnd, AtomicOp.FetchXor, AtomicOp.Xchg, AtomicOp.CmpXchg })
        foreach (var offset in new short[] { -16, -12, -13 }) // 8-aligned, 4-aligned only, misaligned
            data.Add(size, op, offset);
        return data;
    }

    /// <summary>Every atomic operation in both widths, naturally aligned (the hardware's atomic instructions) and not
    /// (eBPF permits it for raw programs; a plain read-modify-write): the same results by a model.</summary>
    [Theory]
    [MemberData(nameof(EveryAtomicAlignedAndNot))]
    public void Atomics_give_the_same_results_aligned_or_not(MemSize size, AtomicOp op, short offset)
    {
        const ulong initial = 0x8123_4567_F0F0_FF05, operand = 0x0F0F_0F0F_3C3C_0F0B;
        foreach (var (r0, matches) in new[] { (initial, true), (initial ^ 1, false) })
        {
            if (op != AtomicOp.CmpXchg && !matches) continue;
            var r0After = AtomicOnStack(size, op, initial, operand, r0, out var mem, out var src, offset);
            ulong mask = size == MemSize.W ? 0xFFFF_FFFFUL : ulong.MaxValue;
            ulong old = initial & mask, v = operand & mask;
            ulong result = op switch
            {
                AtomicOp.Add or AtomicOp.FetchAdd => (old + v) & mask,
                AtomicOp.Or or AtomicOp.FetchOr => old | v,
                AtomicOp.And or AtomicOp.FetchAnd => old & v,
                AtomicOp.Xor or AtomicOp.FetchXor => old ^ v,
                AtomicOp.Xchg => v,
                _ => (r0 & mask) == old ? v : old,
            };
            Assert.Equal((initial & ~mask) | result, mem);
            bool fetches = op is AtomicOp.FetchAdd or AtomicOp.FetchOr or AtomicOp.FetchAnd or AtomicOp.FetchXor or AtomicOp.Xchg;
            Assert.Equal(fetches ? old : operand, src);
            Assert.Equal(op == AtomicOp.CmpXchg ? old : r0, r0After);
        }
    }

    // ---- legacy packet loads ---------------------------------------------------------------------

    [Fact]
    public void Ld_abs_and_ld_ind_read_big_endian_and_end_with_zero_when_out_of_range()
    {
        var memory = new byte[] { 0x11, 0x22, 0x33, 0x44, 0x55 };
        var ldAbsW = new Instruction(Opcodes.Memory(OpClass.Ld, MemMode.Abs, MemSize.W), (byte)0, (byte)0, 0, 1);
        Assert.Equal(0x22334455UL, Run(Prog(ldAbsW, Exit), memory).R0);
        var ldIndH = new Instruction(Opcodes.Memory(OpClass.Ld, MemMode.Ind, MemSize.H), (byte)0, (byte)R.R3, 0, 1);
        Assert.Equal(0x4455UL, Run(Prog(Mov(R.R3, 2), ldIndH, Exit), memory).R0);
        var result = Run(Prog(Mov(R.R3, 4), ldIndH, Mov(R.R0, 77), Exit), memory);
        Assert.True(result.Succeeded);
        Assert.Equal(0UL, result.R0);
        Assert.Equal(2, result.InstructionsExecuted);
    }
}
