using Bpf.Asm;

namespace Bpf.Core.Tests.Asm;

/// <summary>LLVM-dialect spellings, each checked against the same instruction written in the conformance dialect.</summary>
public class LlvmDialectTests
{
    [Theory]
    [InlineData("r0 = 1", "mov %r0, 1")]
    [InlineData("w0 = 1", "mov32 %r0, 1")]
    [InlineData("w0 = 0xffffffff", "mov32 %r0, -1")]
    [InlineData("r0 = r1", "mov %r0, %r1")]
    [InlineData("r0 += 5", "add %r0, 5")]
    [InlineData("w1 s/= w2", "sdiv32 %r1, %r2")]
    [InlineData("r1 s%= -7", "smod %r1, -7")]
    [InlineData("r1 s>>= 3", "arsh %r1, 3")]
    [InlineData("r0 = -r0", "neg %r0")]
    [InlineData("w3 = -w3", "neg32 %r3")]
    [InlineData("r0 = (s8)r1", "movsx864 %r0, %r1")]
    [InlineData("w0 = (s16)w1", "movsx1632 %r0, %r1")]
    [InlineData("r1 = be16 r1", "be16 %r1")]
    [InlineData("r1 = le32 r1", "le32 %r1")]
    [InlineData("r1 = bswap64 r1", "bswap64 %r1")]
    [InlineData("if r1 > 0x5 goto +2", "jgt %r1, 5, +2")]
    [InlineData("if w1 s< w2 goto -3", "jslt32 %r1, %r2, -3")]
    [InlineData("if r1 & 0x4 goto +1", "jset %r1, 4, +1")]
    [InlineData("goto +2", "ja +2")]
    [InlineData("gotol +70000", "ja32 +70000")]
    [InlineData("call 1", "call 1")]
    [InlineData("call pc+3", "call local +3")]
    [InlineData("call pc-3", "call local -3")]
    [InlineData("call kfunc 12", "call kfunc 12")]
    [InlineData("callx r2", "call %r2")]
    [InlineData("exit", "exit")]
    [InlineData("r1 = 0x1122334455667788 ll", "lddw %r1, 0x1122334455667788")]
    [InlineData("r1 = -1 ll", "lddw %r1, 0xffffffffffffffff")]
    [InlineData("r1 = map_fd 5 ll", "lddw %r1, map_fd 5")]
    [InlineData("r1 = map_value 5, 16 ll", "lddw %r1, map_value 5, 16")]
    [InlineData("ld_pseudo r1, 2, 5", "lddw %r1, map_value 5")]
    [InlineData("r0 = *(u32 *)(r1 + 4)", "ldxw %r0, [%r1+4]")]
    [InlineData("w0 = *(u8 *)(r1 + 4)", "ldxb %r0, [%r1+4]")]
    [InlineData("r0 = *(s8 *)(r10 - 1)", "ldxsb %r0, [%r10-1]")]
    [InlineData("*(u32 *)(r10 - 4) = r1", "stxw [%r10-4], %r1")]
    [InlineData("*(u16 *)(r10 - 4) = w1", "stxh [%r10-4], %r1")]
    [InlineData("*(u64 *)(r10 - 8) = 7", "stdw [%r10-8], 7")]
    [InlineData("lock *(u64 *)(r10 - 8) += r1", "lock add [%r10-8], %r1")]
    [InlineData("lock *(u32 *)(r10 - 8) ^= w1", "lock xor32 [%r10-8], %r1")]
    [InlineData("r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)", "lock fetch add [%r10-8], %r0")]
    [InlineData("w1 = atomic_fetch_or((u32 *)(r2 + 0), w1)", "lock fetch or32 [%r2], %r1")]
    [InlineData("r1 = xchg_64(r10 - 8, r1)", "lock xchg [%r10-8], %r1")]
    [InlineData("w1 = xchg32_32(r10 - 8, w1)", "lock xchg32 [%r10-8], %r1")]
    [InlineData("r0 = cmpxchg_64(r10 - 8, r0, r1)", "lock cmpxchg [%r10-8], %r1")]
    [InlineData("w0 = cmpxchg32_32(r10 - 8, w0, w1)", "lock cmpxchg32 [%r10-8], %r1")]
    [InlineData("r0 = *(u8 *)skb[5]", "ldabsb 5")]
    [InlineData("r0 = *(u16 *)skb[r1 + 5]", "ldindh %r1, 5")]
    [InlineData("r0 = *(u32 *)skb[r1]", "ldindw %r1, 0")]
    public void Llvm_spelling_encodes_like_the_conformance_spelling(string llvm, string conformance)
    {
        Assert.Equal(Assembler.Assemble(conformance, AsmDialect.Conformance), Assembler.Assemble(llvm, AsmDialect.Llvm));
    }

    [Fact]
    public void Labels_work_in_the_llvm_dialect()
    {
        var slots = Assembler.Assemble("""
            r0 = 0
            loop:
              r0 += 1
              if r0 < 10 goto loop
              call fn
              gotol done
            fn: r0 = 1 ll
              exit
            done: exit
            """, AsmDialect.Llvm);
        Assert.Equal(-2, slots[2].Offset);
        Assert.Equal(1, slots[3].Imm);             // call fn: slot 5 - (3 + 1)
        Assert.Equal(CallKind.Local, (CallKind)slots[3].SrcRaw);
        Assert.Equal(3, slots[4].Imm);             // gotol done: slot 8 - (4 + 1)
    }

    [Fact]
    public void Conformance_exit_label_names_the_first_exit_unless_defined()
    {
        Assert.Equal(1, Assembler.Assemble("ja exit\nmov %r0, 1\nexit\nexit")[0].Offset);
        Assert.Equal(2, Assembler.Assemble("ja exit\nexit\nmov %r0, 1\nexit: exit")[0].Offset);
    }
}
