
namespace Bpf.Runtime;

/// <summary>What a context field access becomes after the rewrite.</summary>
internal readonly record struct FieldRewrite(bool Widen, short NewOffset, string? Error);

/// <summary>
/// The managed counterpart of the kernel verifier's <c>convert_ctx_accesses</c>: finds every load whose base
/// register holds the context pointer and rewrites the pointer fields (<c>data</c>, <c>data_end</c>,
/// <c>data_meta</c>, 32-bit in the UAPI struct, 64-bit pointers in reality) into 64-bit loads of the managed
/// context's pointer slots. It also expands the legacy <c>ld_abs</c>/<c>ld_ind</c> packet loads into a call of
/// an internal helper that reads relative to <c>skb-&gt;data</c>, as the kernel's rewrite does.
/// </summary>
/// <remarks>
/// Which register holds the context is found by a forward data-flow analysis over the whole program (registers
/// and 8-byte stack spill slots, bpf-to-bpf calls included): the same fact the kernel's verifier tracks. A load
/// reached by the context pointer on one path and another pointer on another is rejected, as the kernel rejects
/// it ("same insn cannot be used with different pointers").
/// </remarks>
internal static class ContextRewriter
{
    private const byte Bottom = 0, Ctx = 1, Other = 2;
    private const int Slots = 64; // 8-byte spill slots of one 512-byte frame
    private const int Width = 10 + Slots;

    /// <summary>Rewrites a program. <paramref name="field"/> maps (offset, size) of a context load to its rewrite;
    /// <paramref name="loadPacketHelper"/> is the helper id ld_abs/ld_ind become, or -1 to reject them.</summary>
    internal static Instruction[] Rewrite(ReadOnlySpan<Instruction> program, Func<int, int, FieldRewrite> field, int loadPacketHelper)
    {
        var insns = program.ToArray();
        var ctxLoads = Analyse(insns);
        var replacements = new Instruction[]?[insns.Length];
        for (var i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            var cls = insn.Opcode & 7;
            var mode = insn.Opcode & 0xe0;
            if (ctxLoads[i] && cls == 1 && mode == 0x60)
            {
                var size = SizeOf(insn.Opcode);
                var rewrite = field(insn.Offset, size);
                if (rewrite.Error is not null)
                {
                    throw new ProgramLoadException(i, $"insn {i}: {rewrite.Error}");
                }
                if (rewrite.Widen)
                {
                    insns[i] = new Instruction((byte)(0x61 | 0x18), insn.DstRaw, insn.SrcRaw, rewrite.NewOffset, 0);
                }
            }
            else if (cls == 0 && (mode == 0x20 || mode == 0x40))
            {
                if (loadPacketHelper < 0)
                {
                    throw new ProgramLoadException(i, $"insn {i}: legacy packet loads (ld_abs/ld_ind) are only allowed in socket filter and tc programs");
                }
                var size = SizeOf(insn.Opcode);
                var list = new List<Instruction>();
                if (mode == 0x40)
                {
                    list.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, insn.Src));
                    list.Add(Instruction.AluImm(OpClass.Alu, AluOp.Add, Register.R2, insn.Imm));
                }
                else
                {
                    list.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R2, insn.Imm));
                }
                list.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R3, size));
                list.Add(Instruction.CallHelper(loadPacketHelper));
                replacements[i] = list.ToArray();
            }
        }
        return Patch(insns, replacements);
    }

    private static int SizeOf(byte opcode) => (opcode & 0x18) switch { 0x00 => 4, 0x08 => 2, 0x10 => 1, _ => 8 };

    /// <summary>Replaces slots with instruction sequences and fixes every relative jump, call and function
    /// reference across the change. A replacement that starts with the original instruction keeps (and relocates)
    /// it; other replacements must not contain branches that cross the change.</summary>
    internal static Instruction[] Patch(Instruction[] insns, Instruction[]?[] replacements)
    {
        if (replacements.All(r => r is null)) return insns;
        var start = new int[insns.Length + 1];
        for (var i = 0; i < insns.Length; i++)
        {
            start[i + 1] = start[i] + (replacements[i]?.Length ?? 1);
        }
        var output = new List<Instruction>(start[^1]);
        for (var i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            if (replacements[i] is { } seq)
            {
                // A sequence that starts with the original instruction keeps it (relocated), then appends the rest.
                if (seq.Length == 0 || seq[0] != insn)
                {
                    output.AddRange(seq);
                    continue;
                }
                output.Add(Relocated(insn, i, start, insns.Length));
                output.AddRange(seq.AsSpan(1));
                continue;
            }
            output.Add(Relocated(insn, i, start, insns.Length));
        }
        return output.ToArray();
    }

    private static Instruction Relocated(Instruction insn, int i, int[] start, int n)
    {
        {
            var cls = insn.Opcode & 7;
            var op = insn.Opcode & 0xf0;
            int Relocate(int relative) => start[Math.Clamp(i + 1 + relative, 0, n)] - (start[i] + 1);
            if ((cls == 5 || cls == 6) && op != 0x90)
            {
                if (op == 0x80)
                {
                    // call: only bpf-to-bpf calls are relative.
                    if (insn.SrcRaw == 1) insn = insn.WithImm(Relocate(insn.Imm));
                }
                else if (cls == 6 && op == 0x00)
                {
                    insn = insn.WithImm(Relocate(insn.Imm)); // ja32 / gotol
                }
                else
                {
                    insn = insn.WithOffset(checked((short)Relocate(insn.Offset)));
                }
            }
            else if (insn.IsWide && insn.SrcRaw == 4)
            {
                insn = insn.WithImm(Relocate(insn.Imm)); // lddw of a function (BPF_PSEUDO_FUNC)
            }
            return insn;
        }
    }

    /// <summary>For each slot: whether it is a load whose base register holds the context pointer.</summary>
    internal static bool[] Analyse(Instruction[] insns)
    {
        var n = insns.Length;
        var states = new byte[n][];
        var ctxLoad = new bool[n];
        var work = new Stack<int>();
        var entry = new byte[Width];
        for (var r = 0; r < 10; r++) entry[r] = Other;
        entry[1] = Ctx;
        Merge(states, 0, entry, work);
        var scratch = new byte[Width];
        var iterations = 0L;
        while (work.Count > 0)
        {
            if (++iterations > 10_000_000) throw new ProgramLoadException(0, "context analysis did not converge");
            var i = work.Pop();
            Array.Copy(states[i]!, scratch, Width);
            var s = scratch;
            var insn = insns[i];
            var cls = insn.Opcode & 7;
            var mode = insn.Opcode & 0xe0;
            var op = insn.Opcode & 0xf0;
            var dst = insn.DstRaw;
            var src = insn.SrcRaw;
            var next = i + 1;
            switch (cls)
            {
                case 0: // LD: lddw, ld_abs, ld_ind
                    if (insn.IsWide)
                    {
                        if (dst < 10) s[dst] = Other;
                        next = i + 2;
                    }
                    else
                    {
                        for (var r = 0; r <= 5; r++) s[r] = Other;
                    }
                    break;
                case 1: // LDX
                    if (src < 10 && s[src] == (Ctx | Other))
                    {
                        throw new ProgramLoadException(i, $"insn {i}: the same load is reached with the context pointer and with another pointer in r{src}; the kernel rejects this too");
                    }
                    if (src < 10 && s[src] == Ctx && mode == 0x60) ctxLoad[i] = true;
                    var value = Other;
                    if (src == 10 && (insn.Opcode & 0x18) == 0x18 && mode == 0x60 && SlotOf(insn.Offset) is int slot) value = s[10 + slot];
                    if (dst < 10) s[dst] = value == Bottom ? Other : value;
                    break;
                case 2: // ST
                case 3: // STX
                    if (dst == 10)
                    {
                        var size = SizeOf(insn.Opcode);
                        if (cls == 3 && mode == 0x60 && size == 8 && SlotOf(insn.Offset) is int full)
                        {
                            s[10 + full] = src < 10 ? s[src] : Other;
                        }
                        else
                        {
                            for (var b = insn.Offset; b < insn.Offset + size; b++)
                            {
                                if (SlotOf((short)(b & ~7)) is int touched) s[10 + touched] = Other;
                            }
                        }
                    }
                    if (cls == 3 && mode == 0xc0)
                    {
                        // Atomics with BPF_FETCH write the source register; cmpxchg writes r0.
                        if ((insn.Imm & 0xf0) == 0xf0) s[0] = Other;
                        else if ((insn.Imm & 1) != 0 && src < 10) s[src] = Other;
                    }
                    break;
                case 4: // ALU
                case 7: // ALU64
                    if (dst < 10)
                    {
                        var isMove = cls == 7 && op == 0xb0 && (insn.Opcode & 0x08) != 0 && insn.Offset == 0;
                        s[dst] = isMove && src < 10 ? s[src] : Other;
                    }
                    break;
                case 5: // JMP
                case 6: // JMP32
                    if (op == 0x90)
                    {
                        next = -1; // exit: no successor inside this function
                    }
                    else if (op == 0x80)
                    {
                        if (cls == 5 && src == 1)
                        {
                            var callee = new byte[Width];
                            callee[0] = Other;
                            for (var r = 1; r <= 5; r++) callee[r] = s[r];
                            for (var r = 6; r < 10; r++) callee[r] = Other;
                            var target = i + 1 + insn.Imm;
                            if ((uint)target < (uint)n) Merge(states, target, callee, work);
                        }
                        for (var r = 0; r <= 5; r++) s[r] = Other;
                    }
                    else if (op == 0x00)
                    {
                        next = i + 1 + (cls == 6 ? insn.Imm : insn.Offset);
                    }
                    else
                    {
                        var target = i + 1 + insn.Offset;
                        if ((uint)target < (uint)n) Merge(states, target, s, work);
                    }
                    break;
            }
            if ((uint)next < (uint)n) Merge(states, next, s, work);
        }
        return ctxLoad;
    }

    private static int? SlotOf(short offset) => offset < 0 && offset >= -512 && (offset & 7) == 0 ? (512 + offset) / 8 : null;

    private static void Merge(byte[]?[] states, int at, byte[] incoming, Stack<int> work)
    {
        var state = states[at];
        if (state is null)
        {
            states[at] = (byte[])incoming.Clone();
            work.Push(at);
            return;
        }
        var changed = false;
        for (var k = 0; k < Width; k++)
        {
            var joined = (byte)(state[k] | incoming[k]);
            if (joined != state[k])
            {
                state[k] = joined;
                changed = true;
            }
        }
        if (changed) work.Push(at);
    }
}
