namespace Bpf;

/// <summary>
/// An extra block of memory a program may access at a fixed virtual address, such as a map value. The backing
/// bytes live on the pinned object heap so the interpreter can translate addresses without pinning per run.
/// Give regions to <see cref="InterpreterOptions.Regions"/>; programs find their addresses through helpers or
/// an lddw resolver.
/// </summary>
public sealed class MemoryRegion
{
    private readonly byte[] _data;

    /// <summary>Creates a zero-filled region.</summary>
    /// <param name="name">A name for fault messages, e.g. <c>map 'counters' value</c>.</param>
    /// <param name="address">The virtual address of the first byte; at least <see cref="VmLayout.ExtraRegionBase"/>.</param>
    /// <param name="length">The size in bytes (positive).</param>
    /// <param name="writable">False makes every store or atomic into the region fault.</param>
    public MemoryRegion(string name, ulong address, int length, bool writable = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (address < VmLayout.ExtraRegionBase || address + (ulong)length < address)
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"region '{name}' must lie at or above 0x{VmLayout.ExtraRegionBase:x}");
        }
        Name = name;
        Address = address;
        Writable = writable;
        _data = GC.AllocateArray<byte>(length, pinned: true);
    }

    /// <summary>The name used in fault messages.</summary>
    public string Name { get; }

    /// <summary>The virtual address of the first byte.</summary>
    public ulong Address { get; }

    /// <summary>The size in bytes.</summary>
    public int Length => _data.Length;

    /// <summary>Whether programs may store into the region.</summary>
    public bool Writable { get; }

    /// <summary>For a region that is read-only as a whole: the parts programs may write after all (the data of the
    /// ring buffer records a program has reserved, never their headers). Null: the whole region follows
    /// <see cref="Writable"/>.</summary>
    internal IRegionWriteGuard? WriteGuard { get; init; }

    /// <summary>The backing bytes (the host may read and write them between runs).</summary>
    public Span<byte> Data => _data;

    /// <summary>The backing array itself (pinned), for hot paths that index it without a span.</summary>
    internal byte[] Bytes => _data;

    internal unsafe byte* HostPointer => (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_data));
}

/// <summary>A set of regions that can grow while programs run (maps that allocate lazily add regions).</summary>
internal interface IRegionSource
{
    /// <summary>The regions now; never overlapping.</summary>
    MemoryRegion[] Regions { get; }
}

/// <summary>Decides which writes a program may make into a region that is otherwise read-only.</summary>
internal interface IRegionWriteGuard
{
    /// <summary>Whether a program may write <paramref name="size"/> bytes at <paramref name="offset"/> in the region.</summary>
    bool AllowsWrite(ulong offset, ulong size);

    /// <summary>What a refused write at <paramref name="offset"/> landed in, for the fault message.</summary>
    string Describe(ulong offset);
}

/// <summary>The parts of a run's input memory a program may address: for a plain run the whole input; for a
/// context run the context block (reads up to <see cref="ContextReadLength"/>, writes up to
/// <see cref="ContextWriteLength"/>) and the packet [<see cref="PacketStart"/>, <see cref="PacketEnd"/>). Offsets
/// are into the input memory.</summary>
internal readonly record struct InputWindows(int ContextReadLength, int ContextWriteLength, int PacketStart, int PacketEnd)
{
    /// <summary>The whole input as one window (plain memory runs, the conformance suite).</summary>
    public static InputWindows Whole(int length) => new(0, 0, 0, length);

    public bool FitIn(int length) => ContextReadLength >= 0 && ContextWriteLength >= 0 && ContextWriteLength <= ContextReadLength
        && ContextReadLength <= length && PacketStart >= ContextReadLength && PacketStart <= PacketEnd && PacketEnd <= length;
}

/// <summary>What the interpreter asks an <see cref="LoadImm64Resolver"/> to resolve: an lddw whose source field
/// is a pseudo source (map fd, map value, BTF id, function, map index).</summary>
/// <param name="InstructionIndex">The slot index of the lddw.</param>
/// <param name="Source">The pseudo source.</param>
/// <param name="Imm">The first slot's immediate (fd, index or id).</param>
/// <param name="NextImm">The second slot's immediate (the offset for value forms).</param>
public readonly record struct PseudoLoad(int InstructionIndex, PseudoSource Source, int Imm, int NextImm);

/// <summary>Resolves an lddw pseudo source to the 64-bit value the destination register receives (for a map
/// value, typically the virtual address of a <see cref="MemoryRegion"/> plus the offset). Throw to reject.</summary>
public delegate ulong LoadImm64Resolver(in PseudoLoad load);

/// <summary>Options of an <see cref="Interpreter"/>.</summary>
public sealed class InterpreterOptions
{
    /// <summary>The default instruction budget.</summary>
    public const long DefaultInstructionBudget = 1_000_000;

    /// <summary>The helpers programs may call. Defaults to <see cref="HelperRegistry.CreateDefault"/>.</summary>
    public HelperRegistry Helpers { get; set; } = HelperRegistry.CreateDefault();

    /// <summary>The maximum number of instructions one run may execute; exceeding it faults with
    /// <see cref="VmFaultKind.BudgetExhausted"/>. Must be positive.</summary>
    public long InstructionBudget { get; set; } = DefaultInstructionBudget;

    /// <summary>Extra memory regions programs may access (map values, later). They must not overlap.</summary>
    public IList<MemoryRegion> Regions { get; } = new List<MemoryRegion>();

    /// <summary>When set, the regions are read from here at each access instead of <see cref="Regions"/>, so
    /// regions added after the interpreter was created (a lazily growing map) are addressable.</summary>
    internal IRegionSource? RegionSource { get; set; }

    /// <summary>Resolves lddw pseudo sources at load time; when null such programs are rejected with
    /// <see cref="NotSupportedException"/>.</summary>
    public LoadImm64Resolver? LoadImm64Resolver { get; set; }
}
