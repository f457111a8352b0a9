using Bpf.Asm;
using Bpf.Tests;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Asm;

/// <summary>disassemble → assemble gives back the identical slots, in both dialects.</summary>
public class AsmRoundTripTests
{
    public static TheoryData<string> Files() => RepoPaths.ConformanceFileNames();

    [Theory]
    [MemberData(nameof(Files))]
    public void Conformance_programs_round_trip_in_both_dialects(string file)
    {
        var slots = ConformanceDataFile.Parse(AsmTestPaths.ConformancePath(file)).Assemble();
        foreach (var dialect in new[] { AsmDialect.Conformance, AsmDialect.Llvm })
        {
            var text = Disassembler.Disassemble(slots, dialect);
            // Valid programs print as instructions, never as raw .insn escapes.
            Assert.DoesNotContain(".insn", text);
            AssertSameSlots(slots, Assembler.Assemble(text, dialect), text);
        }
    }

    [Property(MaxTest = 2000)]
    public Property Encode_then_decode_is_identity() =>
        Prop.ForAll(InstructionGen.Valid.ToArbitrary(), insn =>
        {
            var decoded = InstructionDecoder.Decode(InstructionEncoder.Encode(insn));
            return decoded.IsValid && decoded.Instructions.SequenceEqual(insn);
        });

    [Property(MaxTest = 2000)]
    public Property Valid_instructions_round_trip_through_conformance_text() => RoundTrips(InstructionGen.Valid, AsmDialect.Conformance, allowInsn: false);

    [Property(MaxTest = 2000)]
    public Property Valid_instructions_round_trip_through_llvm_text() => RoundTrips(InstructionGen.Valid, AsmDialect.Llvm, allowInsn: false);

    [Property(MaxTest = 300)]
    public Property Programs_with_invalid_slots_round_trip_through_conformance_text() => RoundTrips(InstructionGen.Program, AsmDialect.Conformance, allowInsn: true);

    [Property(MaxTest = 300)]
    public Property Programs_with_invalid_slots_round_trip_through_llvm_text() => RoundTrips(InstructionGen.Program, AsmDialect.Llvm, allowInsn: true);

    private static Property RoundTrips(Gen<Instruction[]> gen, AsmDialect dialect, bool allowInsn) =>
        Prop.ForAll(gen.ToArbitrary(), slots =>
        {
            var text = Disassembler.Disassemble(slots, dialect);
            // The legacy callx encoding (register in imm) is the one valid slot that prints as .insn.
            var legacyCallx = slots.Any(s => s.Opcode == Opcodes.CallX && s.DstRaw == 0 && s.Imm != 0);
            if (!allowInsn && !legacyCallx && text.Contains(".insn")) return false.Label(text);
            Instruction[] back;
            try
            {
                back = Assembler.Assemble(text, dialect);
            }
            catch (AsmException e)
            {
                return false.Label($"{e.Message}\n{text}");
            }
            return back.SequenceEqual(slots).Label(text);
        });

    private static void AssertSameSlots(Instruction[] expected, Instruction[] actual, string text)
    {
        Assert.True(expected.SequenceEqual(actual), $"round trip changed the program:\n{text}");
    }

    [Fact]
    public void Lddw_prints_as_one_line_and_format_covers_both_slots()
    {
        var slots = Assembler.Assemble("lddw %r1, 0x1122334455667788\nexit");
        Assert.Equal(3, slots.Length);
        Assert.Equal("lddw %r1, 0x1122334455667788\nexit\n", Disassembler.Disassemble(slots));
        Assert.Equal("r1 = 1234605616436508552 ll", Disassembler.Format(slots, 0, AsmDialect.Llvm));
        Assert.Equal(2, Disassembler.Width(slots, 0));
    }

    [Fact]
    public void Invalid_slots_print_as_insn_with_the_reason()
    {
        Instruction[] slots = [Instruction.FromRaw(0xf5), new Instruction(Opcodes.LdDw, (byte)1, (byte)0, 0, 5)];
        var text = Disassembler.Disassemble(slots, AsmDialect.Llvm);
        Assert.Equal(".insn 0x00000000000000f5 # invalid: unknown opcode 0xf5\n.insn 0x0000000500000118 # invalid: lddw is missing its second slot\n", text);
        Assert.Equal(slots, Assembler.Assemble(text, AsmDialect.Llvm));
    }
}
