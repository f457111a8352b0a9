namespace Bpf;

/// <summary>Why a run stopped abnormally.</summary>
public enum VmFaultKind
{
    /// <summary>A load, store or atomic touched memory outside every region the program may access
    /// (or wrote a read-only region).</summary>
    MemoryAccess,
    /// <summary>The instruction budget ran out (the program may not terminate).</summary>
    BudgetExhausted,
    /// <summary>A bpf-to-bpf call would exceed <see cref="VmLayout.MaxFrames"/> frames.</summary>
    CallDepthExceeded,
    /// <summary>A call or callx named a helper id that is not registered.</summary>
    UnknownHelper,
    /// <summary>A helper reported an error, touched memory it may not, or threw.</summary>
    HelperFailed,
    /// <summary>Execution ran past the last instruction without an exit.</summary>
    FellOffEnd,
}

/// <summary>The reason a run stopped abnormally.</summary>
/// <param name="Kind">The category.</param>
/// <param name="InstructionIndex">The slot index of the faulting instruction.</param>
/// <param name="Message">One line starting with <c>insn N:</c>, e.g.
/// <c>insn 7: out-of-bounds write of 4 bytes at 0x200000ffc (nearest: stack frame 0 [0x200000e00, 0x200001000))</c>.</param>
public sealed record VmFault(VmFaultKind Kind, int InstructionIndex, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => Message;
}

/// <summary>A program the interpreter refuses to load: undecodable, a jump or call target out of range or into
/// the second slot of an lddw, or a write to the read-only frame pointer r10.</summary>
public sealed class ProgramLoadException : BpfException
{
    /// <summary>Creates the exception.</summary>
    public ProgramLoadException(int instructionIndex, string message, DecodeError? decodeError = null)
        : base(BpfErrno.EINVAL, message)
    {
        InstructionIndex = instructionIndex;
        DecodeError = decodeError;
    }

    /// <summary>The slot index of the offending instruction.</summary>
    public int InstructionIndex { get; }

    /// <summary>The decoder's finding when the slot itself is invalid; null for structural errors.</summary>
    public DecodeError? DecodeError { get; }
}
