namespace Bpf.Verifier.Internal;

/// <summary>
/// The whole-program checks that need no abstract state: opcodes, wide loads and their map references,
/// subprogram boundaries, jump ranges, the control-flow graph (unreachable code, back-edges), and the
/// prune points the simulation stores states at.
/// </summary>
internal sealed class Structure
{
    public required Instruction[] Program { get; init; }
    /// <summary>Sorted start indexes of the subprograms (0 first).</summary>
    public required int[] SubprogStarts { get; init; }
    /// <summary>For each slot, the subprogram it belongs to.</summary>
    public required int[] SubprogOf { get; init; }
    /// <summary>For each lddw first slot referring to a map: the map index; else -1.</summary>
    public required int[] MapOfInsn { get; init; }
    public required bool[] PrunePoint { get; init; }
    /// <summary>Per subprogram: it calls bpf_tail_call.</summary>
    public required bool[] HasTailCall { get; init; }
    /// <summary>Local call sites per subprogram: (call insn, callee subprog).</summary>
    public required List<(int Insn, int Callee)>[] Calls { get; init; }
    /// <summary>For each BTF-id lddw (BPF_PSEUDO_BTF_ID) first slot: the register it loads (the kernel's
    /// aux->btf_var); null when the program has none.</summary>
    public RegState[]? KsymOf { get; init; }

    public int SubprogIndex(int start) => Array.BinarySearch(SubprogStarts, start);

    public static Structure Build(Instruction[] p, VerifierOptions o)
    {
        var n = p.Length;
        if (n == 0) throw new VerifyFailure(VerifierErrorCode.EmptyProgram, -1, "program has no instructions");
        if (o.Privilege != PrivilegeMode.Privileged && o.ProgramType is ProgramType.Kprobe or ProgramType.Tracepoint)
        {
            throw new VerifyFailure(VerifierErrorCode.PermissionDenied, -1, "tracing programs need CAP_PERFMON (EPERM)");
        }
        if (o.Privilege == PrivilegeMode.Unprivileged && o.ProgramType is not (ProgramType.SocketFilter or ProgramType.CgroupSkb))
        {
            throw new VerifyFailure(VerifierErrorCode.PermissionDenied, -1, "only socket filter and cgroup skb programs may be loaded without CAP_BPF (EPERM)");
        }
        var limit = o.EffectiveMaxInstructions;
        if (n > limit)
        {
            throw new VerifyFailure(VerifierErrorCode.ProgramTooLarge, -1, $"program has {n} instructions; the limit is {limit}");
        }

        // The kernel's order (bpf_check): subprogram starts (add_subprog_and_kfunc), jump ranges and the last
        // instruction of each subprogram (check_subprogs), then one pass over every slot for LDX reserved
        // fields, wide loads and unknown opcodes (resolve_pseudo_ldimm64), then the control-flow graph.
        var starts = new SortedSet<int> { 0 };
        for (var i = 0; i < n; i++)
        {
            var insn = p[i];
            if (insn.Opcode != Opcodes.Call) continue;
            if (insn.SrcRaw == (byte)CallKind.Local)
            {
                var target = (long)i + insn.Imm + 1;
                if (target < 0 || target >= n)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, "call to invalid destination");
                }
                if (o.Privilege == PrivilegeMode.Unprivileged)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i,
                        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN");
                }
                starts.Add((int)target);
            }
            else if (insn.SrcRaw == (byte)CallKind.Kfunc)
            {
                if (o.Privilege == PrivilegeMode.Unprivileged)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i,
                        "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN");
                }
                Ksyms.CheckKfuncCall(insn, i, o);
            }
        }
        // A function pointer (lddw with BPF_PSEUDO_FUNC) starts a subprogram too: a callback.
        for (var i = 0; i + 1 < n; i++)
        {
            var insn = p[i];
            if (insn.Opcode != Opcodes.LdDw || insn.SrcRaw != (byte)PseudoSource.Func) continue;
            var target = (long)i + insn.Imm + 1;
            if (target < 0 || target >= n) throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, "call to invalid destination");
            if (o.Privilege == PrivilegeMode.Unprivileged)
            {
                throw new VerifyFailure(VerifierErrorCode.InvalidCallTarget, i, "function pointers are allowed for CAP_BPF and CAP_SYS_ADMIN");
            }
            starts.Add((int)target);
            i++;
        }
        var startArr = starts.ToArray();
        var subOf = new int[n];
        for (int s = 0, i = 0; i < n; i++)
        {
            while (s + 1 < startArr.Length && startArr[s + 1] <= i) s++;
            subOf[i] = s;
        }

        var prune = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var insn = p[i];
            var sub = subOf[i];
            var end = sub + 1 < startArr.Length ? startArr[sub + 1] : n;
            if (insn.Class is OpClass.Jmp or OpClass.Jmp32 && insn.JumpOp is not (JumpOp.Exit or JumpOp.Call))
            {
                var target = insn.Opcode == Opcodes.Ja32 ? (long)i + insn.Imm + 1 : (long)i + insn.Offset + 1;
                if (target < startArr[sub] || target >= end)
                {
                    throw new VerifyFailure(VerifierErrorCode.JumpOutOfRange, i, $"jump out of range from insn {i} to {target}");
                }
            }
            if (i == end - 1 && insn.Opcode is not (Opcodes.Exit or Opcodes.Ja or Opcodes.Ja32))
            {
                throw new VerifyFailure(VerifierErrorCode.FallsOffEnd, i, "last insn is not an exit or jmp");
            }
        }

        // check_abnormal_return: without BTF func info, subprograms may not tail call or use legacy packet loads.
        var hasTailCall = new bool[startArr.Length];
        for (var i = 0; i < n; i++)
        {
            var insn = p[i];
            var isTailCall = insn.Opcode == Opcodes.Call && insn.SrcRaw == 0 && insn.Imm == 12;
            if (isTailCall) hasTailCall[subOf[i]] = true;
            if (o.HasFuncInfo || subOf[i] == 0) continue;
            if (insn.Class == OpClass.Ld && insn.Mode is MemMode.Abs or MemMode.Ind)
            {
                throw new VerifyFailure(VerifierErrorCode.InvalidContextAccess, i, "LD_ABS is not allowed in subprogs without BTF");
            }
        }
        for (var s = 1; s < startArr.Length && !o.HasFuncInfo; s++)
        {
            if (hasTailCall[s])
            {
                throw new VerifyFailure(VerifierErrorCode.InvalidHelperArgument, startArr[s], "tail_call is not allowed in subprogs without BTF");
            }
        }

        var mapOf = new int[n];
        Array.Fill(mapOf, -1);
        RegState[]? ksyms = null;
        var second = new bool[n];
        for (var i = 0; i < n; i++)
        {
            var insn = p[i];
            if (insn.Class == OpClass.Ldx && (insn.Mode is not (MemMode.Mem or MemMode.MemSx) || insn.Imm != 0))
            {
                throw new VerifyFailure(VerifierErrorCode.ReservedField, i, "BPF_LDX uses reserved fields");
            }
            if (insn.IsWide)
            {
                if (i + 1 >= n)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, "invalid bpf_ld_imm64 insn");
                }
                var next = p[i + 1];
                if (next.Opcode != 0 || next.DstRaw != 0 || next.SrcRaw != 0 || next.Offset != 0)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, "invalid bpf_ld_imm64 insn");
                }
                if (insn.SrcRaw == (byte)PseudoSource.BtfId)
                {
                    ksyms ??= new RegState[n];
                    ksyms[i] = Ksyms.ResolveBtfId(insn, next, i, o);
                }
                else
                {
                    mapOf[i] = ResolveMap(insn, next, i, o);
                }
                second[i + 1] = true;
                i++;
                continue;
            }
            // callx (JMP | CALL | X) is in our opcode table for other runtimes; the kernel does not know it.
            if (!InstructionSet.IsKnownOpcode(insn.Opcode) || insn.Opcode == Opcodes.CallX)
            {
                throw new VerifyFailure(VerifierErrorCode.UnknownOpcode, i, $"unknown opcode {insn.Opcode:x2}");
            }
        }

        for (var i = 0; i < n; i++)
        {
            var insn = p[i];
            if (second[i]) continue;
            if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32)) continue;
            var op = insn.JumpOp;
            if (op == JumpOp.Exit) continue;
            if (op == JumpOp.Call)
            {
                if (i + 1 < n) prune[i + 1] = true;
                // A helper that calls back returns to its call instruction after each callback (the kernel's loop
                // over callback visits), so states are stored there.
                if (IsCallbackHelperCall(insn)) prune[i] = true;
                continue;
            }
            var target = insn.Opcode == Opcodes.Ja32 ? i + insn.Imm + 1 : i + insn.Offset + 1;
            prune[target] = true;
            if (op != JumpOp.Ja) prune[i] = true;
        }

        var calls = new List<(int, int)>[startArr.Length];
        for (var s = 0; s < calls.Length; s++) calls[s] = [];
        CheckCfg(p, o, second, startArr, subOf, calls);

        return new Structure
        {
            Program = p, SubprogStarts = startArr, SubprogOf = subOf, MapOfInsn = mapOf, PrunePoint = prune, Calls = calls,
            HasTailCall = hasTailCall, KsymOf = ksyms,
        };
    }

    private static int ResolveMap(Instruction insn, Instruction next, int i, VerifierOptions o)
    {
        var pseudo = (PseudoSource)insn.SrcRaw;
        if (insn.SrcRaw > (byte)PseudoSource.MapIndexValue || (pseudo is PseudoSource.MapFd or PseudoSource.MapIndex && next.Imm != 0))
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, "unrecognized bpf_ld_imm64 insn");
        }
        switch ((PseudoSource)insn.SrcRaw)
        {
            case PseudoSource.None:
            case PseudoSource.Func:
                return -1;
            case PseudoSource.MapFd:
            case PseudoSource.MapValue:
            {
                var index = -1;
                for (var m = 0; m < o.Maps.Count; m++)
                {
                    if (o.Maps[m].Fd == insn.Imm) { index = m; break; }
                }
                if (index < 0) throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, $"fd {insn.Imm} is not pointing to valid bpf_map");
                CheckMapProgramCompatible(i, o.Maps[index], o.ProgramType);
                CheckDirectValue(insn, next, i, o.Maps[index]);
                return index;
            }
            case PseudoSource.MapIndex:
            case PseudoSource.MapIndexValue:
                if ((uint)insn.Imm >= (uint)o.Maps.Count)
                {
                    throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, $"map index {insn.Imm} is not a declared map");
                }
                CheckMapProgramCompatible(i, o.Maps[insn.Imm], o.ProgramType);
                CheckDirectValue(insn, next, i, o.Maps[insn.Imm]);
                return insn.Imm;
            default:
                // Sources past MapIndexValue were refused above; BtfId is resolved by the caller.
                throw new System.Diagnostics.UnreachableException();
        }
    }

    /// <summary>The kernel's check_map_prog_compatibility, when a program refers to a map: socket filters and
    /// tracing programs cannot use a map whose value holds a bpf_spin_lock.</summary>
    private static void CheckMapProgramCompatible(int i, MapDefinition map, ProgramType type)
    {
        if (!map.HasSpinLock) return;
        if (type == ProgramType.SocketFilter)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, "socket filter progs cannot use bpf_spin_lock yet");
        }
        if (type is ProgramType.Kprobe or ProgramType.Tracepoint or ProgramType.PerfEvent or ProgramType.RawTracepoint or ProgramType.RawTracepointWritable)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, "tracing progs cannot use bpf_spin_lock yet");
        }
    }

    private static void CheckDirectValue(Instruction insn, Instruction next, int i, MapDefinition map)
    {
        var wantsValue = (PseudoSource)insn.SrcRaw is PseudoSource.MapValue or PseudoSource.MapIndexValue;
        if (!wantsValue)
        {
            if (next.Imm != 0) throw new VerifyFailure(VerifierErrorCode.InvalidWideLoad, i, "unrecognized bpf_ld_imm64 insn");
            return;
        }
        // resolve_pseudo_ldimm64 (6.18): the offset's own limit, then whether the map type has direct value access
        // at all (of the types modelled, only arrays: map_direct_value_addr), then the array's own answer (one entry
        // only, an offset inside the value).
        if ((uint)next.Imm >= Checker.MaxVarOff)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, $"direct value offset of {(uint)next.Imm} is not allowed");
        }
        if (map.Type != MapType.Array)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidMap, i, "no direct value access support for this map type");
        }
        if (map.MaxEntries != 1 || (uint)next.Imm >= (uint)map.ValueSize)
        {
            throw new VerifyFailure(VerifierErrorCode.InvalidMap, i,
                $"invalid access to map value pointer, value_size={map.ValueSize} off={(uint)next.Imm}");
        }
    }

    /// <summary>Depth-first walk of the control-flow graph: finds back-edges, jumps into lddw and unreachable slots.</summary>
    private static void CheckCfg(Instruction[] p, VerifierOptions o, bool[] second, int[] starts, int[] subOf, List<(int, int)>[] calls)
    {
        var n = p.Length;
        // 0 = unvisited, 1 = on the DFS stack, 2 = done.
        var color = new byte[n];
        var stack = new Stack<(int Insn, int Edge)>();
        color[0] = 1;
        stack.Push((0, 0));
        Span<int> succ = stackalloc int[2];
        while (stack.Count > 0)
        {
            var (t, edge) = stack.Pop();
            var count = Successors(p, t, succ, calls, subOf, starts);
            if (edge < count)
            {
                stack.Push((t, edge + 1));
                var w = succ[edge];
                if (w < 0 || w >= n)
                {
                    throw new VerifyFailure(VerifierErrorCode.JumpOutOfRange, t, $"jump out of range from insn {t} to {w}");
                }
                if (color[w] == 0)
                {
                    color[w] = 1;
                    stack.Push((w, 0));
                }
                else if (color[w] == 1 && o.Privilege == PrivilegeMode.Unprivileged)
                {
                    throw new VerifyFailure(VerifierErrorCode.BackEdge, t, $"back-edge from insn {t} to {w}");
                }
            }
            else
            {
                color[t] = 2;
            }
        }
        for (var i = 0; i < n; i++)
        {
            if (second[i]) continue;
            if (color[i] == 0)
            {
                throw new VerifyFailure(VerifierErrorCode.UnreachableInstruction, i, $"unreachable insn {i}");
            }
            if (p[i].IsWide && color[i + 1] != 0)
            {
                throw new VerifyFailure(VerifierErrorCode.JumpIntoWideLoad, i, $"jump into the middle of ldimm64 insn {i}");
            }
        }
    }

    /// <summary>A helper call that takes a callback the verifier explores (bpf_loop).</summary>
    public static bool IsCallbackHelperCall(in Instruction insn) =>
        insn.Opcode == Opcodes.Call && insn.SrcRaw == (byte)CallKind.Helper && insn.Imm is LoopHelperId or ForEachMapElemHelperId;

    /// <summary>bpf_loop.</summary>
    public const int LoopHelperId = 181;

    /// <summary>bpf_for_each_map_elem.</summary>
    public const int ForEachMapElemHelperId = 164;

    private static int Successors(Instruction[] p, int t, Span<int> succ, List<(int, int)>[] calls, int[] subOf, int[] starts)
    {
        var insn = p[t];
        if (insn.IsWide)
        {
            succ[0] = t + 2;
            if (insn.SrcRaw != (byte)PseudoSource.Func) return 1;
            // The callback is reached (and its stack counted) as if called from here.
            var target = t + insn.Imm + 1;
            var callee = Array.BinarySearch(starts, target);
            var list = calls[subOf[t]];
            if (!list.Contains((t, callee))) list.Add((t, callee));
            succ[1] = target;
            return 2;
        }
        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32))
        {
            succ[0] = t + 1;
            return 1;
        }
        switch (insn.JumpOp)
        {
            case JumpOp.Exit:
                return 0;
            case JumpOp.Call:
                succ[0] = t + 1;
                if (insn.SrcRaw == (byte)CallKind.Local)
                {
                    var target = t + insn.Imm + 1;
                    var callee = Array.BinarySearch(starts, target);
                    var list = calls[subOf[t]];
                    if (!list.Contains((t, callee))) list.Add((t, callee));
                    succ[1] = target;
                    return 2;
                }
                return 1;
            case JumpOp.Ja:
                succ[0] = insn.Class == OpClass.Jmp32 ? t + insn.Imm + 1 : t + insn.Offset + 1;
                return 1;
            default:
                succ[0] = t + 1;
                succ[1] = t + insn.Offset + 1;
                return 2;
        }
    }
}
