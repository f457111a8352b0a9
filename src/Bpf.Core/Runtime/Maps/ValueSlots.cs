
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
    // One array swapped whole on growth, so a reader racing with Grow sees either the old or the new layout.
    private Chunk[] _chunks = [];
    // The one region's array while a single region backs every backed slot (always, for a preallocated map).
    private byte[]? _flat;

    private readonly record struct Chunk(int Start, MemoryRegion Region);

    /// <param name="space">The collection's address space.</param>
    /// <param name="mapName">The owning map's name (errors name it; the region is "map 'NAME' values").</param>
    /// <param name="stride">Bytes per slot.</param>
    /// <param name="maxEntries">Slots reserved.</param>
    /// <param name="initialCapacity">Slots backed at once.</param>
    /// <param name="writable">Whether programs may write the values.</param>
    public ValueSlots(AddressSpace space, string mapName, int stride, int maxEntries, int initialCapacity, bool writable)
    {
        _space = space;
        _name = $"map '{mapName}' values";
        _stride = stride;
        _writable = writable;
        _base = space.Reserve((long)stride * maxEntries);
        if (_base == 0) throw new MapException(mapName, "create (the collection's virtual address space is exhausted)", MapError.NoMemory);
        Grow(initialCapacity);
    }

    /// <summary>How many slots are backed.</summary>
    public int Capacity { get; private set; }

    /// <summary>The regions backing the slots.</summary>
    public IEnumerable<MemoryRegion> Regions => _chunks.Select(c => c.Region);

    /// <summary>The virtual address of a slot.</summary>
    public ulong Address(int slot) => _base + (ulong)slot * (ulong)_stride;

    /// <summary>The bytes between two slots' starts.</summary>
    public int Stride => _stride;

    /// <summary>The backing array while one region backs every slot (a preallocated map), else null: slot <c>i</c>
    /// starts at <c>i × <see cref="Stride"/></c>. Growth replaces it with null, never with a shorter array.</summary>
    public byte[]? Flat => _flat;

    /// <summary>A backed slot's first byte, the caller holding the owner's lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte SlotStart(int slot)
    {
        var flat = _flat;
        if (flat is not null && (ulong)(uint)slot * (uint)_stride + (uint)_stride <= (ulong)flat.Length)
        {
            return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(flat), (nint)slot * _stride);
        }
        return ref MemoryMarshal.GetReference(Slot(slot));
    }

    /// <summary>A backed slot's bytes.</summary>
    public Span<byte> Slot(int slot)
    {
        var chunks = _chunks;
        var chunk = ChunkOf(chunks, slot);
        return chunks[chunk].Region.Data.Slice((slot - chunks[chunk].Start) * _stride, _stride);
    }

    /// <summary><see cref="Slot"/> for a reader racing with <see cref="Grow"/>: false when the slot is not backed in
    /// the layout it read (never throws).</summary>
    public bool TrySlot(int slot, out Span<byte> bytes)
    {
        var chunks = _chunks;
        if (chunks.Length == 1 && (uint)slot < (uint)Capacity)
        {
            // Preallocated: one region; Capacity only grows, and a region is never shorter than its slots.
            var all = chunks[0].Region.Data;
            if ((long)slot * _stride + _stride <= all.Length)
            {
                bytes = all.Slice(slot * _stride, _stride);
                return true;
            }
        }
        var chunk = ChunkOf(chunks, slot);
        if (chunk >= 0)
        {
            var data = chunks[chunk].Region.Data;
            var offset = (long)(slot - chunks[chunk].Start) * _stride;
            if (offset + _stride <= data.Length)
            {
                bytes = data.Slice((int)offset, _stride);
                return true;
            }
        }
        bytes = default;
        return false;
    }

    /// <summary>The last chunk starting at or before <paramref name="slot"/> (chunks are in slot order and grow by
    /// doubling, so a large map has a few dozen at most): a binary search, or -1.</summary>
    private static int ChunkOf(Chunk[] chunks, int slot)
    {
        int lo = 0, hi = chunks.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (chunks[mid].Start <= slot)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    /// <summary>Backs slots Capacity..newCapacity-1 with a new zero-filled region.</summary>
    public void Grow(int newCapacity)
    {
        if (newCapacity <= Capacity) return;
        var region = _space.AllocateAt(_name, Address(Capacity), checked((newCapacity - Capacity) * _stride), _writable);
        _chunks = [.. _chunks, new Chunk(Capacity, region)];
        _flat = _chunks.Length == 1 ? region.Bytes : null;
        Capacity = newCapacity;
    }
}
