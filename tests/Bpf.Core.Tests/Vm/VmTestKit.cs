using static Bpf.Instruction;

namespace Bpf.Core.Tests.Vm;

/// <summary>Small builders so semantic tests read like assembly.</summary>
internal static class VmTestKit
{
    public static Instruction Mov(Register dst, int imm) => AluImm(OpClass.Alu64, AluOp.Mov, dst, imm);
    public static Instruction Mov(Register dst, Register src) => AluReg(OpClass.Alu64, AluOp.Mov, dst, src);
    public static Instruction Alu64(AluOp op, Register dst, int imm, short off = 0) => AluImm(OpClass.Alu64, op, dst, imm, off);
    public static Instruction Alu64(AluOp op, Register dst, Register src, short off = 0) => AluReg(OpClass.Alu64, op, dst, src, off);
    public static Instruction Alu32(AluOp op, Register dst, int imm, short off = 0) => AluImm(OpClass.Alu, op, dst, imm, off);
    public static Instruction Alu32(AluOp op, Register dst, Register src, short off = 0) => AluReg(OpClass.Alu, op, dst, src, off);
    public static Instruction Exit => ExitInsn();

    public static Instruction[] Lddw(Register dst, ulong value)
    {
        var (a, b) = LoadImm64(dst, value);
        return [a, b];
    }

    public static Instruction[] Prog(params object[] parts)
    {
        var list = new List<Instruction>();
        foreach (var p in parts)
        {
            switch (p)
            {
                case Instruction i: list.Add(i); break;
                case Instruction[] many: list.AddRange(many); break;
                default: throw new ArgumentException($"unexpected part {p}");
            }
        }
        return list.ToArray();
    }

    public static RunResult Run(Instruction[] program, byte[]? memory = null, InterpreterOptions? options = null) =>
        new Interpreter(program, options).Run(memory ?? []);

    public static ulong R0(params object[] parts)
    {
        var result = Run(Prog(parts));
        Assert.True(result.Succeeded, result.Fault?.Message);
        return result.R0;
    }

    public static (RunResult Result, ulong[] Registers) RunWithRegisters(Instruction[] program, Span<byte> memory, InterpreterOptions? options = null)
    {
        var regs = new ulong[11];
        var result = new Interpreter(program, options).RunCore(memory, regs);
        return (result, regs);
    }
}
