using Bpf.Asm;

namespace Bpf.Core.Tests.Isa;

/// <summary>The Linux 6.18 instructions beyond RFC 9669: may_goto (JCOND) and load-acquire / store-release
/// (atomic imm 0x100 / 0x110) — encoding, both text dialects and the interpreter.</summary>
public class KernelExtensionTests
{
    [Theory]
    [InlineData("may_goto +2", "may_goto +2", 0xe5, 0, 0, 2, 0)]
    [InlineData("ldacqdw %r0, [%r1+8]", "r0 = load_acquire((u64 *)(r1 + 8))", 0xdb, 0, 1, 8, 0x100)]
    [InlineData("ldacqw %r2, [%r10-4]", "w2 = load_acquire((u32 *)(r10 - 4))", 0xc3, 2, 10, -4, 0x100)]
    [InlineData("ldacqh %r3, [%r1]", "w3 = load_acquire((u16 *)(r1 + 0))", 0xcb, 3, 1, 0, 0x100)]
    [InlineData("ldacqb %r4, [%r1+1]", "w4 = load_acquire((u8 *)(r1 + 1))", 0xd3, 4, 1, 1, 0x100)]
    [InlineData("streldw [%r10-8], %r1", "store_release((u64 *)(r10 - 8), r1)", 0xdb, 10, 1, -8, 0x110)]
    [InlineData("strelw [%r1+4], %r2", "store_release((u32 *)(r1 + 4), w2)", 0xc3, 1, 2, 4, 0x110)]
    [InlineData("strelh [%r1+2], %r2", "store_release((u16 *)(r1 + 2), w2)", 0xcb, 1, 2, 2, 0x110)]
    [InlineData("strelb [%r1], %r2", "store_release((u8 *)(r1 + 0), w2)", 0xd3, 1, 2, 0, 0x110)]
    public void Encodes_and_prints_in_both_dialects(string conformance, string llvm, int opcode, int dst, int src, int off, int imm)
    {
        var expected = new Instruction((byte)opcode, (byte)dst, (byte)src, (short)off, imm);
        var fromConformance = Assembler.Assemble(conformance + "\nexit\nexit\nexit", AsmDialect.Conformance);
        var fromLlvm = Assembler.Assemble(llvm + "\nexit\nexit\nexit", AsmDialect.Llvm);
        Assert.Equal(expected, fromConformance[0]);
        Assert.Equal(expected, fromLlvm[0]);
        Assert.True(InstructionDecoder.Validate(fromLlvm) is null);
        var c = Disassembler.Disassemble(fromConformance, AsmDialect.Conformance).Split('\n')[0].Trim();
        var l = Disassembler.Disassemble(fromLlvm, AsmDialect.Llvm).Split('\n')[0].Trim();
        Assert.Equal(expected, Assembler.Assemble(c + "\nexit\nexit\nexit", AsmDialect.Conformance)[0]);
        Assert.Equal(llvm, l);
    }

    [Fact]
    public void Rmw_atomics_have_no_byte_or_half_forms_but_acquire_release_do()
    {
        Assert.False(InstructionDecoder.Validate([new Instruction(0xd3, 10, 1, -8, 0), Instruction.ExitInsn()]) is null);
        Assert.True(InstructionDecoder.Validate([new Instruction(0xd3, 1, 10, -8, 0x100), Instruction.ExitInsn()]) is null);
        Assert.Throws<AsmException>(() => Assembler.Assemble("r0 = load_acquire((u8 *)(r1 + 0))\nexit", AsmDialect.Llvm));
    }

    [Fact]
    public void Interpreter_load_acquire_and_store_release_are_plain_ordered_accesses()
    {
        var p = Assembler.Assemble("""
            r2 = 0x1122334455667788 ll
            store_release((u64 *)(r10 - 8), r2)
            w3 = load_acquire((u8 *)(r10 - 8))
            w4 = load_acquire((u16 *)(r10 - 8))
            w5 = 0x99
            store_release((u8 *)(r10 - 8), w5)
            r0 = load_acquire((u64 *)(r10 - 8))
            r0 += r3
            r0 += r4
            exit
            """, AsmDialect.Llvm);
        var result = new Interpreter(p).Run([]);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(0x1122334455667799UL + 0x88 + 0x7788, result.R0);
    }

    [Fact]
    public void Interpreter_may_goto_falls_through_until_the_budget_is_spent()
    {
        // Counts the iterations of an endless loop: may_goto leaves it after exactly BPF_MAX_LOOPS.
        var p = Assembler.Assemble("""
            r0 = 0
            loop:
            may_goto out
            r0 += 1
            goto loop
            out:
            exit
            """, AsmDialect.Llvm);
        var result = new Interpreter(p, new InterpreterOptions { InstructionBudget = 40_000_000 }).Run([]);
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal((ulong)Opcodes.MaxLoops, result.R0);
    }
}
