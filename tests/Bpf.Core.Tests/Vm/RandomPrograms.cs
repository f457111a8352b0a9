namespace Bpf.Core.Tests.Vm;

/// <summary>
/// Builds random, decodable (but unverified) programs from the instruction table: every form can appear,
/// registers and offsets are random but biased towards r1 (input) and r10 (stack) bases and small offsets so
/// that accesses land near — inside and just outside — the real regions. Jump and call targets point at
/// instruction starts, so the interpreter accepts every program produced.
/// </summary>
internal static class RandomPrograms
{
    private static readonly InstructionForm[] Forms = InstructionSet.Forms.ToArray();

    public static Instruction[] Build(int seed, int logicalCount)
    {
        var rng = new Random(seed);
        var logical = new List<(InstructionForm Form, Instruction Insn)>();
        var highs = new List<int>();
        for (var k = 0; k < logicalCount; k++)
        {
            var form = Forms[rng.Next(Forms.Length)];
            logical.Add((form, Make(form, rng, out var high)));
            highs.Add(high);
        }
        // Always give it a way out at the end (it may still loop, fault, or run off other paths).
        var exitForm = InstructionSet.FormsByMnemonic("exit")[0];
        logical.Add((exitForm, Instruction.ExitInsn()));
        highs.Add(0);

        // Slot index of each logical instruction.
        var starts = new int[logical.Count];
        var slot = 0;
        for (var k = 0; k < logical.Count; k++)
        {
            starts[k] = slot;
            slot += logical[k].Form.Slots;
        }

        var program = new List<Instruction>(slot);
        for (var k = 0; k < logical.Count; k++)
        {
            var (form, insn) = logical[k];
            var target = starts[rng.Next(starts.Length)];
            var rel = target - (starts[k] + 1);
            switch (form.Shape)
            {
                case OperandShape.Jump or OperandShape.JumpImm or OperandShape.JumpReg or OperandShape.MayGoto:
                    insn = insn.WithOffset((short)rel);
                    break;
                case OperandShape.JumpLong:
                    insn = insn.WithImm(rel);
                    break;
                case OperandShape.Call when insn.SrcRaw == (byte)CallKind.Local:
                    insn = insn.WithImm(rel);
                    break;
            }
            program.Add(insn);
            if (form.Shape == OperandShape.LoadImm64)
            {
                program.Add(new Instruction(0, (byte)0, (byte)0, 0, highs[k]));
            }
        }
        return program.ToArray();
    }

    private static byte WritableReg(Random rng) => (byte)rng.Next(0, 10);          // never r10
    private static byte AnyReg(Random rng) => (byte)(rng.Next(4) switch { 0 => 1, 1 => 10, _ => rng.Next(0, 11) });

    private static short MemOffset(Random rng) => (short)(rng.Next(3) switch
    {
        0 => rng.Next(-8, 72),       // around the input memory
        1 => rng.Next(-530, 8),      // around the stack frame
        _ => rng.Next(short.MinValue, short.MaxValue + 1),
    });

    private static int RandomImm(Random rng) => rng.Next(5) switch
    {
        0 => rng.Next(-2, 3),
        1 => int.MinValue,
        2 => rng.Next(0, 64),
        _ => rng.Next(int.MinValue, int.MaxValue),
    };

    private static Instruction Make(InstructionForm form, Random rng, out int high)
    {
        high = 0;
        var op = form.Opcode;
        short off = form.OffsetKey ?? 0;
        var imm = form.ImmKey ?? 0;
        switch (form.Shape)
        {
            case OperandShape.AluImm:
                return new Instruction(op, WritableReg(rng), 0, off, RandomImm(rng));
            case OperandShape.AluReg:
                return new Instruction(op, WritableReg(rng), AnyReg(rng), off, 0);
            case OperandShape.Negate:
            case OperandShape.Endian:
                return new Instruction(op, WritableReg(rng), 0, 0, imm);
            case OperandShape.Jump:
            case OperandShape.JumpLong:
            case OperandShape.MayGoto:
                return new Instruction(op, (byte)0, (byte)0, 0, 0);
            case OperandShape.JumpImm:
                return new Instruction(op, AnyReg(rng), 0, 0, RandomImm(rng));
            case OperandShape.JumpReg:
                return new Instruction(op, AnyReg(rng), AnyReg(rng), 0, 0);
            case OperandShape.Call:
                return rng.Next(3) switch
                {
                    0 => Instruction.CallLocal(0),
                    1 => Instruction.CallHelper(5),
                    _ => Instruction.CallHelper(rng.Next(0, 10)),
                };
            case OperandShape.CallReg:
                return new Instruction(op, (byte)rng.Next(1, 11), 0, 0, 0);
            case OperandShape.Exit:
                return Instruction.ExitInsn();
            case OperandShape.LoadImm64:
                // Plain constants only; sometimes a pointer near one of the regions.
                var value = rng.Next(3) switch
                {
                    0 => Bpf.VmLayout.InputBase + (ulong)rng.Next(-16, 80),
                    1 => Bpf.VmLayout.StackTop - (ulong)rng.Next(-16, 4200),
                    _ => (ulong)rng.NextInt64(),
                };
                high = (int)(uint)(value >> 32);
                return new Instruction(op, WritableReg(rng), 0, 0, (int)(uint)value);
            case OperandShape.LoadAbs:
                return new Instruction(op, (byte)0, (byte)0, 0, RandomImm(rng));
            case OperandShape.LoadInd:
                return new Instruction(op, 0, AnyReg(rng), 0, RandomImm(rng));
            case OperandShape.Load:
                return new Instruction(op, WritableReg(rng), AnyReg(rng), MemOffset(rng), 0);
            case OperandShape.StoreImm:
                return new Instruction(op, AnyReg(rng), 0, MemOffset(rng), RandomImm(rng));
            case OperandShape.StoreReg:
                return new Instruction(op, AnyReg(rng), AnyReg(rng), MemOffset(rng), 0);
            case OperandShape.Atomic:
                return new Instruction(op, AnyReg(rng), WritableReg(rng), MemOffset(rng), imm);
            case OperandShape.LoadAcquire:
                return new Instruction(op, WritableReg(rng), AnyReg(rng), MemOffset(rng), imm);
            case OperandShape.StoreRelease:
                return new Instruction(op, AnyReg(rng), AnyReg(rng), MemOffset(rng), imm);
            default:
                throw new InvalidOperationException(form.Shape.ToString());
        }
    }
}
