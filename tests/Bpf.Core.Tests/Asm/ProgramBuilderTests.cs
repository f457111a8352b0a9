using Bpf.Asm;
using static Bpf.Register;

namespace Bpf.Core.Tests.Asm;

public class ProgramBuilderTests
{
    [Fact]
    public void Loop_example_resolves_labels()
    {
        var b = new ProgramBuilder();
        b.Mov64(R0, 0).Label("loop").Add64(R1, 1).JumpIf(JumpOp.Jne, R1, 10, "loop").Exit();
        var expected = Assembler.Assemble("mov %r0, 0\nloop:\nadd %r1, 1\njne %r1, 10, loop\nexit");
        Assert.Equal(expected, b.Build());
        Assert.Equal(-2, b.Build()[2].Offset);
    }

    [Fact]
    public void Every_form_matches_the_assembler()
    {
        var b = new ProgramBuilder()
            .Alu64(AluOp.Sub, R1, -3).Alu64(AluOp.Xor, R1, R2).Alu32(AluOp.Lsh, R3, 4).Alu32(AluOp.Arsh, R3, R4)
            .Alu64(AluOp.Div, R1, 7, signed: true).Alu32(AluOp.Mod, R1, R2, signed: true).Alu64(AluOp.Div, R1, R2)
            .Mov64(R1, R2).Mov32(R2, -1).Mov32(R2, R3).Add32(R4, 5).Add32(R4, R5).Add64(R6, R7)
            .MovSx(R1, R2, 8).MovSx(R1, R2, 32).MovSx(R1, R2, 16, is32: true)
            .Neg(R1).Neg(R2, is32: true)
            .ToBigEndian(R1, 16).ToLittleEndian(R1, 32).ByteSwap(R1, 64)
            .Load(MemSize.W, R0, R1, 4).Load(MemSize.B, R0, R10, -1, signExtend: true)
            .Store(MemSize.DW, R10, -8, 7).Store(MemSize.H, R10, -2, R3)
            .Atomic(AtomicOp.Add, MemSize.DW, R10, -8, R1).Atomic(AtomicOp.FetchOr, MemSize.W, R10, -4, R2)
            .Atomic(AtomicOp.Xchg, MemSize.DW, R10, -8, R3).Atomic(AtomicOp.CmpXchg, MemSize.W, R10, -4, R4)
            .LoadAbs(MemSize.H, 12).LoadInd(MemSize.B, R1, 2)
            .LoadImm64(R1, 0x1122334455667788).LoadImm64(R2, PseudoSource.MapValue, 5, 16).LoadFunction(R3, "fn")
            .Jump("end").Jump(1).JumpLong("end").JumpLong(-1)
            .JumpIf(JumpOp.Jsgt, R1, R2, "end").JumpIf(JumpOp.Jset, R1, 4, "end", is32: true).JumpIf(JumpOp.Jle, R1, R2, 3, is32: true)
            .Call(5).CallLocal("fn").CallKfunc(77).CallX(R2)
            .Label("end").Exit()
            .Label("fn").Mov64(R0, 1).Exit();

        const string text = """
            sub %r1, -3
            xor %r1, %r2
            lsh32 %r3, 4
            arsh32 %r3, %r4
            sdiv %r1, 7
            smod32 %r1, %r2
            div %r1, %r2
            mov %r1, %r2
            mov32 %r2, -1
            mov32 %r2, %r3
            add32 %r4, 5
            add32 %r4, %r5
            add %r6, %r7
            movsx864 %r1, %r2
            movsx3264 %r1, %r2
            movsx1632 %r1, %r2
            neg %r1
            neg32 %r2
            be16 %r1
            le32 %r1
            bswap64 %r1
            ldxw %r0, [%r1+4]
            ldxsb %r0, [%r10-1]
            stdw [%r10-8], 7
            stxh [%r10-2], %r3
            lock add [%r10-8], %r1
            lock fetch or32 [%r10-4], %r2
            lock xchg [%r10-8], %r3
            lock cmpxchg32 [%r10-4], %r4
            ldabsh 12
            ldindb %r1, 2
            lddw %r1, 0x1122334455667788
            lddw %r2, map_value 5, 16
            lddw %r3, func fn
            ja end
            ja +1
            ja32 end
            ja32 -1
            jsgt %r1, %r2, end
            jset32 %r1, 4, end
            jle32 %r1, %r2, +3
            call 5
            call local fn
            call kfunc 77
            call %r2
            end: exit
            fn: mov %r0, 1
            exit
            """;
        Assert.Equal(Assembler.Assemble(text), b.Build());
    }

    [Fact]
    public void Undefined_label_is_named_at_build()
    {
        var b = new ProgramBuilder().Jump("nowhere").Exit();
        var ex = Assert.Throws<InvalidOperationException>(() => b.Build());
        Assert.Contains("undefined label 'nowhere'", ex.Message);
        Assert.Contains("instruction 0", ex.Message);
    }

    [Fact]
    public void Duplicate_label_is_named()
    {
        var b = new ProgramBuilder().Label("a").Exit();
        var ex = Assert.Throws<ArgumentException>(() => b.Label("a"));
        Assert.Contains("label 'a' is defined twice", ex.Message);
    }

    [Fact]
    public void Invalid_combinations_fail_at_the_call_naming_the_index()
    {
        var b = new ProgramBuilder().Exit();
        Assert.Contains("instruction 1", Assert.Throws<ArgumentException>(() => b.ToBigEndian(R1, 8)).Message);
        Assert.Contains("instruction 1", Assert.Throws<ArgumentException>(() => b.MovSx(R1, R2, 32, is32: true)).Message);
        Assert.Contains("instruction 1", Assert.Throws<ArgumentException>(() => b.Atomic(AtomicOp.Add, MemSize.H, R10, 0, R1)).Message);
        Assert.Throws<ArgumentException>(() => b.Alu64(AluOp.Add, R1, 1, signed: true));
        Assert.Throws<ArgumentException>(() => b.Alu64(AluOp.Neg, R1, 0));
        Assert.Throws<ArgumentException>(() => b.JumpIf(JumpOp.Call, R1, 0, "x"));
        // Failed calls leave nothing behind: the builder still builds the one exit.
        Assert.Equal(new[] { Instruction.ExitInsn() }, b.Build());
    }

    [Fact]
    public void Jump_out_of_16_bit_range_is_reported()
    {
        var b = new ProgramBuilder().Jump("far");
        for (var i = 0; i < 40000; i++) b.Mov64(R0, 0);
        b.Label("far").Exit();
        var ex = Assert.Throws<InvalidOperationException>(() => b.Build());
        Assert.Contains("far", ex.Message);
        Assert.Contains("JumpLong", ex.Message);
    }
}
