using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Bpf.Runtime;

/// <summary>One record bpf_perf_event_output wrote: the CPU slot it went to and its bytes (the data, then the
/// requested bytes of packet for skb/XDP programs).</summary>
/// <param name="Cpu">The map index (the CPU for BPF_F_CURRENT_CPU).</param>
/// <param name="Data">The record.</param>
public sealed record PerfRecord(int Cpu, byte[] Data);

/// <summary>
/// BPF_MAP_TYPE_PERF_EVENT_ARRAY: per-CPU slots that bpf_perf_event_output writes records to. In the kernel a
/// slot needs a perf event fd; here a slot is "open" until <see cref="Close"/> (a closed slot makes the helper
/// fail with ENOENT, as an empty slot does in the kernel). Records are read in order with <see cref="Drain"/>.
/// </summary>
public sealed class PerfEventArrayMap : ManagedMap
{
    private readonly bool[] _closed;
    private readonly ConcurrentQueue<PerfRecord> _records = new();

    internal PerfEventArrayMap(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        if (definition.KeySize != 4 || definition.ValueSize != 4)
        {
            throw new ArgumentException($"perf event array '{definition.Name}': key and value size must be 4");
        }
        _closed = new bool[definition.MaxEntries];
    }

    internal override IEnumerable<MemoryRegion> Regions => [];

    /// <summary>Makes output to a slot fail with ENOENT (no perf event attached), or opens it again.</summary>
    public void Close(int index, bool closed = true) => _closed[index] = closed;

    /// <summary>Takes every record written so far, oldest first.</summary>
    public List<PerfRecord> Drain()
    {
        var list = new List<PerfRecord>();
        while (_records.TryDequeue(out var r)) list.Add(r);
        return list;
    }

    internal MapError Output(int index, ReadOnlySpan<byte> data, ReadOnlySpan<byte> packet)
    {
        if ((uint)index >= (uint)MaxEntries) return MapError.TooBig;
        if (_closed[index]) return MapError.NotFound;
        var record = new byte[data.Length + packet.Length];
        data.CopyTo(record);
        packet.CopyTo(record.AsSpan(data.Length));
        _records.Enqueue(new PerfRecord(index, record));
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value) => MapError.NotSupported;

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) => MapError.NotSupported;

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (index >= (uint)MaxEntries) return MapError.TooBig;
        _closed[index] = true;
        return MapError.None;
    }

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        uint next = 0;
        if (!key.IsEmpty && BinaryPrimitives.ReadUInt32LittleEndian(key) < (uint)MaxEntries)
        {
            var index = BinaryPrimitives.ReadUInt32LittleEndian(key);
            if (index == (uint)MaxEntries - 1) return MapError.NotFound;
            next = index + 1;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, next);
        return MapError.None;
    }

    /// <summary>Discards unread records.</summary>
    public override void Clear() => _records.Clear();
}
