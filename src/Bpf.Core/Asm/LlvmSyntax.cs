using System.Collections.Frozen;

namespace Bpf.Asm;

/// <summary>
/// Parses one statement of the LLVM/kernel dialect: the text <c>llvm-objdump -d</c> prints (<c>w0 = 1</c>,
/// <c>r0 += r1</c>, <c>if r1 &gt; 5 goto +2</c>, <c>r0 = *(u32 *)(r1 + 4)</c>,
/// <c>r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)</c>, <c>r1 = 1 ll</c>) plus the forms LLVM 14 cannot print
/// (<c>r0 = (s8)r1</c>, <c>r0 s/= r1</c>, <c>r1 = bswap64 r1</c>, <c>gotol +N</c>, <c>callx r2</c>,
/// <c>call pc+N</c> for a local call, <c>call kfunc N</c>, <c>r1 = map_fd 5 ll</c> for a pseudo lddw).
/// Operators are looked up by <see cref="InstructionForm.LlvmOperator"/>.
/// </summary>
internal static class LlvmSyntax
{
    private static readonly FrozenDictionary<(OperandShape, string, bool), InstructionForm> ByOperator = BuildIndex();

    private static FrozenDictionary<(OperandShape, string, bool), InstructionForm> BuildIndex()
    {
        var index = new Dictionary<(OperandShape, string, bool), InstructionForm>();
        foreach (var form in InstructionSet.Forms)
        {
            // Endian forms are found by operator alone (be16 is an ALU form yet prints with r registers).
            var key = (form.Shape, form.LlvmOperator, form.Shape != OperandShape.Endian && form.Is32Bit);
            if (!index.TryAdd(key, form))
            {
                throw new InvalidOperationException($"two forms share the LLVM spelling {key}: {index[key]} and {form}");
            }
        }
        return index.ToFrozenDictionary();
    }

    private static InstructionForm? Find(OperandShape shape, string op, bool is32) =>
        ByOperator.TryGetValue((shape, op, is32), out var form) ? form : null;

    public static void ParseStatement(LineCursor c, AsmEmitter e)
    {
        var head = c.Peek;
        if (head.Is("*"))
        {
            Store(c, e);
        }
        else if (head.Kind != TokenKind.Ident)
        {
            throw c.Error(head, $"expected an instruction but found {head}");
        }
        else if (TryReg(head, out _, out _))
        {
            Assignment(c, e);
        }
        else
        {
            c.Next();
            switch (head.Text)
            {
                case "if": Conditional(c, e); break;
                case "goto": ConformanceSyntax.Target(c, e, FixupField.Offset, InstructionSet.FormsOf(Opcodes.Ja)[0], 0, 0, 0); break;
                case "gotol": ConformanceSyntax.Target(c, e, FixupField.Imm, InstructionSet.FormsOf(Opcodes.Ja32)[0], 0, 0, 0); break;
                case "call": Call(c, e); break;
                case "callx": e.Emit(Assembler.Make(InstructionSet.FormsOf(Opcodes.CallX)[0], Reg(c, out _))); break;
                case "exit": e.Emit(Assembler.Make(InstructionSet.FormsOf(Opcodes.Exit)[0])); break;
                case "lock": LockedUpdate(c, e, head); break;
                case "may_goto": ConformanceSyntax.Target(c, e, FixupField.Offset, InstructionSet.FormsOf(Opcodes.MayGoto)[0], 0, 0, 0); break;
                case "store_release": StoreRelease(c, e); break;
                case "ld_pseudo": LdPseudo(c, e); break;
                default:
                    if (LooksLikeRegister(head)) throw c.Error(head, $"bad register {head}; registers are r0..r10 (w0..w10 for 32 bits)");
                    throw c.Error(head, $"unknown instruction '{head.Text}'");
            }
        }
        c.ExpectEnd();
    }

    // ---- registers ------------------------------------------------------------------------------

    /// <summary>True when the token is r0..r10 or w0..w10.</summary>
    private static bool TryReg(Token t, out int reg, out bool w)
    {
        reg = -1;
        w = false;
        if (t.Kind != TokenKind.Ident || t.Text.Length < 2) return false;
        w = t.Text[0] == 'w';
        reg = ConformanceSyntax.RegisterNumber(t.Text, w ? 'w' : 'r');
        return reg >= 0;
    }

    private static bool LooksLikeRegister(Token t) =>
        t.Kind == TokenKind.Ident && t.Text.Length >= 2 && t.Text[0] is 'r' or 'w' && t.Text.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0;

    private static int Reg(LineCursor c, out bool w)
    {
        var t = c.Peek;
        if (TryReg(t, out var reg, out w))
        {
            c.Next();
            return reg;
        }
        if (LooksLikeRegister(t)) throw c.Error(t, $"bad register {t}; registers are r0..r10 (w0..w10 for 32 bits)");
        throw c.Error(t, $"expected a register but found {t}");
    }

    /// <summary>Reads a register that must have the given width prefix.</summary>
    private static int Reg(LineCursor c, bool w, string why)
    {
        var t = c.Peek;
        var reg = Reg(c, out var actual);
        if (actual != w) throw c.Error(t, $"expected a {(w ? "w" : "r")} register {why} but found {t}");
        return reg;
    }

    /// <summary>Reads a register that must be exactly <paramref name="expected"/> (the repeated operand of
    /// <c>r1 = be16 r1</c> or <c>r1 = atomic_fetch_add(..., r1)</c>).</summary>
    private static void SameReg(LineCursor c, int expected, string why)
    {
        var t = c.Peek;
        var reg = Reg(c, out _);
        if (reg != expected) throw c.Error(t, $"expected r{expected} {why} but found {t}");
    }

    // ---- statements -----------------------------------------------------------------------------

    /// <summary>Everything that starts with a register: <c>rD = ...</c> and <c>rD op= ...</c>.</summary>
    private static void Assignment(LineCursor c, AsmEmitter e)
    {
        var dstToken = c.Peek;
        var dst = Reg(c, out var w);
        var opToken = c.Next();
        if (opToken.Kind != TokenKind.Punct || !opToken.Text.EndsWith('=') || opToken.Text is "==" or "!=" or "<=" or ">=" or "s<=" or "s>=")
        {
            throw c.Error(opToken, $"expected '=' or a compound assignment after {dstToken} but found {opToken}");
        }
        if (opToken.Text != "=")
        {
            AluOperation(c, e, opToken, opToken.Text, dst, w);
            return;
        }

        var t = c.Peek;
        if (t.Is("-") && TryReg(c.PeekAt(1), out _, out _))
        {
            c.Next();
            var form = Find(OperandShape.Negate, "= -", w)!;
            SameReg(c, dst, "(neg operates in place)");
            e.Emit(Assembler.Make(form, dst));
            return;
        }
        if (t.Is("(") && c.PeekAt(1).Kind == TokenKind.Ident && c.PeekAt(2).Is(")"))
        {
            // movsx: r0 = (s8)r1
            c.Next();
            var cast = c.Next();
            c.Expect(")");
            var form = Find(OperandShape.AluReg, $"= ({cast.Text})", w) ?? throw c.Error(cast, $"no sign-extending move from ({cast.Text}) into a {(w ? "w" : "r")} register");
            e.Emit(Assembler.Make(form, dst, Reg(c, w, "as the source of a move")));
            return;
        }
        if (t.Is("*"))
        {
            Load(c, e, dst, dstToken);
            return;
        }
        if (t.Kind == TokenKind.Ident && !TryReg(t, out _, out _))
        {
            NamedRightHandSide(c, e, dst, w, dstToken);
            return;
        }
        if (TryReg(t, out _, out _))
        {
            var form = Find(OperandShape.AluReg, "=", w)!;
            e.Emit(Assembler.Make(form, dst, Reg(c, w, "as the source of a move")));
            return;
        }

        // A number: "r0 = 5" or the wide "r0 = 5 ll".
        if (c.PeekAt(c.Peek.Kind == TokenKind.Number ? 1 : 2).IsIdent("ll"))
        {
            if (w) throw c.Error(dstToken, "a 64-bit immediate load needs an r register");
            var value = c.Number(long.MinValue, ulong.MaxValue, "a 64-bit immediate");
            c.ExpectIdent("ll");
            var (lo, hi) = Instruction.LoadImm64((Register)dst, value);
            e.Emit(lo);
            e.Emit(hi);
            return;
        }
        e.Emit(Assembler.Make(Find(OperandShape.AluImm, "=", w)!, dst, imm: ConformanceSyntax.Imm32(c)));
    }

    private static void AluOperation(LineCursor c, AsmEmitter e, Token opToken, string op, int dst, bool w)
    {
        if (TryReg(c.Peek, out _, out _))
        {
            var form = Find(OperandShape.AluReg, op, w) ?? throw c.Error(opToken, $"unknown operator '{op}'");
            e.Emit(Assembler.Make(form, dst, Reg(c, w, "as the source")));
        }
        else
        {
            var form = Find(OperandShape.AluImm, op, w) ?? throw c.Error(opToken, $"unknown operator '{op}'");
            e.Emit(Assembler.Make(form, dst, imm: ConformanceSyntax.Imm32(c)));
        }
    }

    /// <summary><c>rD = be16 rD</c>, <c>rD = atomic_fetch_add(...)</c>, <c>rD = xchg_64(...)</c>,
    /// <c>rD = cmpxchg_64(...)</c>, <c>rD = map_fd 5 ll</c>.</summary>
    private static void NamedRightHandSide(LineCursor c, AsmEmitter e, int dst, bool w, Token dstToken)
    {
        var name = c.Next();
        var endian = Find(OperandShape.Endian, name.Text, false) ?? Find(OperandShape.Endian, name.Text, true);
        if (endian is not null)
        {
            SameReg(c, dst, "(byte swaps operate in place)");
            e.Emit(Assembler.Make(endian, dst));
            return;
        }
        if (PseudoNames.TryParse(name.Text, out var pseudo))
        {
            if (w) throw c.Error(dstToken, "a 64-bit immediate load needs an r register");
            ConformanceSyntax.LoadImm64Pseudo(c, e, dst, pseudo);
            c.ExpectIdent("ll");
            return;
        }
        if (name.Text == "load_acquire")
        {
            // w0 = load_acquire((u8 *)(r1 + 0)): w registers for 8 to 32 bits, r for 64.
            c.Expect("(");
            var (type, baseReg, off) = TypedAddress(c);
            c.Expect(")");
            var form = Find(OperandShape.LoadAcquire, type.Text, w)
                ?? throw c.Error(type, $"no load_acquire of type {type} into a{(w ? " w" : "n r")} register");
            e.Emit(Assembler.Make(form, dst, baseReg, off));
            return;
        }
        if (name.Text.StartsWith("atomic_fetch_", StringComparison.Ordinal))
        {
            // r1 = atomic_fetch_add((u64 *)(r10 - 8), r1): the old value lands in the source register.
            c.Expect("(");
            c.Expect("(");
            var is32 = AtomicType(c);
            c.Expect("*");
            c.Expect(")");
            c.Expect("(");
            var (baseReg, off) = Address(c);
            c.Expect(")");
            c.Expect(",");
            SameReg(c, dst, "(the fetched value returns in the source register)");
            c.Expect(")");
            var form = Find(OperandShape.Atomic, name.Text, is32) ?? throw c.Error(name, $"unknown atomic operation '{name.Text}'");
            e.Emit(Assembler.Make(form, baseReg, dst, off));
            return;
        }
        if (TrySplitAtomicCall(name.Text, out var op, out var is32Call))
        {
            var form = Find(OperandShape.Atomic, op, is32Call)!;
            c.Expect("(");
            var (baseReg, off) = Address(c);
            c.Expect(",");
            if (op == "cmpxchg")
            {
                // r0 = cmpxchg_64(r10 - 8, r0, r1): r0 holds the expected value and receives the old one.
                if (dst != 0) throw c.Error(dstToken, "cmpxchg returns its result in r0");
                SameReg(c, 0, "(cmpxchg compares with r0)");
                c.Expect(",");
                var src = Reg(c, out _);
                c.Expect(")");
                e.Emit(Assembler.Make(form, baseReg, src, off));
            }
            else
            {
                SameReg(c, dst, "(xchg returns the old value in the source register)");
                c.Expect(")");
                e.Emit(Assembler.Make(form, baseReg, dst, off));
            }
            return;
        }
        throw c.Error(name, $"unknown operand '{name.Text}'");
    }

    /// <summary>xchg_64, xchg32_32, cmpxchg_64, cmpxchg32_32.</summary>
    private static bool TrySplitAtomicCall(string name, out string op, out bool is32)
    {
        foreach (var baseName in (ReadOnlySpan<string>)["xchg", "cmpxchg"])
        {
            if (name == Disassembler.AtomicCallName(baseName, false)) { op = baseName; is32 = false; return true; }
            if (name == Disassembler.AtomicCallName(baseName, true)) { op = baseName; is32 = true; return true; }
        }
        op = string.Empty;
        is32 = false;
        return false;
    }

    private static bool AtomicType(LineCursor c)
    {
        var t = c.Next();
        if (t.IsIdent("u64")) return false;
        if (t.IsIdent("u32")) return true;
        throw c.Error(t, $"atomic operations take u32 or u64, not {t}");
    }

    /// <summary>Reads <c>r10 - 8</c>, <c>r1 + 4</c> or <c>r1</c> (inside the parentheses).</summary>
    private static (int Reg, short Offset) Address(LineCursor c)
    {
        var reg = Reg(c, false, "as a base address");
        short off = 0;
        if (c.Peek.Is("+") || c.Peek.Is("-")) off = (short)c.SignedNumber(short.MinValue, short.MaxValue, "a 16-bit offset");
        return (reg, off);
    }

    /// <summary>Reads <c>*(u32 *)(r1 + 4)</c>; returns the type name token, base register and offset.</summary>
    private static (Token Type, int Reg, short Offset) Dereference(LineCursor c)
    {
        c.Expect("*");
        return TypedAddress(c);
    }

    /// <summary><c>rD = *(u32 *)(rS + off)</c>, <c>r0 = *(u8 *)skb[5]</c>, <c>r0 = *(u8 *)skb[r1 + 5]</c>.</summary>
    private static void Load(LineCursor c, AsmEmitter e, int dst, Token dstToken)
    {
        if (c.PeekAt(5).IsIdent("skb"))
        {
            c.Expect("*");
            c.Expect("(");
            var ctype = c.Next();
            c.Expect("*");
            c.Expect(")");
            c.ExpectIdent("skb");
            c.Expect("[");
            if (dst != 0) throw c.Error(dstToken, "legacy packet loads always load into r0");
            if (TryReg(c.Peek, out _, out _))
            {
                var src = Reg(c, false, "as the packet offset");
                var imm = 0;
                if (c.Peek.Is("+") || c.Peek.Is("-")) imm = ConformanceSyntax.Imm32(c);
                c.Expect("]");
                var ind = Find(OperandShape.LoadInd, ctype.Text, false) ?? throw c.Error(ctype, $"no packet load of type {ctype}");
                e.Emit(Assembler.Make(ind, src: src, imm: imm));
            }
            else
            {
                var imm = ConformanceSyntax.Imm32(c);
                c.Expect("]");
                var abs = Find(OperandShape.LoadAbs, ctype.Text, false) ?? throw c.Error(ctype, $"no packet load of type {ctype}");
                e.Emit(Assembler.Make(abs, imm: imm));
            }
            return;
        }
        var (type, reg, off) = Dereference(c);
        var form = Find(OperandShape.Load, type.Text, false) ?? throw c.Error(type, $"no load of type {type}");
        e.Emit(Assembler.Make(form, dst, reg, off));
    }

    /// <summary><c>*(u32 *)(r10 - 4) = r1</c> or <c>*(u64 *)(r10 - 8) = 7</c>.</summary>
    private static void Store(LineCursor c, AsmEmitter e)
    {
        var (type, reg, off) = Dereference(c);
        c.Expect("=");
        if (TryReg(c.Peek, out _, out _))
        {
            var form = Find(OperandShape.StoreReg, type.Text, false) ?? throw c.Error(type, $"no store of type {type}");
            e.Emit(Assembler.Make(form, reg, Reg(c, out _), off));
        }
        else
        {
            var form = Find(OperandShape.StoreImm, type.Text, false) ?? throw c.Error(type, $"no store of type {type}");
            e.Emit(Assembler.Make(form, reg, 0, off, ConformanceSyntax.Imm32(c)));
        }
    }

    /// <summary>Reads <c>(u8 *)(r1 + 0)</c>: the type token, base register and offset.</summary>
    private static (Token Type, int Reg, short Offset) TypedAddress(LineCursor c)
    {
        c.Expect("(");
        var type = c.Next();
        if (type.Kind != TokenKind.Ident) throw c.Error(type, $"expected a type such as u32 but found {type}");
        c.Expect("*");
        c.Expect(")");
        c.Expect("(");
        var (reg, off) = Address(c);
        c.Expect(")");
        return (type, reg, off);
    }

    /// <summary><c>store_release((u8 *)(r1 + 0), w2)</c>: w registers for 8 to 32 bits, r for 64.</summary>
    private static void StoreRelease(LineCursor c, AsmEmitter e)
    {
        c.Expect("(");
        var (type, baseReg, off) = TypedAddress(c);
        c.Expect(",");
        var valueToken = c.Peek;
        var src = Reg(c, out var w);
        c.Expect(")");
        var form = Find(OperandShape.StoreRelease, type.Text, w)
            ?? throw c.Error(valueToken, $"no store_release of type {type} from a{(w ? " w" : "n r")} register");
        e.Emit(Assembler.Make(form, baseReg, src, off));
    }

    /// <summary><c>lock *(u64 *)(r10 - 8) += r1</c>.</summary>
    private static void LockedUpdate(LineCursor c, AsmEmitter e, Token head)
    {
        var (type, reg, off) = Dereference(c);
        var is32 = type.IsIdent("u32");
        if (!is32 && !type.IsIdent("u64")) throw c.Error(type, $"atomic operations take u32 or u64, not {type}");
        var opToken = c.Next();
        var form = opToken.Kind == TokenKind.Punct ? Find(OperandShape.Atomic, opToken.Text, is32) : null;
        if (form is null) throw c.Error(opToken, $"expected +=, |=, &= or ^= after '{head.Text} *(...)' but found {opToken}");
        e.Emit(Assembler.Make(form, reg, Reg(c, out _), off));
    }

    /// <summary><c>if rD op (rS|imm) goto target</c>.</summary>
    private static void Conditional(LineCursor c, AsmEmitter e)
    {
        var dst = Reg(c, out var w);
        var opToken = c.Next();
        if (opToken.Kind != TokenKind.Punct) throw c.Error(opToken, $"expected a comparison operator but found {opToken}");
        InstructionForm form;
        int src = 0, imm = 0;
        if (TryReg(c.Peek, out _, out _))
        {
            form = Find(OperandShape.JumpReg, opToken.Text, w) ?? throw c.Error(opToken, $"unknown comparison '{opToken.Text}'");
            src = Reg(c, w, "in a comparison with " + (w ? "a w register" : "an r register"));
        }
        else
        {
            form = Find(OperandShape.JumpImm, opToken.Text, w) ?? throw c.Error(opToken, $"unknown comparison '{opToken.Text}'");
            imm = ConformanceSyntax.Imm32(c);
        }
        c.ExpectIdent("goto");
        ConformanceSyntax.Target(c, e, FixupField.Offset, form, dst, src, imm);
    }

    /// <summary><c>call 5</c> (helper), <c>call pc+3</c> or <c>call label</c> (local), <c>call kfunc 7</c>.</summary>
    private static void Call(LineCursor c, AsmEmitter e)
    {
        var form = InstructionSet.FormsOf(Opcodes.Call)[0];
        if (c.TryIdent("pc"))
        {
            if (!c.Peek.Is("+") && !c.Peek.Is("-")) throw c.Error(c.Peek, $"expected pc+N or pc-N but found {c.Peek}");
            ConformanceSyntax.Target(c, e, FixupField.Imm, form, 0, (int)CallKind.Local, 0);
        }
        else if (c.TryIdent("kfunc"))
        {
            e.Emit(Assembler.Make(form, src: (int)CallKind.Kfunc, imm: ConformanceSyntax.Imm32(c)));
        }
        else if (c.Peek.Kind == TokenKind.Ident)
        {
            ConformanceSyntax.Target(c, e, FixupField.Imm, form, 0, (int)CallKind.Local, 0);
        }
        else
        {
            e.Emit(Assembler.Make(form, imm: ConformanceSyntax.Imm32(c)));
        }
    }

    /// <summary>LLVM's own spelling of a pseudo lddw: <c>ld_pseudo r1, 1, 5</c> (source kind, imm; the high word is 0).</summary>
    private static void LdPseudo(LineCursor c, AsmEmitter e)
    {
        var dst = Reg(c, false, "as the destination");
        c.Expect(",");
        var kind = (int)c.SignedNumber(1, (int)PseudoSource.MapIndexValue, "a pseudo source kind (1-6)");
        c.Expect(",");
        e.Emit(Assembler.Make(InstructionSet.FormsOf(Opcodes.LdDw)[0], dst, kind, 0, ConformanceSyntax.Imm32(c)));
        e.Emit(new Instruction(0, (byte)0, (byte)0, 0, 0));
    }
}
