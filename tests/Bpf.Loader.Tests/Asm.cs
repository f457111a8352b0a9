namespace Bpf.Loader.Tests;

/// <summary>Terse instruction builders for hand-written test programs.</summary>
internal static class Asm
{
    public static Instruction Mov(Register dst, int imm) => Instruction.AluImm(OpClass.Alu64, AluOp.Mov, dst, imm);
    public static Instruction Mov(Register dst, Register src) => Instruction.AluReg(OpClass.Alu64, AluOp.Mov, dst, src);
    public static Instruction Add(Register dst, int imm) => Instruction.AluImm(OpClass.Alu64, AluOp.Add, dst, imm);
    public static Instruction Rsh(Register dst, int imm) => Instruction.AluImm(OpClass.Alu64, AluOp.Rsh, dst, imm);
    public static Instruction Exit() => Instruction.ExitInsn();
    public static Instruction Call(int helper) => Instruction.CallHelper(helper);
    public static Instruction Ldx(MemSize size, Register dst, Register src, short off) => Instruction.Load(size, dst, src, off);
    public static Instruction St(MemSize size, Register dst, short off, int imm) => Instruction.StoreImm(size, dst, off, imm);
    public static Instruction Stx(MemSize size, Register dst, Register src, short off) => Instruction.StoreReg(size, dst, src, off);
    public static Instruction XAdd(Register dst, Register src, short off) => Instruction.Atomic(MemSize.DW, AtomicOp.Add, dst, src, off);
    public static Instruction Jeq(Register dst, int imm, short off) => Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, dst, imm, off);
    public static Instruction Jne(Register dst, int imm, short off) => Instruction.JumpImm(OpClass.Jmp, JumpOp.Jne, dst, imm, off);
    public static Instruction Jgt(Register dst, int imm, short off) => Instruction.JumpImm(OpClass.Jmp, JumpOp.Jgt, dst, imm, off);
    public static Instruction Jgt(Register dst, Register src, short off) => Instruction.JumpReg(OpClass.Jmp, JumpOp.Jgt, dst, src, off);
    public static Instruction Ja(short off) => Instruction.JumpImm(OpClass.Jmp, JumpOp.Ja, Register.R0, 0, off);

    /// <summary>Both slots of <c>lddw dst, map</c> with a placeholder fd (patched by a MapRelocation).</summary>
    public static Instruction[] LdMap(Register dst) { var (a, b) = Instruction.LoadImm64(dst, 0); return [a, b]; }

    public static Instruction[] Prog(params object[] parts)
    {
        var list = new List<Instruction>();
        foreach (var p in parts)
        {
            if (p is Instruction i) list.Add(i);
            else if (p is Instruction[] a) list.AddRange(a);
            else throw new ArgumentException(p?.GetType().Name);
        }
        return list.ToArray();
    }

    /// <summary>
    /// r1 = map; r2 = fp-8 (key slot, written with <paramref name="keyFrom"/>'s value); call map_lookup_elem;
    /// if r0 != 0: lock *(u64*)(r0) += 1. Leaves r0 undefined-ish; callers set r0 afterwards.
    /// </summary>
    public static Instruction[] CountInto(Register keyFrom) => Prog(
        Stx(MemSize.W, Register.R10, keyFrom, -4),
        LdMap(Register.R1),
        Mov(Register.R2, Register.R10),
        Add(Register.R2, -4),
        Call(1), // bpf_map_lookup_elem
        Jeq(Register.R0, 0, 2),
        Mov(Register.R1, 1),
        XAdd(Register.R0, Register.R1, 0));
}
