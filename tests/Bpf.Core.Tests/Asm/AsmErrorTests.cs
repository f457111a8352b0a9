using Bpf.Asm;

namespace Bpf.Core.Tests.Asm;

/// <summary>Bad input fails with an <see cref="AsmException"/> whose line and column point at the culprit.</summary>
public class AsmErrorTests
{
    [Theory]
    // conformance dialect
    [InlineData(AsmDialect.Conformance, "mov %r0, 1\nfrob %r0, 1", 2, 1, "unknown mnemonic 'frob'")]
    [InlineData(AsmDialect.Conformance, "mov %r11, 1", 1, 5, "bad register")]
    [InlineData(AsmDialect.Conformance, "mov %r1, %q2", 1, 10, "bad register")]
    [InlineData(AsmDialect.Conformance, "ja nowhere\nexit", 1, 4, "undefined label 'nowhere'")]
    [InlineData(AsmDialect.Conformance, "mov %r0, 12x", 1, 10, "bad number '12x'")]
    [InlineData(AsmDialect.Conformance, "mov %r0, 0x1_0", 1, 10, "bad number")]
    [InlineData(AsmDialect.Conformance, "mov %r0, 0x100000000", 1, 10, "out of range")]
    [InlineData(AsmDialect.Conformance, "lddw %r0, 0x10000000000000000", 1, 11, "does not fit in 64 bits")]
    [InlineData(AsmDialect.Conformance, "ldxw %r0, [%r1+40000]", 1, 15, "out of range")]
    [InlineData(AsmDialect.Conformance, "a:\na:\nexit", 2, 1, "label 'a' is defined twice")]
    [InlineData(AsmDialect.Conformance, "exit %r0", 1, 6, "unexpected '%r0'")]
    [InlineData(AsmDialect.Conformance, "movsx832 %r0, 5", 1, 1, "does not take an immediate")]
    [InlineData(AsmDialect.Conformance, "  mov %r0 1", 1, 11, "expected ','")]
    [InlineData(AsmDialect.Conformance, "mov %r0, 1 $", 1, 12, "unexpected character '$'")]
    [InlineData(AsmDialect.Conformance, "jeq %r0, 1, +40000", 1, 13, "out of range")]
    // LLVM dialect
    [InlineData(AsmDialect.Llvm, "r0 = 1\nfrob r0", 2, 1, "unknown instruction 'frob'")]
    [InlineData(AsmDialect.Llvm, "r11 = 1", 1, 1, "bad register 'r11'")]
    [InlineData(AsmDialect.Llvm, "w1 += r2", 1, 7, "expected a w register")]
    [InlineData(AsmDialect.Llvm, "if r1 > 5 goto nowhere", 1, 16, "undefined label 'nowhere'")]
    [InlineData(AsmDialect.Llvm, "r0 = 0xfg", 1, 6, "bad number '0xfg'")]
    [InlineData(AsmDialect.Llvm, "r0 = *(u24 *)(r1 + 0)", 1, 8, "no load of type 'u24'")]
    [InlineData(AsmDialect.Llvm, "r1 = be16 r2", 1, 11, "expected r1")]
    [InlineData(AsmDialect.Llvm, "r1 = atomic_fetch_add((u64 *)(r10 - 8), r2)", 1, 41, "expected r1")]
    [InlineData(AsmDialect.Llvm, "r2 = cmpxchg_64(r10 - 8, r0, r1)", 1, 1, "cmpxchg returns its result in r0")]
    [InlineData(AsmDialect.Llvm, "if r1 ~ 5 goto +1", 1, 7, "unexpected character '~'")]
    [InlineData(AsmDialect.Llvm, "w1 = 5 ll", 1, 1, "needs an r register")]
    public void Errors_name_line_and_column(AsmDialect dialect, string text, int line, int column, string reason)
    {
        var ex = Assert.Throws<AsmException>(() => Assembler.Assemble(text, dialect));
        Assert.Contains(reason, ex.Message);
        Assert.Equal((line, column), (ex.Line, ex.Column));
        Assert.Contains($"line {line}, column {column}", ex.Message);
    }

    [Fact]
    public void Excerpt_errors_use_file_lines_and_name()
    {
        var ex = Assert.Throws<AsmException>(() => Assembler.Assemble("exit\nbogus", AsmDialect.Conformance, firstLine: 10, sourceName: "x.data"));
        Assert.Equal(11, ex.Line);
        Assert.StartsWith("x.data: line 11, column 1:", ex.Message);
    }

    [Fact]
    public void Is_a_format_exception()
    {
        Assert.IsAssignableFrom<FormatException>(Assert.Throws<AsmException>(() => Assembler.Assemble("bogus")));
    }
}
