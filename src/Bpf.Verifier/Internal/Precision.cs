namespace Bpf.Verifier.Internal;

/// <summary>
/// Which scalar registers' exact values can matter from each instruction on — a backward "needs precision"
/// analysis over the control-flow graph. A value matters when it may flow (through ALU ops, copies and
/// stack stores) into a decided conditional jump (see Checker.MarkDecided), either operand of a
/// register-register jump, pointer arithmetic, a helper argument, a store, or a checked return value. Pruning may treat any two scalars as equal in a register whose value cannot matter; the kernel
/// reaches the same effect by backtracking precision marks along each path. This analysis is path-insensitive
/// and therefore marks at least what the kernel would (sound, sometimes less pruning). Stack contents are
/// always compared exactly, and programs with subprograms compare every register exactly.
/// </summary>
internal static class Precision
{
    private const ushort All = 0x7ff;
    private const ushort Args = 0b11_1110;   // R1-R5
    private const ushort CallDefs = 0b11_1111; // R0-R5

    public static ushort[] Analyse(Instruction[] p, Structure s, ProgramType type, bool[]? decided = null)
    {
        var n = p.Length;
        var need = new ushort[n];
        if (s.SubprogStarts.Length > 1)
        {
            Array.Fill(need, All);
            return need;
        }
        bool changed;
        var rounds = 0;
        do
        {
            changed = false;
            for (var t = n - 1; t >= 0; t--)
            {
                var insn = p[t];
                if (t > 0 && p[t - 1].IsWide) continue; // second slot of an lddw
                var outMask = Out(p, t, need);
                var inMask = (ushort)(Transfer(insn, outMask, type, decided is null || decided[t]) & All);
                var merged = (ushort)(need[t] | inMask);
                if (merged != need[t])
                {
                    need[t] = merged;
                    changed = true;
                }
            }
        }
        while (changed && ++rounds < 64);
        if (changed) Array.Fill(need, All);
        return need;
    }

    private static ushort Out(Instruction[] p, int t, ushort[] need)
    {
        var insn = p[t];
        var n = p.Length;
        ushort Get(long i) => i >= 0 && i < n ? need[i] : All;
        if (insn.IsWide) return Get(t + 2);
        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32)) return Get(t + 1);
        return insn.JumpOp switch
        {
            JumpOp.Exit => 0,
            JumpOp.Call => Get(t + 1),
            JumpOp.Ja => insn.Class == OpClass.Jmp32 ? Get((long)t + insn.Imm + 1) : Get((long)t + insn.Offset + 1),
            _ => (ushort)(Get(t + 1) | Get((long)t + insn.Offset + 1)),
        };
    }

    private static int Bit(int r) => r <= 10 ? 1 << r : 0;

    private static int Transfer(Instruction insn, int o, ProgramType type, bool decided)
    {
        int d = insn.DstRaw, s = insn.SrcRaw;
        var srcReg = insn.Source == Source.Reg;
        switch (insn.Class)
        {
            case OpClass.Alu:
            case OpClass.Alu64:
                switch (insn.AluOp)
                {
                    case AluOp.Mov:
                        if (!srcReg) return o & ~Bit(d);
                        return (o & Bit(d)) != 0 ? (o & ~Bit(d)) | Bit(s) : o & ~Bit(d);
                    case AluOp.Neg:
                    case AluOp.End:
                        return o;
                    case AluOp.Add:
                    case AluOp.Sub:
                        // Either operand may be a pointer, making the other an offset whose value matters.
                        return srcReg ? o | Bit(d) | Bit(s) : o;
                    default:
                        return srcReg && (o & Bit(d)) != 0 ? o | Bit(s) : o;
                }
            case OpClass.Jmp:
            case OpClass.Jmp32:
                switch (insn.JumpOp)
                {
                    case JumpOp.Ja:
                        return o;
                    case JumpOp.Exit:
                        return type == ProgramType.CgroupSkb ? Bit(0) : 0;
                    case JumpOp.Call:
                        return (o & ~CallDefs) | Args;
                    default:
                        // A branch that some path decided (the other edge was skipped: by the values, by a
                        // refinement that left one edge impossible, or a pointer against a register holding 0)
                        // depends on both operands. dst <cond> src also refines each operand — and every
                        // register or spill linked to it by id — by the other's value, so a register-register
                        // comparison needs both operands whatever is read later (the kernel's backtrack_insn
                        // marks both; its linked-register sync covers the copies). Against an immediate, an
                        // undecided branch adds nothing.
                        return decided || srcReg ? o | Bit(d) | (srcReg ? Bit(s) : 0) : o;
                }
            case OpClass.Ldx:
                return o & ~Bit(d);
            case OpClass.St:
                return o;
            case OpClass.Stx:
                return insn.Mode == MemMode.Atomic ? o | Bit(s) | Bit(0) : o | Bit(s);
            default: // LD: lddw defines dst; legacy packet loads define R0 and clobber R1-R5
                if (insn.IsWide) return o & ~Bit(d);
                return (o & ~CallDefs) | (insn.Mode == MemMode.Ind ? Bit(s) : 0);
        }
    }
}
