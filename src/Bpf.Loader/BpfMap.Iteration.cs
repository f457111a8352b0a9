using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

public sealed unsafe partial class BpfMap
{
    /// <summary>
    /// Every key currently in the map, as raw bytes (each array is fresh).
    /// <para>
    /// Policy under concurrent deletes: iteration walks BPF_MAP_GET_NEXT_KEY from the last key returned. When
    /// that key has been deleted meanwhile, a hash map answers with its first key, i.e. the walk restarts from
    /// the start. The iterator keeps the set of keys already yielded and skips them, so each key is yielded at
    /// most once and the walk always ends; keys inserted during iteration may or may not be seen. If the map
    /// keeps changing so much that the walk takes more than <c>4 × max_entries + 16</c> steps, iteration stops
    /// with <see cref="MapIterationAbortedException"/> instead of looping.
    /// </para>
    /// </summary>
    public IEnumerable<byte[]> Keys()
    {
        var seen = new HashSet<byte[]>(ByteArrayComparer.Instance);
        byte[]? prev = null;
        long limit = 4L * MaxEntries + 16;
        for (long steps = 0; ; steps++)
        {
            if (steps > limit)
                throw new MapIterationAbortedException($"{Type} map '{Name}' changed too much during iteration ({steps} steps for max_entries {MaxEntries}); retry or use batch lookups");
            byte[] next = new byte[KeySize];
            if (!TryGetNextKey(prev ?? ReadOnlySpan<byte>.Empty, next)) yield break;
            prev = next;
            if (seen.Add(next)) yield return next;
        }
    }

    /// <summary>Every key as <typeparamref name="TKey"/> (same policy as <see cref="Keys()"/>).</summary>
    public IEnumerable<TKey> Keys<TKey>() where TKey : unmanaged
    {
        CheckLen(Unsafe.SizeOf<TKey>(), (int)KeySize, "key type");
        foreach (var k in Keys()) yield return MemoryMarshal.Read<TKey>(k);
    }

    /// <summary>
    /// Every (key, value) pair. Keys deleted between being listed and being read are skipped (same policy as
    /// <see cref="Keys()"/>).
    /// </summary>
    public IEnumerable<KeyValuePair<TKey, TValue>> Entries<TKey, TValue>() where TKey : unmanaged where TValue : unmanaged
    {
        CheckLen(Unsafe.SizeOf<TKey>(), (int)KeySize, "key type");
        CheckLen(Unsafe.SizeOf<TValue>(), UserValueSize, "value type");
        foreach (var k in Keys())
        {
            TValue v = default;
            if (TryLookup(k, MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref v, 1))))
                yield return new(MemoryMarshal.Read<TKey>(k), v);
        }
    }

    // ---- batch operations (5.6+) ----

    /// <summary>
    /// Reads up to <c>keys.Length / KeySize</c> elements starting where <paramref name="cursor"/> left off
    /// (BPF_MAP_LOOKUP_BATCH, or BPF_MAP_LOOKUP_AND_DELETE_BATCH with <paramref name="delete"/>). Returns how many
    /// were written; <see cref="MapBatchCursor.Done"/> turns true after the last batch. Hash-map batches come
    /// per bucket, so a buffer too small for one bucket fails with ENOSPC.
    /// </summary>
    /// <exception cref="BpfNotSupportedException">The kernel or this map type has no batch operations.</exception>
    public int LookupBatch(MapBatchCursor cursor, Span<byte> keys, Span<byte> values, bool delete = false)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.Done) return 0;
        int count = BatchCount(keys.Length, values.Length);
        cursor.EnsureSize((int)Math.Max(KeySize, 8));
        var cmd = delete ? BpfCommand.BPF_MAP_LOOKUP_AND_DELETE_BATCH : BpfCommand.BPF_MAP_LOOKUP_BATCH;
        fixed (byte* pin = cursor.Token)
        fixed (byte* pout = cursor.Next)
        fixed (byte* pk = keys)
        fixed (byte* pv = values)
        {
            var attr = new MapBatchAttr
            {
                in_batch = cursor.Started ? (ulong)pin : 0,
                out_batch = (ulong)pout,
                keys = (ulong)pk,
                values = (ulong)pv,
                count = (uint)count,
                map_fd = Fd.Raw,
            };
            int r = Sys.Bpf(cmd, ref attr, out int errno);
            GC.KeepAlive(this);
            if (r < 0 && errno != Errno.ENOENT) throw BatchError(cmd, errno);
            cursor.Advance(done: r < 0);
            return (int)attr.count;
        }
    }

    /// <summary>Creates or replaces <c>keys.Length / KeySize</c> elements at once; returns how many were written.</summary>
    public int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, MapUpdateFlags flags = MapUpdateFlags.Any)
    {
        int count = BatchCount(keys.Length, values.Length);
        fixed (byte* pk = keys)
        fixed (byte* pv = values)
        {
            var attr = new MapBatchAttr { keys = (ulong)pk, values = (ulong)pv, count = (uint)count, map_fd = Fd.Raw, elem_flags = (ulong)flags };
            int r = Sys.Bpf(BpfCommand.BPF_MAP_UPDATE_BATCH, ref attr, out int errno);
            GC.KeepAlive(this);
            if (r < 0) throw BatchError(BpfCommand.BPF_MAP_UPDATE_BATCH, errno);
            return (int)attr.count;
        }
    }

    /// <summary>Deletes <c>keys.Length / KeySize</c> elements at once; returns how many were deleted (stops at the first missing key).</summary>
    public int DeleteBatch(ReadOnlySpan<byte> keys)
    {
        if (KeySize == 0 || keys.Length % KeySize != 0) throw new ArgumentException($"keys must be a multiple of {KeySize} bytes", nameof(keys));
        fixed (byte* pk = keys)
        {
            var attr = new MapBatchAttr { keys = (ulong)pk, count = (uint)(keys.Length / KeySize), map_fd = Fd.Raw };
            int r = Sys.Bpf(BpfCommand.BPF_MAP_DELETE_BATCH, ref attr, out int errno);
            GC.KeepAlive(this);
            if (r < 0 && errno != Errno.ENOENT) throw BatchError(BpfCommand.BPF_MAP_DELETE_BATCH, errno);
            return (int)attr.count;
        }
    }

    private int BatchCount(int keyBytes, int valueBytes)
    {
        if (KeySize == 0 || keyBytes % KeySize != 0) throw new ArgumentException($"keys must be a multiple of the key size {KeySize}");
        int count = keyBytes / (int)KeySize;
        if (valueBytes != count * UserValueSize) throw new ArgumentException($"values must be {count} × {UserValueSize} bytes for {count} keys, got {valueBytes}");
        return count;
    }

    private Exception BatchError(BpfCommand cmd, int errno) =>
        errno is Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP && Type is not (MapType.Hash or MapType.Array or MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruHash or MapType.LruPerCpuHash)
            ? new BpfNotSupportedException($"{cmd} on {Type} maps", new Version(5, 6), Errno.Name(errno))
            : errno == Errno.EINVAL && !FeatureProbes.HasBatchOps()
                ? new BpfNotSupportedException(cmd.ToString(), new Version(5, 6))
                : BpfSyscallException.Create(cmd.ToString(), errno, errno == Errno.ENOSPC ? "the buffer is smaller than one hash bucket; use a larger batch" : null);

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}

/// <summary>An opaque position in a batch walk over a map (see <see cref="BpfMap.LookupBatch"/>).</summary>
public sealed class MapBatchCursor
{
    internal byte[] Token = [];
    internal byte[] Next = [];
    internal bool Started;

    /// <summary>True once the last batch has been returned.</summary>
    public bool Done { get; private set; }

    internal void EnsureSize(int n)
    {
        if (Token.Length < n)
        {
            Array.Resize(ref Token, n);
            Array.Resize(ref Next, n);
        }
    }

    internal void Advance(bool done)
    {
        (Token, Next) = (Next, Token);
        Started = true;
        Done = done;
    }
}
