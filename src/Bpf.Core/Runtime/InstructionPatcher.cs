namespace Bpf.Runtime;

/// <summary>Edits a program while keeping every relative jump, bpf-to-bpf call and function reference pointing at
/// the same instruction (what the kernel's verifier does when it patches programs).</summary>
internal static class InstructionPatcher
{
    /// <summary>Replaces slots with instruction sequences. <paramref name="replacements"/>[i] (null: keep slot i)
    /// replaces slot i; a sequence that starts with the original instruction keeps it, relocated, and inserts the
    /// rest after it. Instructions inside a replacement are emitted as given.</summary>
    /// <exception cref="ArgumentException">The arrays differ in length.</exception>
    /// <exception cref="OverflowException">A relocated 16-bit jump offset no longer fits.</exception>
    public static Instruction[] Patch(Instruction[] program, Instruction[]?[] replacements)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(replacements);
        if (program.Length != replacements.Length) throw new ArgumentException("one replacement entry per slot is needed", nameof(replacements));
        return ContextRewriter.Patch(program, replacements);
    }
}
