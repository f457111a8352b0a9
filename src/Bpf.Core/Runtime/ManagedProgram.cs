
namespace Bpf.Runtime;

/// <summary>
/// A program loaded into a <see cref="ManagedCollection"/>: relocated, context accesses rewritten, pre-decoded.
/// <see cref="Run"/> may be called from several threads at once (each run gets its own context memory and
/// stack; maps are shared as described on <see cref="ManagedMap"/>).
/// </summary>
public sealed class ManagedProgram
{
    /// <summary>What a run needs besides the interpreter's own state: the input memory and the helpers' view of the
    /// run. Cached per thread and reused, so a run allocates nothing for them.</summary>
    private sealed class Scratch
    {
        public byte[] Buffer = [];
        public readonly RunState State = new();
        public readonly ExecutionState Execution = new();
        public bool InUse;
    }

    [ThreadStatic] private static Scratch? t_scratch;

    private readonly Interpreter _interpreter;

    internal ManagedProgram(ManagedCollection collection, int id, string name, ProgramType type, Instruction[] instructions, Interpreter interpreter)
    {
        Collection = collection;
        Id = id;
        Name = name;
        Type = type;
        Kind = ContextLayout.KindOf(type);
        Instructions = instructions;
        _interpreter = interpreter;
    }

    /// <summary>The collection the program belongs to.</summary>
    public ManagedCollection Collection { get; }

    /// <summary>The program's id in its collection (the value a program array holds for it).</summary>
    public int Id { get; }

    /// <summary>The program's name.</summary>
    public string Name { get; }

    /// <summary>The program type.</summary>
    public ProgramType Type { get; }

    /// <summary>The context kind its runs take.</summary>
    public ContextKind Kind { get; }

    /// <summary>The instructions as the interpreter runs them (relocated, context accesses rewritten).</summary>
    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>Runs the program once on <paramref name="context"/>, which afterwards holds the output.</summary>
    /// <param name="context">The input; its kind must match <see cref="Kind"/>.</param>
    /// <param name="cpu">The CPU the run is bound to (per-CPU map slots, get_smp_processor_id).</param>
    /// <exception cref="ArgumentException">The context kind does not match, or the CPU is out of range.</exception>
    public RunResult Run(ProgramContext context, int cpu = 0) => RunRepeated(context, cpu, 1, out _);

    /// <summary>Runs the program <paramref name="repeat"/> times on <paramref name="context"/> as BPF_PROG_TEST_RUN's
    /// repeat does: the context is written once and every run sees what the runs before it left (a packet byte a
    /// program increments is incremented <paramref name="repeat"/> times; moved packet pointers stay moved); the
    /// context holds the last run's output. A fault ends the loop. <paramref name="elapsedTicks"/>: the
    /// <see cref="System.Diagnostics.Stopwatch"/> ticks of the runs together (0 for one run, which is not timed).</summary>
    internal RunResult RunRepeated(ProgramContext context, int cpu, int repeat, out long elapsedTicks)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Kind != Kind)
        {
            throw new ArgumentException($"program '{Name}' ({Type}) takes a {Kind} context, not {context.Kind}", nameof(context));
        }
        if ((uint)cpu >= (uint)Collection.CpuCount)
        {
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"the collection has {Collection.CpuCount} CPUs");
        }
        var length = context.InputLength;
        var scratch = t_scratch;
        if (scratch is null || scratch.InUse)
        {
            // A helper that runs another program on this thread gets its own scratch rather than sharing ours.
            scratch = new Scratch();
            t_scratch ??= scratch;
        }
        var buffer = scratch.Buffer;
        if (buffer.Length < length || buffer.Length > 1 << 20)
        {
            buffer = scratch.Buffer = new byte[Math.Max(length, ContextLayout.FrameOffset + ContextLayout.FrameSize)];
        }
        scratch.InUse = true;
        try
        {
            var input = buffer.AsSpan(0, length);
            context.Write(input);
            var state = scratch.State;
            RunResult result = default;
            long executed = 0;
            var started = repeat > 1 ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            for (var run = 0; run < repeat; run++)
            {
                state.Start(Collection, Kind, cpu, context.AttachCookie);
                executed = 0;
                try
                {
                    var program = this;
                    while (true)
                    {
                        result = program._interpreter.RunWindowed(input, context.Windows(input), state, scratch.Execution);
                        executed += result.InstructionsExecuted ?? 0;
                        if (!result.Succeeded || state.PendingTailCall is not { } next) break;
                        state.PendingTailCall = null;
                        if (next.Kind != Kind)
                        {
                            elapsedTicks = 0;
                            return new RunResult(0, new VmFault(VmFaultKind.HelperFailed, 0,
                                $"tail call from '{program.Name}' to '{next.Name}' ({next.Type}) crosses program types"), executed) { TailCalls = state.TailCalls, Redirect = state.Redirect };
                        }
                        program = next;
                    }
                }
                finally
                {
                    // A run that faulted inside a critical section (possible only for a program the verifier never
                    // saw) must not leave the map value locked for every later run.
                    if (state.HeldLock != 0) RuntimeHelpers.ReleaseSpinLock(state);
                }
                if (!result.Succeeded) break;
            }
            elapsedTicks = repeat > 1 ? System.Diagnostics.Stopwatch.GetTimestamp() - started : 0;
            if (result.Succeeded) context.Read(input);
            return new RunResult(result.R0, result.Fault, executed) { TailCalls = state.TailCalls, Redirect = state.Redirect };
        }
        finally
        {
            scratch.InUse = false;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} program '{Name}' ({Instructions.Count} slots)";
}
