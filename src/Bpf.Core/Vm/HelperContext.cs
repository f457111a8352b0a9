namespace Bpf;

/// <summary>
/// What a helper can do besides compute r0: access program memory through the interpreter's region checks,
/// stop the program early, or fail the run. Valid only during the helper call.
/// </summary>
public unsafe ref struct HelperContext
{
    private readonly ExecutionState _state;
    private readonly Interpreter _interpreter;
    private readonly Helper _helper;

    internal HelperContext(ExecutionState state, Interpreter interpreter, Helper helper, int instructionIndex)
    {
        _state = state;
        _interpreter = interpreter;
        _helper = helper;
        InstructionIndex = instructionIndex;
    }

    /// <summary>The slot index of the call instruction.</summary>
    public int InstructionIndex { get; }

    /// <summary>The helper being called.</summary>
    public Helper Helper => _helper;

    /// <summary>The current call depth (0 = the entry function).</summary>
    public int CallDepth => _state.Depth;

    /// <summary>
    /// Gets program memory at a virtual address, checked exactly like the program's own accesses (input memory,
    /// live stack frames, extra regions; writes need a writable region). On failure records a
    /// <see cref="VmFaultKind.HelperFailed"/> fault that ends the run when the helper returns, and returns false.
    /// </summary>
    public bool TryGetMemory(ulong address, int length, bool write, out Span<byte> memory)
    {
        if (length < 0)
        {
            memory = default;
            Fail($"asked for a negative length {length}");
            return false;
        }
        if (length == 0)
        {
            memory = default;
            return true;
        }
        var host = _interpreter.Translate(_state, address, (ulong)length, write);
        if (host is null)
        {
            memory = default;
            var detail = _interpreter.DescribeBadAccess(_state, address, (ulong)length, write);
            RecordFault($"insn {InstructionIndex}: helper {_helper.Id} '{_helper.Name}': {detail}");
            return false;
        }
        memory = new Span<byte>(host, length);
        return true;
    }

    /// <summary>What the embedder attached to this run (the managed runtime's run state), or null.</summary>
    internal object? Host => _state.Host;

    /// <summary>Reads program memory like <see cref="TryGetMemory"/> but an unreadable address is no fault: false, and
    /// the run goes on — for what the kernel reads "nofault" (bpf_trace_printk's <c>%s</c> of an unsafe pointer).</summary>
    internal bool TryPeekMemory(ulong address, int length, out ReadOnlySpan<byte> memory)
    {
        var host = length <= 0 ? null : _interpreter.Translate(_state, address, (ulong)length, false);
        memory = host is null ? default : new ReadOnlySpan<byte>(host, length);
        return host is not null;
    }

    /// <summary>Writable program memory like <see cref="TryGetMemory"/> but an address the program cannot write is no
    /// fault: false, and the run goes on — for what the kernel writes past the memory its verifier checked (the
    /// conntrack kfuncs' opts-&gt;error when opts__sz is too small), which no program may observe there.</summary>
    internal bool TryPokeMemory(ulong address, int length, out Span<byte> memory)
    {
        var host = length <= 0 ? null : _interpreter.Translate(_state, address, (ulong)length, true);
        memory = host is null ? default : new Span<byte>(host, length);
        return host is not null;
    }

    /// <summary>The run's whole input memory, context block included, for the runtime's own helpers (programs see
    /// only the windows). Valid only during the helper call.</summary>
    internal Span<byte> Input => new(_state.InputHost, (int)_state.InputLength);

    /// <summary>Moves the packet window programs address to input bytes [start, end) (virtual addresses), after a
    /// helper moved data_meta, data or data_end. False when the range is not inside the input after the context
    /// block.</summary>
    internal bool SetPacketWindow(ulong start, ulong end)
    {
        var s = start - VmLayout.InputBase;
        var e = end - VmLayout.InputBase;
        if (s > e || e > _state.InputLength || s < _state.ContextReadLength) return false;
        _state.SetWindow(s, e);
        return true;
    }

    /// <summary>Ends the program as soon as the helper returns, successfully, with r0 = <paramref name="r0"/>.</summary>
    public void Stop(ulong r0)
    {
        if (_state.Signal == HelperSignal.None)
        {
            _state.Signal = HelperSignal.Stop;
            _state.StopValue = r0;
        }
    }

    /// <summary>Fails the run when the helper returns, with a message naming the call and the helper.</summary>
    public void Fail(string reason) =>
        RecordFault($"insn {InstructionIndex}: helper {_helper.Id} '{_helper.Name}' failed: {reason}");

    private void RecordFault(string message)
    {
        if (_state.Signal != HelperSignal.Fault)
        {
            _state.Signal = HelperSignal.Fault;
            _state.PendingFault = new VmFault(VmFaultKind.HelperFailed, InstructionIndex, message);
        }
    }
}
