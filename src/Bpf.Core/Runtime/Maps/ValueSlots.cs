using Bpf.Vm;

namespace Bpf.Runtime;

/// <summary>
/// The value slots of a hash map or LPM trie at fixed virtual addresses: slot <c>i</c> is at <c>base + i × stride</c>
/// in a range reserved for max_entries slots. A preallocated map backs the whole range at once; a map the kernel
/// fills lazily (<c>BPF_F_NO_PREALLOC</c>) backs it in chunks as it grows, so a program's pointer to a value never
/// moves. Not thread-safe: the owning map grows it under its lock.
/// </summary>
internal sealed class ValueSlots
{
    private readonly AddressSpace _space;
    private readonly string _name;
    private readonly int _stride;
    private readonly bool _writable;
    private readonly ulong _base;
    private MemoryRegion[] _chunks = [];
    private int[] _starts = [];

    public ValueSlots(AddressSpace space, string name, int stride, int maxEntries, int initialCapacity, bool writable)
    {
        _space = space;
        _name = name;
        _stride = stride;
        _writable = writable;
        _base = space.Reserve((long)stride * maxEntries);
        if (_base == 0) throw new MapException(name, "create (the collection's virtual address space is exhausted)", MapError.NoMemory);
        Grow(initialCapacity);
    }

    /// <summary>How many slots are backed.</summary>
    public int Capacity { get; private set; }

    /// <summary>The regions backing the slots.</summary>
    public IEnumerable<MemoryRegion> Regions => _chunks;

    /// <summary>The virtual address of a slot.</summary>
    public ulong Address(int slot) => _base + (ulong)slot * (ulong)_stride;

    /// <summary>A backed slot's bytes.</summary>
    public Span<byte> Slot(int slot)
    {
        var chunk = _chunks.Length - 1;
        while (_starts[chunk] > slot) chunk--;
        return _chunks[chunk].Data.Slice((slot - _starts[chunk]) * _stride, _stride);
    }

    /// <summary>Backs slots Capacity..newCapacity-1 with a new zero-filled region.</summary>
    public void Grow(int newCapacity)
    {
        if (newCapacity <= Capacity) return;
        var region = _space.AllocateAt(_name, Address(Capacity), checked((newCapacity - Capacity) * _stride), _writable);
        _chunks = [.. _chunks, region];
        _starts = [.. _starts, Capacity];
        Capacity = newCapacity;
    }
}
