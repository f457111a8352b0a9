using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Bpf;

/// <summary>
/// A memory-safe eBPF interpreter (RFC 9669 semantics). The program is validated and pre-decoded once in the
/// constructor; <see cref="Run"/> then executes it against caller-supplied input memory without allocating.
/// </summary>
/// <remarks>
/// <para>Programs see only virtual addresses (<see cref="VmLayout"/>): r1 = <see cref="VmLayout.InputBase"/>,
/// r2 = the input length, r10 = the top of frame 0's 512-byte stack. Every load, store and atomic is checked
/// against the input memory, the live stack frames and the <see cref="InterpreterOptions.Regions"/>; a
/// violation ends the run with a <see cref="VmFault"/> — never a host crash or exception.</para>
/// <para>It runs what it is given and does not verify: it is the raw engine (conformance suites, fuzzing). To know a
/// program is safe — and that the kernel would load it — check it first with <c>BpfVerifier.Verify</c> (Bpf.Verifier),
/// as <c>BpfEngine.Open</c> and <c>bpfnet run</c> do.</para>
/// <para>Thread-safety: an instance is immutable after construction and <see cref="Run"/> may be called from
/// several threads at once (each thread uses its own cached execution state). Runs over the same input memory
/// from several threads race like any shared memory; only the atomic instructions are atomic.</para>
/// </remarks>
public sealed unsafe partial class Interpreter
{
    private readonly DecodedOp[] _ops;
    private readonly Helper?[] _helpers;
    private readonly long _budget;
    private readonly MemoryRegion[] _regions;
    private readonly IRegionSource? _regionSource;

    /// <summary>Validates and pre-decodes a program.</summary>
    /// <param name="program">The instruction slots (an lddw takes two).</param>
    /// <param name="options">Helpers, budget, extra regions and the lddw resolver; defaults when null.</param>
    /// <exception cref="ProgramLoadException">The program is empty, has an invalid slot, a jump or call target
    /// outside the program or into the second slot of an lddw, or writes r10.</exception>
    /// <exception cref="NotSupportedException">An lddw pseudo source without a resolver, or a kfunc call.</exception>
    public Interpreter(ReadOnlySpan<Instruction> program, InterpreterOptions? options = null)
    {
        options ??= new InterpreterOptions();
        if (options.InstructionBudget <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.InstructionBudget, "the instruction budget must be positive");
        }
        _budget = options.InstructionBudget;
        _helpers = (options.Helpers ?? new HelperRegistry()).Snapshot();
        _regions = CheckRegions(options.Regions);
        _regionSource = options.RegionSource;
        _ops = ProgramCompiler.Compile(program, _helpers, options.LoadImm64Resolver);
        SlotCount = program.Length;
        _preciseBelow = SlotCount + 1L;
    }

    /// <summary>The most instructions a run executes in a straight line (the program's slots and the fell-off-the-end
    /// marker): with no more budget left than this, the run loop checks the budget before every instruction.</summary>
    private readonly long _preciseBelow;

    /// <summary>The number of instruction slots of the program.</summary>
    public int SlotCount { get; }

    /// <summary>The instruction budget of each run.</summary>
    public long InstructionBudget => _budget;

    private static MemoryRegion[] CheckRegions(IList<MemoryRegion> regions)
    {
        var sorted = regions.OrderBy(r => r.Address).ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i - 1].Address + (ulong)sorted[i - 1].Length > sorted[i].Address)
            {
                throw new ArgumentException($"memory regions '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap");
            }
        }
        return sorted;
    }

    /// <summary>Runs the program once. r1 = the virtual address of <paramref name="memory"/>, r2 = its length;
    /// the program's stores to input memory land in <paramref name="memory"/>.</summary>
    public RunResult Run(Span<byte> memory) => RunCore(memory, InputWindows.Whole(memory.Length), default, null);

    /// <summary>Runs over an input laid out as a context block and a packet (the managed runtime's XDP and skb
    /// contexts): only <paramref name="windows"/> are addressable by the program, so the runtime's private context
    /// slots, the headroom and the tailroom are not. Helpers see <paramref name="host"/> as <see cref="HelperContext.Host"/>.
    /// <paramref name="state"/> is the caller's own execution state (the managed runtime keeps one per thread with its
    /// other scratch, so a run does not look up a second thread-local).</summary>
    internal RunResult RunWindowed(Span<byte> memory, in InputWindows windows, object? host, ExecutionState state) => RunCore(memory, windows, default, host, state);

    /// <summary>Runs and copies r0..r10 as they were when the run ended into <paramref name="registers"/>
    /// (at least 11 entries). For tests and debugging.</summary>
    internal RunResult RunCore(Span<byte> memory, Span<ulong> registers) => RunCore(memory, InputWindows.Whole(memory.Length), registers, null);

    private RunResult RunCore(Span<byte> memory, in InputWindows windows, Span<ulong> registers, object? host, ExecutionState? owned = null)
    {
        if (!windows.FitIn(memory.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(windows), windows, $"the windows must lie inside the {memory.Length}-byte input");
        }
        var state = owned ?? ExecutionState.Acquire();
        try
        {
            fixed (byte* input = memory)
            fixed (DecodedOp* code = _ops)
            fixed (ulong* dump = registers)
            {
                state.Host = host;
                state.InputHost = input;
                state.InputLength = (ulong)memory.Length;
                state.ContextReadLength = (ulong)windows.ContextReadLength;
                state.ContextWriteLength = (ulong)windows.ContextWriteLength;
                state.SetWindow((ulong)windows.PacketStart, (ulong)windows.PacketEnd);

                var r = state.Registers;
                r[0] = 0;
                r[1] = VmLayout.InputBase;
                r[2] = (ulong)memory.Length;
                r[3] = r[4] = r[5] = r[6] = r[7] = r[8] = r[9] = 0;
                r[10] = VmLayout.StackTop;
                // Each frame's stack starts zeroed: no data leaks from earlier runs, and results are deterministic.
                new Span<byte>(state.StackArea + (VmLayout.StackTop - VmLayout.FrameStackSize - VmLayout.StackBase), VmLayout.FrameStackSize).Clear();
                state.Signal = HelperSignal.None;
                state.Depth = 0;
                state.Slot = 0;
                state.Remaining = _budget;
                state.MayGotoBudget = Opcodes.MaxLoops;
                state.ResumePrecise = false;

                if (_budget > _preciseBelow)
                {
                    var result = Execute<AtTransfers>(state, code, dump);
                    if (!state.ResumePrecise) return result;
                }
                return Execute<EveryInstruction>(state, code, dump);
            }
        }
        finally
        {
            state.Release();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Map(ulong address, ulong size, ulong stackLo, ulong stackLen, byte* stackHostLo, ulong inBase, byte* inHost, ulong inLen)
    {
        // Live stack frames first (stackLen >= 512 > size, so the subtraction cannot wrap), then the input window.
        var d = address - stackLo;
        if (d <= stackLen - size) return stackHostLo + d;
        d = address - inBase;
        if (d < inLen && inLen - d >= size) return inHost + d;
        return null;
    }

    /// <summary>The slow path: the context block of a context run (reads up to
    /// <see cref="ExecutionState.ContextReadLength"/>, writes up to <see cref="ExecutionState.ContextWriteLength"/>),
    /// then the extra regions; null when none contains the access (or it writes what it may not).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private byte* MapSlow(ExecutionState state, ulong address, ulong size, bool write)
    {
        var d = address - VmLayout.InputBase;
        var ctxLen = write ? state.ContextWriteLength : state.ContextReadLength;
        if (d < ctxLen && ctxLen - d >= size) return state.InputHost + d;
        foreach (var region in _regionSource?.Regions ?? _regions)
        {
            d = address - region.Address;
            var len = (ulong)region.Length;
            if (d < len && len - d >= size)
            {
                return !write || region.Writable || region.WriteGuard?.AllowsWrite(d, size) == true ? region.HostPointer + d : null;
            }
        }
        return null;
    }

    /// <summary>Translates any access (used by helpers); null when out of bounds.</summary>
    internal byte* Translate(ExecutionState state, ulong address, ulong size, bool write)
    {
        var stackLen = (ulong)((state.Depth + 1) * VmLayout.FrameStackSize);
        var stackLo = VmLayout.StackTop - stackLen;
        var d = address - stackLo;
        if (d < stackLen && stackLen - d >= size) return state.StackArea + (stackLo - VmLayout.StackBase) + d;
        d = address - state.WindowBase;
        if (d < state.WindowLength && state.WindowLength - d >= size) return state.WindowHost + d;
        return MapSlow(state, address, size, write);
    }

    /// <summary>Describes a failed access and names the nearest region, e.g.
    /// <c>out-of-bounds read of 4 bytes at 0x200001000 (nearest: stack frame 0: [0x200000e00, 0x200001000))</c>.</summary>
    internal string DescribeBadAccess(ExecutionState state, ulong address, ulong size, bool write)
    {
        var kind = write ? "write" : "read";
        if (address - Runtime.AddressSpace.HandleBase < 1UL << 32)
        {
            // A map pointer (lddw of a map) plus an offset: the kernel lets root read struct bpf_map fields through
            // it with vmlinux BTF. The managed runtime has no kernel struct behind its map pointers.
            return $"{kind} of {size} bytes at offset {(address - Runtime.AddressSpace.HandleBase) % 0x100} of a map pointer: struct bpf_map fields " +
                   "(the kernel's BTF-typed map_ptr reads, e.g. max_entries) are not supported by the managed runtime";
        }
        string? bestName = null;
        ulong bestStart = 0, bestEnd = 0, bestDistance = ulong.MaxValue;
        bool bestWritable = true;
        MemoryRegion? bestRegion = null;

        void Consider(string name, ulong start, ulong end, bool writable, MemoryRegion? region = null)
        {
            var distance = address < start ? start - address : address >= end ? address - end + 1 : 0;
            if (distance < bestDistance)
            {
                (bestName, bestStart, bestEnd, bestDistance, bestWritable, bestRegion) = (name, start, end, distance, writable, region);
            }
        }

        var windowed = state.ContextReadLength != 0;
        Consider(windowed ? "packet" : "input memory", state.WindowBase, state.WindowBase + state.WindowLength, true);
        if (windowed)
        {
            Consider("context", VmLayout.InputBase, VmLayout.InputBase + state.ContextReadLength, state.ContextWriteLength != 0);
        }
        for (var frame = 0; frame <= state.Depth; frame++)
        {
            var top = VmLayout.FramePointer(frame);
            Consider($"stack frame {frame}", top - VmLayout.FrameStackSize, top, true);
        }
        foreach (var region in _regionSource?.Regions ?? _regions)
        {
            Consider(region.Name, region.Address, region.Address + (ulong)region.Length, region.Writable, region);
        }

        var where = $"{bestName}: [0x{bestStart:x}, 0x{bestEnd:x})";
        if (write && bestDistance == 0 && address + size <= bestEnd)
        {
            if (bestRegion?.WriteGuard is { } guard) return $"write of {size} bytes at 0x{address:x} into {guard.Describe(address - bestStart)} ({where})";
            if (!bestWritable) return $"write of {size} bytes at 0x{address:x} into read-only region ({where})";
            if (windowed && bestName == "context") return $"write of {size} bytes at 0x{address:x} into the context beyond its writable fields (0..{state.ContextWriteLength}) ({where})";
        }
        return $"out-of-bounds {kind} of {size} bytes at 0x{address:x} (nearest: {where})";
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong InvokeHelper(ExecutionState state, Helper helper, int slot, ulong* r)
    {
        var context = new HelperContext(state, this, helper, slot);
        try
        {
            return helper.Function(ref context, r[1], r[2], r[3], r[4], r[5]);
        }
        catch (Exception ex)
        {
            // A buggy helper must not tear down the host: it fails this run.
            state.Signal = HelperSignal.Fault;
            state.PendingFault = new VmFault(VmFaultKind.HelperFailed, slot,
                $"insn {slot}: helper {helper.Id} '{helper.Name}' threw {ex.GetType().Name}: {ex.Message}");
            return 0;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private VmFault MemoryFault(ExecutionState state, int depth, int slot, ulong address, ulong size, bool write)
    {
        state.Depth = depth;
        return new VmFault(VmFaultKind.MemoryAccess, slot, $"insn {slot}: {DescribeBadAccess(state, address, size, write)}");
    }
}
