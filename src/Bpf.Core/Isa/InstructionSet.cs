using System.Collections.Frozen;

namespace Bpf;

/// <summary>
/// The table of every valid instruction form of RFC 9669 plus the Linux extensions (callx, kfunc calls,
/// the lddw pseudo sources). Decoder, encoder, assembler, disassembler and interpreter all consult this
/// table; nothing else lists opcodes.
/// </summary>
public static class InstructionSet
{

    /// <summary>All forms, in opcode order.</summary>
    public static IReadOnlyList<InstructionForm> Forms => All;

    /// <summary>The forms that share an opcode byte (empty for an unknown opcode).</summary>
    public static ReadOnlySpan<InstructionForm> FormsOf(byte opcode) => ByOpcode[opcode];

    /// <summary>True when some form uses this opcode byte.</summary>
    public static bool IsKnownOpcode(byte opcode) => ByOpcode[opcode].Length != 0;

    /// <summary>The forms with a conformance-dialect mnemonic (an immediate and a register form share one);
    /// empty when the mnemonic is unknown.</summary>
    public static ReadOnlySpan<InstructionForm> FormsByMnemonic(string mnemonic) =>
        ByMnemonicTable.TryGetValue(mnemonic, out var forms) ? forms : ReadOnlySpan<InstructionForm>.Empty;

    /// <summary>
    /// Identifies the form of one slot and checks its reserved fields. Does not look at the second slot of a
    /// wide load (see <see cref="InstructionDecoder"/>).
    /// </summary>
    /// <param name="insn">The slot.</param>
    /// <param name="form">The form, when valid.</param>
    /// <param name="error">Why the slot is invalid, when it is.</param>
    /// <param name="detail">A short human-readable detail for the error.</param>
    public static bool TryClassify(in Instruction insn, out InstructionForm form, out DecodeErrorKind error, out string detail)
    {
        form = null!;
        detail = string.Empty;
        var forms = ByOpcode[insn.Opcode];
        if (forms.Length == 0)
        {
            error = DecodeErrorKind.UnknownOpcode;
            detail = $"unknown opcode 0x{insn.Opcode:x2}";
            return false;
        }

        InstructionForm? match = null;
        foreach (var candidate in forms)
        {
            if (candidate.OffsetKey is { } off && insn.Offset != off) continue;
            if (candidate.ImmKey is { } imm && insn.Imm != imm) continue;
            match = candidate;
            break;
        }

        if (match is null)
        {
            var first = forms[0];
            if (first.ImmKey is not null)
            {
                error = DecodeErrorKind.InvalidImmediate;
                detail = first.Shape is OperandShape.Atomic or OperandShape.LoadAcquire or OperandShape.StoreRelease
                    ? $"invalid atomic operation 0x{insn.Imm:x} for opcode 0x{insn.Opcode:x2}"
                    : $"invalid immediate {insn.Imm} for opcode 0x{insn.Opcode:x2}";
            }
            else
            {
                error = DecodeErrorKind.ReservedFieldNonZero;
                detail = $"invalid offset {insn.Offset} for opcode 0x{insn.Opcode:x2}";
            }
            return false;
        }

        if (!CheckFields(insn, match, out error, out detail)) return false;
        form = match;
        return true;
    }

    private static bool CheckFields(in Instruction insn, InstructionForm form, out DecodeErrorKind error, out string detail)
    {
        error = DecodeErrorKind.None;
        detail = string.Empty;
        bool dstUsed, srcUsed, offUsed, immUsed;
        switch (form.Shape)
        {
            case OperandShape.AluImm: (dstUsed, srcUsed, offUsed, immUsed) = (true, false, false, true); break;
            case OperandShape.AluReg: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, false, false); break;
            case OperandShape.Negate: (dstUsed, srcUsed, offUsed, immUsed) = (true, false, false, false); break;
            case OperandShape.Endian: (dstUsed, srcUsed, offUsed, immUsed) = (true, false, false, false); break;
            case OperandShape.Jump: (dstUsed, srcUsed, offUsed, immUsed) = (false, false, true, false); break;
            case OperandShape.JumpLong: (dstUsed, srcUsed, offUsed, immUsed) = (false, false, false, true); break;
            case OperandShape.JumpImm: (dstUsed, srcUsed, offUsed, immUsed) = (true, false, true, true); break;
            case OperandShape.JumpReg: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.Call:
                (dstUsed, srcUsed, offUsed, immUsed) = (false, true, false, true);
                if (insn.SrcRaw > (byte)CallKind.Kfunc)
                {
                    error = DecodeErrorKind.ReservedFieldNonZero;
                    detail = $"call with unknown source kind {insn.SrcRaw}";
                    return false;
                }
                break;
            case OperandShape.CallReg:
                // LLVM puts the register in dst; older uBPF-style assemblers put it in imm. Accept both.
                (dstUsed, srcUsed, offUsed, immUsed) = (true, false, false, insn.DstRaw == 0);
                if (insn.DstRaw == 0 && (uint)insn.Imm > 10)
                {
                    error = DecodeErrorKind.InvalidRegister;
                    detail = $"callx register {insn.Imm} is invalid";
                    return false;
                }
                break;
            case OperandShape.Exit: (dstUsed, srcUsed, offUsed, immUsed) = (false, false, false, false); break;
            case OperandShape.LoadImm64:
                (dstUsed, srcUsed, offUsed, immUsed) = (true, true, false, true);
                if (insn.SrcRaw > (byte)PseudoSource.MapIndexValue)
                {
                    error = DecodeErrorKind.ReservedFieldNonZero;
                    detail = $"lddw with unknown pseudo source {insn.SrcRaw}";
                    return false;
                }
                break;
            case OperandShape.LoadAbs: (dstUsed, srcUsed, offUsed, immUsed) = (false, false, false, true); break;
            case OperandShape.LoadInd: (dstUsed, srcUsed, offUsed, immUsed) = (false, true, false, true); break;
            case OperandShape.Load: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.StoreImm: (dstUsed, srcUsed, offUsed, immUsed) = (true, false, true, true); break;
            case OperandShape.StoreReg: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.Atomic: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.LoadAcquire: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.StoreRelease: (dstUsed, srcUsed, offUsed, immUsed) = (true, true, true, false); break;
            case OperandShape.MayGoto: (dstUsed, srcUsed, offUsed, immUsed) = (false, false, true, false); break;
            default: throw new InvalidOperationException($"unhandled shape {form.Shape}");
        }

        // Variant selectors live in offset/imm; those fields are then not "reserved".
        if (form.OffsetKey is not null) offUsed = true;
        if (form.ImmKey is not null) immUsed = true;

        if (!dstUsed && insn.DstRaw != 0) return Reserved(insn, "dst", out error, out detail);
        if (!srcUsed && insn.SrcRaw != 0) return Reserved(insn, "src", out error, out detail);
        if (!offUsed && insn.Offset != 0) return Reserved(insn, "offset", out error, out detail);
        if (!immUsed && insn.Imm != 0) return Reserved(insn, "imm", out error, out detail);

        if (dstUsed && insn.DstRaw > 10)
        {
            error = DecodeErrorKind.InvalidRegister;
            detail = $"R{insn.DstRaw} is invalid";
            return false;
        }
        if (srcUsed && form.Shape is not (OperandShape.Call or OperandShape.LoadImm64) && insn.SrcRaw > 10)
        {
            error = DecodeErrorKind.InvalidRegister;
            detail = $"R{insn.SrcRaw} is invalid";
            return false;
        }
        return true;
    }

    private static bool Reserved(in Instruction insn, string field, out DecodeErrorKind error, out string detail)
    {
        error = DecodeErrorKind.ReservedFieldNonZero;
        detail = $"opcode 0x{insn.Opcode:x2} uses reserved field '{field}'";
        return false;
    }

    // ---- the table ------------------------------------------------------------------------------

    private static readonly (AluOp Op, string Name, string Llvm)[] AluOps =
    [
        (AluOp.Add, "add", "+="), (AluOp.Sub, "sub", "-="), (AluOp.Mul, "mul", "*="), (AluOp.Div, "div", "/="),
        (AluOp.Or, "or", "|="), (AluOp.And, "and", "&="), (AluOp.Lsh, "lsh", "<<="), (AluOp.Rsh, "rsh", ">>="),
        (AluOp.Mod, "mod", "%="), (AluOp.Xor, "xor", "^="), (AluOp.Mov, "mov", "="), (AluOp.Arsh, "arsh", "s>>="),
    ];

    private static readonly (JumpOp Op, string Name, string Llvm)[] CondJumps =
    [
        (JumpOp.Jeq, "jeq", "=="), (JumpOp.Jgt, "jgt", ">"), (JumpOp.Jge, "jge", ">="), (JumpOp.Jset, "jset", "&"),
        (JumpOp.Jne, "jne", "!="), (JumpOp.Jsgt, "jsgt", "s>"), (JumpOp.Jsge, "jsge", "s>="), (JumpOp.Jlt, "jlt", "<"),
        (JumpOp.Jle, "jle", "<="), (JumpOp.Jslt, "jslt", "s<"), (JumpOp.Jsle, "jsle", "s<="),
    ];

    private static readonly (MemSize Size, string Suffix, string CType)[] Sizes =
    [
        (MemSize.B, "b", "u8"), (MemSize.H, "h", "u16"), (MemSize.W, "w", "u32"), (MemSize.DW, "dw", "u64"),
    ];

    private static readonly (AtomicOp Op, string Name, string Llvm)[] AtomicOps =
    [
        (AtomicOp.Add, "add", "+="), (AtomicOp.Or, "or", "|="), (AtomicOp.And, "and", "&="), (AtomicOp.Xor, "xor", "^="),
        (AtomicOp.FetchAdd, "fetch add", "atomic_fetch_add"), (AtomicOp.FetchOr, "fetch or", "atomic_fetch_or"),
        (AtomicOp.FetchAnd, "fetch and", "atomic_fetch_and"), (AtomicOp.FetchXor, "fetch xor", "atomic_fetch_xor"),
        (AtomicOp.Xchg, "xchg", "xchg"), (AtomicOp.CmpXchg, "cmpxchg", "cmpxchg"),
    ];

    /// <summary>The C type name the LLVM dialect uses for an access size (<c>u8</c>..<c>u64</c>).</summary>
    public static string CTypeOf(MemSize size) => Array.Find(Sizes, s => s.Size == size).CType;

    // Declared after the name tables above: static initializers run in textual order.
    private static readonly InstructionForm[] All = BuildForms();
    private static readonly InstructionForm[][] ByOpcode = IndexByOpcode(All);
    private static readonly FrozenDictionary<string, InstructionForm[]> ByMnemonicTable =
        All.GroupBy(f => f.Mnemonic, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    private static InstructionForm[] BuildForms()
    {
        var list = new List<InstructionForm>();

        foreach (var cls in new[] { OpClass.Alu64, OpClass.Alu })
        {
            var suffix = cls == OpClass.Alu ? "32" : "";
            foreach (var (op, name, llvm) in AluOps)
            {
                var k = Opcodes.Alu(cls, op, Source.Imm);
                var x = Opcodes.Alu(cls, op, Source.Reg);
                if (op == AluOp.Mov)
                {
                    list.Add(new(k, OperandShape.AluImm, name + suffix, llvm, offsetKey: 0));
                    list.Add(new(x, OperandShape.AluReg, name + suffix, llvm, offsetKey: 0));
                    foreach (short bits in cls == OpClass.Alu ? new short[] { 8, 16 } : new short[] { 8, 16, 32 })
                    {
                        list.Add(new(x, OperandShape.AluReg, $"movsx{bits}{(cls == OpClass.Alu ? 32 : 64)}", $"= (s{bits})", offsetKey: bits));
                    }
                }
                else if (op is AluOp.Div or AluOp.Mod)
                {
                    list.Add(new(k, OperandShape.AluImm, name + suffix, llvm, offsetKey: 0));
                    list.Add(new(x, OperandShape.AluReg, name + suffix, llvm, offsetKey: 0));
                    list.Add(new(k, OperandShape.AluImm, "s" + name + suffix, "s" + llvm, offsetKey: 1));
                    list.Add(new(x, OperandShape.AluReg, "s" + name + suffix, "s" + llvm, offsetKey: 1));
                }
                else
                {
                    list.Add(new(k, OperandShape.AluImm, name + suffix, llvm));
                    list.Add(new(x, OperandShape.AluReg, name + suffix, llvm));
                }
            }
            list.Add(new(Opcodes.Alu(cls, AluOp.Neg, Source.Imm), OperandShape.Negate, "neg" + suffix, "= -"));
        }

        foreach (var bits in new[] { 16, 32, 64 })
        {
            list.Add(new(Opcodes.Alu(OpClass.Alu, AluOp.End, Source.Imm), OperandShape.Endian, $"le{bits}", $"le{bits}", immKey: bits));
            list.Add(new(Opcodes.Alu(OpClass.Alu, AluOp.End, Source.Reg), OperandShape.Endian, $"be{bits}", $"be{bits}", immKey: bits));
            list.Add(new(Opcodes.Alu(OpClass.Alu64, AluOp.End, Source.Imm), OperandShape.Endian, $"bswap{bits}", $"bswap{bits}", immKey: bits));
        }

        list.Add(new(Opcodes.Ja, OperandShape.Jump, "ja", "goto"));
        list.Add(new(Opcodes.Ja32, OperandShape.JumpLong, "ja32", "gotol"));
        list.Add(new(Opcodes.MayGoto, OperandShape.MayGoto, "may_goto", "may_goto"));
        foreach (var cls in new[] { OpClass.Jmp, OpClass.Jmp32 })
        {
            var suffix = cls == OpClass.Jmp32 ? "32" : "";
            foreach (var (op, name, llvm) in CondJumps)
            {
                list.Add(new(Opcodes.Jump(cls, op, Source.Imm), OperandShape.JumpImm, name + suffix, llvm));
                list.Add(new(Opcodes.Jump(cls, op, Source.Reg), OperandShape.JumpReg, name + suffix, llvm));
            }
        }
        list.Add(new(Opcodes.Call, OperandShape.Call, "call", "call"));
        list.Add(new(Opcodes.CallX, OperandShape.CallReg, "callx", "callx"));
        list.Add(new(Opcodes.Exit, OperandShape.Exit, "exit", "exit"));

        list.Add(new(Opcodes.LdDw, OperandShape.LoadImm64, "lddw", "ll"));
        foreach (var (size, sfx, ctype) in Sizes)
        {
            if (size != MemSize.DW)
            {
                list.Add(new(Opcodes.Memory(OpClass.Ld, MemMode.Abs, size), OperandShape.LoadAbs, "ldabs" + sfx, ctype));
                list.Add(new(Opcodes.Memory(OpClass.Ld, MemMode.Ind, size), OperandShape.LoadInd, "ldind" + sfx, ctype));
                list.Add(new(Opcodes.Memory(OpClass.Ldx, MemMode.MemSx, size), OperandShape.Load, "ldxs" + sfx, ctype.Replace('u', 's')));
            }
            list.Add(new(Opcodes.Memory(OpClass.Ldx, MemMode.Mem, size), OperandShape.Load, "ldx" + sfx, ctype));
            list.Add(new(Opcodes.Memory(OpClass.St, MemMode.Mem, size), OperandShape.StoreImm, "st" + sfx, ctype));
            list.Add(new(Opcodes.Memory(OpClass.Stx, MemMode.Mem, size), OperandShape.StoreReg, "stx" + sfx, ctype));
        }
        foreach (var size in new[] { MemSize.DW, MemSize.W })
        {
            var suffix = size == MemSize.W ? "32" : "";
            foreach (var (op, name, llvm) in AtomicOps)
            {
                list.Add(new(Opcodes.Memory(OpClass.Stx, MemMode.Atomic, size), OperandShape.Atomic, $"lock {name}{suffix}", llvm, immKey: (int)op));
            }
        }

        foreach (var (size, sfx, ctype) in Sizes)
        {
            var code = Opcodes.Memory(OpClass.Stx, MemMode.Atomic, size);
            list.Add(new(code, OperandShape.LoadAcquire, "ldacq" + sfx, ctype, immKey: (int)AtomicOp.LoadAcquire));
            list.Add(new(code, OperandShape.StoreRelease, "strel" + sfx, ctype, immKey: (int)AtomicOp.StoreRelease));
        }

        return list.OrderBy(f => f.Opcode).ToArray();
    }

    private static InstructionForm[][] IndexByOpcode(InstructionForm[] all)
    {
        var table = new InstructionForm[256][];
        for (var i = 0; i < 256; i++)
        {
            table[i] = all.Where(f => f.Opcode == i).ToArray();
        }
        return table;
    }
}
