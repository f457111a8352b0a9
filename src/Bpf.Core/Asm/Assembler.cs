namespace Bpf.Asm;

/// <summary>
/// Assembles eBPF assembly text into instruction slots. Both dialects accept <c>name:</c> label lines (a label
/// names the next slot), label names in place of any relative jump/call offset, <c>#</c>, <c>;</c> and
/// <c>//</c> comments, decimal and 0x-hex numbers with an optional sign, and the raw-slot directive
/// <c>.insn 0x&lt;64-bit little-endian word&gt;</c> (what the disassembler prints for an invalid slot).
/// </summary>
/// <remarks>
/// Spellings that neither the conformance suite nor llvm-objdump-14 define, chosen so every valid slot has text:
/// <list type="bullet">
/// <item>lddw with a pseudo source: <c>lddw %r1, map_fd 5</c> / <c>r1 = map_fd 5 ll</c>; the kinds are
/// <c>map_fd</c>, <c>map_value</c>, <c>btf_id</c>, <c>func</c>, <c>map_idx</c>, <c>map_idx_value</c>; a non-zero
/// second-slot immediate follows a comma (<c>map_value 5, 16</c>); <c>func</c> takes a relative target or label.
/// The LLVM spelling <c>ld_pseudo r1, 2, 5</c> is also read.</item>
/// <item>Calls: helper <c>call 5</c> (conformance also <c>call helper 5</c>); local <c>call local +3</c> /
/// <c>call pc+3</c> (or a label); kfunc <c>call kfunc 7</c> (conformance also <c>call runtime 7</c>); callx
/// <c>call %r2</c> or <c>callx %r2</c> / <c>callx r2</c>, encoded with the register in dst.</item>
/// <item>Conformance dialect: <c>swap16/32/64</c> alias <c>bswap16/32/64</c>; as in the suite's reference
/// assembler, the label <c>exit</c> names the first <c>exit</c> unless defined explicitly; legacy packet loads are
/// <c>ldabsw 12</c> and <c>ldindw %r1, 12</c>.</item>
/// <item>LLVM dialect: <c>wN</c> registers select 32-bit ALU/jump forms; loads and stores accept either
/// <c>rN</c> or <c>wN</c> for the value register; legacy packet loads are <c>r0 = *(u8 *)skb[5]</c> and
/// <c>r0 = *(u8 *)skb[r1 + 5]</c>.</item>
/// </list>
/// </remarks>
public static class Assembler
{
    /// <summary>Assembles a program.</summary>
    /// <param name="text">The program text, one instruction per line.</param>
    /// <param name="dialect">The syntax of <paramref name="text"/>.</param>
    /// <returns>The slots (a <c>lddw</c> takes two).</returns>
    /// <exception cref="AsmException">The text is not valid; the exception names the line and column.</exception>
    public static Instruction[] Assemble(string text, AsmDialect dialect = AsmDialect.Conformance) =>
        Assemble(text, dialect, firstLine: 1, sourceName: null);

    /// <summary>Assembles a program that is an excerpt of a larger file, so errors name the file's lines.</summary>
    /// <param name="text">The program text.</param>
    /// <param name="dialect">The syntax of <paramref name="text"/>.</param>
    /// <param name="firstLine">The 1-based line number, in the file, of the first line of <paramref name="text"/>.</param>
    /// <param name="sourceName">The file name to put in error messages, or null.</param>
    /// <exception cref="AsmException">The text is not valid.</exception>
    public static Instruction[] Assemble(string text, AsmDialect dialect, int firstLine, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        var emitter = new AsmEmitter(sourceName);
        var lineNumber = firstLine - 1;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var tokens = AsmLexer.Tokenize(rawLine.ToString(), lineNumber, sourceName);
            var cursor = new LineCursor(tokens, lineNumber, sourceName);
            // Any number of "name:" prefixes, then at most one instruction.
            while (cursor.Peek.Kind == TokenKind.Ident && cursor.PeekAt(1).Is(":"))
            {
                emitter.DefineLabel(cursor.Next(), lineNumber);
                cursor.Next();
            }
            if (cursor.AtEnd) continue;
            if (cursor.Peek.IsIdent(".insn"))
            {
                cursor.Next();
                emitter.Emit(Instruction.FromRaw(cursor.Number(0, ulong.MaxValue, "a 64-bit slot value")));
                cursor.ExpectEnd();
                continue;
            }
            if (dialect == AsmDialect.Llvm) LlvmSyntax.ParseStatement(cursor, emitter);
            else ConformanceSyntax.ParseStatement(cursor, emitter);
        }
        return emitter.Finish();
    }

    /// <summary>Makes a slot of a form, filling the variant selectors the form fixes.</summary>
    internal static Instruction Make(InstructionForm form, int dst = 0, int src = 0, short offset = 0, int imm = 0) =>
        new(form.Opcode, (byte)dst, (byte)src, form.OffsetKey ?? offset, form.ImmKey ?? imm);
}

/// <summary>Names of the lddw pseudo sources, shared by both dialects (<c>lddw %r1, map_fd 5</c>, <c>r1 = map_fd 5 ll</c>).</summary>
internal static class PseudoNames
{
    private static readonly string[] Names = ["", "map_fd", "map_value", "btf_id", "func", "map_idx", "map_idx_value"];

    public static string Of(PseudoSource source) => Names[(int)source];

    public static bool TryParse(string name, out PseudoSource source)
    {
        var index = Array.IndexOf(Names, name);
        source = (PseudoSource)Math.Max(index, 0);
        return index > 0;
    }
}
