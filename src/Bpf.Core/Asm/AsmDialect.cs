namespace Bpf.Asm;

/// <summary>The text syntax the assembler reads and the disassembler prints.</summary>
public enum AsmDialect
{
    /// <summary>
    /// The syntax of the bpf_conformance suite and uBPF: <c>mov32 %r0, 0</c>, <c>ldxw %r0, [%r1+4]</c>,
    /// <c>jeq %r1, 0x5, +2</c>, <c>lock fetch add [%r10-8], %r1</c>.
    /// </summary>
    Conformance,

    /// <summary>
    /// The syntax <c>llvm-objdump -d</c> and the kernel verifier log print: <c>w0 = 1</c>, <c>r0 += r1</c>,
    /// <c>if r1 &gt; 0x5 goto +2</c>, <c>r0 = *(u32 *)(r1 + 4)</c>.
    /// </summary>
    Llvm,
}
