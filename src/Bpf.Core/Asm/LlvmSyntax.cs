namespace Bpf.Asm;

/// <summary>Parses one statement of the LLVM/kernel dialect.</summary>
internal static class LlvmSyntax
{
    public static void ParseStatement(LineCursor c, AsmEmitter e) =>
        throw new NotSupportedException("the LLVM dialect assembler is not written yet");
}
