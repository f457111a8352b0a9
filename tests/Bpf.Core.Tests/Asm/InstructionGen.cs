using FsCheck;
using FsCheck.Fluent;

namespace Bpf.Core.Tests.Asm;

/// <summary>
/// Generates random valid instructions from <see cref="InstructionSet.Forms"/>: random registers, offsets and
/// immediates in the fields each operand shape uses, zero in the reserved ones, the form's variant selectors
/// where it has them. Every generated instruction is checked against the table, so a generator that disagrees
/// with the decoder fails loudly instead of testing nothing.
/// </summary>
internal static class InstructionGen
{
    private static readonly Gen<int> AnyInt =
        Gen.OneOf(
            Gen.Elements(0, 1, -1, 2, 7, 16, 32, 64, int.MinValue, int.MaxValue, 0x7fff, -0x8000),
            Gen.Choose(-1000, 1000),
            Gen.Choose(0, 0xffff).SelectMany(lo => Gen.Choose(0, 0xffff).Select(hi => (hi << 16) | lo)));

    private static readonly Gen<short> AnyShort =
        Gen.OneOf(Gen.Elements<short>(0, 1, -1, short.MinValue, short.MaxValue), Gen.Choose(short.MinValue, short.MaxValue).Select(x => (short)x));

    private static readonly Gen<int> AnyReg = Gen.Choose(0, 10);

    /// <summary>One logical instruction: one slot, or two for lddw.</summary>
    public static readonly Gen<Instruction[]> Valid =
        Gen.Elements(InstructionSet.Forms.ToArray()).SelectMany(ForForm);

    /// <summary>A program mixing valid instructions with arbitrary (mostly invalid) 64-bit slots.</summary>
    public static readonly Gen<Instruction[]> Program =
        Gen.Frequency(
                (9, Valid),
                (1, Gen.Choose(0, 255).SelectMany(op => Gen.Choose(0, 255).SelectMany(regs => AnyShort.SelectMany(off => AnyInt.Select(imm =>
                    new[] { new Instruction((byte)op, (byte)(regs & 15), (byte)(regs >> 4), off, imm) }))))))
            .ArrayOf()
            .Select(parts => parts.SelectMany(p => p).ToArray());

    private static Gen<Instruction[]> ForForm(InstructionForm form)
    {
        var (dst, src, off, imm) = Uses(form);
        return
            from d in dst ? AnyReg : Gen.Constant(0)
            from s in src
            from o in off ? AnyShort : Gen.Constant((short)0)
            from i in imm ? AnyInt : Gen.Constant(0)
            from hi in AnyInt
            select Make(form, d, s, o, i, hi);
    }

    private static Instruction[] Make(InstructionForm form, int dst, int src, short off, int imm, int hi)
    {
        var first = new Instruction(form.Opcode, (byte)dst, (byte)src, form.OffsetKey ?? off, form.ImmKey ?? imm);
        if (!InstructionSet.TryClassify(first, out var classified, out _, out var detail) || classified != form)
        {
            throw new InvalidOperationException($"generator made an instruction the table rejects for {form}: {first} ({detail})");
        }
        return form.Shape == OperandShape.LoadImm64 ? [first, new Instruction(0, (byte)0, (byte)0, 0, hi)] : [first];
    }

    /// <summary>Which fields a shape uses; src is a generator because some shapes restrict its values.</summary>
    private static (bool Dst, Gen<int> Src, bool Off, bool Imm) Uses(InstructionForm form) => form.Shape switch
    {
        OperandShape.AluImm => (true, Gen.Constant(0), false, true),
        OperandShape.AluReg => (true, AnyReg, false, false),
        OperandShape.Negate or OperandShape.Endian => (true, Gen.Constant(0), false, false),
        OperandShape.Jump => (false, Gen.Constant(0), true, false),
        OperandShape.JumpLong => (false, Gen.Constant(0), false, true),
        OperandShape.JumpImm => (true, Gen.Constant(0), true, true),
        OperandShape.JumpReg => (true, AnyReg, true, false),
        OperandShape.Call => (false, Gen.Choose(0, 2), false, true),
        OperandShape.CallReg => (true, Gen.Constant(0), false, false),
        OperandShape.Exit => (false, Gen.Constant(0), false, false),
        OperandShape.LoadImm64 => (true, Gen.Choose(0, 6), false, true),
        OperandShape.LoadAbs => (false, Gen.Constant(0), false, true),
        OperandShape.LoadInd => (false, AnyReg, false, true),
        OperandShape.Load => (true, AnyReg, true, false),
        OperandShape.StoreImm => (true, Gen.Constant(0), true, true),
        OperandShape.StoreReg or OperandShape.Atomic => (true, AnyReg, true, false),
        OperandShape.LoadAcquire or OperandShape.StoreRelease => (true, AnyReg, true, false),
        OperandShape.MayGoto => (false, Gen.Constant(0), true, false),
        _ => throw new InvalidOperationException($"unhandled shape {form.Shape}"),
    };
}
