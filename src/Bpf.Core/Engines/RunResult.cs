using Bpf.Runtime;

namespace Bpf;

/// <summary>
/// The outcome of running a program: the one result type of every way to run one — <see cref="Interpreter.Run"/>
/// over raw memory, <see cref="IBpfProgram.Run(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> on either engine, a managed
/// program with its context, and the kernel's BPF_PROG_TEST_RUN. A value type: running allocates nothing for it.
/// What an engine cannot know is null or empty, as each property says.
/// </summary>
public readonly record struct RunResult
{
    private readonly byte[]? _data;
    private readonly byte[]? _context;
    private readonly int _runs;

    /// <summary>A result with r0, a fault and the instruction count; the other properties are set with <c>init</c>.</summary>
    public RunResult(ulong r0, VmFault? fault = null, long? instructionsExecuted = null)
    {
        R0 = r0;
        Fault = fault;
        InstructionsExecuted = instructionsExecuted;
    }

    /// <summary>r0 when the program (or the last program it tail-called) exited; 0 after a fault. The kernel reports
    /// only its low 32 bits.</summary>
    public ulong R0 { get; init; }

    /// <summary>The 32-bit return value as BPF_PROG_TEST_RUN reports it (retval): the low half of <see cref="R0"/>.</summary>
    public uint ReturnValue => (uint)R0;

    /// <summary>Why the run stopped abnormally (interpreter only), or null. <see cref="IBpfProgram.Run(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    /// throws <see cref="BpfProgramFaultException"/> instead of returning a fault.</summary>
    public VmFault? Fault { get; init; }

    /// <summary>True when the run ended with an exit.</summary>
    public bool Succeeded => Fault is null;

    /// <summary>Instructions executed, over every program of the run (tail calls included). The interpreter counts
    /// them; the kernel does not say: null.</summary>
    public long? InstructionsExecuted { get; init; }

    /// <summary>The packet after the run (empty when the program has no packet data, or when it ran over caller
    /// memory, which it changed in place).</summary>
    public byte[] Data { get => _data ?? []; init => _data = value; }

    /// <summary>The context after the run (empty when none was passed).</summary>
    public byte[] Context { get => _context ?? []; init => _context = value; }

    /// <summary>How many tail calls were taken (the managed runtime counts them; 0 elsewhere).</summary>
    public int TailCalls { get; init; }

    /// <summary>The redirect the program requested through <c>bpf_redirect</c>/<c>bpf_redirect_map</c> (managed
    /// runtime), or null.</summary>
    public RedirectRecord? Redirect { get; init; }

    /// <summary>How many times the program ran (see <see cref="IBpfProgram.Run(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int)"/>); at least 1.</summary>
    public int Runs { get => _runs < 1 ? 1 : _runs; init => _runs = value; }

    /// <summary>Mean time per run in nanoseconds when <see cref="IBpfProgram"/> ran the program more than once: the
    /// kernel's own <c>duration</c> (BPF_PROG_TEST_RUN), or the interpreter's repeat loop divided by the runs (the
    /// context written before the loop and read after it, as the kernel's test run does); null when not measured.</summary>
    public double? NanosecondsPerRun { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        (Fault is null ? $"r0=0x{R0:x}" : $"fault: {Fault.Message}") + (InstructionsExecuted is { } n ? $" ({n} insns)" : "");
}
