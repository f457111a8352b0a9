namespace Bpf.Vm;

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

    /// <summary>The backing bytes (the host may read and write them between runs).</summary>
    public Span<byte> Data => _data;

    internal unsafe byte* HostPointer => (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_data));
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

    /// <summary>Resolves lddw pseudo sources at load time; when null such programs are rejected with
    /// <see cref="NotSupportedException"/>.</summary>
    public LoadImm64Resolver? LoadImm64Resolver { get; set; }
}
