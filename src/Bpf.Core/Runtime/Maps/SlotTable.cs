using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bpf.Runtime;

/// <summary>
/// The index of a hash map: keys in slots 0..capacity-1, chained buckets for O(1) lookup, a free-slot stack,
/// an insertion-order list (get_next_key order) and optionally a recency list (LRU eviction). Values live
/// elsewhere, at the same slot index. Not thread-safe: the owning map serialises calls under its lock.
/// </summary>
internal sealed class SlotTable
{
    private const int None = -1;
    // _orderPrev of a removed slot (a live slot's is a slot or None): its _orderNext still names the slot that followed
    // it, as an RCU-deleted list node keeps its next pointer, so a for_each iteration standing on it can go on.
    private const int Removed = -2;
    private readonly int _keySize;
    // Keys of up to 8 bytes live in their slot's Link (one cache line with the hash and the chain); longer ones here.
    private readonly bool _inline;
    private byte[] _keys;
    // Each slot's hash and bucket-chain successor side by side: a lookup reads one cache line per step.
    private Link[] _links;
    private int[] _buckets;
    private int[] _orderPrev, _orderNext;
    private int[]? _lruPrev, _lruNext;
    private int[] _free;
    private int _freeCount;
    private int _orderHead = None, _orderTail = None;
    private int _lruHead = None, _lruTail = None;

    public SlotTable(int keySize, int capacity, bool trackRecency)
    {
        _keySize = keySize;
        Capacity = capacity;
        _inline = keySize <= sizeof(ulong);
        _keys = _inline ? [] : new byte[(long)keySize * capacity];
        _links = new Link[capacity];
        _buckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity))];
        Array.Fill(_buckets, None);
        _orderPrev = new int[capacity];
        _orderNext = new int[capacity];
        MarkFresh(0, capacity);
        if (trackRecency)
        {
            _lruPrev = new int[capacity];
            _lruNext = new int[capacity];
        }
        _free = new int[capacity];
        // Pop order 0, 1, 2, ... so a fresh map fills slots in order (deterministic addresses).
        for (var i = 0; i < capacity; i++) _free[i] = capacity - 1 - i;
        _freeCount = capacity;
    }

    public int Capacity { get; private set; }

    /// <summary>Adds slots Capacity..newCapacity-1 (a map that allocates lazily growing); existing slots keep their
    /// index, and fresh ones are taken in order.</summary>
    public void Grow(int newCapacity)
    {
        if (newCapacity <= Capacity) return;
        if (!_inline) Array.Resize(ref _keys, checked(_keySize * newCapacity));
        Array.Resize(ref _links, newCapacity);
        Array.Resize(ref _orderPrev, newCapacity);
        Array.Resize(ref _orderNext, newCapacity);
        MarkFresh(Capacity, newCapacity);
        if (_lruPrev is not null)
        {
            Array.Resize(ref _lruPrev, newCapacity);
            Array.Resize(ref _lruNext, newCapacity);
        }
        // The free stack pops from the end: put the new slots below the free ones, highest first, so the
        // remaining free slots go first and then Capacity, Capacity + 1, ...
        var free = new int[newCapacity];
        var added = newCapacity - Capacity;
        for (var i = 0; i < added; i++) free[i] = newCapacity - 1 - i;
        Array.Copy(_free, 0, free, added, _freeCount);
        _free = free;
        _freeCount += added;
        Capacity = newCapacity;
        // Rehash the live slots into more buckets.
        var buckets = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, newCapacity));
        if (buckets != _buckets.Length)
        {
            _buckets = new int[buckets];
            Array.Fill(_buckets, None);
            for (var slot = _orderHead; slot != None; slot = _orderNext[slot])
            {
                ref var bucket = ref _buckets[_links[slot].Hash & (uint)(buckets - 1)];
                _links[slot].Next = bucket;
                bucket = slot;
            }
        }
    }

    public int Count => Capacity - _freeCount;

    /// <summary>Slots never inserted: removed, with no successor (<see cref="LiveFrom"/> finds nothing from them).</summary>
    private void MarkFresh(int from, int to)
    {
        _orderPrev.AsSpan(from, to - from).Fill(Removed);
        _orderNext.AsSpan(from, to - from).Fill(None);
    }

    public int First => _orderHead;

    public int NextInOrder(int slot) => _orderNext[slot];

    /// <summary>The first slot in insertion order at or after <paramref name="slot"/> that is live: a removed slot is
    /// left through the successor it had when it was removed (as an RCU list walk leaves a deleted node). -1 at the end,
    /// or when <paramref name="slot"/> is not a slot index.</summary>
    public int LiveFrom(int slot)
    {
        for (var steps = 0; (uint)slot < (uint)Capacity; steps++)
        {
            if (_orderPrev[slot] != Removed) return slot;
            // Removal times strictly increase along such a chain, so it ends; the bound is a guard only.
            if (steps > Capacity) return None;
            slot = _orderNext[slot];
        }
        return None;
    }

    /// <summary>The least recently used slot (LRU tables only), or -1.</summary>
    public int LeastRecent => _lruHead;

    public ReadOnlySpan<byte> KeyAt(int slot) =>
        _inline ? InlineKey(ref _links[slot], _keySize) : _keys.AsSpan(slot * _keySize, _keySize);

    private static Span<byte> InlineKey(ref Link link, int keySize) =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref link.Key, 1))[..keySize];

    public static uint Hash(ReadOnlySpan<byte> key)
    {
        // 64-bit multiply-mix over 8-byte words: cheap, and good enough for bucket selection.
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)key.Length;
        while (key.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * 0xFF51AFD7ED558CCDUL;
            h ^= h >> 32;
            key = key[8..];
        }
        ulong tail = 0;
        var i = 0;
        if (key.Length >= 4)
        {
            tail = BinaryPrimitives.ReadUInt32LittleEndian(key);
            i = 4;
        }
        for (; i < key.Length; i++) tail |= (ulong)key[i] << (8 * i);
        // Fold the tail's bytes 4..7 down before the multiply: a product's low bits depend only on the low bits of
        // its factors, so without it the last bytes of a 5..7-byte key (a MAC address) barely reach the bucket bits.
        tail ^= tail >> 32;
        h = (h ^ tail) * 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 29;
        return (uint)h ^ (uint)(h >> 32);
    }

    /// <summary><see cref="Hash"/> of a 4- or 8-byte key given as its little-endian word (equal results).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashWord(ulong word, int keySize)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)keySize;
        if (keySize == 8)
        {
            h = (h ^ word) * 0xFF51AFD7ED558CCDUL;
            h ^= h >> 32;
            word = 0;
        }
        h = (h ^ word) * 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 29;
        return (uint)h ^ (uint)(h >> 32);
    }

    /// <summary><see cref="Find"/>'s result when the key is absent.</summary>
    public const int NotFound = None;

    /// <summary><see cref="FindConcurrent(ReadOnlySpan{byte})"/>'s result when what it read was changing under it.</summary>
    public const int Inconsistent = -2;

    /// <summary>
    /// <see cref="Find"/> for a reader racing with a writer (the owner validates the result with its sequence lock):
    /// reads each array once, checks every index it follows and bounds the chain walk, so a half-done insert,
    /// removal or growth yields <see cref="Inconsistent"/> or a wrong answer the owner discards, never a fault or a loop.
    /// </summary>
    public int FindConcurrent(ReadOnlySpan<byte> key)
    {
        if (BitConverter.IsLittleEndian && key.Length == _keySize)
        {
            // The common key sizes (u32 addresses and indices, u64 ids) as words: same hash, no byte loop.
            if (key.Length == 4) return FindConcurrent(BinaryPrimitives.ReadUInt32LittleEndian(key), 4);
            if (key.Length == 8) return FindConcurrent(BinaryPrimitives.ReadUInt64LittleEndian(key), 8);
        }
        var hash = Hash(key);
        var buckets = _buckets;
        var links = _links;
        var keys = _keys;
        var keySize = _keySize;
        var s = buckets[hash & (uint)(buckets.Length - 1)];
        for (var steps = 0; s != None; steps++)
        {
            if ((uint)s >= (uint)links.Length || steps > links.Length) return Inconsistent;
            ref var link = ref links[s];
            if (link.Hash == hash)
            {
                if (_inline)
                {
                    if (InlineKey(ref link, keySize).SequenceEqual(key)) return s;
                }
                else
                {
                    var offset = (long)s * keySize;
                    if (offset + keySize > keys.Length) return Inconsistent;
                    if (keys.AsSpan((int)offset, keySize).SequenceEqual(key)) return s;
                }
            }
            s = link.Next;
        }
        return None;
    }

    /// <summary><see cref="FindConcurrent(ReadOnlySpan{byte})"/> for a key of 4 or 8 bytes (the table's key size) passed
    /// as its little-endian word (the typed lookups from C#): the same answer without the byte-span hash and compare.
    /// Such keys are inline, zero-extended, so the stored word compares whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindConcurrent(ulong word, int keySize)
    {
        var hash = HashWord(word, keySize);
        var buckets = _buckets;
        var links = _links;
        var s = buckets[hash & (uint)(buckets.Length - 1)];
        for (var steps = 0; s != None; steps++)
        {
            if ((uint)s >= (uint)links.Length || steps > links.Length) return Inconsistent;
            ref var link = ref links[s];
            if (link.Hash == hash && link.Key == word) return s;
            s = link.Next;
        }
        return None;
    }

    /// <summary>The key's slot, or <see cref="NotFound"/>, the owner holding its lock (the reader's find answers the same
    /// when nothing races with it).</summary>
    public int Find(ReadOnlySpan<byte> key) => FindConcurrent(key);

    /// <summary>Inserts a key known to be absent; -1 when every slot is taken.</summary>
    public int Insert(ReadOnlySpan<byte> key)
    {
        if (_freeCount == 0) return None;
        var slot = _free[--_freeCount];
        var hash = Hash(key);
        ref var bucket = ref _buckets[hash & (uint)(_buckets.Length - 1)];
        _links[slot] = new Link(hash, bucket);
        if (_inline) key.CopyTo(InlineKey(ref _links[slot], _keySize));
        else key.CopyTo(_keys.AsSpan(slot * _keySize, _keySize));
        bucket = slot;
        // Append to the insertion-order list.
        _orderPrev[slot] = _orderTail;
        _orderNext[slot] = None;
        if (_orderTail == None) _orderHead = slot; else _orderNext[_orderTail] = slot;
        _orderTail = slot;
        if (_lruPrev is not null) LruAppend(slot);
        return slot;
    }

    public void Remove(int slot)
    {
        ref var link = ref _buckets[_links[slot].Hash & (uint)(_buckets.Length - 1)];
        while (link != slot) link = ref _links[link].Next;
        link = _links[slot].Next;
        var p = _orderPrev[slot];
        var n = _orderNext[slot];
        if (p == None) _orderHead = n; else _orderNext[p] = n;
        if (n == None) _orderTail = p; else _orderPrev[n] = p;
        if (_lruPrev is not null) LruUnlink(slot);
        _orderPrev[slot] = Removed; // _orderNext[slot] is kept (LiveFrom)
        _free[_freeCount++] = slot;
    }

    /// <summary>Marks a slot most recently used (LRU tables only).</summary>
    public void Touch(int slot)
    {
        if (_lruPrev is null || _lruTail == slot) return;
        LruUnlink(slot);
        LruAppend(slot);
    }

    private void LruAppend(int slot)
    {
        _lruPrev![slot] = _lruTail;
        _lruNext![slot] = None;
        if (_lruTail == None) _lruHead = slot; else _lruNext[_lruTail] = slot;
        _lruTail = slot;
    }

    private void LruUnlink(int slot)
    {
        var p = _lruPrev![slot];
        var n = _lruNext![slot];
        if (p == None) _lruHead = n; else _lruNext[p] = n;
        if (n == None) _lruTail = p; else _lruPrev[n] = p;
    }

    private struct Link(uint hash, int next)
    {
        public uint Hash = hash;
        public int Next = next;
        /// <summary>The key's bytes when the key is at most 8 bytes (zero beyond it), else unused.</summary>
        public ulong Key;
    }
}
