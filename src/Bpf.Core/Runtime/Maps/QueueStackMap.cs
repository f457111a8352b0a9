
namespace Bpf.Runtime;

/// <summary>BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): keyless maps of up to max_entries values,
/// used with push / pop / peek. Push on a full map fails with E2BIG unless BPF_EXIST is given, which drops the
/// oldest value; pop and peek of an empty map fail with ENOENT.</summary>
public sealed class QueueStackMap : ManagedMap
{
    private readonly byte[] _values;
    private int _head, _count;

    internal QueueStackMap(MapDefinition definition, int cpuCount, AddressSpace space)
        : base(definition, cpuCount, space)
    {
        if (definition.KeySize != 0) throw new ArgumentException($"{definition.Type} map '{definition.Name}': key size must be 0");
        IsStack = definition.Type == MapType.Stack;
        _values = new byte[(long)definition.ValueSize * definition.MaxEntries];
    }

    /// <summary>True for a stack (LIFO), false for a queue (FIFO).</summary>
    public bool IsStack { get; }

    /// <summary>The number of values held.</summary>
    public int Count
    {
        get
        {
            lock (Gate) return _count;
        }
    }

    internal override IEnumerable<MemoryRegion> Regions => [];

    private Span<byte> At(int index) => _values.AsSpan(index % MaxEntries * ValueSize, ValueSize);

    /// <summary>Pushes a value (bpf_map_push_elem / BPF_MAP_UPDATE_ELEM).</summary>
    public MapError Push(ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        CheckUserValue(value.Length);
        if ((ulong)flags > (ulong)MapUpdateFlags.Exist || flags == MapUpdateFlags.NoExist) return MapError.Invalid;
        lock (Gate)
        {
            if (_count == MaxEntries)
            {
                if (flags != MapUpdateFlags.Exist) return MapError.TooBig;
                // Overwrite: drop the oldest value.
                _head = (_head + 1) % MaxEntries;
                _count--;
            }
            value.CopyTo(At(_head + _count));
            _count++;
            return MapError.None;
        }
    }

    /// <summary>Copies the next value out, removing it when <paramref name="remove"/> (pop) or not (peek).</summary>
    public MapError Take(Span<byte> value, bool remove)
    {
        CheckUserValue(value.Length);
        lock (Gate)
        {
            if (_count == 0) return MapError.NotFound;
            var index = IsStack ? _head + _count - 1 : _head;
            At(index).CopyTo(value);
            if (remove)
            {
                _count--;
                if (!IsStack) _head = (_head + 1) % MaxEntries;
            }
            return MapError.None;
        }
    }

    /// <inheritdoc/>
    public override MapError TryLookup(ReadOnlySpan<byte> key, Span<byte> value) => Take(value, remove: false);

    /// <inheritdoc/>
    public override MapError TryUpdate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) => Push(value, flags);

    /// <inheritdoc/>
    public override MapError TryDelete(ReadOnlySpan<byte> key) => MapError.Invalid;

    /// <inheritdoc/>
    public override MapError TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => MapError.Invalid;

    /// <summary>Removes every value.</summary>
    public override void Clear()
    {
        lock (Gate) _count = 0;
    }
}
