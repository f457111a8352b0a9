using Bpf.Loader;
using Bpf.Loader.Interop;
using Interop = Bpf.Loader.Interop;

namespace Bpf;

/// <summary>A system call made by the loader failed. Keeps the raw errno, its symbolic name and the command.</summary>
public class BpfSyscallException : BpfException
{
    /// <summary>Creates the exception.</summary>
    public BpfSyscallException(string command, int errno, string message, Exception? inner = null)
        : base((BpfErrno)errno, message, inner)
    {
        Command = command;
        Errno = errno;
        ErrnoName = Interop.Errno.Name(errno);
    }

    /// <summary>The command or call that failed, in kernel spelling (e.g. <c>BPF_MAP_CREATE</c>).</summary>
    public string Command { get; }

    /// <summary>The raw errno number.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name (e.g. <c>EINVAL</c>).</summary>
    public string ErrnoName { get; }

    /// <summary>True when the errno is ENOENT (key or object not found).</summary>
    public bool IsNotFound => Errno == Interop.Errno.ENOENT;

    /// <summary>True when the refusal is about this process, not the object: bpf() not permitted (EPERM, EACCES)
    /// or absent (ENOSYS). A tool reports that as an unusable environment rather than a failed program.</summary>
    public virtual bool IsEnvironmentRefusal => Errno is Interop.Errno.EPERM or Interop.Errno.EACCES or Interop.Errno.ENOSYS;

    internal static BpfSyscallException Create(string command, int errno, string? detail = null)
    {
        string msg = $"{command} failed: {Interop.Errno.Name(errno)} ({errno}): {Interop.Errno.Describe(errno)}";
        if (detail is not null) msg += " — " + detail;
        if (errno == Interop.Errno.EPERM && detail is null) msg += " — " + PermissionHint;
        return new BpfSyscallException(command, errno, msg);
    }

    /// <summary>What an EPERM means for this process: the capabilities it lacks, read from /proc/self/status.</summary>
    internal static string PermissionHint =>
        "not permitted for this process: " + ProcessCapabilities.DescribeForEperm() +
        "; kernels before 5.11 also charge bpf memory to RLIMIT_MEMLOCK (ulimit -l unlimited)";
}

/// <summary>Whose verifier refused a program.</summary>
public enum RejectedBy
{
    /// <summary>The Linux kernel's verifier (BPF_PROG_LOAD failed).</summary>
    Kernel,
    /// <summary>BpfNet's own verifier (Bpf.Verifier), on the load path of the interpreter engine.</summary>
    BpfNetVerifier,
}

/// <summary>
/// A verifier rejected a program: the kernel's (<see cref="RejectedBy.Kernel"/>) or, when loading for the
/// interpreter, BpfNet's own (<see cref="RejectedBy.BpfNetVerifier"/>) — the same exception either way, so code
/// that loads an object handles a refusal once. <see cref="Exception.Message"/> names the program, the instruction
/// and, when the object has line info, the source line and file:line; <see cref="Log"/> is the whole verifier log.
/// <see cref="Explanation"/> is BpfNet's verifier's account of the same program (for a kernel rejection: when it
/// has one, i.e. when it rejects the program too).
/// </summary>
public sealed class ProgramRejectedException : BpfSyscallException
{
    /// <summary>Creates the exception.</summary>
    public ProgramRejectedException(int errno, string log, bool truncated)
        : this(errno, log, truncated, null)
    {
    }

    /// <summary>Creates the exception for a named program (the name leads the message).</summary>
    public ProgramRejectedException(int errno, string log, bool truncated, string? programName)
        : this(errno, log, truncated, programName, null)
    {
    }

    /// <summary>Creates the exception for a named program of a known type: an EPERM without a log then names what
    /// loading that type needs (<see cref="ProcessCapabilities.DescribeForProgramLoadEperm"/>).</summary>
    internal ProgramRejectedException(int errno, string log, bool truncated, string? programName, ProgramType? type)
        : base("BPF_PROG_LOAD", errno, (string.IsNullOrEmpty(programName) ? "" : $"program '{programName}': ") + BuildMessage(errno, log, truncated, type))
    {
        Log = log;
        Truncated = truncated;
        FailedInstructionIndex = VerifierLog.FindFailedInstruction(log);
        ProgramName = string.IsNullOrEmpty(programName) ? null : programName;
    }

    private ProgramRejectedException(int errno, string message, string log, string? programName, int? failedInstruction,
        RejectedBy rejectedBy, Bpf.VerifierError? explanation, Exception? inner)
        : base("BPF_PROG_LOAD", errno, message, inner)
    {
        Log = log;
        ProgramName = programName;
        FailedInstructionIndex = failedInstruction;
        RejectedBy = rejectedBy;
        Explanation = explanation;
    }

    /// <summary>BpfNet's verifier refused <paramref name="programName"/>: the errno is the one the kernel gives for
    /// that kind of rejection (EACCES for unsafe access, EINVAL for malformed code, EPERM for missing privileges,
    /// E2BIG for size and complexity).</summary>
    internal static ProgramRejectedException FromBpfNetVerifier(string programName, Bpf.VerifierError error, Bpf.PrivilegeMode privilege, string? log)
    {
        int errno = ErrnoFor(error.Code);
        string message = $"program '{programName}': program rejected by the BpfNet verifier ({Interop.Errno.Name(errno)}, verified as {Describe(privilege)})" +
            (error.InstructionIndex >= 0 ? $" at instruction {error.InstructionIndex}" : "") +
            SourceSuffix(error) + ": " + error.Message;
        return new ProgramRejectedException(errno, message, log ?? "", programName, error.InstructionIndex >= 0 ? error.InstructionIndex : null,
            RejectedBy.BpfNetVerifier, error, null);
    }

    /// <summary>This kernel rejection, carrying BpfNet's verifier's explanation of the same program.</summary>
    internal ProgramRejectedException WithExplanation(Bpf.VerifierError explanation) =>
        new(Errno, Message + $" [BpfNet verifier: " + (explanation.InstructionIndex >= 0 ? $"instruction {explanation.InstructionIndex}" : "program") +
            SourceSuffix(explanation) + ": " + explanation.Message + "]",
            Log, ProgramName, FailedInstructionIndex, RejectedBy, explanation, this) { Truncated = Truncated };

    private static string SourceSuffix(Bpf.VerifierError error) => error.Source is { } src
        ? $" ({src.File}:{src.Line}" + (string.IsNullOrWhiteSpace(src.Text) ? ")" : $": {src.Text.Trim()})")
        : "";

    internal static string Describe(Bpf.PrivilegeMode privilege) => privilege switch
    {
        Bpf.PrivilegeMode.Privileged => "privileged",
        Bpf.PrivilegeMode.CapBpfOnly => "CAP_BPF without CAP_PERFMON",
        _ => "unprivileged",
    };

    private static int ErrnoFor(Bpf.VerifierErrorCode code) => code switch
    {
        Bpf.VerifierErrorCode.PermissionDenied => Interop.Errno.EPERM,
        Bpf.VerifierErrorCode.ProgramTooLarge or Bpf.VerifierErrorCode.TooComplex => Interop.Errno.E2BIG,
        Bpf.VerifierErrorCode.EmptyProgram or Bpf.VerifierErrorCode.UnknownOpcode or Bpf.VerifierErrorCode.ReservedField
            or Bpf.VerifierErrorCode.InvalidWideLoad or Bpf.VerifierErrorCode.JumpOutOfRange or Bpf.VerifierErrorCode.JumpIntoWideLoad
            or Bpf.VerifierErrorCode.FallsOffEnd or Bpf.VerifierErrorCode.UnreachableInstruction or Bpf.VerifierErrorCode.BackEdge
            or Bpf.VerifierErrorCode.InvalidCallTarget or Bpf.VerifierErrorCode.InvalidImmediate
            or Bpf.VerifierErrorCode.InvalidRegister or Bpf.VerifierErrorCode.InfiniteLoop => Interop.Errno.EINVAL,
        _ => Interop.Errno.EACCES,
    };

    /// <summary>Whose verifier refused the program.</summary>
    public RejectedBy RejectedBy { get; } = RejectedBy.Kernel;

    /// <summary>BpfNet's verifier's account of the program: the rejection itself when <see cref="RejectedBy"/> is
    /// <see cref="RejectedBy.BpfNetVerifier"/>; for a kernel rejection, its own error for the same program when it
    /// rejects it too (null when it accepts it or cannot judge it).</summary>
    public Bpf.VerifierError? Explanation { get; }

    /// <summary>The name of the rejected program, when known.</summary>
    public string? ProgramName { get; }

    /// <summary>Only an EPERM with an empty log: a verdict (EACCES, EINVAL with a log) is about the program.</summary>
    public override bool IsEnvironmentRefusal => Errno == Interop.Errno.EPERM && Log.Length == 0;

    /// <summary>The whole verifier log (empty when the kernel gave none).</summary>
    public string Log { get; }

    /// <summary>True if the log could not be obtained whole even after growing the buffer.</summary>
    public bool Truncated { get; private init; }

    /// <summary>The slot index of the last instruction the log mentions before the error, when it names one.</summary>
    public int? FailedInstructionIndex { get; }

    private static string BuildMessage(int errno, string log, bool truncated, ProgramType? type)
    {
        string summary = VerifierLog.Summarize(log);
        string head = $"program rejected by the kernel verifier ({Interop.Errno.Name(errno)})";
        if (summary.Length == 0)
        {
            // EPERM with an empty log is the kernel refusing the process, not a verdict on the program.
            return errno != Interop.Errno.EPERM ? head + " with an empty log"
                : type is { } t ? $"program not loaded: the kernel refused it ({Interop.Errno.Name(errno)}) before verifying it: " + ProcessCapabilities.DescribeForProgramLoadEperm(t)
                : $"program not loaded: the kernel refused this process ({Interop.Errno.Name(errno)}) before verifying it: " + PermissionHint;
        }
        int? at = VerifierLog.FindFailedInstruction(log);
        return head + (at is int i ? $" at instruction {i}" : "") + ": " + summary + (truncated ? " (log truncated)" : "");
    }
}

/// <summary>
/// A kernel feature (program type, map type, helper, attach kind) is missing. Distinct from other errors so
/// callers and tests can skip; carries the first kernel version that has it where known.
/// </summary>
public sealed class BpfNotSupportedException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    public BpfNotSupportedException(string feature, Version? minimumKernel, string? detail = null)
        : base($"{feature} is not supported by this kernel" +
               (minimumKernel is null ? "" : $" (needs Linux {minimumKernel} or later)") +
               (detail is null ? "" : ": " + detail))
    {
        Feature = feature;
        MinimumKernelVersion = minimumKernel;
    }

    /// <summary>What is missing, e.g. <c>map type RingBuf</c>.</summary>
    public string Feature { get; }

    /// <summary>The first mainline kernel version with the feature, when known.</summary>
    public Version? MinimumKernelVersion { get; }
}

/// <summary>
/// The kernel has a feature but refused this process (EPERM/EACCES): a capability is missing. The message names
/// the capabilities bpf() cares about that the process lacks.
/// </summary>
public sealed class BpfNotPermittedException : UnauthorizedAccessException
{
    /// <summary>Creates the exception.</summary>
    public BpfNotPermittedException(string feature, int errno)
        : base($"{feature} is not permitted for this process ({Interop.Errno.Name(errno)}): {ProcessCapabilities.DescribeForEperm()}")
    {
        Feature = feature;
        Errno = errno;
    }

    /// <summary>What was refused, e.g. <c>map type Arena</c>.</summary>
    public string Feature { get; }

    /// <summary>The raw errno (EPERM or EACCES).</summary>
    public int Errno { get; }
}

/// <summary>Map iteration could not finish because the map kept changing under it.</summary>
public sealed class MapIterationAbortedException : BpfException
{
    /// <summary>Creates the exception.</summary>
    public MapIterationAbortedException(string message) : base(BpfErrno.EAGAIN, message) { }
}
