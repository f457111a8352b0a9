using System.Text;
using System.Text.Json;

namespace Bpf;

/// <summary>Accept or reject.</summary>
public enum Verdict
{
    /// <summary>The program is safe under the options given.</summary>
    Accept,
    /// <summary>The program was rejected; see <see cref="VerificationResult.Error"/>.</summary>
    Reject,
}

/// <summary>Stable rejection codes. Their names are part of the JSON output and never change meaning.</summary>
public enum VerifierErrorCode
{
    /// <summary>No instructions.</summary>
    EmptyProgram,
    /// <summary>More instructions than the size limit for the privilege mode.</summary>
    ProgramTooLarge,
    /// <summary>An opcode byte no instruction uses.</summary>
    UnknownOpcode,
    /// <summary>A field the instruction does not use is not zero, or a variant selector is invalid.</summary>
    ReservedField,
    /// <summary>A malformed 64-bit immediate load.</summary>
    InvalidWideLoad,
    /// <summary>A jump target outside the program or its subprogram.</summary>
    JumpOutOfRange,
    /// <summary>A jump into the second slot of an lddw.</summary>
    JumpIntoWideLoad,
    /// <summary>The last instruction of a (sub)program is not exit or ja.</summary>
    FallsOffEnd,
    /// <summary>An instruction no path reaches.</summary>
    UnreachableInstruction,
    /// <summary>A loop in a program loaded without the privilege for loops.</summary>
    BackEdge,
    /// <summary>A bpf-to-bpf call target that is not an instruction, or a call kind not supported.</summary>
    InvalidCallTarget,
    /// <summary>More than 8 nested call frames.</summary>
    CallDepthExceeded,
    /// <summary>Stack frames along a call chain use more than 512 bytes.</summary>
    StackTooLarge,
    /// <summary>Reading a register that holds no value.</summary>
    UninitializedRegister,
    /// <summary>Writing r10 or using a register number above 10.</summary>
    InvalidRegister,
    /// <summary>Division or modulo by an immediate zero, or a shift by an immediate at least the width.</summary>
    InvalidImmediate,
    /// <summary>Forbidden arithmetic on a pointer.</summary>
    PointerArithmetic,
    /// <summary>A pointer comparison the privilege mode forbids.</summary>
    PointerComparison,
    /// <summary>A pointer value escapes where the privilege mode forbids it.</summary>
    PointerLeak,
    /// <summary>A memory access through a register that is not a pointer, or a null-able one.</summary>
    InvalidMemoryAccess,
    /// <summary>Context field access not allowed (offset, size or direction) for the program type.</summary>
    InvalidContextAccess,
    /// <summary>Stack access outside the frame, misaligned, or reading uninitialized / partially spilled bytes.</summary>
    InvalidStackAccess,
    /// <summary>Map value access outside the value.</summary>
    MapValueOutOfBounds,
    /// <summary>Packet access not proven within data_end.</summary>
    PacketOutOfBounds,
    /// <summary>Generic memory access outside its region.</summary>
    MemoryOutOfBounds,
    /// <summary>A variable offset that is unbounded or negative where it must not be.</summary>
    UnboundedAccess,
    /// <summary>A helper id the kernel does not know, or one the program type may not use.</summary>
    UnknownHelper,
    /// <summary>A helper argument of the wrong kind or size.</summary>
    InvalidHelperArgument,
    /// <summary>A map not present, or a map type a helper does not accept.</summary>
    InvalidMap,
    /// <summary>An acquired reference (ringbuf reservation) not released at exit, or released twice.</summary>
    UnreleasedReference,
    /// <summary>R0 at exit outside the range the program type requires.</summary>
    InvalidReturnValue,
    /// <summary>The same state reached twice on one path: the loop never terminates.</summary>
    InfiniteLoop,
    /// <summary>More than the processed-instruction budget, or too many pending branches.</summary>
    TooComplex,
    /// <summary>The privilege mode may not load this program type at all (the kernel answers EPERM).</summary>
    PermissionDenied,
    /// <summary>A construct this verifier does not model (kfuncs, callbacks, BTF ids); the kernel may accept it.</summary>
    NotSupported,
}

/// <summary>Why a program was rejected.</summary>
/// <param name="Code">Stable code.</param>
/// <param name="InstructionIndex">The slot index of the offending instruction (-1 for whole-program errors).</param>
/// <param name="Message">A one-line description in the kernel's wording where one exists.</param>
/// <param name="Register">The offending register, when one is.</param>
/// <param name="RegisterState">That register's abstract state in the kernel's notation, when known.</param>
/// <param name="Path">The branch decisions (from, to) on the path that led to the error, oldest first.</param>
/// <param name="Source">The source position of the instruction, when line info is available.</param>
public sealed record VerifierError(
    VerifierErrorCode Code,
    int InstructionIndex,
    string Message,
    Register? Register,
    string? RegisterState,
    IReadOnlyList<(int From, int To)> Path,
    SourceLocation? Source)
{
    /// <inheritdoc/>
    public override string ToString() =>
        InstructionIndex >= 0 ? $"insn {InstructionIndex}: {Message}" : Message;
}

/// <summary>The outcome of verifying one program.</summary>
public sealed class VerificationResult
{
    internal VerificationResult(VerifierError? error, int processed, int peakStates, int totalStates, int stackDepth, string? log)
    {
        Error = error;
        ProcessedInstructions = processed;
        PeakStates = peakStates;
        TotalStates = totalStates;
        StackDepth = stackDepth;
        Log = log;
    }

    /// <summary>Accept or reject.</summary>
    public Verdict Verdict => Error is null ? Verdict.Accept : Verdict.Reject;

    /// <summary>True on accept.</summary>
    public bool IsAccepted => Error is null;

    /// <summary>The rejection, or null.</summary>
    public VerifierError? Error { get; }

    /// <summary>Instructions simulated over all paths (the kernel's "processed N insns").</summary>
    public int ProcessedInstructions { get; }

    /// <summary>The largest number of states kept for pruning at one time.</summary>
    public int PeakStates { get; }

    /// <summary>States stored for pruning over the whole run.</summary>
    public int TotalStates { get; }

    /// <summary>Stack bytes used by the main program (frame 0).</summary>
    public int StackDepth { get; }

    /// <summary>A kernel-style log when <see cref="VerifierOptions.CollectLog"/> was set, else null.</summary>
    public string? Log { get; }

    /// <summary>A stable machine-readable form:
    /// <c>{"verdict":"accept|reject","code":...,"insn":...,"message":...,"processed":...,"peak_states":...}</c>.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("verdict", IsAccepted ? "accept" : "reject");
            if (Error is { } e)
            {
                w.WriteString("code", e.Code.ToString());
                w.WriteNumber("insn", e.InstructionIndex);
                w.WriteString("message", e.Message);
                if (e.Register is { } r) w.WriteString("register", $"r{(int)r}");
                if (e.RegisterState is { } s) w.WriteString("register_state", s);
                if (e.Source is { } src)
                {
                    // The source line from BTF line info, in the shape `bpfnet inspect --json` uses. A nested
                    // object, so that a caller may put these fields beside its own "file" (the object's path).
                    w.WriteStartObject("source");
                    w.WriteString("file", src.File);
                    w.WriteNumber("line", src.Line);
                    w.WriteNumber("column", src.Column);
                    if (src.Text is { } text) w.WriteString("text", text.Trim());
                    w.WriteEndObject();
                }
            }
            else
            {
                w.WriteNull("code");
                w.WriteNull("insn");
                w.WriteNull("message");
            }
            w.WriteNumber("processed", ProcessedInstructions);
            w.WriteNumber("peak_states", PeakStates);
            w.WriteNumber("total_states", TotalStates);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsAccepted ? $"accept (processed {ProcessedInstructions} insns, peak states {PeakStates})"
                   : $"reject: {Error} (processed {ProcessedInstructions} insns)";
}
