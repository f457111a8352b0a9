using System.Globalization;
using System.Text;

namespace Bpf.Asm;

/// <summary>
/// Prints instruction slots as assembly text that <see cref="Assembler"/> reads back to the identical slots.
/// Jump and call offsets print relative (<c>+N</c>/<c>-N</c>); a <c>lddw</c> prints as one line. A slot that is
/// not a valid instruction prints as <c>.insn 0x&lt;64-bit word&gt; # invalid: reason</c>, which reassembles to
/// the same slot.
/// </summary>
public static class Disassembler
{
    /// <summary>Disassembles a program, one logical instruction per line (each line ends with a newline).</summary>
    /// <param name="slots">The slots.</param>
    /// <param name="dialect">The syntax to print.</param>
    public static string Disassemble(ReadOnlySpan<Instruction> slots, AsmDialect dialect = AsmDialect.Conformance)
    {
        var sb = new StringBuilder(slots.Length * 24);
        for (var i = 0; i < slots.Length; i += Width(slots, i))
        {
            Append(sb, slots, i, dialect);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Formats the logical instruction that starts at <paramref name="index"/> (both slots of a valid lddw).
    /// Pointing at the second slot of a lddw formats that slot on its own (as an invalid <c>.insn</c>).
    /// </summary>
    /// <param name="slots">The program.</param>
    /// <param name="index">The slot index.</param>
    /// <param name="dialect">The syntax to print.</param>
    public static string Format(ReadOnlySpan<Instruction> slots, int index, AsmDialect dialect)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, slots.Length);
        var sb = new StringBuilder(32);
        Append(sb, slots, index, dialect);
        return sb.ToString();
    }

    /// <summary>The number of slots (1 or 2) the instruction at <paramref name="index"/> prints as.</summary>
    /// <param name="slots">The program.</param>
    /// <param name="index">The slot index.</param>
    public static int Width(ReadOnlySpan<Instruction> slots, int index) =>
        IsValidWide(slots, index, out _) ? 2 : 1;

    private static bool IsValidWide(ReadOnlySpan<Instruction> slots, int index, out string problem)
    {
        problem = string.Empty;
        if (!slots[index].IsWide) return false;
        if (index + 1 >= slots.Length)
        {
            problem = "lddw is missing its second slot";
            return false;
        }
        var next = slots[index + 1];
        if (next.Opcode != 0 || next.DstRaw != 0 || next.SrcRaw != 0 || next.Offset != 0)
        {
            problem = "the slot after lddw must have zero opcode, registers and offset";
            return false;
        }
        return true;
    }

    private static void Append(StringBuilder sb, ReadOnlySpan<Instruction> slots, int index, AsmDialect dialect)
    {
        var insn = slots[index];
        if (!InstructionSet.TryClassify(insn, out var form, out _, out var detail))
        {
            AppendRaw(sb, insn, "invalid: " + detail);
            return;
        }
        var hi = 0;
        if (form.Shape == OperandShape.LoadImm64)
        {
            if (!IsValidWide(slots, index, out var problem))
            {
                AppendRaw(sb, insn, "invalid: " + problem);
                return;
            }
            hi = slots[index + 1].Imm;
        }
        if (form.Shape == OperandShape.CallReg && insn.DstRaw == 0 && insn.Imm != 0)
        {
            // The legacy encoding with the register in imm is valid but has no text of its own: the text
            // "callx rN" means the register-in-dst encoding LLVM and the kernel use.
            AppendRaw(sb, insn, $"callx r{insn.Imm} (register in imm)");
            return;
        }
        if (dialect == AsmDialect.Llvm) LlvmFormat(sb, form, insn, hi);
        else ConformanceFormat(sb, form, insn, hi);
    }

    private static void AppendRaw(StringBuilder sb, Instruction insn, string comment) =>
        sb.Append(".insn 0x").Append(insn.ToRaw().ToString("x16", CultureInfo.InvariantCulture)).Append(" # ").Append(comment);

    private static StringBuilder Num(this StringBuilder sb, long value) => sb.Append(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Appends a relative offset with an explicit sign: +0, +3, -2.</summary>
    private static StringBuilder Rel(this StringBuilder sb, long value) => (value >= 0 ? sb.Append('+') : sb).Num(value);

    // ---- conformance dialect ------------------------------------------------------------------

    private static StringBuilder CReg(this StringBuilder sb, int reg) => sb.Append("%r").Num(reg);

    private static StringBuilder CMem(this StringBuilder sb, int reg, short offset)
    {
        sb.Append('[').CReg(reg);
        if (offset > 0) sb.Append('+').Num(offset);
        else if (offset < 0) sb.Num(offset);
        return sb.Append(']');
    }

    private static void ConformanceFormat(StringBuilder sb, InstructionForm form, Instruction insn, int hi)
    {
        var mn = form.Mnemonic;
        switch (form.Shape)
        {
            case OperandShape.AluImm: sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ").Num(insn.Imm); break;
            case OperandShape.AluReg: sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ").CReg(insn.SrcRaw); break;
            case OperandShape.Negate or OperandShape.Endian: sb.Append(mn).Append(' ').CReg(insn.DstRaw); break;
            case OperandShape.Jump: sb.Append(mn).Append(' ').Rel(insn.Offset); break;
            case OperandShape.JumpLong: sb.Append(mn).Append(' ').Rel(insn.Imm); break;
            case OperandShape.MayGoto: sb.Append(mn).Append(' ').Rel(insn.Offset); break;
            case OperandShape.JumpImm:
                sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ").Num(insn.Imm).Append(", ").Rel(insn.Offset);
                break;
            case OperandShape.JumpReg:
                sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ").CReg(insn.SrcRaw).Append(", ").Rel(insn.Offset);
                break;
            case OperandShape.Call:
                sb.Append("call ");
                if (insn.SrcRaw == (byte)CallKind.Local) sb.Append("local ").Rel(insn.Imm);
                else if (insn.SrcRaw == (byte)CallKind.Kfunc) sb.Append("kfunc ").Num(insn.Imm);
                else sb.Num(insn.Imm);
                break;
            case OperandShape.CallReg: sb.Append("call ").CReg(insn.DstRaw); break;
            case OperandShape.Exit: sb.Append(mn); break;
            case OperandShape.LoadImm64:
                sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ");
                if (insn.SrcRaw == 0)
                {
                    var value = (ulong)(uint)insn.Imm | ((ulong)(uint)hi << 32);
                    sb.Append("0x").Append(value.ToString("x", CultureInfo.InvariantCulture));
                }
                else
                {
                    AppendPseudo(sb, insn, hi);
                }
                break;
            case OperandShape.LoadAbs: sb.Append(mn).Append(' ').Num(insn.Imm); break;
            case OperandShape.LoadInd: sb.Append(mn).Append(' ').CReg(insn.SrcRaw).Append(", ").Num(insn.Imm); break;
            case OperandShape.Load or OperandShape.LoadAcquire: sb.Append(mn).Append(' ').CReg(insn.DstRaw).Append(", ").CMem(insn.SrcRaw, insn.Offset); break;
            case OperandShape.StoreImm: sb.Append(mn).Append(' ').CMem(insn.DstRaw, insn.Offset).Append(", ").Num(insn.Imm); break;
            case OperandShape.StoreReg or OperandShape.Atomic or OperandShape.StoreRelease:
                sb.Append(mn).Append(' ').CMem(insn.DstRaw, insn.Offset).Append(", ").CReg(insn.SrcRaw);
                break;
            default: throw new InvalidOperationException($"unhandled shape {form.Shape}");
        }
    }

    /// <summary>Appends <c>map_fd 5</c>, <c>map_value 5, 16</c> or <c>func +3</c> (the high word only when non-zero).</summary>
    private static void AppendPseudo(StringBuilder sb, Instruction insn, int hi)
    {
        var pseudo = (PseudoSource)insn.SrcRaw;
        sb.Append(PseudoNames.Of(pseudo)).Append(' ');
        if (pseudo == PseudoSource.Func) sb.Rel(insn.Imm);
        else sb.Num(insn.Imm);
        if (hi != 0) sb.Append(", ").Num(hi);
    }

    // ---- LLVM dialect ---------------------------------------------------------------------------

    private static StringBuilder LReg(this StringBuilder sb, int reg, bool w) => sb.Append(w ? 'w' : 'r').Num(reg);

    /// <summary>Appends <c>(r10 - 8)</c>-style address text without the parentheses: <c>r10 - 8</c>.</summary>
    private static StringBuilder LAddr(this StringBuilder sb, int reg, short offset)
    {
        sb.LReg(reg, false);
        return offset < 0 ? sb.Append(" - ").Num(-(long)offset) : sb.Append(" + ").Num(offset);
    }

    private static StringBuilder LDeref(this StringBuilder sb, string ctype, int reg, short offset) =>
        sb.Append("*(").Append(ctype).Append(" *)(").LAddr(reg, offset).Append(')');

    private static void LlvmFormat(StringBuilder sb, InstructionForm form, Instruction insn, int hi)
    {
        var op = form.LlvmOperator;
        var w = form.Is32Bit;
        switch (form.Shape)
        {
            case OperandShape.AluImm: sb.LReg(insn.DstRaw, w).Append(' ').Append(op).Append(' ').Num(insn.Imm); break;
            case OperandShape.AluReg:
                // movsx prints "r0 = (s8)r1": its operator "= (s8)" takes the register without a space.
                sb.LReg(insn.DstRaw, w).Append(' ').Append(op);
                if (!op.EndsWith(')')) sb.Append(' ');
                sb.LReg(insn.SrcRaw, w);
                break;
            case OperandShape.Negate: sb.LReg(insn.DstRaw, w).Append(' ').Append(op).LReg(insn.DstRaw, w); break;
            case OperandShape.Endian:
                sb.LReg(insn.DstRaw, false).Append(" = ").Append(op).Append(' ').LReg(insn.DstRaw, false);
                break;
            case OperandShape.Jump: sb.Append(op).Append(' ').Rel(insn.Offset); break;
            case OperandShape.JumpLong: sb.Append(op).Append(' ').Rel(insn.Imm); break;
            case OperandShape.MayGoto: sb.Append(op).Append(' ').Rel(insn.Offset); break;
            case OperandShape.JumpImm:
                sb.Append("if ").LReg(insn.DstRaw, w).Append(' ').Append(op).Append(' ').Num(insn.Imm).Append(" goto ").Rel(insn.Offset);
                break;
            case OperandShape.JumpReg:
                sb.Append("if ").LReg(insn.DstRaw, w).Append(' ').Append(op).Append(' ').LReg(insn.SrcRaw, w).Append(" goto ").Rel(insn.Offset);
                break;
            case OperandShape.Call:
                sb.Append("call ");
                if (insn.SrcRaw == (byte)CallKind.Local) sb.Append("pc").Rel(insn.Imm);
                else if (insn.SrcRaw == (byte)CallKind.Kfunc) sb.Append("kfunc ").Num(insn.Imm);
                else sb.Num(insn.Imm);
                break;
            case OperandShape.CallReg: sb.Append("callx ").LReg(insn.DstRaw, false); break;
            case OperandShape.Exit: sb.Append("exit"); break;
            case OperandShape.LoadImm64:
                sb.LReg(insn.DstRaw, false).Append(" = ");
                if (insn.SrcRaw == 0) sb.Num((long)((ulong)(uint)insn.Imm | ((ulong)(uint)hi << 32)));
                else AppendPseudo(sb, insn, hi);
                sb.Append(" ll");
                break;
            case OperandShape.LoadAbs:
                sb.Append("r0 = *(").Append(op).Append(" *)skb[").Num(insn.Imm).Append(']');
                break;
            case OperandShape.LoadInd:
                sb.Append("r0 = *(").Append(op).Append(" *)skb[").LReg(insn.SrcRaw, false);
                if (insn.Imm < 0) sb.Append(" - ").Num(-(long)insn.Imm);
                else if (insn.Imm > 0) sb.Append(" + ").Num(insn.Imm);
                sb.Append(']');
                break;
            case OperandShape.Load: sb.LReg(insn.DstRaw, false).Append(" = ").LDeref(op, insn.SrcRaw, insn.Offset); break;
            case OperandShape.StoreImm: sb.LDeref(op, insn.DstRaw, insn.Offset).Append(" = ").Num(insn.Imm); break;
            case OperandShape.StoreReg: sb.LDeref(op, insn.DstRaw, insn.Offset).Append(" = ").LReg(insn.SrcRaw, false); break;
            case OperandShape.Atomic: LlvmAtomic(sb, form, insn); break;
            case OperandShape.LoadAcquire:
                // LLVM's spelling (llvm-objdump 14 predates these): w0 = load_acquire((u8 *)(r1 + 0)).
                sb.LReg(insn.DstRaw, w).Append(" = load_acquire((").Append(op).Append(" *)(").LAddr(insn.SrcRaw, insn.Offset).Append("))");
                break;
            case OperandShape.StoreRelease:
                sb.Append("store_release((").Append(op).Append(" *)(").LAddr(insn.DstRaw, insn.Offset).Append("), ").LReg(insn.SrcRaw, w).Append(')');
                break;
            default: throw new InvalidOperationException($"unhandled shape {form.Shape}");
        }
    }

    /// <summary>The spellings of llvm-objdump: <c>lock *(u64 *)(r10 - 8) += r1</c>,
    /// <c>r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)</c>, <c>w1 = xchg32_32(r10 - 8, w1)</c>,
    /// <c>r0 = cmpxchg_64(r10 - 8, r0, r1)</c>.</summary>
    private static void LlvmAtomic(StringBuilder sb, InstructionForm form, Instruction insn)
    {
        var w = form.Is32Bit;
        var ctype = w ? "u32" : "u64";
        var op = form.LlvmOperator;
        switch ((AtomicOp)insn.Imm)
        {
            case AtomicOp.Add or AtomicOp.Or or AtomicOp.And or AtomicOp.Xor:
                sb.Append("lock ").LDeref(ctype, insn.DstRaw, insn.Offset).Append(' ').Append(op).Append(' ').LReg(insn.SrcRaw, w);
                break;
            case AtomicOp.Xchg:
                sb.LReg(insn.SrcRaw, w).Append(" = ").Append(AtomicCallName(op, w)).Append('(').LAddr(insn.DstRaw, insn.Offset)
                    .Append(", ").LReg(insn.SrcRaw, w).Append(')');
                break;
            case AtomicOp.CmpXchg:
                sb.LReg(0, w).Append(" = ").Append(AtomicCallName(op, w)).Append('(').LAddr(insn.DstRaw, insn.Offset)
                    .Append(", ").LReg(0, w).Append(", ").LReg(insn.SrcRaw, w).Append(')');
                break;
            default: // fetch forms
                sb.LReg(insn.SrcRaw, w).Append(" = ").Append(op).Append("((").Append(ctype).Append(" *)(")
                    .LAddr(insn.DstRaw, insn.Offset).Append("), ").LReg(insn.SrcRaw, w).Append(')');
                break;
        }
    }

    /// <summary>xchg/cmpxchg print as LLVM's <c>xchg_64</c>, <c>xchg32_32</c>, <c>cmpxchg_64</c>, <c>cmpxchg32_32</c>.</summary>
    internal static string AtomicCallName(string op, bool w) => w ? op + "32_32" : op + "_64";
}
