namespace Bpf.Verifier.Internal;

/// <summary>
/// Path-by-path abstract interpretation from the entry, one state per path, with pruning against states
/// already proven safe at the same prune point. Forks push the jump target and continue with the
/// fall-through, as the kernel does, so error order and processed counts stay comparable.
/// </summary>
internal sealed partial class Checker
{
    internal const int MaxVarOff = 1 << 29;
    private const int MaxPacketOff = 0xffff;
    private const int MaxCallFrames = 8;

    private readonly Instruction[] _p;
    private readonly VerifierOptions _o;
    private readonly Structure _s;
    private readonly bool _allowPtrLeaks;
    private readonly bool _allowUninitStack;
    private readonly bool _bpfCapable;
    private readonly bool _bypassSpec;
    private readonly List<Checkpoint>?[] _explored;
    private readonly int[] _stackDepth;
    private readonly ushort[] _need;
    private readonly Stack<VState> _pending = new();

    private VState _cur = null!;
    private int _processed;
    private int _jumps;
    private int _prevJumps;
    private int _prevProcessed;
    private int _idGen;
    private int _stored;
    private int _peakStored;
    private int _totalStored;

    private readonly bool[] _decided;
    private bool _decidedGrew;

    /// <summary>Whether this run let the precision analysis (<see cref="_need"/>) change what it did: a state pruned
    /// only because a scalar was treated as irrelevant, or scalars widened outside the kept set. When it did not, a
    /// run with more decided branches (more precision) makes the same decisions, so it need not be repeated.</summary>
    private bool _reliedOnImprecision;

    private Checker(Instruction[] p, VerifierOptions o, Structure s, bool[] decided)
    {
        _decided = decided;
        _p = p;
        _o = o;
        _s = s;
        _allowPtrLeaks = o.Privilege == PrivilegeMode.Privileged;
        _allowUninitStack = o.Privilege == PrivilegeMode.Privileged;
        _bypassSpec = o.Privilege == PrivilegeMode.Privileged;
        _bpfCapable = o.Privilege != PrivilegeMode.Unprivileged;
        _explored = new List<Checkpoint>?[p.Length];
        _stackDepth = new int[s.SubprogStarts.Length];
        _need = Precision.Analyse(p, s, o.ProgramType, decided);
    }

    public static VerificationResult Verify(Instruction[] program, VerifierOptions options) => Verify(program, options, repeatAlways: false);

    /// <summary><paramref name="repeatAlways"/>: repeat a run whenever it found newly decided branches, even when it
    /// never relied on imprecision (the rule before that shortcut; tests check both give the same result).</summary>
    internal static VerificationResult Verify(Instruction[] program, VerifierOptions options, bool repeatAlways)
    {
        Structure s;
        try
        {
            s = Structure.Build(program, options);
        }
        catch (VerifyFailure f)
        {
            return new VerificationResult(MakeError(f, options, null, null), 0, 0, 0, 0, options.CollectLog ? f.Message + "\n" : null);
        }
        // Pruning treats a scalar as irrelevant unless a decided branch (or another precise use) may read it.
        // Which branches some path decides is only known after exploring, so verify again whenever a run
        // discovers a newly decided branch; the final run's set is complete, which makes its pruning sound.
        var decided = new bool[program.Length];
        for (var attempt = 0; ; attempt++)
        {
            if (attempt == 6) Array.Fill(decided, true);
            var c = new Checker(program, options, s, (bool[])decided.Clone());
            var result = c.Run();
            // A run that never relied on imprecision decides exactly as the run with its final decided set would:
            // that run's pruning is stricter only where this one pruned or widened because of imprecision.
            if (!result.IsAccepted || !c._decidedGrew || (!c._reliedOnImprecision && !repeatAlways) || attempt >= 6) return result;
            decided = c._decided;
        }
    }

    private static VerifierError MakeError(VerifyFailure f, VerifierOptions o, VState? st, string? regState)
    {
        var path = new List<(int, int)>();
        for (var n = st?.Path; n is not null && path.Count < 64; n = n.Prev) path.Add((n.From, n.To));
        path.Reverse();
        var src = f.Insn >= 0 ? o.SourceLocator?.Invoke(f.Insn) : null;
        return new VerifierError(f.Code, f.Insn, f.Message, f.Register >= 0 ? (Register)f.Register : null, regState, path, src);
    }

    private VerificationResult Run()
    {
        try
        {
            _cur = InitialState();
            while (true)
            {
                bool ended;
                try
                {
                    ended = StepPath();
                }
                catch (VerifyFailure f) when (_cur.Speculative && f.Code is not (VerifierErrorCode.TooComplex or VerifierErrorCode.InfiniteLoop))
                {
                    // The kernel fences a mispredicted path that would fault instead of rejecting the program.
                    ended = true;
                }
                if (ended) PathDone(_cur);
                if (_pending.Count == 0) break;
                _cur = _pending.Pop();
            }
            CheckMaxStackDepth();
            return new VerificationResult(null, _processed, _peakStored, _totalStored, _stackDepth[0], Log(null));
        }
        catch (VerifyFailure f)
        {
            string? regState = null;
            if (f.Register is >= 0 and <= 10 && _cur is not null)
            {
                regState = _cur.Cur.Regs[f.Register].Format(_o.Maps);
            }
            var error = MakeError(f, _o, _cur, regState);
            return new VerificationResult(error, _processed, _peakStored, _totalStored, _stackDepth[0], Log(error));
        }
    }

    private string? Log(VerifierError? error)
    {
        if (!_o.CollectLog) return null;
        var sb = new System.Text.StringBuilder();
        if (error is not null)
        {
            foreach (var (from, to) in error.Path) sb.Append("from ").Append(from).Append(" to ").Append(to).Append('\n');
            if (error.InstructionIndex >= 0) sb.Append(error.InstructionIndex).Append(": ").Append(error.Message).Append('\n');
            else sb.Append(error.Message).Append('\n');
        }
        sb.Append("processed ").Append(_processed).Append(" insns (limit ").Append(_o.MaxProcessedInstructions)
          .Append(") max_states_per_insn 0 total_states ").Append(_totalStored).Append(" peak_states ").Append(_peakStored).Append('\n');
        return sb.ToString();
    }

    private VState InitialState()
    {
        var st = new VState();
        var f = new Frame { CallSite = -1, Subprog = 0 };
        st.Frames[0] = f;
        f.Regs[10] = RegState.Pointer(RegType.Stack);
        if (_o.ProgramType == VerifierProgramTypes.Memory)
        {
            f.Regs[1] = RegState.Pointer(RegType.Mem);
            f.Regs[1].Range = _o.MemorySize;
            f.Regs[2] = RegState.Known((ulong)_o.MemorySize);
        }
        else
        {
            f.Regs[1] = RegState.Pointer(RegType.Ctx);
        }
        return st;
    }

    /// <summary>Runs the current path until it exits or is pruned (true), or forks are queued and it continues.</summary>
    private bool StepPath()
    {
        while (true)
        {
            var pc = _cur.Insn;
            if (++_processed > _o.MaxProcessedInstructions)
            {
                throw Fail(VerifierErrorCode.TooComplex, pc, $"BPF program is too large. Processed {_processed} insn");
            }
            if (_s.PrunePoint[pc] && IsStateVisited(pc)) return true;
            if (Step(pc)) return true;
        }
    }

    private VerifyFailure Fail(VerifierErrorCode code, int insn, string message, int register = -1) => new(code, insn, message, register);

    private VerifyFailure Fail(VerifierErrorCode code, string message, int register = -1) => new(code, _cur.Insn, message, register);

    private void PathDone(VState st)
    {
        for (var cp = st.Parent; cp is not null; cp = cp.Parent)
        {
            if (--cp.Branches > 0) break;
        }
    }

    private void PushBranch(VState other)
    {
        if (_pending.Count >= _o.MaxPendingStates)
        {
            throw Fail(VerifierErrorCode.TooComplex, $"The sequence of {_pending.Count + 1} jumps is too complex.");
        }
        if (other.Parent is not null) other.Parent.Branches++;
        _pending.Push(other);
    }

    private int NewId() => ++_idGen;

    // ---- pruning ------------------------------------------------------------------------------------

    private bool IsStateVisited(int pc)
    {
        var list = _explored[pc];
        var looping = false;
        var add = _jumps - _prevJumps >= 2 && _processed - _prevProcessed >= 8;
        // The kernel always stores a state at may_goto: a loop converges by matching an earlier iteration.
        var mayGoto = _p[pc].Opcode == Opcodes.MayGoto;
        var callbackCall = Structure.IsCallbackHelperCall(_p[pc]);
        if (list is not null)
        {
            for (var i = 0; i < list.Count; i++)
            {
                var cp = list[i];
                if (!SameCallSites(cp.State, _cur)) continue;
                if (cp.Branches > 0)
                {
                    looping = true;
                    // A loop through may_goto ends once an iteration is within an earlier one (RANGE_WITHIN):
                    // the earlier state's exploration covers it, and the budget bounds the loop at run time.
                    if (mayGoto && cp.State.MayGotoDepth != _cur.MayGotoDepth && StateCompare.Equal(cp.State, _cur, exact: false, this, 0x7ff))
                    {
                        cp.Hits++;
                        return true;
                    }
                    // Back at a helper call after its callback: covered when within an earlier visit (RANGE_WITHIN);
                    // repeated visits are expected there, so no infinite-loop check.
                    if (callbackCall)
                    {
                        if (StateCompare.Equal(cp.State, _cur, exact: false, this, 0x7ff))
                        {
                            cp.Hits++;
                            return true;
                        }
                        continue;
                    }
                    if (cp.State.MayGotoDepth == _cur.MayGotoDepth && cp.State.CallbackDepth == _cur.CallbackDepth
                        && StateCompare.Equal(cp.State, _cur, exact: true, this, 0x7ff))
                    {
                        throw Fail(VerifierErrorCode.InfiniteLoop, pc, $"infinite loop detected at insn {pc}");
                    }
                }
                else if (StateCompare.Equal(cp.State, _cur, exact: false, this, _need[pc]))
                {
                    if (!_reliedOnImprecision && _need[pc] != 0x7ff && !StateCompare.Equal(cp.State, _cur, exact: false, this, 0x7ff))
                    {
                        _reliedOnImprecision = true;
                    }
                    cp.Hits++;
                    return true;
                }
                // Like the kernel, forget states that keep failing to match so long loops stay linear.
                if (add && ++cp.Misses > cp.Hits * 3 + 3)
                {
                    // Its state is compared no more; only the branch count stays reachable (the path's parents).
                    cp.Forget();
                    list[i] = list[^1];
                    list.RemoveAt(list.Count - 1);
                    i--;
                    _stored--;
                }
            }
        }
        if (looping && _jumps - _prevJumps < 20 && _processed - _prevProcessed < 100) add = false;
        if (mayGoto || callbackCall) add = true;
        if (!add) return false;

        var snapshot = _cur.Clone();
        var cpNew = new Checkpoint(snapshot, _cur.Parent);
        snapshot.Parent = null;
        (_explored[pc] ??= []).Add(cpNew);
        _cur.Parent = cpNew;
        _prevJumps = _jumps;
        _prevProcessed = _processed;
        _stored++;
        _totalStored++;
        _peakStored = Math.Max(_peakStored, _stored);
        return false;
    }

    private static bool SameCallSites(VState a, VState b)
    {
        if (a.CurFrame != b.CurFrame) return false;
        for (var i = 0; i <= a.CurFrame; i++)
        {
            if (a.Frames[i].CallSite != b.Frames[i].CallSite) return false;
        }
        return true;
    }

    internal bool AllowUninitStack => _allowUninitStack;

    /// <summary>The old-to-current id mapping <see cref="StateCompare.Equal"/> builds for one comparison (cleared by
    /// each; one per checker, so no thread-static lookup on every comparison).</summary>
    internal Dictionary<int, int> IdMap => _idMap ??= [];

    private Dictionary<int, int>? _idMap;

    // ---- stack depth --------------------------------------------------------------------------------

    private void NoteStackDepth(int frame, int off)
    {
        var sub = _cur.Frames[frame].Subprog;
        if (-off > _stackDepth[sub]) _stackDepth[sub] = -off;
    }

    /// <summary>Sums each subprogram's stack (rounded to 32 bytes) along every static call chain.</summary>
    private void CheckMaxStackDepth()
    {
        var frames = 0;
        void Walk(int sub, int depth, int callInsn)
        {
            frames++;
            // Tail calls unwind only the current frame: the kernel caps the callers' stack at 256 bytes.
            if (sub != 0 && _s.HasTailCall[sub] && depth >= 256)
            {
                throw Fail(VerifierErrorCode.StackTooLarge, callInsn,
                    $"tail_calls are not allowed when call stack of previous frames is {depth} bytes. Too large");
            }
            if (frames > MaxCallFrames)
            {
                throw Fail(VerifierErrorCode.CallDepthExceeded, callInsn, $"the call stack of {frames} frames is too deep !");
            }
            depth += RoundStack(_stackDepth[sub]);
            if (depth > Frame.StackSize)
            {
                throw Fail(VerifierErrorCode.StackTooLarge, callInsn, $"combined stack size of {frames} calls is {depth}. Too large");
            }
            foreach (var (insn, callee) in _s.Calls[sub]) Walk(callee, depth, insn);
            frames--;
        }
        Walk(0, 0, -1);
    }

    private static int RoundStack(int depth) => (Math.Max(depth, 1) + 31) / 32 * 32;
}
