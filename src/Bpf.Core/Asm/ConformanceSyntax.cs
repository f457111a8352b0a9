namespace Bpf.Asm;

/// <summary>
/// Parses one statement of the conformance dialect. The mnemonic selects the forms through
/// <see cref="InstructionSet.FormsByMnemonic"/>; the operands pick between a form's immediate and register variants.
/// </summary>
internal static class ConformanceSyntax
{
    public static void ParseStatement(LineCursor c, AsmEmitter e)
    {
        var head = c.Peek;
        if (head.Kind != TokenKind.Ident) throw c.Error(head, $"expected an instruction mnemonic but found {head}");
        var mnemonic = ReadMnemonic(c);
        var forms = InstructionSet.FormsByMnemonic(mnemonic);
        if (forms.IsEmpty) throw c.Error(head, $"unknown mnemonic '{mnemonic}'");

        switch (forms[0].Shape)
        {
            case OperandShape.AluImm or OperandShape.AluReg:
            {
                var dst = Reg(c);
                c.Expect(",");
                if (AtRegister(c))
                {
                    var src = Reg(c);
                    e.Emit(Assembler.Make(Pick(c, head, forms, OperandShape.AluReg, mnemonic, "a register source"), dst, src));
                }
                else
                {
                    var form = Pick(c, head, forms, OperandShape.AluImm, mnemonic, "an immediate source");
                    e.Emit(Assembler.Make(form, dst, imm: Imm32(c)));
                }
                break;
            }
            case OperandShape.Negate or OperandShape.Endian:
                e.Emit(Assembler.Make(forms[0], Reg(c)));
                break;
            case OperandShape.Jump:
                Target(c, e, FixupField.Offset, forms[0], 0, 0, 0);
                break;
            case OperandShape.JumpLong:
                Target(c, e, FixupField.Imm, forms[0], 0, 0, 0);
                break;
            case OperandShape.MayGoto:
                Target(c, e, FixupField.Offset, forms[0], 0, 0, 0);
                break;
            case OperandShape.JumpImm or OperandShape.JumpReg:
            {
                var dst = Reg(c);
                c.Expect(",");
                if (AtRegister(c))
                {
                    var src = Reg(c);
                    c.Expect(",");
                    Target(c, e, FixupField.Offset, Pick(c, head, forms, OperandShape.JumpReg, mnemonic, "a register"), dst, src, 0);
                }
                else
                {
                    var imm = Imm32(c);
                    c.Expect(",");
                    Target(c, e, FixupField.Offset, Pick(c, head, forms, OperandShape.JumpImm, mnemonic, "an immediate"), dst, 0, imm);
                }
                break;
            }
            case OperandShape.Call:
                if (AtRegister(c))
                {
                    // "call %r2" is callx: the register goes in dst, as LLVM encodes it.
                    e.Emit(Assembler.Make(InstructionSet.FormsByMnemonic("callx")[0], Reg(c)));
                }
                else if (c.TryIdent("local"))
                {
                    Target(c, e, FixupField.Imm, forms[0], 0, (int)CallKind.Local, 0);
                }
                else if (c.TryIdent("kfunc") || c.TryIdent("runtime"))
                {
                    e.Emit(Assembler.Make(forms[0], src: (int)CallKind.Kfunc, imm: Imm32(c)));
                }
                else
                {
                    c.TryIdent("helper");
                    e.Emit(Assembler.Make(forms[0], imm: Imm32(c)));
                }
                break;
            case OperandShape.CallReg:
                e.Emit(Assembler.Make(forms[0], Reg(c)));
                break;
            case OperandShape.Exit:
                // As in the reference assembler of the suite, "exit" names the first exit instruction unless a
                // label of that name is defined (several suite files jump to "exit" without defining it).
                e.DefineImplicitLabel("exit");
                e.Emit(Assembler.Make(forms[0]));
                break;
            case OperandShape.LoadImm64:
            {
                var dst = Reg(c);
                c.Expect(",");
                if (c.Peek.Kind == TokenKind.Ident && PseudoNames.TryParse(c.Peek.Text, out var pseudo))
                {
                    c.Next();
                    LoadImm64Pseudo(c, e, dst, pseudo);
                }
                else
                {
                    var value = c.Number(long.MinValue, ulong.MaxValue, "a 64-bit immediate");
                    var (lo, hi) = Instruction.LoadImm64((Register)dst, value);
                    e.Emit(lo);
                    e.Emit(hi);
                }
                break;
            }
            case OperandShape.LoadAbs:
                e.Emit(Assembler.Make(forms[0], imm: Imm32(c)));
                break;
            case OperandShape.LoadInd:
            {
                var src = Reg(c);
                c.Expect(",");
                e.Emit(Assembler.Make(forms[0], src: src, imm: Imm32(c)));
                break;
            }
            case OperandShape.Load or OperandShape.LoadAcquire:
            {
                var dst = Reg(c);
                c.Expect(",");
                var (src, off) = MemoryOperand(c);
                e.Emit(Assembler.Make(forms[0], dst, src, off));
                break;
            }
            case OperandShape.StoreImm:
            {
                var (dst, off) = MemoryOperand(c);
                c.Expect(",");
                e.Emit(Assembler.Make(forms[0], dst, 0, off, Imm32(c)));
                break;
            }
            case OperandShape.StoreReg or OperandShape.Atomic or OperandShape.StoreRelease:
            {
                var (dst, off) = MemoryOperand(c);
                c.Expect(",");
                e.Emit(Assembler.Make(forms[0], dst, Reg(c), off));
                break;
            }
            default:
                throw c.Error(head, $"unsupported mnemonic '{mnemonic}'");
        }
        c.ExpectEnd();
    }

    /// <summary>Reads the mnemonic; "lock" and "lock fetch" prefixes join the following word, and swapN aliases bswapN.</summary>
    private static string ReadMnemonic(LineCursor c)
    {
        var first = c.Next();
        if (first.Text == "lock")
        {
            var words = "lock";
            if (c.Peek.IsIdent("fetch"))
            {
                c.Next();
                words += " fetch";
            }
            var op = c.Peek;
            if (op.Kind != TokenKind.Ident) throw c.Error(op, $"expected an atomic operation after '{words}' but found {op}");
            c.Next();
            return words + " " + op.Text;
        }
        return first.Text switch
        {
            "swap16" => "bswap16",
            "swap32" => "bswap32",
            "swap64" => "bswap64",
            _ => first.Text,
        };
    }

    private static InstructionForm Pick(LineCursor c, Token head, ReadOnlySpan<InstructionForm> forms, OperandShape shape, string mnemonic, string what)
    {
        foreach (var f in forms)
        {
            if (f.Shape == shape) return f;
        }
        throw c.Error(head, $"'{mnemonic}' does not take {what}");
    }

    private static bool AtRegister(LineCursor c) =>
        c.Peek.Kind == TokenKind.PercentName || (c.Peek.Kind == TokenKind.Ident && RegisterNumber(c.Peek.Text, 'r') >= 0);

    /// <summary>Reads <c>%rN</c> (or a bare <c>rN</c>) and returns N.</summary>
    internal static int Reg(LineCursor c)
    {
        var t = c.Peek;
        if (t.Kind is TokenKind.PercentName or TokenKind.Ident)
        {
            var n = RegisterNumber(t.Text, 'r');
            if (n >= 0)
            {
                c.Next();
                return n;
            }
            if (t.Kind == TokenKind.PercentName) throw c.Error(t, $"bad register {t}; registers are %r0..%r10");
        }
        throw c.Error(t, $"expected a register but found {t}");
    }

    /// <summary>Returns N for "rN"/"wN" (prefix given) with N in 0..10, else -1.</summary>
    internal static int RegisterNumber(string text, char prefix)
    {
        if (text.Length is < 2 or > 3 || text[0] != prefix) return -1;
        if (text.Length == 2) return char.IsAsciiDigit(text[1]) ? text[1] - '0' : -1;
        return text[1] == '1' && text[2] == '0' ? 10 : -1;
    }

    internal static int Imm32(LineCursor c) => unchecked((int)c.Number(int.MinValue, uint.MaxValue, "a 32-bit immediate"));

    private static short Offset16(LineCursor c) => (short)c.SignedNumber(short.MinValue, short.MaxValue, "a 16-bit offset");

    /// <summary>Reads <c>[%rN]</c>, <c>[%rN+off]</c> or <c>[%rN-off]</c>.</summary>
    private static (int Reg, short Offset) MemoryOperand(LineCursor c)
    {
        c.Expect("[");
        var reg = Reg(c);
        short off = 0;
        if (c.Peek.Is("+") || c.Peek.Is("-")) off = Offset16(c);
        c.Expect("]");
        return (reg, off);
    }

    /// <summary>Reads a jump/call target: <c>+N</c>, <c>-N</c>, <c>N</c> or a label, and emits the slot.</summary>
    internal static void Target(LineCursor c, AsmEmitter e, FixupField field, InstructionForm form, int dst, int src, int imm)
    {
        var t = c.Peek;
        if (t.Kind == TokenKind.Ident)
        {
            c.Next();
            e.Reference(e.Count, field, t, c.Line);
            e.Emit(Assembler.Make(form, dst, src, 0, imm));
            return;
        }
        if (!c.AtNumber) throw c.Error(t, $"expected a label or a relative offset (+N/-N) but found {t}");
        if (field == FixupField.Offset) e.Emit(Assembler.Make(form, dst, src, Offset16(c), imm));
        else e.Emit(Assembler.Make(form, dst, src, 0, (int)c.SignedNumber(int.MinValue, int.MaxValue, "a 32-bit offset")));
    }

    /// <summary>Reads the operands after a pseudo-source keyword: <c>lo[, hi]</c>, or for <c>func</c> a target.</summary>
    internal static void LoadImm64Pseudo(LineCursor c, AsmEmitter e, int dst, PseudoSource pseudo)
    {
        var form = InstructionSet.FormsOf(Opcodes.LdDw)[0];
        if (pseudo == PseudoSource.Func) Target(c, e, FixupField.Imm, form, dst, (int)pseudo, 0);
        else e.Emit(Assembler.Make(form, dst, (int)pseudo, 0, Imm32(c)));
        var hi = 0;
        if (c.TryPunct(",")) hi = Imm32(c);
        e.Emit(new Instruction(0, (byte)0, (byte)0, 0, hi));
    }
}
