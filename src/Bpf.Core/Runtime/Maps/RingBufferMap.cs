using System.Buffers.Binary;
using System.Numerics;

namespace Bpf.Runtime;

/// <summary>
/// BPF_MAP_TYPE_RINGBUF: a multi-producer ring of variable-length records with the kernel's record format
/// (8-byte header: u32 length with BUSY bit 31 and DISCARD bit 30, u32 offset; data padded to 8 bytes).
/// Programs reserve, fill and submit or discard records (or copy with ringbuf_output); C# reads committed
/// records in order with <see cref="TryRead"/> or <see cref="Drain"/>.
/// </summary>
/// <remarks>
/// The data area is mapped twice in the kernel so a record that wraps is contiguous; here the region is twice
/// the ring size and the part of a record that spilled into the second half is copied back to the start when it
/// is committed. A reservation fails (returns null to the program) when it would leave less than one byte free,
/// exactly the kernel's <c>new_prod_pos - cons_pos &gt; mask</c> test. Reads stop at the first record still
/// being written, as a kernel consumer does.
/// <para>Programs may write only the data of the records they have reserved and not yet submitted: the headers
/// and everything else in the ring are read-only to them (a write there faults), and submit/discard take the
/// record from the runtime's own list of reservations, never from bytes a program could have forged.</para>
/// </remarks>
public sealed class RingBufferMap : ManagedMap, IRegionWriteGuard
{
    /// <summary>The BUSY bit of a record header's length word.</summary>
    public const uint BusyBit = 1u << 31;

    /// <summary>The DISCARD bit of a record header's length word.</summary>
    public const uint DiscardBit = 1u << 30;

    /// <summary>The size of a record header.</summary>
    public const int HeaderSize = 8;

    private readonly MemoryRegion _region;
    private readonly int _size;
    private long _producer, _consumer;
    // Reserved, uncommitted records: (header offset, data size). Few at a time; guarded by Gate.
    private readonly List<(int Offset, int Size)> _busy = [];

    internal RingBufferMap(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        if (definition.KeySize != 0 || definition.ValueSize != 0)
        {
            throw new ArgumentException($"ring buffer '{definition.Name}': key and value size must be 0");
        }
        if (definition.MaxEntries < 4096 || !BitOperations.IsPow2(definition.MaxEntries))
        {
            throw new ArgumentException($"ring buffer '{definition.Name}': max_entries (the size in bytes) must be a power of 2 and at least a page, not {definition.MaxEntries}");
        }
        _size = definition.MaxEntries;
        _region = space.Allocate($"ring buffer '{definition.Name}'", 2L * _size, writable: false, guard: this);
    }

    internal override IEnumerable<MemoryRegion> Regions => [_region];

    /// <summary>The producer position (bytes ever reserved).</summary>
    public long ProducerPosition
    {
        get
        {
            lock (Gate) return _producer;
        }
    }

    /// <summary>The consumer position (bytes ever consumed).</summary>
    public long ConsumerPosition
    {
        get
        {
            lock (Gate) return _consumer;
        }
    }

    /// <summary>Bytes reserved and not yet consumed.</summary>
    public long AvailableData
    {
        get
        {
            lock (Gate) return _producer - _consumer;
        }
    }

    private static long RecordLength(int size) => (size + HeaderSize + 7) & ~7L;

    /// <summary>Reserves a record; returns the virtual address of its data or 0 (bpf_ringbuf_reserve).</summary>
    internal ulong Reserve(ulong size)
    {
        if (size > (ulong)(_size - HeaderSize)) return 0;
        var length = RecordLength((int)size);
        lock (Gate)
        {
            if (_producer + length - _consumer > _size - 1) return 0;
            var offset = (int)(_producer & (_size - 1));
            var data = _region.Data;
            BinaryPrimitives.WriteUInt32LittleEndian(data[offset..], (uint)size | BusyBit);
            BinaryPrimitives.WriteUInt32LittleEndian(data[(offset + 4)..], (uint)offset);
            _busy.Add((offset, (int)size));
            _producer += length;
            return _region.Address + (ulong)offset + HeaderSize;
        }
    }

    /// <summary>Commits or discards a record given its data address (bpf_ringbuf_submit / discard). False when the
    /// address is not a reserved, uncommitted record.</summary>
    internal bool Commit(ulong sample, bool discard)
    {
        var headerAddress = sample - HeaderSize;
        var offset = headerAddress - _region.Address;
        if (sample < HeaderSize || offset >= (ulong)_size) return false;
        lock (Gate)
        {
            var index = _busy.FindIndex(r => r.Offset == (int)offset);
            if (index < 0) return false;
            var size = _busy[index].Size;
            _busy.RemoveAt(index);
            var data = _region.Data;
            var end = (long)offset + RecordLength(size);
            if (end > _size)
            {
                // The record ran into the mirror half: fold the spilled bytes back to the start of the ring.
                data.Slice(_size, (int)(end - _size)).CopyTo(data);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(data[(int)offset..], (uint)size | (discard ? DiscardBit : 0));
            return true;
        }
    }

    /// <summary>Programs may write the data of a record they reserved and have not submitted, nothing else.</summary>
    bool IRegionWriteGuard.AllowsWrite(ulong offset, ulong size)
    {
        lock (Gate)
        {
            foreach (var (start, length) in _busy)
            {
                var d = offset - (ulong)(start + HeaderSize);
                if (d < (ulong)length && (ulong)length - d >= size) return true;
            }
        }
        return false;
    }

    string IRegionWriteGuard.Describe(ulong offset) => $"ring buffer '{Name}' outside the data of a reserved record (offset {offset})";

    /// <summary>bpf_ringbuf_output: reserve, copy, submit. 0 or -ENOSPC... as the kernel (-EAGAIN when full).</summary>
    internal long Output(ReadOnlySpan<byte> bytes)
    {
        var sample = Reserve((ulong)bytes.Length);
        if (sample == 0) return -11; // EAGAIN, as bpf_ringbuf_output returns when the ring is full
        var offset = (int)(sample - _region.Address);
        bytes.CopyTo(_region.Data[offset..]);
        Commit(sample, discard: false);
        return 0;
    }

    /// <summary>bpf_ringbuf_query.</summary>
    internal ulong Query(ulong flags) => flags switch
    {
        0 => (ulong)AvailableData,
        1 => (ulong)_size,
        2 => (ulong)ConsumerPosition,
        3 => (ulong)ProducerPosition,
        _ => 0,
    };

    /// <summary>Reads the next committed record and consumes it (discarded records are skipped). False when the
    /// ring is empty or the next record is still being written.</summary>
    public bool TryRead(out byte[] record)
    {
        lock (Gate)
        {
            while (_consumer < _producer)
            {
                var offset = (int)(_consumer & (_size - 1));
                var word = BinaryPrimitives.ReadUInt32LittleEndian(_region.Data[offset..]);
                if ((word & BusyBit) != 0) break;
                var size = (int)(word & ~DiscardBit);
                if (size > _size - HeaderSize || RecordLength(size) > _producer - _consumer)
                {
                    // Only the runtime writes headers (programs cannot); a bad one is a bug, not a 1 GiB allocation.
                    throw new InvalidOperationException($"ring buffer '{Name}': corrupt record header 0x{word:x8} at offset {offset}");
                }
                _consumer += RecordLength(size);
                if ((word & DiscardBit) != 0) continue;
                record = new byte[size];
                var start = (offset + HeaderSize) & (_size - 1);
                var first = Math.Min(size, _size - start);
                _region.Data.Slice(start, first).CopyTo(record);
                _region.Data[..(size - first)].CopyTo(record.AsSpan(first));
                return true;
            }
        }
        record = [];
        return false;
    }

    /// <summary>Reads and consumes every committed record.</summary>
    public List<byte[]> Drain()
    {
        var list = new List<byte[]>();
        while (TryRead(out var r)) list.Add(r);
        return list;
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value) => MapError.NotSupported;

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) => MapError.NotSupported;

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key) => MapError.NotSupported;

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => MapError.NotSupported;

    /// <summary>Ring buffers have no keys; clearing discards everything unread.</summary>
    public override void Clear()
    {
        lock (Gate) _consumer = _producer;
    }
}
