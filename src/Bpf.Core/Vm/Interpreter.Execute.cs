using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bpf;

public sealed unsafe partial class Interpreter
{
    /// <summary>How an <see cref="Execute{TMode}"/> instantiation counts the instruction budget.</summary>
    private interface IBudgetMode
    {
        /// <summary>True: check the budget before every instruction (the last stretch of a run's budget).
        /// False: check it only where control moves (taken jumps, calls, returns).</summary>
        static abstract bool Precise { get; }
    }

    private struct AtTransfers : IBudgetMode
    {
        public static bool Precise => false;
    }

    private struct EveryInstruction : IBudgetMode
    {
        public static bool Precise => true;
    }

    /// <summary>Instructions executed from <paramref name="start"/> up to (not including) <paramref name="ip"/> in a
    /// straight line (ip is never below start in one segment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Straight(DecodedOp* ip, DecodedOp* start) => (long)((ulong)((byte*)ip - (byte*)start) / (ulong)sizeof(DecodedOp));

    /// <summary>
    /// The run loop: one dense switch over pre-decoded operations, resumed from the state the caller left in
    /// <paramref name="st"/> (slot, call depth, budget; registers in <see cref="ExecutionState.Registers"/>).
    /// </summary>
    /// <remarks>
    /// <para>Instructions are counted per straight-line segment: <c>segStart</c> is where control last arrived and
    /// the segment's length is charged to <c>remaining</c> only when control moves again (a taken jump, a call, a
    /// return) or the run ends, so straight-line code pays nothing per instruction for the count and the budget.
    /// An lddw advances <c>segStart</c> by one so it counts once. <see cref="RunResult.InstructionsExecuted"/> stays exact.</para>
    /// <para>Straight-line code cannot loop: between two transfers a run executes at most
    /// <see cref="SlotCount"/> + 1 slots (the last is the fell-off-the-end marker). So while more than that remains
    /// of the budget, checking it at transfers cannot overrun it; once less remains, the
    /// <see cref="EveryInstruction"/> instantiation takes over and checks before every instruction, so the run stops
    /// exactly at the budget, as it always did. The mode is a generic struct parameter: the JIT compiles two copies of
    /// this one loop and removes the test that does not apply.</para>
    /// <para>Everything a rare path needs (fault messages, helper calls, the slow memory path) is in separate,
    /// non-inlined methods, so the loop's frame stays small and the instruction pointer stays in a register.</para>
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private RunResult Execute<TMode>(ExecutionState st, DecodedOp* code, ulong* dump) where TMode : struct, IBudgetMode
    {
        var r = st.Registers;
        // The fast window: the whole input memory, or for a context run the packet [data_meta, data_end).
        // Helpers may move it (xdp_adjust_head/meta/tail), so it is reloaded after every helper call.
        var inBase = st.WindowBase;
        var inHost = st.WindowHost;
        var inLen = st.WindowLength;

        var depth = st.Depth;
        var stackLen = (ulong)(depth + 1) * VmLayout.FrameStackSize;
        var stackLo = VmLayout.StackTop - stackLen;
        var stackHostLo = st.StackArea + (stackLo - VmLayout.StackBase);
        var frames = st.Frames;
        var helpers = _helpers;

        var remaining = st.Remaining;
        var mayGotoBudget = st.MayGotoBudget;
        var ip = code + st.Slot;
        var segStart = ip;
        DecodedOp* target;
        ulong fAddr = 0, fSize = 0;
        var fWrite = false;
        VmFault? fault;

        while (true)
        {
            if (TMode.Precise && Straight(ip, segStart) >= remaining) goto budgetExhausted;
            switch (ip->Code)
            {
                case VmOp.Nop: break;
                case VmOp.MovImm: r[ip->Dst] = ip->Imm; break;
                case VmOp.LdDw: r[ip->Dst] = ip->Imm; ip++; segStart++; break; // two slots, one instruction

                case VmOp.Add64Imm: r[ip->Dst] += ip->Imm; break;
                case VmOp.Add64Reg: r[ip->Dst] += r[ip->Src]; break;
                case VmOp.Sub64Imm: r[ip->Dst] -= ip->Imm; break;
                case VmOp.Sub64Reg: r[ip->Dst] -= r[ip->Src]; break;
                case VmOp.Mul64Imm: r[ip->Dst] *= ip->Imm; break;
                case VmOp.Mul64Reg: r[ip->Dst] *= r[ip->Src]; break;
                case VmOp.Div64Imm: r[ip->Dst] /= ip->Imm; break; // divisor != 0 (folded at load)
                case VmOp.Div64Reg: { var s = r[ip->Src]; r[ip->Dst] = s == 0 ? 0 : r[ip->Dst] / s; break; }
                case VmOp.SDiv64Imm: r[ip->Dst] = (ulong)((long)r[ip->Dst] / (long)ip->Imm); break; // divisor not 0 or -1
                case VmOp.SDiv64Reg:
                {
                    var s = (long)r[ip->Src];
                    var x = (long)r[ip->Dst];
                    // -1 is special-cased: the host's idiv traps on long.MinValue / -1; eBPF wraps.
                    r[ip->Dst] = s == 0 ? 0 : s == -1 ? (ulong)(0 - x) : (ulong)(x / s);
                    break;
                }
                case VmOp.Mod64Imm: r[ip->Dst] %= ip->Imm; break;
                case VmOp.Mod64Reg: { var s = r[ip->Src]; if (s != 0) r[ip->Dst] %= s; break; }
                case VmOp.SMod64Imm: r[ip->Dst] = (ulong)((long)r[ip->Dst] % (long)ip->Imm); break;
                case VmOp.SMod64Reg:
                {
                    var s = (long)r[ip->Src];
                    var x = (long)r[ip->Dst];
                    r[ip->Dst] = s == 0 ? (ulong)x : s == -1 ? 0 : (ulong)(x % s);
                    break;
                }
                case VmOp.Or64Imm: r[ip->Dst] |= ip->Imm; break;
                case VmOp.Or64Reg: r[ip->Dst] |= r[ip->Src]; break;
                case VmOp.And64Imm: r[ip->Dst] &= ip->Imm; break;
                case VmOp.And64Reg: r[ip->Dst] &= r[ip->Src]; break;
                case VmOp.Xor64Imm: r[ip->Dst] ^= ip->Imm; break;
                case VmOp.Xor64Reg: r[ip->Dst] ^= r[ip->Src]; break;
                case VmOp.Lsh64Imm: r[ip->Dst] <<= (int)ip->Imm; break;
                case VmOp.Lsh64Reg: r[ip->Dst] <<= (int)(r[ip->Src] & 63); break;
                case VmOp.Rsh64Imm: r[ip->Dst] >>= (int)ip->Imm; break;
                case VmOp.Rsh64Reg: r[ip->Dst] >>= (int)(r[ip->Src] & 63); break;
                case VmOp.Arsh64Imm: r[ip->Dst] = (ulong)((long)r[ip->Dst] >> (int)ip->Imm); break;
                case VmOp.Arsh64Reg: r[ip->Dst] = (ulong)((long)r[ip->Dst] >> (int)(r[ip->Src] & 63)); break;
                case VmOp.Neg64: r[ip->Dst] = 0 - r[ip->Dst]; break;
                case VmOp.Mov64Reg: r[ip->Dst] = r[ip->Src]; break;
                case VmOp.MovSx8To64: r[ip->Dst] = (ulong)(long)(sbyte)r[ip->Src]; break;
                case VmOp.MovSx16To64: r[ip->Dst] = (ulong)(long)(short)r[ip->Src]; break;
                case VmOp.MovSx32To64: r[ip->Dst] = (ulong)(long)(int)r[ip->Src]; break;

                case VmOp.Add32Imm: r[ip->Dst] = (uint)r[ip->Dst] + (uint)ip->Imm; break;
                case VmOp.Add32Reg: r[ip->Dst] = (uint)r[ip->Dst] + (uint)r[ip->Src]; break;
                case VmOp.Sub32Imm: r[ip->Dst] = (uint)r[ip->Dst] - (uint)ip->Imm; break;
                case VmOp.Sub32Reg: r[ip->Dst] = (uint)r[ip->Dst] - (uint)r[ip->Src]; break;
                case VmOp.Mul32Imm: r[ip->Dst] = (uint)r[ip->Dst] * (uint)ip->Imm; break;
                case VmOp.Mul32Reg: r[ip->Dst] = (uint)r[ip->Dst] * (uint)r[ip->Src]; break;
                case VmOp.Div32Imm: r[ip->Dst] = (uint)r[ip->Dst] / (uint)ip->Imm; break;
                case VmOp.Div32Reg: { var s = (uint)r[ip->Src]; r[ip->Dst] = s == 0 ? 0u : (uint)r[ip->Dst] / s; break; }
                case VmOp.SDiv32Imm: r[ip->Dst] = (uint)((int)r[ip->Dst] / (int)ip->Imm); break;
                case VmOp.SDiv32Reg:
                {
                    var s = (int)r[ip->Src];
                    var x = (int)r[ip->Dst];
                    r[ip->Dst] = s == 0 ? 0u : s == -1 ? (uint)(0 - x) : (uint)(x / s);
                    break;
                }
                case VmOp.Mod32Imm: r[ip->Dst] = (uint)r[ip->Dst] % (uint)ip->Imm; break;
                case VmOp.Mod32Reg: { var s = (uint)r[ip->Src]; r[ip->Dst] = s == 0 ? (uint)r[ip->Dst] : (uint)r[ip->Dst] % s; break; }
                case VmOp.SMod32Imm: r[ip->Dst] = (uint)((int)r[ip->Dst] % (int)ip->Imm); break;
                case VmOp.SMod32Reg:
                {
                    var s = (int)r[ip->Src];
                    var x = (int)r[ip->Dst];
                    r[ip->Dst] = s == 0 ? (uint)x : s == -1 ? 0u : (uint)(x % s);
                    break;
                }
                case VmOp.Or32Imm: r[ip->Dst] = (uint)r[ip->Dst] | (uint)ip->Imm; break;
                case VmOp.Or32Reg: r[ip->Dst] = (uint)r[ip->Dst] | (uint)r[ip->Src]; break;
                case VmOp.And32Imm: r[ip->Dst] = (uint)r[ip->Dst] & (uint)ip->Imm; break;
                case VmOp.And32Reg: r[ip->Dst] = (uint)r[ip->Dst] & (uint)r[ip->Src]; break;
                case VmOp.Xor32Imm: r[ip->Dst] = (uint)r[ip->Dst] ^ (uint)ip->Imm; break;
                case VmOp.Xor32Reg: r[ip->Dst] = (uint)r[ip->Dst] ^ (uint)r[ip->Src]; break;
                case VmOp.Lsh32Imm: r[ip->Dst] = (uint)r[ip->Dst] << (int)ip->Imm; break;
                case VmOp.Lsh32Reg: r[ip->Dst] = (uint)r[ip->Dst] << (int)(r[ip->Src] & 31); break;
                case VmOp.Rsh32Imm: r[ip->Dst] = (uint)r[ip->Dst] >> (int)ip->Imm; break;
                case VmOp.Rsh32Reg: r[ip->Dst] = (uint)r[ip->Dst] >> (int)(r[ip->Src] & 31); break;
                case VmOp.Arsh32Imm: r[ip->Dst] = (uint)((int)r[ip->Dst] >> (int)ip->Imm); break;
                case VmOp.Arsh32Reg: r[ip->Dst] = (uint)((int)r[ip->Dst] >> (int)(r[ip->Src] & 31)); break;
                case VmOp.Neg32: r[ip->Dst] = 0u - (uint)r[ip->Dst]; break;
                case VmOp.Mov32Reg: r[ip->Dst] = (uint)r[ip->Src]; break;
                case VmOp.MovSx8To32: r[ip->Dst] = (uint)(int)(sbyte)r[ip->Src]; break;
                case VmOp.MovSx16To32: r[ip->Dst] = (uint)(int)(short)r[ip->Src]; break;

                case VmOp.Zext16: r[ip->Dst] = (ushort)r[ip->Dst]; break;
                case VmOp.Zext32: r[ip->Dst] = (uint)r[ip->Dst]; break;
                case VmOp.Swap16: r[ip->Dst] = BinaryPrimitives.ReverseEndianness((ushort)r[ip->Dst]); break;
                case VmOp.Swap32: r[ip->Dst] = BinaryPrimitives.ReverseEndianness((uint)r[ip->Dst]); break;
                case VmOp.Swap64: r[ip->Dst] = BinaryPrimitives.ReverseEndianness(r[ip->Dst]); break;

                case VmOp.Ja: goto jump;
                case VmOp.MayGoto:
                    if (mayGotoBudget == 0) goto jump;
                    mayGotoBudget--;
                    break;
                    case VmOp.Jeq64Imm: if (r[ip->Dst] == ip->Imm) goto jump; break;
                    case VmOp.Jeq64Reg: if (r[ip->Dst] == r[ip->Src]) goto jump; break;
                    case VmOp.Jgt64Imm: if (r[ip->Dst] > ip->Imm) goto jump; break;
                    case VmOp.Jgt64Reg: if (r[ip->Dst] > r[ip->Src]) goto jump; break;
                    case VmOp.Jge64Imm: if (r[ip->Dst] >= ip->Imm) goto jump; break;
                    case VmOp.Jge64Reg: if (r[ip->Dst] >= r[ip->Src]) goto jump; break;
                    case VmOp.Jset64Imm: if ((r[ip->Dst] & ip->Imm) != 0) goto jump; break;
                    case VmOp.Jset64Reg: if ((r[ip->Dst] & r[ip->Src]) != 0) goto jump; break;
                    case VmOp.Jne64Imm: if (r[ip->Dst] != ip->Imm) goto jump; break;
                    case VmOp.Jne64Reg: if (r[ip->Dst] != r[ip->Src]) goto jump; break;
                    case VmOp.Jsgt64Imm: if ((long)r[ip->Dst] > (long)ip->Imm) goto jump; break;
                    case VmOp.Jsgt64Reg: if ((long)r[ip->Dst] > (long)r[ip->Src]) goto jump; break;
                    case VmOp.Jsge64Imm: if ((long)r[ip->Dst] >= (long)ip->Imm) goto jump; break;
                    case VmOp.Jsge64Reg: if ((long)r[ip->Dst] >= (long)r[ip->Src]) goto jump; break;
                    case VmOp.Jlt64Imm: if (r[ip->Dst] < ip->Imm) goto jump; break;
                    case VmOp.Jlt64Reg: if (r[ip->Dst] < r[ip->Src]) goto jump; break;
                    case VmOp.Jle64Imm: if (r[ip->Dst] <= ip->Imm) goto jump; break;
                    case VmOp.Jle64Reg: if (r[ip->Dst] <= r[ip->Src]) goto jump; break;
                    case VmOp.Jslt64Imm: if ((long)r[ip->Dst] < (long)ip->Imm) goto jump; break;
                    case VmOp.Jslt64Reg: if ((long)r[ip->Dst] < (long)r[ip->Src]) goto jump; break;
                    case VmOp.Jsle64Imm: if ((long)r[ip->Dst] <= (long)ip->Imm) goto jump; break;
                    case VmOp.Jsle64Reg: if ((long)r[ip->Dst] <= (long)r[ip->Src]) goto jump; break;
                    case VmOp.Jeq32Imm: if ((uint)r[ip->Dst] == (uint)ip->Imm) goto jump; break;
                    case VmOp.Jeq32Reg: if ((uint)r[ip->Dst] == (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jgt32Imm: if ((uint)r[ip->Dst] > (uint)ip->Imm) goto jump; break;
                    case VmOp.Jgt32Reg: if ((uint)r[ip->Dst] > (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jge32Imm: if ((uint)r[ip->Dst] >= (uint)ip->Imm) goto jump; break;
                    case VmOp.Jge32Reg: if ((uint)r[ip->Dst] >= (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jset32Imm: if (((uint)r[ip->Dst] & (uint)ip->Imm) != 0) goto jump; break;
                    case VmOp.Jset32Reg: if (((uint)r[ip->Dst] & (uint)r[ip->Src]) != 0) goto jump; break;
                    case VmOp.Jne32Imm: if ((uint)r[ip->Dst] != (uint)ip->Imm) goto jump; break;
                    case VmOp.Jne32Reg: if ((uint)r[ip->Dst] != (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jsgt32Imm: if ((int)r[ip->Dst] > (int)ip->Imm) goto jump; break;
                    case VmOp.Jsgt32Reg: if ((int)r[ip->Dst] > (int)r[ip->Src]) goto jump; break;
                    case VmOp.Jsge32Imm: if ((int)r[ip->Dst] >= (int)ip->Imm) goto jump; break;
                    case VmOp.Jsge32Reg: if ((int)r[ip->Dst] >= (int)r[ip->Src]) goto jump; break;
                    case VmOp.Jlt32Imm: if ((uint)r[ip->Dst] < (uint)ip->Imm) goto jump; break;
                    case VmOp.Jlt32Reg: if ((uint)r[ip->Dst] < (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jle32Imm: if ((uint)r[ip->Dst] <= (uint)ip->Imm) goto jump; break;
                    case VmOp.Jle32Reg: if ((uint)r[ip->Dst] <= (uint)r[ip->Src]) goto jump; break;
                    case VmOp.Jslt32Imm: if ((int)r[ip->Dst] < (int)ip->Imm) goto jump; break;
                    case VmOp.Jslt32Reg: if ((int)r[ip->Dst] < (int)r[ip->Src]) goto jump; break;
                    case VmOp.Jsle32Imm: if ((int)r[ip->Dst] <= (int)ip->Imm) goto jump; break;
                    case VmOp.Jsle32Reg: if ((int)r[ip->Dst] <= (int)r[ip->Src]) goto jump; break;

                case VmOp.CallHelper:
                {
                    st.Depth = depth;
                    r[0] = InvokeHelper(st, helpers[(int)ip->Imm]!, (int)(ip - code), r);
                    if (st.Signal != HelperSignal.None) goto helperSignal;
                    inBase = st.WindowBase;
                    inHost = st.WindowHost;
                    inLen = st.WindowLength;
                    break;
                }
                case VmOp.CallX:
                {
                    var id = r[ip->Dst];
                    var helper = id < (ulong)helpers.Length ? helpers[(int)id] : null;
                    if (helper is null)
                    {
                        fault = UnknownCallX(ip - code, id, ip->Dst);
                        goto faulted;
                    }
                    st.Depth = depth;
                    r[0] = InvokeHelper(st, helper, (int)(ip - code), r);
                    if (st.Signal != HelperSignal.None) goto helperSignal;
                    inBase = st.WindowBase;
                    inHost = st.WindowHost;
                    inLen = st.WindowLength;
                    break;
                }
                case VmOp.CallUnknown:
                    fault = UnknownCall(ip - code, ip->Imm);
                    goto faulted;
                case VmOp.CallLocal:
                {
                    if (depth + 1 >= VmLayout.MaxFrames)
                    {
                        fault = CallDepthExceeded(ip - code, depth);
                        goto faulted;
                    }
                    ref var saved = ref frames[depth];
                    saved.ReturnSlot = (int)(ip - code) + 1;
                    saved.R6 = r[6];
                    saved.R7 = r[7];
                    saved.R8 = r[8];
                    saved.R9 = r[9];
                    depth++;
                    stackLen += VmLayout.FrameStackSize;
                    stackLo -= VmLayout.FrameStackSize;
                    stackHostLo -= VmLayout.FrameStackSize;
                    r[10] -= VmLayout.FrameStackSize;
                    new Span<byte>(stackHostLo, VmLayout.FrameStackSize).Clear();
                    goto jump;
                }
                case VmOp.Exit:
                {
                    if (depth == 0) goto exited;
                    depth--;
                    ref var saved = ref frames[depth];
                    r[6] = saved.R6;
                    r[7] = saved.R7;
                    r[8] = saved.R8;
                    r[9] = saved.R9;
                    stackLen -= VmLayout.FrameStackSize;
                    stackLo += VmLayout.FrameStackSize;
                    stackHostLo += VmLayout.FrameStackSize;
                    r[10] += VmLayout.FrameStackSize;
                    target = code + saved.ReturnSlot;
                    goto transfer;
                }

                case VmOp.LdAbsB: case VmOp.LdAbsH: case VmOp.LdAbsW:
                case VmOp.LdIndB: case VmOp.LdIndH: case VmOp.LdIndW:
                {
                    // Legacy packet loads: the offset is a 32-bit signed value; out of range ends the program
                    // with r0 = 0, as the kernel does.
                    var indirect = ip->Code >= VmOp.LdIndB;
                    var size = (ip->Code - (indirect ? VmOp.LdIndB : VmOp.LdAbsB)) switch { 0 => 1, 1 => 2, _ => 4 };
                    long offset = (int)((indirect ? r[ip->Src] : 0) + ip->Imm);
                    if (offset < 0 || (ulong)offset + (ulong)size > inLen)
                    {
                        r[0] = 0;
                        goto exited;
                    }
                    var packet = inHost + offset;
                    r[0] = size switch
                    {
                        1 => *packet,
                        2 => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(packet)),
                        _ => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(packet)),
                    };
                    break;
                }

                    case VmOp.LdxB:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, false)) == null) { fAddr = a; fSize = 1; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = *p;
                        break;
                    }
                    case VmOp.LdxH:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, false)) == null) { fAddr = a; fSize = 2; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = Unsafe.ReadUnaligned<ushort>(p);
                        break;
                    }
                    case VmOp.LdxW:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, false)) == null) { fAddr = a; fSize = 4; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = Unsafe.ReadUnaligned<uint>(p);
                        break;
                    }
                    case VmOp.LdxDW:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, false)) == null) { fAddr = a; fSize = 8; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = Unsafe.ReadUnaligned<ulong>(p);
                        break;
                    }
                    case VmOp.LdxSB:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, false)) == null) { fAddr = a; fSize = 1; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = (ulong)(long)*(sbyte*)p;
                        break;
                    }
                    case VmOp.LdxSH:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, false)) == null) { fAddr = a; fSize = 2; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = (ulong)(long)Unsafe.ReadUnaligned<short>(p);
                        break;
                    }
                    case VmOp.LdxSW:
                    {
                        var a = r[ip->Src] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, false)) == null) { fAddr = a; fSize = 4; fWrite = false; goto memoryFault; }
                        r[ip->Dst] = (ulong)(long)Unsafe.ReadUnaligned<int>(p);
                        break;
                    }
                    case VmOp.StB:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, true)) == null) { fAddr = a; fSize = 1; fWrite = true; goto memoryFault; }
                        *p = (byte)ip->Imm;
                        break;
                    }
                    case VmOp.StH:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, true)) == null) { fAddr = a; fSize = 2; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (ushort)ip->Imm);
                        break;
                    }
                    case VmOp.StW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (uint)ip->Imm);
                        break;
                    }
                    case VmOp.StDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, ip->Imm);
                        break;
                    }
                    case VmOp.StxB:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, true)) == null) { fAddr = a; fSize = 1; fWrite = true; goto memoryFault; }
                        *p = (byte)r[ip->Src];
                        break;
                    }
                    case VmOp.StxH:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, true)) == null) { fAddr = a; fSize = 2; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (ushort)r[ip->Src]);
                        break;
                    }
                    case VmOp.StxW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.StxDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicAddW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Add32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicAddDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Add64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAddW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Add32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAddDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Add64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicOrW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Or32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicOrDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Or64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchOrW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Or32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchOrDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Or64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicAndW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.And32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicAndDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.And64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAndW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.And32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAndDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.And64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicXorW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Xor32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicXorDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Xor64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchXorW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Xor32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchXorDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Xor64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicXchgW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Xchg32(p, (uint)r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicXchgDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[ip->Src] = Atomics.Xchg64(p, r[ip->Src]);
                        break;
                    }
                    case VmOp.AtomicCmpXchgW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[0] = Atomics.CmpXchg32(p, (uint)r[ip->Src], (uint)r[0]);
                        break;
                    }
                    case VmOp.AtomicCmpXchgDW:
                    {
                        var a = r[ip->Dst] + (ulong)(long)ip->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[0] = Atomics.CmpXchg64(p, r[ip->Src], r[0]);
                        break;
                    }

                // Superinstructions: the add, then the jump of the next slot on the value just computed (one dispatch, no
                // reload of dst). The jump's slot counts as executed like any other (ip moves onto it before the branch).
                // The per-instruction budget mode runs the two halves separately: only the add here.
                case VmOp.AddJeq64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v == ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJeq64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v == r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJgt64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v > ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJgt64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v > r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJge64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v >= ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJge64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v >= r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJne64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v != ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJne64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v != r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJsgt64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v > (long)ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJsgt64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v > (long)r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJsge64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v >= (long)ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJsge64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v >= (long)r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJlt64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v < ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJlt64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v < r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJle64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v <= ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJle64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if (v <= r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJslt64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v < (long)ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJslt64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v < (long)r[ip->Src]) goto jump;
                    break;
                }
                case VmOp.AddJsle64Imm:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v <= (long)ip->Imm) goto jump;
                    break;
                }
                case VmOp.AddJsle64Reg:
                {
                    if (TMode.Precise) { r[ip->Dst] += ip->Imm; break; }
                    var v = r[ip->Dst] += ip->Imm;
                    ip++;
                    if ((long)v <= (long)r[ip->Src]) goto jump;
                    break;
                }

                case VmOp.FellOffEnd:
                    fault = FellOffEnd(ip - code);
                    goto faulted;
                default: // WideSecondSlot: unreachable, load-time checks forbid jumping there
                    fault = SecondSlotExecuted(ip - code);
                    goto faulted;
            }
            ip++;
            continue;

        jump:
            target = code + ip->Off;
        transfer:
            // Control moves: charge the straight-line segment that ends here (this instruction included).
            remaining -= Straight(ip, segStart) + 1;
            ip = segStart = target;
            if (!TMode.Precise && remaining <= _preciseBelow) goto switchToPrecise;
        }

    switchToPrecise:
        // Less budget left than one straight-line stretch can take: the precise loop finishes the run.
        st.Slot = (int)(ip - code);
        st.Depth = depth;
        st.Remaining = remaining;
        st.MayGotoBudget = mayGotoBudget;
        st.ResumePrecise = true;
        return default;

    exited:
        Dump(dump, r);
        return new RunResult(r[0], null, _budget - remaining + Straight(ip, segStart) + 1);

    helperSignal:
        if (st.Signal == HelperSignal.Stop)
        {
            r[0] = st.StopValue;
            goto exited;
        }
        fault = st.PendingFault!;
        goto faulted;

    memoryFault:
        fault = MemoryFault(st, depth, (int)(ip - code), fAddr, fSize, fWrite);
        goto faulted;

    budgetExhausted:
        // The instruction at ip was not executed: the whole budget went to the ones before it.
        fault = BudgetExhausted(ip - code);
        Dump(dump, r);
        return new RunResult(0, fault, _budget);

    faulted:
        Dump(dump, r);
        // The faulting instruction was started (counted) but did not complete.
        return new RunResult(0, fault, _budget - remaining + Straight(ip, segStart) + 1);
    }

    private static void Dump(ulong* dump, ulong* r)
    {
        if (dump != null)
        {
            for (var k = 0; k <= 10; k++) dump[k] = r[k];
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmFault UnknownCall(long slot, ulong id) => UnknownHelper(slot, id, "call");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmFault UnknownCallX(long slot, ulong id, byte register) => UnknownHelper(slot, id, $"callx r{register}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmFault CallDepthExceeded(long slot, int depth) =>
        new(VmFaultKind.CallDepthExceeded, (int)slot,
            $"insn {slot}: call depth exceeded: a call from frame {depth} would need more than {VmLayout.MaxFrames} frames");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmFault FellOffEnd(long slot) =>
        new(VmFaultKind.FellOffEnd, (int)slot, $"insn {slot}: execution ran past the last instruction without an exit");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmFault SecondSlotExecuted(long slot) =>
        new(VmFaultKind.FellOffEnd, (int)slot, $"insn {slot}: executed the second slot of an lddw");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private VmFault BudgetExhausted(long slot) =>
        new(VmFaultKind.BudgetExhausted, (int)slot, $"insn {slot}: instruction budget exhausted ({_budget} instructions executed)");

    private static VmFault UnknownHelper(long slot, ulong id, string how) =>
        new(VmFaultKind.UnknownHelper, (int)slot, $"insn {slot}: {how} of unknown helper id {id}");
}
