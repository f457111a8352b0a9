using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// A coarse class of why a program was rejected, the same for our <see cref="VerifierErrorCode"/> and the kernel's
/// log line, so differential tests compare reasons and not only verdicts. Coarse on purpose: the kernel reports the
/// first problem on the path it explores, we report ours; classes group what both would call the same mistake.
/// </summary>
public enum RejectionClass
{
    /// <summary>Instruction encoding, jumps, unreachable code, loops the structure check refuses, program size.</summary>
    Structure,
    /// <summary>A register read before it is written, or a frame pointer written.</summary>
    Register,
    /// <summary>Pointer arithmetic, comparison or leak; a scalar used as a pointer or the reverse.</summary>
    Pointer,
    /// <summary>A memory access outside its region: stack, context, map value, packet, variable offsets.</summary>
    Memory,
    /// <summary>A helper call: unknown helper, argument kinds, maps, references.</summary>
    Call,
    /// <summary>The value returned at exit.</summary>
    ReturnValue,
    /// <summary>Too many instructions or states; an infinite loop.</summary>
    Complexity,
    /// <summary>Not permitted for the privilege mode.</summary>
    Permission,
    /// <summary>Not modelled by us (never a match: "not modelled" is not a reason).</summary>
    NotModelled,
    /// <summary>A kernel message this classifier does not know: printed so the table can grow.</summary>
    Unknown,
}

public static class RejectionClasses
{
    public static RejectionClass Of(VerifierErrorCode code) => code switch
    {
        VerifierErrorCode.EmptyProgram or VerifierErrorCode.ProgramTooLarge or VerifierErrorCode.UnknownOpcode or
            VerifierErrorCode.ReservedField or VerifierErrorCode.InvalidWideLoad or VerifierErrorCode.JumpOutOfRange or
            VerifierErrorCode.JumpIntoWideLoad or VerifierErrorCode.FallsOffEnd or VerifierErrorCode.UnreachableInstruction or
            VerifierErrorCode.BackEdge or VerifierErrorCode.InvalidCallTarget or VerifierErrorCode.CallDepthExceeded or
            VerifierErrorCode.InvalidImmediate => RejectionClass.Structure,
        VerifierErrorCode.UninitializedRegister or VerifierErrorCode.InvalidRegister => RejectionClass.Register,
        VerifierErrorCode.PointerArithmetic or VerifierErrorCode.PointerComparison or VerifierErrorCode.PointerLeak or
            VerifierErrorCode.InvalidMemoryAccess => RejectionClass.Pointer,
        VerifierErrorCode.InvalidContextAccess or VerifierErrorCode.InvalidStackAccess or VerifierErrorCode.MapValueOutOfBounds or
            VerifierErrorCode.PacketOutOfBounds or VerifierErrorCode.MemoryOutOfBounds or VerifierErrorCode.UnboundedAccess or
            VerifierErrorCode.StackTooLarge => RejectionClass.Memory,
        VerifierErrorCode.UnknownHelper or VerifierErrorCode.InvalidHelperArgument or VerifierErrorCode.InvalidMap or
            VerifierErrorCode.UnreleasedReference => RejectionClass.Call,
        VerifierErrorCode.InvalidReturnValue => RejectionClass.ReturnValue,
        VerifierErrorCode.InfiniteLoop or VerifierErrorCode.TooComplex => RejectionClass.Complexity,
        VerifierErrorCode.PermissionDenied => RejectionClass.Permission,
        _ => RejectionClass.NotModelled,
    };

    /// <summary>Kernel message fragments, most specific first (checked in order).</summary>
    private static readonly (string Fragment, RejectionClass Class)[] KernelFragments =
    [
        ("is invalid", RejectionClass.Register),
        ("cannot be accessed directly by load/store", RejectionClass.Pointer),
        ("bpf_spin_lock", RejectionClass.Call),
        ("bpf_spin_unlock", RejectionClass.Call),
        ("function calls are not allowed while holding a lock", RejectionClass.Call),
        ("jump into the middle of ldimm64", RejectionClass.Structure),
        ("call to invalid destination", RejectionClass.Structure),
        ("frames is too deep", RejectionClass.Structure),
        ("invalid atomic opcode", RejectionClass.Structure),
        ("BPF_ATOMIC stores into", RejectionClass.Pointer),
        ("access is allowed only to CAP_PERFMON", RejectionClass.Pointer),
        ("dereference of modified ctx ptr", RejectionClass.Memory),
        ("cannot write into packet", RejectionClass.Memory),
        ("cannot write into", RejectionClass.Pointer),
        ("callback function not allowed for map", RejectionClass.Call),
        ("combined stack size", RejectionClass.Memory),
        ("BPF_LD_[ABS|IND]", RejectionClass.Memory),
        ("LD_ABS|IND", RejectionClass.Memory),
        ("cannot use helper", RejectionClass.Call),
        ("helper access to the packet is not allowed", RejectionClass.Call),
        ("cannot pass map_type", RejectionClass.Call),
        ("expected prog array map", RejectionClass.Call),
        ("reference leak", RejectionClass.Call),
        ("is not a known constant", RejectionClass.Call),
        ("invalid zero-sized read", RejectionClass.Call),
        ("!read_ok", RejectionClass.Register),
        ("frame pointer is read only", RejectionClass.Register),
        ("leaks addr", RejectionClass.Pointer),
        ("variable stack access prohibited for !root", RejectionClass.Pointer),
        ("pointer comparison prohibited", RejectionClass.Pointer),
        ("pointer arithmetic", RejectionClass.Pointer),
        ("math between", RejectionClass.Pointer),
        ("bitwise operator", RejectionClass.Pointer),
        ("32-bit pointer arithmetic", RejectionClass.Pointer),
        ("pointer", RejectionClass.Pointer),
        ("invalid mem access", RejectionClass.Pointer),
        ("R0 has", RejectionClass.ReturnValue),
        ("At program exit", RejectionClass.ReturnValue),
        ("invalid read from stack", RejectionClass.Memory),
        ("invalid write to stack", RejectionClass.Memory),
        ("invalid stack", RejectionClass.Memory),
        ("invalid indirect", RejectionClass.Memory),
        ("invalid access to map value", RejectionClass.Memory),
        ("invalid access to packet", RejectionClass.Memory),
        ("offset is outside of the packet", RejectionClass.Memory),
        ("invalid bpf_context access", RejectionClass.Memory),
        ("invalid variable-offset", RejectionClass.Memory),
        ("variable ctx access", RejectionClass.Memory),
        ("unbounded memory access", RejectionClass.Memory),
        ("min value is negative", RejectionClass.Memory),
        ("misaligned", RejectionClass.Memory),
        ("value is outside of the allowed memory range", RejectionClass.Memory),
        ("invalid size of register", RejectionClass.Memory),
        ("invalid access", RejectionClass.Memory),
        ("unreleased reference", RejectionClass.Call),
        ("invalid func", RejectionClass.Call),
        ("unknown func", RejectionClass.Call),
        ("type=", RejectionClass.Call),
        ("expected=", RejectionClass.Call),
        ("arg#", RejectionClass.Call),
        ("back-edge", RejectionClass.Structure),
        ("invalid shift", RejectionClass.Structure),
        ("div by zero", RejectionClass.Structure),
        ("unreachable insn", RejectionClass.Structure),
        ("jump out of range", RejectionClass.Structure),
        ("invalid BPF_", RejectionClass.Structure),
        ("unknown opcode", RejectionClass.Structure),
        ("reserved", RejectionClass.Structure),
        ("last insn is not an exit or jmp", RejectionClass.Structure),
        ("infinite loop", RejectionClass.Complexity),
        ("too complex", RejectionClass.Complexity),
        ("too many", RejectionClass.Complexity),
        ("BPF program is too large", RejectionClass.Complexity),
        ("EPERM", RejectionClass.Permission),
    ];

    /// <summary>Same reason: the same message (our wording follows the kernel's where one exists), or the same class.</summary>
    public static bool Same(VerifierError ours, string kernelMessage)
    {
        var first = ours.Message.Split('\n')[0];
        if (kernelMessage.StartsWith(first, StringComparison.Ordinal) || first.StartsWith(kernelMessage, StringComparison.Ordinal)) return true;
        return Of(ours.Code) == OfKernel(kernelMessage);
    }

    public static RejectionClass OfKernel(string message)
    {
        foreach (var (fragment, cls) in KernelFragments)
        {
            if (message.Contains(fragment, StringComparison.Ordinal)) return cls;
        }
        return RejectionClass.Unknown;
    }
}
