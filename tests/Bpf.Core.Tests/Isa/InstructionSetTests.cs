using System.Runtime.CompilerServices;

namespace Bpf.Core.Tests.Isa;

public class InstructionSetTests
{
    [Fact]
    public void Instruction_IsEightBytes() => Assert.Equal(8, Unsafe.SizeOf<Instruction>());

    [Fact]
    public void Forms_AreUniquePerOpcodeAndSelector()
    {
        var keys = InstructionSet.Forms.Select(f => (f.Opcode, f.OffsetKey, f.ImmKey)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void Forms_CoverTheRfc9669InstructionCount()
    {
        // ALU64 32 (12 ops x K/X, sdiv/smod x K/X, 3 movsx, neg) + ALU32 31 (2 movsx) + 9 endian
        // + ja, ja32, 44 conditional jumps, call, callx, exit + lddw
        // + 18 B/H/W loads/stores (ldabs, ldind, ldxs, ldx, st, stx) + 3 DW (ldx, st, stx) + 20 atomics
        // + the Linux extensions may_goto and 8 load-acquire / store-release (B, H, W, DW).
        Assert.Equal(32 + 31 + 9 + 2 + 44 + 3 + 1 + 18 + 3 + 20 + 1 + 8, InstructionSet.Forms.Count);
        foreach (var m in new[] { "sdiv32", "smod", "movsx832", "movsx3264", "bswap64", "be16", "le64", "ja32", "callx",
                     "ldxsw", "lock cmpxchg32", "lock fetch xor", "lock xchg", "lddw", "ldabsh", "ldindb", "jsle32", "neg", "may_goto", "ldacqb", "strelh", "ldacqdw" })
        {
            Assert.False(InstructionSet.FormsByMnemonic(m).IsEmpty, m);
        }
    }

    [Theory]
    [InlineData(0x00ul, DecodeErrorKind.UnknownOpcode)]                         // opcode 0 alone
    [InlineData(0x0000_0001_0000_0095ul, DecodeErrorKind.ReservedFieldNonZero)] // exit with imm 1
    [InlineData(0x0000_0000_0001_0095ul, DecodeErrorKind.ReservedFieldNonZero)] // exit with offset 1
    [InlineData(0x0000_0000_0000_1bbful, DecodeErrorKind.InvalidRegister)]      // mov r11, r1
    [InlineData(0x0000_0000_0002_01bful, DecodeErrorKind.ReservedFieldNonZero)] // mov r1, r0 with offset 2
    [InlineData(0x0000_0018_0000_00d4ul, DecodeErrorKind.InvalidImmediate)]     // le24
    [InlineData(0x0000_0002_0000_00dbul, DecodeErrorKind.InvalidImmediate)]     // atomic op 2
    [InlineData(0x0000_0000_0000_00dful, DecodeErrorKind.UnknownOpcode)]        // ALU64 END with X source
    [InlineData(0x0000_0000_0000_0038ul, DecodeErrorKind.UnknownOpcode)]        // LD ABS DW
    public void Validate_BadSlot_ReportsKindAndIndex(ulong raw, DecodeErrorKind kind)
    {
        var slots = new[] { Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0), Instruction.FromRaw(raw) };
        var error = InstructionDecoder.Validate(slots);
        Assert.NotNull(error);
        Assert.Equal(kind, error.Kind);
        Assert.Equal(1, error.Index);
        Assert.StartsWith("insn 1:", error.Message);
    }

    [Fact]
    public void Decode_TruncatedLddw_IsReported()
    {
        var (first, _) = Instruction.LoadImm64(Register.R0, 5);
        var result = InstructionDecoder.Decode(InstructionEncoder.Encode([first]));
        Assert.Equal(DecodeErrorKind.TruncatedWideLoad, result.Error?.Kind);
    }

    [Fact]
    public void Decode_LddwSecondSlotWithOpcode_IsReported()
    {
        var (first, _) = Instruction.LoadImm64(Register.R0, 5);
        var result = InstructionDecoder.Decode(InstructionEncoder.Encode([first, Instruction.ExitInsn()]));
        Assert.Equal(DecodeErrorKind.BadWideLoadSecondSlot, result.Error?.Kind);
        Assert.Equal(1, result.Error?.Index);
    }

    [Fact]
    public void Decode_LengthNotMultipleOfEight_IsReportedNotThrown()
    {
        var result = InstructionDecoder.Decode(new byte[13]);
        Assert.Equal(DecodeErrorKind.TruncatedSlot, result.Error?.Kind);
        Assert.Single(result.Instructions);
    }

    [Fact]
    public void Raw_MatchesConformanceRawWords()
    {
        // From lddw.data's "-- raw" section.
        var (first, second) = Instruction.LoadImm64(Register.R0, 0x1122334455667788);
        Assert.Equal(0x5566778800000018ul, first.ToRaw());
        Assert.Equal(0x1122334400000000ul, second.ToRaw());
        Assert.Equal(0x0000000000000095ul, Instruction.ExitInsn().ToRaw());
    }

    [Fact]
    public void Decode_EveryByteString_NeverThrows()
    {
        var random = new Random(1234);
        var buffer = new byte[64];
        for (var i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            var length = random.Next(buffer.Length + 1);
            var result = InstructionDecoder.Decode(buffer.AsSpan(0, length));
            Assert.Equal(length / 8, result.Instructions.Length);
        }
    }
}
