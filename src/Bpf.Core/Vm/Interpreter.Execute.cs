using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bpf;

public sealed unsafe partial class Interpreter
{
    /// <summary>The run loop: one dense switch over pre-decoded operations. Registers live in a stack buffer,
    /// the live stack frames and input memory are addressed through a handful of locals so the common access
    /// check is two subtractions and two compares.</summary>
    [SkipLocalsInit]
    private RunResult Execute(ExecutionState st, DecodedOp* code, ulong* dump)
    {
        var r = stackalloc ulong[11];
        r[0] = 0;
        r[1] = VmLayout.InputBase;
        r[2] = st.InputLength;
        // The fast window: the whole input memory, or for a context run the packet [data_meta, data_end).
        // Helpers may move it (xdp_adjust_head/meta/tail), so it is reloaded after every helper call.
        var inBase = st.WindowBase;
        var inHost = st.WindowHost;
        var inLen = st.WindowLength;
        r[3] = r[4] = r[5] = r[6] = r[7] = r[8] = r[9] = 0;
        r[10] = VmLayout.StackTop;

        var depth = 0;
        ulong stackLen = VmLayout.FrameStackSize;
        var stackLo = VmLayout.StackTop - stackLen;
        var stackHostLo = st.StackArea + (stackLo - VmLayout.StackBase);
        // Each frame's stack starts zeroed: no data leaks from earlier runs, and results are deterministic.
        new Span<byte>(stackHostLo, VmLayout.FrameStackSize).Clear();
        st.Signal = HelperSignal.None;
        st.Depth = 0;
        var frames = st.Frames;
        var helpers = _helpers;

        var remaining = _budget;
        var mayGotoBudget = Opcodes.MaxLoops;
        var ip = code;
        DecodedOp* i;
        ulong fAddr = 0, fSize = 0;
        var fWrite = false;
        VmFault? fault;

        while (true)
        {
            if (--remaining < 0) goto budgetExhausted;
            i = ip++;
            switch (i->Code)
            {
                case VmOp.Nop: break;
                case VmOp.MovImm: r[i->Dst] = i->Imm; break;
                case VmOp.LdDw: r[i->Dst] = i->Imm; ip++; break;

                case VmOp.Add64Imm: r[i->Dst] += i->Imm; break;
                case VmOp.Add64Reg: r[i->Dst] += r[i->Src]; break;
                case VmOp.Sub64Imm: r[i->Dst] -= i->Imm; break;
                case VmOp.Sub64Reg: r[i->Dst] -= r[i->Src]; break;
                case VmOp.Mul64Imm: r[i->Dst] *= i->Imm; break;
                case VmOp.Mul64Reg: r[i->Dst] *= r[i->Src]; break;
                case VmOp.Div64Imm: r[i->Dst] /= i->Imm; break; // divisor != 0 (folded at load)
                case VmOp.Div64Reg: { var s = r[i->Src]; r[i->Dst] = s == 0 ? 0 : r[i->Dst] / s; break; }
                case VmOp.SDiv64Imm: r[i->Dst] = (ulong)((long)r[i->Dst] / (long)i->Imm); break; // divisor not 0 or -1
                case VmOp.SDiv64Reg:
                {
                    var s = (long)r[i->Src];
                    var x = (long)r[i->Dst];
                    // -1 is special-cased: the host's idiv traps on long.MinValue / -1; eBPF wraps.
                    r[i->Dst] = s == 0 ? 0 : s == -1 ? (ulong)(0 - x) : (ulong)(x / s);
                    break;
                }
                case VmOp.Mod64Imm: r[i->Dst] %= i->Imm; break;
                case VmOp.Mod64Reg: { var s = r[i->Src]; if (s != 0) r[i->Dst] %= s; break; }
                case VmOp.SMod64Imm: r[i->Dst] = (ulong)((long)r[i->Dst] % (long)i->Imm); break;
                case VmOp.SMod64Reg:
                {
                    var s = (long)r[i->Src];
                    var x = (long)r[i->Dst];
                    r[i->Dst] = s == 0 ? (ulong)x : s == -1 ? 0 : (ulong)(x % s);
                    break;
                }
                case VmOp.Or64Imm: r[i->Dst] |= i->Imm; break;
                case VmOp.Or64Reg: r[i->Dst] |= r[i->Src]; break;
                case VmOp.And64Imm: r[i->Dst] &= i->Imm; break;
                case VmOp.And64Reg: r[i->Dst] &= r[i->Src]; break;
                case VmOp.Xor64Imm: r[i->Dst] ^= i->Imm; break;
                case VmOp.Xor64Reg: r[i->Dst] ^= r[i->Src]; break;
                case VmOp.Lsh64Imm: r[i->Dst] <<= (int)i->Imm; break;
                case VmOp.Lsh64Reg: r[i->Dst] <<= (int)(r[i->Src] & 63); break;
                case VmOp.Rsh64Imm: r[i->Dst] >>= (int)i->Imm; break;
                case VmOp.Rsh64Reg: r[i->Dst] >>= (int)(r[i->Src] & 63); break;
                case VmOp.Arsh64Imm: r[i->Dst] = (ulong)((long)r[i->Dst] >> (int)i->Imm); break;
                case VmOp.Arsh64Reg: r[i->Dst] = (ulong)((long)r[i->Dst] >> (int)(r[i->Src] & 63)); break;
                case VmOp.Neg64: r[i->Dst] = 0 - r[i->Dst]; break;
                case VmOp.Mov64Reg: r[i->Dst] = r[i->Src]; break;
                case VmOp.MovSx8To64: r[i->Dst] = (ulong)(long)(sbyte)r[i->Src]; break;
                case VmOp.MovSx16To64: r[i->Dst] = (ulong)(long)(short)r[i->Src]; break;
                case VmOp.MovSx32To64: r[i->Dst] = (ulong)(long)(int)r[i->Src]; break;

                case VmOp.Add32Imm: r[i->Dst] = (uint)r[i->Dst] + (uint)i->Imm; break;
                case VmOp.Add32Reg: r[i->Dst] = (uint)r[i->Dst] + (uint)r[i->Src]; break;
                case VmOp.Sub32Imm: r[i->Dst] = (uint)r[i->Dst] - (uint)i->Imm; break;
                case VmOp.Sub32Reg: r[i->Dst] = (uint)r[i->Dst] - (uint)r[i->Src]; break;
                case VmOp.Mul32Imm: r[i->Dst] = (uint)r[i->Dst] * (uint)i->Imm; break;
                case VmOp.Mul32Reg: r[i->Dst] = (uint)r[i->Dst] * (uint)r[i->Src]; break;
                case VmOp.Div32Imm: r[i->Dst] = (uint)r[i->Dst] / (uint)i->Imm; break;
                case VmOp.Div32Reg: { var s = (uint)r[i->Src]; r[i->Dst] = s == 0 ? 0u : (uint)r[i->Dst] / s; break; }
                case VmOp.SDiv32Imm: r[i->Dst] = (uint)((int)r[i->Dst] / (int)i->Imm); break;
                case VmOp.SDiv32Reg:
                {
                    var s = (int)r[i->Src];
                    var x = (int)r[i->Dst];
                    r[i->Dst] = s == 0 ? 0u : s == -1 ? (uint)(0 - x) : (uint)(x / s);
                    break;
                }
                case VmOp.Mod32Imm: r[i->Dst] = (uint)r[i->Dst] % (uint)i->Imm; break;
                case VmOp.Mod32Reg: { var s = (uint)r[i->Src]; r[i->Dst] = s == 0 ? (uint)r[i->Dst] : (uint)r[i->Dst] % s; break; }
                case VmOp.SMod32Imm: r[i->Dst] = (uint)((int)r[i->Dst] % (int)i->Imm); break;
                case VmOp.SMod32Reg:
                {
                    var s = (int)r[i->Src];
                    var x = (int)r[i->Dst];
                    r[i->Dst] = s == 0 ? (uint)x : s == -1 ? 0u : (uint)(x % s);
                    break;
                }
                case VmOp.Or32Imm: r[i->Dst] = (uint)r[i->Dst] | (uint)i->Imm; break;
                case VmOp.Or32Reg: r[i->Dst] = (uint)r[i->Dst] | (uint)r[i->Src]; break;
                case VmOp.And32Imm: r[i->Dst] = (uint)r[i->Dst] & (uint)i->Imm; break;
                case VmOp.And32Reg: r[i->Dst] = (uint)r[i->Dst] & (uint)r[i->Src]; break;
                case VmOp.Xor32Imm: r[i->Dst] = (uint)r[i->Dst] ^ (uint)i->Imm; break;
                case VmOp.Xor32Reg: r[i->Dst] = (uint)r[i->Dst] ^ (uint)r[i->Src]; break;
                case VmOp.Lsh32Imm: r[i->Dst] = (uint)r[i->Dst] << (int)i->Imm; break;
                case VmOp.Lsh32Reg: r[i->Dst] = (uint)r[i->Dst] << (int)(r[i->Src] & 31); break;
                case VmOp.Rsh32Imm: r[i->Dst] = (uint)r[i->Dst] >> (int)i->Imm; break;
                case VmOp.Rsh32Reg: r[i->Dst] = (uint)r[i->Dst] >> (int)(r[i->Src] & 31); break;
                case VmOp.Arsh32Imm: r[i->Dst] = (uint)((int)r[i->Dst] >> (int)i->Imm); break;
                case VmOp.Arsh32Reg: r[i->Dst] = (uint)((int)r[i->Dst] >> (int)(r[i->Src] & 31)); break;
                case VmOp.Neg32: r[i->Dst] = 0u - (uint)r[i->Dst]; break;
                case VmOp.Mov32Reg: r[i->Dst] = (uint)r[i->Src]; break;
                case VmOp.MovSx8To32: r[i->Dst] = (uint)(int)(sbyte)r[i->Src]; break;
                case VmOp.MovSx16To32: r[i->Dst] = (uint)(int)(short)r[i->Src]; break;

                case VmOp.Zext16: r[i->Dst] = (ushort)r[i->Dst]; break;
                case VmOp.Zext32: r[i->Dst] = (uint)r[i->Dst]; break;
                case VmOp.Swap16: r[i->Dst] = BinaryPrimitives.ReverseEndianness((ushort)r[i->Dst]); break;
                case VmOp.Swap32: r[i->Dst] = BinaryPrimitives.ReverseEndianness((uint)r[i->Dst]); break;
                case VmOp.Swap64: r[i->Dst] = BinaryPrimitives.ReverseEndianness(r[i->Dst]); break;

                case VmOp.Ja: ip = code + i->Off; break;
                case VmOp.MayGoto:
                    if (mayGotoBudget == 0) ip = code + i->Off;
                    else mayGotoBudget--;
                    break;
                    case VmOp.Jeq64Imm: if (r[i->Dst] == i->Imm) ip = code + i->Off; break;
                    case VmOp.Jeq64Reg: if (r[i->Dst] == r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jgt64Imm: if (r[i->Dst] > i->Imm) ip = code + i->Off; break;
                    case VmOp.Jgt64Reg: if (r[i->Dst] > r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jge64Imm: if (r[i->Dst] >= i->Imm) ip = code + i->Off; break;
                    case VmOp.Jge64Reg: if (r[i->Dst] >= r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jset64Imm: if ((r[i->Dst] & i->Imm) != 0) ip = code + i->Off; break;
                    case VmOp.Jset64Reg: if ((r[i->Dst] & r[i->Src]) != 0) ip = code + i->Off; break;
                    case VmOp.Jne64Imm: if (r[i->Dst] != i->Imm) ip = code + i->Off; break;
                    case VmOp.Jne64Reg: if (r[i->Dst] != r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsgt64Imm: if ((long)r[i->Dst] > (long)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsgt64Reg: if ((long)r[i->Dst] > (long)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsge64Imm: if ((long)r[i->Dst] >= (long)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsge64Reg: if ((long)r[i->Dst] >= (long)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jlt64Imm: if (r[i->Dst] < i->Imm) ip = code + i->Off; break;
                    case VmOp.Jlt64Reg: if (r[i->Dst] < r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jle64Imm: if (r[i->Dst] <= i->Imm) ip = code + i->Off; break;
                    case VmOp.Jle64Reg: if (r[i->Dst] <= r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jslt64Imm: if ((long)r[i->Dst] < (long)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jslt64Reg: if ((long)r[i->Dst] < (long)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsle64Imm: if ((long)r[i->Dst] <= (long)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsle64Reg: if ((long)r[i->Dst] <= (long)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jeq32Imm: if ((uint)r[i->Dst] == (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jeq32Reg: if ((uint)r[i->Dst] == (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jgt32Imm: if ((uint)r[i->Dst] > (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jgt32Reg: if ((uint)r[i->Dst] > (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jge32Imm: if ((uint)r[i->Dst] >= (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jge32Reg: if ((uint)r[i->Dst] >= (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jset32Imm: if (((uint)r[i->Dst] & (uint)i->Imm) != 0) ip = code + i->Off; break;
                    case VmOp.Jset32Reg: if (((uint)r[i->Dst] & (uint)r[i->Src]) != 0) ip = code + i->Off; break;
                    case VmOp.Jne32Imm: if ((uint)r[i->Dst] != (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jne32Reg: if ((uint)r[i->Dst] != (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsgt32Imm: if ((int)r[i->Dst] > (int)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsgt32Reg: if ((int)r[i->Dst] > (int)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsge32Imm: if ((int)r[i->Dst] >= (int)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsge32Reg: if ((int)r[i->Dst] >= (int)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jlt32Imm: if ((uint)r[i->Dst] < (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jlt32Reg: if ((uint)r[i->Dst] < (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jle32Imm: if ((uint)r[i->Dst] <= (uint)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jle32Reg: if ((uint)r[i->Dst] <= (uint)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jslt32Imm: if ((int)r[i->Dst] < (int)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jslt32Reg: if ((int)r[i->Dst] < (int)r[i->Src]) ip = code + i->Off; break;
                    case VmOp.Jsle32Imm: if ((int)r[i->Dst] <= (int)i->Imm) ip = code + i->Off; break;
                    case VmOp.Jsle32Reg: if ((int)r[i->Dst] <= (int)r[i->Src]) ip = code + i->Off; break;

                case VmOp.CallHelper:
                {
                    st.Depth = depth;
                    r[0] = InvokeHelper(st, helpers[(int)i->Imm]!, (int)(i - code), r);
                    if (st.Signal != HelperSignal.None) goto helperSignal;
                    inBase = st.WindowBase;
                    inHost = st.WindowHost;
                    inLen = st.WindowLength;
                    break;
                }
                case VmOp.CallX:
                {
                    var id = r[i->Dst];
                    var helper = id < (ulong)helpers.Length ? helpers[(int)id] : null;
                    if (helper is null)
                    {
                        fault = UnknownHelper(i - code, id, $"callx r{i->Dst}");
                        goto faulted;
                    }
                    st.Depth = depth;
                    r[0] = InvokeHelper(st, helper, (int)(i - code), r);
                    if (st.Signal != HelperSignal.None) goto helperSignal;
                    inBase = st.WindowBase;
                    inHost = st.WindowHost;
                    inLen = st.WindowLength;
                    break;
                }
                case VmOp.CallUnknown:
                    fault = UnknownHelper(i - code, i->Imm, "call");
                    goto faulted;
                case VmOp.CallLocal:
                {
                    if (depth + 1 >= VmLayout.MaxFrames)
                    {
                        fault = new VmFault(VmFaultKind.CallDepthExceeded, (int)(i - code),
                            $"insn {i - code}: call depth exceeded: a call from frame {depth} would need more than {VmLayout.MaxFrames} frames");
                        goto faulted;
                    }
                    ref var saved = ref frames[depth];
                    saved.ReturnSlot = (int)(ip - code);
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
                    ip = code + i->Off;
                    break;
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
                    ip = code + saved.ReturnSlot;
                    break;
                }

                case VmOp.LdAbsB: case VmOp.LdAbsH: case VmOp.LdAbsW:
                case VmOp.LdIndB: case VmOp.LdIndH: case VmOp.LdIndW:
                {
                    // Legacy packet loads: the offset is a 32-bit signed value; out of range ends the program
                    // with r0 = 0, as the kernel does.
                    var indirect = i->Code >= VmOp.LdIndB;
                    var size = (i->Code - (indirect ? VmOp.LdIndB : VmOp.LdAbsB)) switch { 0 => 1, 1 => 2, _ => 4 };
                    long offset = (int)((indirect ? r[i->Src] : 0) + i->Imm);
                    if (offset < 0 || (ulong)offset + (ulong)size > inLen)
                    {
                        r[0] = 0;
                        goto exited;
                    }
                    var packet = new ReadOnlySpan<byte>(inHost + offset, size);
                    r[0] = size switch
                    {
                        1 => packet[0],
                        2 => BinaryPrimitives.ReadUInt16BigEndian(packet),
                        _ => BinaryPrimitives.ReadUInt32BigEndian(packet),
                    };
                    break;
                }

                    case VmOp.LdxB:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, false)) == null) { fAddr = a; fSize = 1; fWrite = false; goto memoryFault; }
                        r[i->Dst] = *p;
                        break;
                    }
                    case VmOp.LdxH:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, false)) == null) { fAddr = a; fSize = 2; fWrite = false; goto memoryFault; }
                        r[i->Dst] = Unsafe.ReadUnaligned<ushort>(p);
                        break;
                    }
                    case VmOp.LdxW:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, false)) == null) { fAddr = a; fSize = 4; fWrite = false; goto memoryFault; }
                        r[i->Dst] = Unsafe.ReadUnaligned<uint>(p);
                        break;
                    }
                    case VmOp.LdxDW:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, false)) == null) { fAddr = a; fSize = 8; fWrite = false; goto memoryFault; }
                        r[i->Dst] = Unsafe.ReadUnaligned<ulong>(p);
                        break;
                    }
                    case VmOp.LdxSB:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, false)) == null) { fAddr = a; fSize = 1; fWrite = false; goto memoryFault; }
                        r[i->Dst] = (ulong)(long)*(sbyte*)p;
                        break;
                    }
                    case VmOp.LdxSH:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, false)) == null) { fAddr = a; fSize = 2; fWrite = false; goto memoryFault; }
                        r[i->Dst] = (ulong)(long)Unsafe.ReadUnaligned<short>(p);
                        break;
                    }
                    case VmOp.LdxSW:
                    {
                        var a = r[i->Src] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, false)) == null) { fAddr = a; fSize = 4; fWrite = false; goto memoryFault; }
                        r[i->Dst] = (ulong)(long)Unsafe.ReadUnaligned<int>(p);
                        break;
                    }
                    case VmOp.StB:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, true)) == null) { fAddr = a; fSize = 1; fWrite = true; goto memoryFault; }
                        *p = (byte)i->Imm;
                        break;
                    }
                    case VmOp.StH:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, true)) == null) { fAddr = a; fSize = 2; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (ushort)i->Imm);
                        break;
                    }
                    case VmOp.StW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (uint)i->Imm);
                        break;
                    }
                    case VmOp.StDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, i->Imm);
                        break;
                    }
                    case VmOp.StxB:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 1, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 1, true)) == null) { fAddr = a; fSize = 1; fWrite = true; goto memoryFault; }
                        *p = (byte)r[i->Src];
                        break;
                    }
                    case VmOp.StxH:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 2, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 2, true)) == null) { fAddr = a; fSize = 2; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (ushort)r[i->Src]);
                        break;
                    }
                    case VmOp.StxW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.StxDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Unsafe.WriteUnaligned(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicAddW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Add32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicAddDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Add64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAddW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Add32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAddDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Add64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicOrW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Or32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicOrDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Or64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchOrW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Or32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchOrDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Or64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicAndW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.And32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicAndDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.And64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAndW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.And32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchAndDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.And64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicXorW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        Atomics.Xor32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicXorDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        Atomics.Xor64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchXorW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Xor32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicFetchXorDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Xor64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicXchgW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Xchg32(p, (uint)r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicXchgDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[i->Src] = Atomics.Xchg64(p, r[i->Src]);
                        break;
                    }
                    case VmOp.AtomicCmpXchgW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 4, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 4, true)) == null) { fAddr = a; fSize = 4; fWrite = true; goto memoryFault; }
                        r[0] = Atomics.CmpXchg32(p, (uint)r[i->Src], (uint)r[0]);
                        break;
                    }
                    case VmOp.AtomicCmpXchgDW:
                    {
                        var a = r[i->Dst] + (ulong)(long)i->Off;
                        var p = Map(a, 8, stackLo, stackLen, stackHostLo, inBase, inHost, inLen);
                        if (p == null && (p = MapSlow(st, a, 8, true)) == null) { fAddr = a; fSize = 8; fWrite = true; goto memoryFault; }
                        r[0] = Atomics.CmpXchg64(p, r[i->Src], r[0]);
                        break;
                    }

                case VmOp.FellOffEnd:
                    fault = new VmFault(VmFaultKind.FellOffEnd, (int)(i - code),
                        $"insn {i - code}: execution ran past the last instruction without an exit");
                    goto faulted;
                default: // WideSecondSlot: unreachable, load-time checks forbid jumping there
                    fault = new VmFault(VmFaultKind.FellOffEnd, (int)(i - code),
                        $"insn {i - code}: executed the second slot of an lddw");
                    goto faulted;
            }
        }

    exited:
        Dump(dump, r);
        return new RunResult(r[0], null, _budget - remaining);

    helperSignal:
        if (st.Signal == HelperSignal.Stop)
        {
            r[0] = st.StopValue;
            goto exited;
        }
        fault = st.PendingFault!;
        goto faulted;

    memoryFault:
        fault = MemoryFault(st, depth, (int)(i - code), fAddr, fSize, fWrite);
        goto faulted;

    budgetExhausted:
        remaining = 0; // the instruction that found the budget empty was not executed
        fault = new VmFault(VmFaultKind.BudgetExhausted, (int)(ip - code),
            $"insn {ip - code}: instruction budget exhausted ({_budget} instructions executed)");
        Dump(dump, r);
        return new RunResult(0, fault, _budget);

    faulted:
        Dump(dump, r);
        // The faulting instruction was started (counted) but did not complete.
        return new RunResult(0, fault, _budget - remaining);
    }

    private static void Dump(ulong* dump, ulong* r)
    {
        if (dump != null)
        {
            for (var k = 0; k <= 10; k++) dump[k] = r[k];
        }
    }

    private static VmFault UnknownHelper(long slot, ulong id, string how) =>
        new(VmFaultKind.UnknownHelper, (int)slot, $"insn {slot}: {how} of unknown helper id {id}");
}
