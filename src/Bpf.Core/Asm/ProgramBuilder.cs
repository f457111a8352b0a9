namespace Bpf.Asm;

/// <summary>
/// Builds a program in code, with labels resolved when <see cref="Build"/> is called:
/// <code>
/// var b = new ProgramBuilder();
/// b.Mov64(R0, 0).Label("loop").Add64(R1, 1).JumpIf(JumpOp.Jne, R1, 10, "loop").Exit();
/// Instruction[] program = b.Build();
/// </code>
/// Every emitted slot is checked against <see cref="InstructionSet"/> at once, so a bad combination (an
/// endian width of 8, a 16-bit atomic) fails at the call that made it, naming the instruction index.
/// </summary>
public sealed class ProgramBuilder
{
    private readonly List<Instruction> _slots = new();
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly List<(int Slot, FixupField Field, string Label)> _fixups = new();

    /// <summary>The number of slots emitted so far (the index the next instruction gets).</summary>
    public int Count => _slots.Count;

    // ---- labels and raw slots -------------------------------------------------------------------

    /// <summary>Names the next instruction.</summary>
    /// <exception cref="ArgumentException">The label is already defined.</exception>
    public ProgramBuilder Label(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_labels.TryAdd(name, _slots.Count))
        {
            throw new ArgumentException($"label '{name}' is defined twice (first at instruction {_labels[name]}, again at instruction {_slots.Count})", nameof(name));
        }
        return this;
    }

    /// <summary>Appends a slot as is (not validated: use it for deliberately invalid programs).</summary>
    public ProgramBuilder Raw(Instruction slot)
    {
        _slots.Add(slot);
        return this;
    }

    // ---- arithmetic -----------------------------------------------------------------------------

    /// <summary>64-bit <c>dst op= imm</c>. <paramref name="signed"/> selects sdiv/smod for Div/Mod.</summary>
    public ProgramBuilder Alu64(AluOp op, Register dst, int imm, bool signed = false) => Alu(OpClass.Alu64, op, dst, null, imm, signed);

    /// <summary>64-bit <c>dst op= src</c>. <paramref name="signed"/> selects sdiv/smod for Div/Mod.</summary>
    public ProgramBuilder Alu64(AluOp op, Register dst, Register src, bool signed = false) => Alu(OpClass.Alu64, op, dst, src, 0, signed);

    /// <summary>32-bit <c>dst op= imm</c> (the result is zero-extended).</summary>
    public ProgramBuilder Alu32(AluOp op, Register dst, int imm, bool signed = false) => Alu(OpClass.Alu, op, dst, null, imm, signed);

    /// <summary>32-bit <c>dst op= src</c> (the result is zero-extended).</summary>
    public ProgramBuilder Alu32(AluOp op, Register dst, Register src, bool signed = false) => Alu(OpClass.Alu, op, dst, src, 0, signed);

    /// <summary><c>dst = imm</c> (64-bit, sign-extended immediate).</summary>
    public ProgramBuilder Mov64(Register dst, int imm) => Alu64(AluOp.Mov, dst, imm);

    /// <summary><c>dst = src</c> (64-bit).</summary>
    public ProgramBuilder Mov64(Register dst, Register src) => Alu64(AluOp.Mov, dst, src);

    /// <summary><c>wdst = imm</c> (32-bit).</summary>
    public ProgramBuilder Mov32(Register dst, int imm) => Alu32(AluOp.Mov, dst, imm);

    /// <summary><c>wdst = wsrc</c> (32-bit).</summary>
    public ProgramBuilder Mov32(Register dst, Register src) => Alu32(AluOp.Mov, dst, src);

    /// <summary><c>dst += imm</c> (64-bit).</summary>
    public ProgramBuilder Add64(Register dst, int imm) => Alu64(AluOp.Add, dst, imm);

    /// <summary><c>dst += src</c> (64-bit).</summary>
    public ProgramBuilder Add64(Register dst, Register src) => Alu64(AluOp.Add, dst, src);

    /// <summary><c>wdst += imm</c> (32-bit).</summary>
    public ProgramBuilder Add32(Register dst, int imm) => Alu32(AluOp.Add, dst, imm);

    /// <summary><c>wdst += wsrc</c> (32-bit).</summary>
    public ProgramBuilder Add32(Register dst, Register src) => Alu32(AluOp.Add, dst, src);

    /// <summary>Sign-extending move <c>dst = (s<paramref name="bits"/>)src</c>: bits 8, 16 or 32 (64-bit) or 8, 16 (32-bit).</summary>
    public ProgramBuilder MovSx(Register dst, Register src, int bits, bool is32 = false) =>
        Emit(new Instruction(Opcodes.Alu(is32 ? OpClass.Alu : OpClass.Alu64, AluOp.Mov, Source.Reg), dst, src, (short)bits, 0));

    /// <summary><c>dst = -dst</c> (64-bit, or 32-bit with <paramref name="is32"/>).</summary>
    public ProgramBuilder Neg(Register dst, bool is32 = false) =>
        Emit(new Instruction(Opcodes.Alu(is32 ? OpClass.Alu : OpClass.Alu64, AluOp.Neg, Source.Imm), dst, Register.R0, 0, 0));

    /// <summary>Converts the low <paramref name="bits"/> (16, 32, 64) of dst from host order to big-endian (<c>be16</c>..).</summary>
    public ProgramBuilder ToBigEndian(Register dst, int bits) => Emit(new Instruction(Opcodes.Alu(OpClass.Alu, AluOp.End, Source.Reg), dst, Register.R0, 0, bits));

    /// <summary>Converts the low <paramref name="bits"/> (16, 32, 64) of dst from host order to little-endian (<c>le16</c>..).</summary>
    public ProgramBuilder ToLittleEndian(Register dst, int bits) => Emit(new Instruction(Opcodes.Alu(OpClass.Alu, AluOp.End, Source.Imm), dst, Register.R0, 0, bits));

    /// <summary>Unconditionally reverses the low <paramref name="bits"/> (16, 32, 64) bytes of dst (<c>bswap16</c>..).</summary>
    public ProgramBuilder ByteSwap(Register dst, int bits) => Emit(new Instruction(Opcodes.Alu(OpClass.Alu64, AluOp.End, Source.Imm), dst, Register.R0, 0, bits));

    // ---- memory ---------------------------------------------------------------------------------

    /// <summary><c>dst = *(size *)(src + offset)</c>; <paramref name="signExtend"/> makes it a sign-extending load.</summary>
    public ProgramBuilder Load(MemSize size, Register dst, Register src, short offset, bool signExtend = false) =>
        Emit(Instruction.Load(size, dst, src, offset, signExtend));

    /// <summary><c>*(size *)(dst + offset) = imm</c>.</summary>
    public ProgramBuilder Store(MemSize size, Register dst, short offset, int imm) => Emit(Instruction.StoreImm(size, dst, offset, imm));

    /// <summary><c>*(size *)(dst + offset) = src</c>.</summary>
    public ProgramBuilder Store(MemSize size, Register dst, short offset, Register src) => Emit(Instruction.StoreReg(size, dst, src, offset));

    /// <summary>Atomic read-modify-write of <c>*(size *)(dst + offset)</c> with src (size W or DW).</summary>
    public ProgramBuilder Atomic(AtomicOp op, MemSize size, Register dst, short offset, Register src) =>
        Emit(Instruction.Atomic(size, op, dst, src, offset));

    /// <summary>Legacy packet load <c>r0 = *(size *)skb[imm]</c>.</summary>
    public ProgramBuilder LoadAbs(MemSize size, int imm) =>
        Emit(new Instruction(Opcodes.Memory(OpClass.Ld, MemMode.Abs, size), Register.R0, Register.R0, 0, imm));

    /// <summary>Legacy packet load <c>r0 = *(size *)skb[src + imm]</c>.</summary>
    public ProgramBuilder LoadInd(MemSize size, Register src, int imm) =>
        Emit(new Instruction(Opcodes.Memory(OpClass.Ld, MemMode.Ind, size), Register.R0, src, 0, imm));

    /// <summary><c>dst = value</c> for a 64-bit constant (two slots).</summary>
    public ProgramBuilder LoadImm64(Register dst, ulong value)
    {
        var (first, second) = Instruction.LoadImm64(dst, value);
        Emit(first);
        _slots.Add(second);
        return this;
    }

    /// <summary>A lddw with a pseudo source (map fd, map value, BTF id, map index...): imm and the next slot's imm.</summary>
    public ProgramBuilder LoadImm64(Register dst, PseudoSource pseudo, int imm, int nextImm = 0)
    {
        Emit(new Instruction(Opcodes.LdDw, dst, (Register)(byte)pseudo, 0, imm));
        _slots.Add(new Instruction(0, (byte)0, (byte)0, 0, nextImm));
        return this;
    }

    /// <summary><c>dst = address of the function at <paramref name="label"/></c> (lddw with BPF_PSEUDO_FUNC).</summary>
    public ProgramBuilder LoadFunction(Register dst, string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        LoadImm64(dst, PseudoSource.Func, 0);
        return Reference(FixupField.Imm, label, _slots.Count - 2);
    }

    // ---- control flow ---------------------------------------------------------------------------

    /// <summary><c>goto label</c> (16-bit offset).</summary>
    public ProgramBuilder Jump(string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        return Jump(0).Reference(FixupField.Offset, label, _slots.Count - 1);
    }

    /// <summary><c>goto +offset</c> (slots after the next instruction).</summary>
    public ProgramBuilder Jump(short offset) => Emit(new Instruction(Opcodes.Ja, Register.R0, Register.R0, offset, 0));

    /// <summary><c>gotol label</c> (ja32: 32-bit offset in imm).</summary>
    public ProgramBuilder JumpLong(string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        return JumpLong(0).Reference(FixupField.Imm, label, _slots.Count - 1);
    }

    /// <summary><c>gotol +offset</c> (ja32).</summary>
    public ProgramBuilder JumpLong(int offset) => Emit(new Instruction(Opcodes.Ja32, Register.R0, Register.R0, 0, offset));

    /// <summary><c>if dst op imm goto label</c> (64-bit compare; <paramref name="is32"/> compares the low 32 bits).</summary>
    public ProgramBuilder JumpIf(JumpOp op, Register dst, int imm, string label, bool is32 = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        return JumpIf(op, dst, imm, (short)0, is32).Reference(FixupField.Offset, label, _slots.Count - 1);
    }

    /// <summary><c>if dst op src goto label</c>.</summary>
    public ProgramBuilder JumpIf(JumpOp op, Register dst, Register src, string label, bool is32 = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        return JumpIf(op, dst, src, (short)0, is32).Reference(FixupField.Offset, label, _slots.Count - 1);
    }

    /// <summary><c>if dst op imm goto +offset</c>.</summary>
    public ProgramBuilder JumpIf(JumpOp op, Register dst, int imm, short offset, bool is32 = false) =>
        Emit(Instruction.JumpImm(Conditional(op, is32), op, dst, imm, offset));

    /// <summary><c>if dst op src goto +offset</c>.</summary>
    public ProgramBuilder JumpIf(JumpOp op, Register dst, Register src, short offset, bool is32 = false) =>
        Emit(Instruction.JumpReg(Conditional(op, is32), op, dst, src, offset));

    /// <summary><c>call helperId</c>.</summary>
    public ProgramBuilder Call(int helperId) => Emit(Instruction.CallHelper(helperId));

    /// <summary>A bpf-to-bpf call of the function at <paramref name="label"/>.</summary>
    public ProgramBuilder CallLocal(string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        return Emit(Instruction.CallLocal(0)).Reference(FixupField.Imm, label, _slots.Count - 1);
    }

    /// <summary>A call of the kernel function with BTF id <paramref name="btfId"/>.</summary>
    public ProgramBuilder CallKfunc(int btfId) => Emit(new Instruction(Opcodes.Call, 0, (byte)CallKind.Kfunc, 0, btfId));

    /// <summary><c>callx reg</c>: call the helper whose id is in a register (encoded in dst, as LLVM does).</summary>
    public ProgramBuilder CallX(Register reg) => Emit(new Instruction(Opcodes.CallX, reg, Register.R0, 0, 0));

    /// <summary><c>exit</c>.</summary>
    public ProgramBuilder Exit() => Emit(Instruction.ExitInsn());

    // ---- build ----------------------------------------------------------------------------------

    /// <summary>Resolves labels and returns the slots. The builder can keep being used afterwards.</summary>
    /// <exception cref="InvalidOperationException">A label is undefined or a jump does not reach it.</exception>
    public Instruction[] Build()
    {
        var result = _slots.ToArray();
        foreach (var (slot, field, label) in _fixups)
        {
            if (!_labels.TryGetValue(label, out var target))
            {
                throw new InvalidOperationException($"undefined label '{label}' (used by instruction {slot})");
            }
            var relative = (long)target - (slot + 1);
            if (field == FixupField.Offset)
            {
                if (relative is < short.MinValue or > short.MaxValue)
                {
                    throw new InvalidOperationException($"instruction {slot}: label '{label}' is {relative} slots away, beyond a 16-bit jump offset (use JumpLong)");
                }
                result[slot] = result[slot].WithOffset((short)relative);
            }
            else
            {
                result[slot] = result[slot].WithImm((int)relative);
            }
        }
        return result;
    }

    // ---- internals ------------------------------------------------------------------------------

    private ProgramBuilder Alu(OpClass cls, AluOp op, Register dst, Register? src, int imm, bool signed)
    {
        if (op is AluOp.Neg or AluOp.End)
        {
            throw new ArgumentException($"use Neg, ToBigEndian, ToLittleEndian or ByteSwap for {op}", nameof(op));
        }
        if (signed && op is not (AluOp.Div or AluOp.Mod))
        {
            throw new ArgumentException($"only Div and Mod have signed variants, not {op}", nameof(signed));
        }
        short offset = signed ? (short)1 : (short)0;
        return Emit(src is { } s ? Instruction.AluReg(cls, op, dst, s, offset) : Instruction.AluImm(cls, op, dst, imm, offset));
    }

    private static OpClass Conditional(JumpOp op, bool is32)
    {
        if (op is JumpOp.Ja or JumpOp.Call or JumpOp.Exit)
        {
            throw new ArgumentException($"{op} is not a conditional jump; use Jump, Call or Exit", nameof(op));
        }
        return is32 ? OpClass.Jmp32 : OpClass.Jmp;
    }

    /// <summary>Records that a field of an emitted slot refers to a label (after the slot was accepted, so a
    /// rejected instruction leaves no dangling reference).</summary>
    private ProgramBuilder Reference(FixupField field, string label, int slot)
    {
        _fixups.Add((slot, field, label));
        return this;
    }

    private ProgramBuilder Emit(Instruction insn)
    {
        if (!InstructionSet.TryClassify(insn, out _, out _, out var detail))
        {
            throw new ArgumentException($"instruction {_slots.Count}: {detail}");
        }
        _slots.Add(insn);
        return this;
    }
}
