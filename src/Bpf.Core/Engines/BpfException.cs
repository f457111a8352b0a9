namespace Bpf;

/// <summary>The Linux error numbers BpfNet reports (the kernel's, and the managed runtime's copies of them).
/// The numeric value is the errno.</summary>
public enum BpfErrno
{
    /// <summary>No error number applies (e.g. a program fault in the interpreter).</summary>
    None = 0,
    /// <summary>Operation not permitted (missing capability, a frozen map written, a program type the privileges forbid).</summary>
    EPERM = 1,
    /// <summary>No such element or object.</summary>
    ENOENT = 2,
    /// <summary>Interrupted system call.</summary>
    EINTR = 4,
    /// <summary>Too big: a full map, an index at or above max_entries, a program too large or too complex.</summary>
    E2BIG = 7,
    /// <summary>Bad file descriptor.</summary>
    EBADF = 9,
    /// <summary>Try again.</summary>
    EAGAIN = 11,
    /// <summary>Out of memory (or above the managed runtime's map memory limit).</summary>
    ENOMEM = 12,
    /// <summary>Permission denied: the verifier refused an unsafe access.</summary>
    EACCES = 13,
    /// <summary>Bad address.</summary>
    EFAULT = 14,
    /// <summary>Busy.</summary>
    EBUSY = 16,
    /// <summary>Exists (update with BPF_NOEXIST of an existing key).</summary>
    EEXIST = 17,
    /// <summary>Invalid argument (bad flags, sizes, malformed code).</summary>
    EINVAL = 22,
    /// <summary>No space left.</summary>
    ENOSPC = 28,
    /// <summary>Function not implemented (no bpf() here).</summary>
    ENOSYS = 38,
    /// <summary>Operation not supported.</summary>
    EOPNOTSUPP = 95,
    /// <summary>The kernel's internal ENOTSUPP (e.g. an LRU map with BPF_F_NO_PREALLOC).</summary>
    ENOTSUPP = 524,
}

/// <summary>
/// The root of BpfNet's errors about eBPF objects, whichever engine raised them: a refused map operation
/// (<c>MapException</c>), a failed system call (<c>Bpf.BpfSyscallException</c>), a verifier rejection
/// (<c>Bpf.ProgramRejectedException</c>, the kernel's or ours), a program fault (<see cref="BpfProgramFaultException"/>).
/// The same failure raises the same type on both engines; <see cref="Code"/> is its errno.
/// </summary>
public class BpfException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BpfException(BpfErrno code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    /// <summary>The error number (<see cref="BpfErrno.None"/> when none applies).</summary>
    public BpfErrno Code { get; }
}

/// <summary>A program faulted while running (the interpreter contains every out-of-bounds access, runaway loop or
/// failed helper and stops the run): names the program and the instruction.</summary>
public sealed class BpfProgramFaultException : BpfException
{
    /// <summary>Creates the exception.</summary>
    public BpfProgramFaultException(string programName, int instructionIndex, string detail)
        : base(BpfErrno.None, $"program '{programName}' faulted at instruction {instructionIndex}: {detail}")
    {
        ProgramName = programName;
        InstructionIndex = instructionIndex;
        Detail = detail;
    }

    /// <summary>The program.</summary>
    public string ProgramName { get; }

    /// <summary>The slot index of the faulting instruction.</summary>
    public int InstructionIndex { get; }

    /// <summary>What happened, e.g. <c>insn 7: out-of-bounds read of 4 bytes at ...</c>.</summary>
    public string Detail { get; }
}
