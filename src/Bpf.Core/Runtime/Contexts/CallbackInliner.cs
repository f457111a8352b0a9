namespace Bpf.Runtime;

/// <summary>
/// Makes <c>bpf_loop(nr, callback, ctx, flags)</c> runnable the way the kernel's verifier does (inline_bpf_loop):
/// the call becomes a bpf-to-bpf call of a loop function appended to the program, which calls the callback with
/// (index, ctx) until it returns non-zero or <c>nr</c> iterations ran, and returns the iteration count
/// (-EINVAL for non-zero flags, -E2BIG above BPF_MAX_LOOPS). The callback must be loaded into r2 by an
/// <c>lddw</c> of a function in the same basic block, as compilers emit it; other function-pointer uses stay
/// unsupported.
/// </summary>
internal static class CallbackInliner
{
    private const int MaxLoops = 8 * 1024 * 1024; // BPF_MAX_LOOPS

    public static Instruction[] Inline(Instruction[] insns)
    {
        var calls = new List<(int Call, int Load, int Target)>();
        HashSet<int>? targets = null;
        for (var i = 0; i < insns.Length; i++)
        {
            if (insns[i].Opcode != 0x85 || insns[i].SrcRaw != 0 || insns[i].Imm != BpfHelperIds.Loop) continue;
            targets ??= JumpTargets(insns);
            if (FindCallbackLoad(insns, i, targets) is { } load)
            {
                calls.Add((i, load, load + 1 + insns[load].Imm));
            }
        }
        if (calls.Count == 0) return insns;
        var output = new List<Instruction>(insns);
        var loopFunctions = new Dictionary<int, int>();
        foreach (var (call, load, target) in calls)
        {
            if (!loopFunctions.TryGetValue(target, out var start))
            {
                start = output.Count;
                loopFunctions[target] = start;
                EmitLoop(output, target);
            }
            // The function pointer is no longer needed as a value: the loop function calls the callback directly.
            var (lo, hi) = Instruction.LoadImm64(Register.R2, 0);
            output[load] = lo;
            output[load + 1] = hi;
            output[call] = Instruction.CallLocal(start - (call + 1));
        }
        return output.ToArray();
    }

    private static void EmitLoop(List<Instruction> o, int callback)
    {
        // r1 = nr_loops, r3 = callback ctx, r4 = flags; r6-r8 are the caller's callee-saved registers, which the
        // interpreter restores when this function returns.
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R4, 0, 2));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, -22)); // -EINVAL
        o.Add(Instruction.ExitInsn());
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jle, Register.R1, MaxLoops, 2));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, -7)); // -E2BIG
        o.Add(Instruction.ExitInsn());
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R7, 0));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R8, Register.R3));
        // loop: if r7 >= r6 goto done
        o.Add(Instruction.JumpReg(OpClass.Jmp, JumpOp.Jge, Register.R7, Register.R6, 5));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Register.R7));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R8));
        o.Add(Instruction.CallLocal(callback - (o.Count + 1)));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R7, 1));
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, -6));
        // done: r0 = iterations
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R0, Register.R7));
        o.Add(Instruction.ExitInsn());
    }

    /// <summary>The slot of the <c>lddw r2, func</c> that feeds the call at <paramref name="call"/>, or null.</summary>
    private static int? FindCallbackLoad(Instruction[] insns, int call, HashSet<int> targets)
    {
        for (var k = call - 1; k >= 0; k--)
        {
            if (targets.Contains(k + 1)) return null; // another path may reach the call with another r2
            var insn = insns[k];
            if (k > 0 && insns[k - 1].IsWide)
            {
                // Second slot of an lddw: look at the first.
                k--;
                insn = insns[k];
                if (insn.DstRaw != 2) continue;
                return insn.SrcRaw == 4 ? k : null;
            }
            var cls = insn.Opcode & 7;
            if (cls is 5 or 6) return null; // a jump, call or exit: left the basic block
            if (cls is 0 or 1 or 4 or 7 && insn.DstRaw == 2) return null; // r2 written by something else
        }
        return null;
    }

    private static HashSet<int> JumpTargets(Instruction[] insns)
    {
        var set = new HashSet<int>();
        for (var i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            var cls = insn.Opcode & 7;
            var op = insn.Opcode & 0xf0;
            if (cls is not (5 or 6) || op is 0x90) continue;
            if (op == 0x80)
            {
                if (insn.SrcRaw == 1) set.Add(i + 1 + insn.Imm);
                continue;
            }
            set.Add(i + 1 + (cls == 6 && op == 0 ? insn.Imm : insn.Offset));
        }
        return set;
    }
}
