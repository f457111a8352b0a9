using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Bpf;

/// <summary>Why a slot is not a valid instruction.</summary>
public enum DecodeErrorKind
{
    /// <summary>No error.</summary>
    None,
    /// <summary>The byte count is not a multiple of 8.</summary>
    TruncatedSlot,
    /// <summary>No instruction form uses this opcode byte.</summary>
    UnknownOpcode,
    /// <summary>A field the form does not use is not zero.</summary>
    ReservedFieldNonZero,
    /// <summary>A register field names a register above R10.</summary>
    InvalidRegister,
    /// <summary>The immediate is not one the form allows (endian width, atomic operation).</summary>
    InvalidImmediate,
    /// <summary>An lddw is the last slot: its second half is missing.</summary>
    TruncatedWideLoad,
    /// <summary>The second slot of an lddw has a non-zero opcode, register or offset.</summary>
    BadWideLoadSecondSlot,
}

/// <summary>The first invalid slot of a program.</summary>
/// <param name="Index">The slot index (0-based).</param>
/// <param name="Kind">The reason.</param>
/// <param name="Message">A one-line description naming the slot.</param>
public sealed record DecodeError(int Index, DecodeErrorKind Kind, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>The result of decoding: the slots, and the first error if any slot is invalid.</summary>
/// <param name="Instructions">The slots (all of them that fit, even when an error was found).</param>
/// <param name="Error">The first invalid slot, or null.</param>
public sealed record DecodeResult(Instruction[] Instructions, DecodeError? Error)
{
    /// <summary>True when every slot is valid.</summary>
    public bool IsValid => Error is null;
}

/// <summary>Decodes raw little-endian instruction bytes and validates every slot. Never throws on bad input.</summary>
public static class InstructionDecoder
{
    /// <summary>Reinterprets bytes as slots without validating them. The byte count must be a multiple of 8.</summary>
    public static Instruction[] ReadSlots(ReadOnlySpan<byte> bytes)
    {
        var count = bytes.Length / 8;
        var result = new Instruction[count];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, Instruction>(bytes[..(count * 8)]).CopyTo(result);
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                result[i] = Instruction.FromRaw(BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(i * 8, 8)));
            }
        }
        return result;
    }

    /// <summary>Decodes and validates a program. The result always holds the slots that were read.</summary>
    public static DecodeResult Decode(ReadOnlySpan<byte> bytes)
    {
        var slots = ReadSlots(bytes);
        if (bytes.Length % 8 != 0)
        {
            return new DecodeResult(slots, new DecodeError(slots.Length, DecodeErrorKind.TruncatedSlot,
                $"insn {slots.Length}: program length {bytes.Length} is not a multiple of 8 bytes"));
        }
        return new DecodeResult(slots, Validate(slots));
    }

    /// <summary>Validates a sequence of slots; returns the first invalid one, or null.</summary>
    public static DecodeError? Validate(ReadOnlySpan<Instruction> slots)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            ref readonly var insn = ref slots[i];
            if (!InstructionSet.TryClassify(insn, out var form, out var kind, out var detail))
            {
                return new DecodeError(i, kind, $"insn {i}: {detail}");
            }
            if (form.Shape == OperandShape.LoadImm64)
            {
                if (i + 1 >= slots.Length)
                {
                    return new DecodeError(i, DecodeErrorKind.TruncatedWideLoad, $"insn {i}: lddw is missing its second slot");
                }
                var next = slots[i + 1];
                if (next.Opcode != 0 || next.DstRaw != 0 || next.SrcRaw != 0 || next.Offset != 0)
                {
                    return new DecodeError(i + 1, DecodeErrorKind.BadWideLoadSecondSlot,
                        $"insn {i + 1}: second slot of lddw must have zero opcode, registers and offset");
                }
                i++;
            }
        }
        return null;
    }
}

/// <summary>Encodes slots to little-endian bytes: the exact inverse of <see cref="InstructionDecoder.ReadSlots"/>.</summary>
public static class InstructionEncoder
{
    /// <summary>Encodes slots to a new byte array.</summary>
    public static byte[] Encode(ReadOnlySpan<Instruction> slots)
    {
        var bytes = new byte[slots.Length * 8];
        Write(slots, bytes);
        return bytes;
    }

    /// <summary>Writes slots into a buffer of at least 8 bytes per slot.</summary>
    public static void Write(ReadOnlySpan<Instruction> slots, Span<byte> destination)
    {
        if (destination.Length < slots.Length * 8)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes; {slots.Length * 8} needed", nameof(destination));
        }
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(slots).CopyTo(destination);
            return;
        }
        for (var i = 0; i < slots.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(i * 8, 8), slots[i].ToRaw());
        }
    }
}
