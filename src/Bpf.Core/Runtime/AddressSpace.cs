
namespace Bpf.Runtime;

/// <summary>
/// Hands out the virtual addresses programs see for map memory (value slots, global data, ring buffers) and the
/// opaque map pointers an lddw of a map yields. One per <see cref="ManagedCollection"/>; every program of the
/// collection can address every region allocated before it was loaded.
/// </summary>
internal sealed class AddressSpace : IRegionSource
{
    /// <summary>Map pointers live here: never backed by memory, so a program dereferencing one faults.</summary>
    public const ulong HandleBase = 0x0000_7000_0000_0000;
    private const ulong HandleStride = 0x100;
    private const ulong Page = 4096;

    private readonly object _gate = new();
    // Copy-on-write so interpreters read the current regions without a lock.
    private volatile MemoryRegion[] _regions = [];
    // Copy-on-write so helpers resolve map pointers without a lock.
    private volatile ManagedMap[] _maps = [];
    private ulong _next = VmLayout.ExtraRegionBase;

    /// <summary>Allocates a zero-filled region at a fresh page-aligned address, with an unmapped gap page after it
    /// so an overrun faults instead of landing in a neighbour.</summary>
    public MemoryRegion Allocate(string name, long length, bool writable, IRegionWriteGuard? guard = null)
    {
        if (length <= 0 || length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"region '{name}' needs 1..{Array.MaxLength} bytes");
        }
        lock (_gate)
        {
            var region = new MemoryRegion(name, _next, (int)length, writable) { WriteGuard = guard };
            _next += ((ulong)length + Page - 1) / Page * Page + Page;
            _regions = [.. _regions, region];
            return region;
        }
    }

    /// <summary>Reserves <paramref name="length"/> bytes of virtual addresses (and a gap page) without allocating;
    /// <see cref="AllocateAt"/> backs parts of the range as a lazily growing map needs them.</summary>
    /// <returns>The first address, or 0 when the range would run into the map handles.</returns>
    public ulong Reserve(long length)
    {
        lock (_gate)
        {
            var start = _next;
            var end = start + ((ulong)length + Page - 1) / Page * Page + Page;
            if (length < 0 || end > HandleBase || end < start) return 0;
            _next = end;
            return start;
        }
    }

    /// <summary>Backs [address, address + length) of a reserved range with a zero-filled region.</summary>
    public MemoryRegion AllocateAt(string name, ulong address, int length, bool writable)
    {
        lock (_gate)
        {
            var region = new MemoryRegion(name, address, length, writable);
            _regions = [.. _regions, region];
            return region;
        }
    }

    /// <summary>Registers a map and returns its id (1, 2, ...).</summary>
    public int Register(ManagedMap map)
    {
        lock (_gate)
        {
            _maps = [.. _maps, map];
            return _maps.Length;
        }
    }

    /// <summary>The pointer value of the map with this id.</summary>
    public static ulong HandleOf(int id) => HandleBase + (ulong)id * HandleStride;

    /// <summary>The map with this id, or null.</summary>
    public ManagedMap? FromId(int id)
    {
        var maps = _maps;
        return id >= 1 && id <= maps.Length ? maps[id - 1] : null;
    }

    /// <summary>The map a pointer value designates, or null.</summary>
    public ManagedMap? FromHandle(ulong handle)
    {
        var d = handle - HandleBase;
        if (d % HandleStride != 0) return null;
        var index = d / HandleStride;
        var maps = _maps;
        return index >= 1 && index <= (ulong)maps.Length ? maps[(int)index - 1] : null;
    }

    /// <summary>A snapshot of every region allocated so far.</summary>
    public MemoryRegion[] Regions => _regions;

    /// <summary>The number of regions allocated so far.</summary>
    public int RegionCount => _regions.Length;
}
