using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf;

/// <summary>
/// The mutable state of one run: the program stack (all frames), saved caller registers, the current input
/// memory and the helper signal. One per thread is cached and reused so runs do not allocate.
/// </summary>
internal sealed unsafe class ExecutionState
{
    /// <summary>Guard bytes on both sides of the stack area; never addressable by programs. Tests check them.</summary>
    internal const int GuardSize = 64;
    internal const byte GuardByte = 0xA5;
    private const int StackAreaSize = VmLayout.MaxFrames * VmLayout.FrameStackSize;

    [ThreadStatic] private static ExecutionState? t_cached;

    private readonly byte[] _stack = GC.AllocateArray<byte>(GuardSize + StackAreaSize + GuardSize, pinned: true);
    private readonly ulong[] _registers = GC.AllocateArray<ulong>(11, pinned: true);

    public ExecutionState()
    {
        _stack.AsSpan().Fill(GuardByte);
        StackArea = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stack)) + GuardSize;
        Registers = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_registers));
    }

    /// <summary>Host address of <see cref="VmLayout.StackBase"/>.</summary>
    public readonly byte* StackArea;

    /// <summary>r0..r10 of the run in progress (pinned, so the run loop addresses them through one register).</summary>
    public readonly ulong* Registers;

    /// <summary>Where the run loop starts or resumes: the slot, the instruction budget left at that point, and the
    /// may_goto budget left. <see cref="ResumePrecise"/> is set when the loop that counts the budget at transfers
    /// hands the rest of the run to the one that counts before every instruction.</summary>
    public int Slot;
    public long Remaining;
    public int MayGotoBudget;
    public bool ResumePrecise;

    public readonly CallerFrame[] Frames = new CallerFrame[VmLayout.MaxFrames];

    /// <summary>The whole input memory (the runtime's helpers reach the context block through it).</summary>
    public byte* InputHost;
    public ulong InputLength;

    /// <summary>The fast window programs address directly: the whole input, or a context run's packet.</summary>
    public ulong WindowBase;
    public byte* WindowHost;
    public ulong WindowLength;

    /// <summary>For a context run, how much of the context block at <see cref="VmLayout.InputBase"/> programs may
    /// read and write (0 otherwise: the window is the whole input).</summary>
    public ulong ContextReadLength;
    public ulong ContextWriteLength;

    /// <summary>Sets the window to input bytes [start, end) (offsets into the input, already validated).</summary>
    public void SetWindow(ulong start, ulong end)
    {
        WindowBase = VmLayout.InputBase + start;
        WindowHost = InputHost + start;
        WindowLength = end - start;
    }
    /// <summary>The current call depth (0 = entry function); kept current before helper calls.</summary>
    public int Depth;
    public bool InUse;

    /// <summary>The embedder's state for the run in progress (the managed runtime's helpers find their run here),
    /// or null.</summary>
    public object? Host;

    public HelperSignal Signal;
    public ulong StopValue;
    public VmFault? PendingFault;

    public static ExecutionState Acquire()
    {
        var state = t_cached;
        if (state is null || state.InUse)
        {
            // A helper that runs another program on this thread gets a fresh state rather than clobbering ours.
            state = new ExecutionState();
            t_cached ??= state;
        }
        state.InUse = true;
        return state;
    }

    /// <summary>Gives the state back. The input pointers are left as they are: every run sets them before it starts,
    /// and nothing reads them between runs.</summary>
    public void Release()
    {
        PendingFault = null;
        Host = null;
        InUse = false;
    }

    public bool GuardsIntact()
    {
        var span = _stack.AsSpan();
        return !span[..GuardSize].ContainsAnyExcept(GuardByte) && !span[^GuardSize..].ContainsAnyExcept(GuardByte);
    }

    /// <summary>The per-thread cached state (tests inspect its guards).</summary>
    internal static ExecutionState? CachedForThisThread => t_cached;
}

/// <summary>What a bpf-to-bpf call saves: where to return and the callee-saved registers.</summary>
internal struct CallerFrame
{
    public int ReturnSlot;
    public ulong R6, R7, R8, R9;
}

internal enum HelperSignal : byte
{
    None,
    Stop,
    Fault,
}
