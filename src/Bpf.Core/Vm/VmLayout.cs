namespace Bpf;

/// <summary>
/// The interpreter's virtual address space. Programs never see host pointers: every address a program can
/// form is one of these deterministic virtual addresses, and every access is translated and bounds-checked.
/// Address 0 and everything between the regions is unmapped, so null-pointer and wild accesses fault.
/// </summary>
public static class VmLayout
{
    /// <summary>The virtual address of the first byte of the input memory (r1 at entry).</summary>
    public const ulong InputBase = 0x0000_0001_0000_0000;

    /// <summary>The lowest virtual address of the stack area (the bottom of the deepest frame's stack).</summary>
    public const ulong StackBase = 0x0000_0002_0000_0000;

    /// <summary>The stack size of each call frame, in bytes.</summary>
    public const int FrameStackSize = 512;

    /// <summary>The maximum number of call frames (the entry function plus seven nested bpf-to-bpf calls).</summary>
    public const int MaxFrames = 8;

    /// <summary>One past the highest stack address: r10 of frame 0. Frame <c>k</c> owns
    /// <c>[StackTop - (k+1)*512, StackTop - k*512)</c> and its r10 is <c>StackTop - k*512</c>.</summary>
    public const ulong StackTop = StackBase + (ulong)(MaxFrames * FrameStackSize);

    /// <summary>The lowest address user-supplied regions (map values, later) may use.</summary>
    public const ulong ExtraRegionBase = 0x0000_0003_0000_0000;

    /// <summary>The frame pointer (r10) of call frame <paramref name="frame"/> (0 = entry function).</summary>
    public static ulong FramePointer(int frame) => StackTop - (ulong)(frame * FrameStackSize);
}
