namespace Bpf.Runtime;

/// <summary>
/// Makes the helpers that take a callback runnable. <c>bpf_loop(nr, callback, ctx, flags)</c>, the way the kernel's
/// verifier does (inline_bpf_loop): the call becomes a bpf-to-bpf call of a loop function appended to the program,
/// which calls the callback with (index, ctx) until it returns non-zero or <c>nr</c> iterations ran, and returns the
/// iteration count (-EINVAL for non-zero flags, -E2BIG above BPF_MAX_LOOPS).
/// <c>bpf_for_each_map_elem(map, callback, ctx, flags)</c> likewise becomes a call of a loop function that steps
/// through the map with the internal helper <see cref="BpfHelperIds.InternalForEachNext"/> (which copies each key into
/// the loop function's stack frame and returns the value's address) and calls the callback with (map, key, value, ctx)
/// until it returns non-zero or the map is done; it returns the number of elements visited, the stopping one included
/// (-EINVAL for non-zero flags), as the kernel's bpf_for_each_array_elem and bpf_for_each_hash_elem.
/// The callback must be loaded into r2 by an <c>lddw</c> of a function in the same basic block, as compilers emit it:
/// a bpf_loop whose callback is not found that way is left as a call the runtime does not have (a fault if a run
/// reaches it); such a bpf_for_each_map_elem is refused when the program loads.
/// </summary>
internal static class CallbackInliner
{
    private const int MaxLoops = 8 * 1024 * 1024; // BPF_MAX_LOOPS

    /// <summary>The most key bytes a for_each loop function's frame holds (its frame also holds the 8-byte cursor).</summary>
    internal const int MaxForEachKeySize = VmLayout.FrameStackSize - 8;

    /// <exception cref="NotSupportedException">A bpf_for_each_map_elem call whose callback is not an lddw of a function
    /// into r2 in the call's basic block.</exception>
    public static Instruction[] Inline(Instruction[] insns)
    {
        var calls = new List<(int Call, int Load, int Target, bool ForEach)>();
        HashSet<int>? targets = null;
        for (var i = 0; i < insns.Length; i++)
        {
            if (insns[i].Opcode != 0x85 || insns[i].SrcRaw != 0 || insns[i].Imm is not (BpfHelperIds.Loop or BpfHelperIds.ForEachMapElem)) continue;
            var forEach = insns[i].Imm == BpfHelperIds.ForEachMapElem;
            targets ??= JumpTargets(insns);
            if (FindCallbackLoad(insns, i, targets) is { } load)
            {
                calls.Add((i, load, load + 1 + insns[load].Imm, forEach));
            }
            else if (forEach)
            {
                throw new NotSupportedException($"insn {i}: calls bpf_for_each_map_elem (helper {BpfHelperIds.ForEachMapElem}) with a callback the managed runtime cannot follow: it needs the callback loaded into r2 by an lddw of a function (BPF_PSEUDO_FUNC) in the call's basic block, as compilers emit it");
            }
        }
        if (calls.Count == 0) return insns;
        var output = new List<Instruction>(insns);
        var loopFunctions = new Dictionary<(int, bool), int>();
        foreach (var (call, load, target, forEach) in calls)
        {
            if (!loopFunctions.TryGetValue((target, forEach), out var start))
            {
                start = output.Count;
                loopFunctions[(target, forEach)] = start;
                if (forEach) EmitForEach(output, target); else EmitLoop(output, target);
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

    private static void EmitForEach(List<Instruction> o, int callback)
    {
        // r1 = map, r3 = callback ctx, r4 = flags. Frame: the cursor at r10-8, the key buffer at r10-512 (the callback
        // reads the key through the pointer it is given; nothing else can address this frame's stack).
        const short Cursor = -8, Key = -VmLayout.FrameStackSize;
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R4, 0, 2));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, -22)); // -EINVAL
        o.Add(Instruction.ExitInsn());
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R7, 0));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R8, Register.R3));
        o.Add(Instruction.StoreImm(MemSize.DW, Register.R10, Cursor, 0));
        // loop: r0 = next(map, &cursor, key); if r0 == 0 goto done
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Register.R6));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, Cursor));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R3, Register.R10));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R3, Key));
        o.Add(Instruction.CallHelper(BpfHelperIds.InternalForEachNext));
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, 8));
        // r0 = callback(map, key, value, ctx)
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R3, Register.R0));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Register.R6));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, Key));
        o.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R4, Register.R8));
        o.Add(Instruction.CallLocal(callback - (o.Count + 1)));
        o.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R7, 1));
        o.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, -15));
        // done: r0 = elements visited
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
