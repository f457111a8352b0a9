using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// Reads records that programs write into a <see cref="MapType.RingBuf"/> map (bpf_ringbuf_output /
/// bpf_ringbuf_submit), the way libbpf's ring_buffer does: the consumer page is mapped read-write, the producer
/// page and the data area (mapped twice by the kernel, so a record that wraps is contiguous) read-only; waiting
/// is an epoll on the map fd, woken early by cancellation through an eventfd in the same epoll set.
/// One reader per map; not thread-safe (one consumer at a time, as the kernel's protocol assumes).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RingBufReader : IDisposable
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly BpfMap _map;
    private readonly nuint _pageSize;
    private readonly ulong _mask;
    private nint _consumer;
    private nint _producer;
    private readonly nuint _producerLength;
    private readonly EpollSet _epoll;
    private int _disposed;

    /// <summary>Maps the ring buffer's pages and sets up the epoll. The map stays owned by the caller and must outlive the reader.</summary>
    /// <exception cref="ArgumentException">The map is not a ring buffer.</exception>
    public RingBufReader(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.RingBuf) throw new ArgumentException($"{map} is not a RingBuf map", nameof(map));
        _map = map;
        _pageSize = (nuint)Environment.SystemPageSize;
        ulong size = map.MaxEntries;
        _mask = size - 1;
        _producerLength = _pageSize + 2 * (nuint)size;
        _epoll = new EpollSet(map.ToString());
        try
        {
            _epoll.Add(map.Fd, 0, "ring buffer map");
            int fd = map.Fd.Value;
            _consumer = Libc.Mmap(0, _pageSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            if (_consumer == Libc.MapFailed) throw BpfSyscallException.Create("mmap(ring buffer consumer page)", Marshal.GetLastPInvokeError(), map.ToString());
            _producer = Libc.Mmap(0, _producerLength, Libc.PROT_READ, Libc.MAP_SHARED, fd, (nint)_pageSize);
            if (_producer == Libc.MapFailed) throw BpfSyscallException.Create("mmap(ring buffer data)", Marshal.GetLastPInvokeError(), map.ToString());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Bytes of the data area (the map's max_entries).</summary>
    public int Size => (int)(_mask + 1);

    /// <summary>Bytes written by producers and not yet consumed.</summary>
    public unsafe long Pending
    {
        get
        {
            ThrowIfDisposed();
            return (long)(Volatile.Read(ref *(ulong*)_producer) - Volatile.Read(ref *(ulong*)_consumer));
        }
    }

    /// <summary>Consumes every complete record available now, handing each to <paramref name="onRecord"/> (the span is valid
    /// only during the call). Returns how many were delivered; stops at a record still being written.</summary>
    public unsafe int ReadAvailable(RecordHandler onRecord)
    {
        ArgumentNullException.ThrowIfNull(onRecord);
        ThrowIfDisposed();
        ref ulong consumerPos = ref *(ulong*)_consumer;
        ref ulong producerPos = ref *(ulong*)_producer;
        byte* data = (byte*)_producer + _pageSize;
        int count = 0;
        ulong cons = Volatile.Read(ref consumerPos);
        while (true)
        {
            // Acquire loads: the kernel publishes producer_pos and each header's length with release stores.
            ulong prod = Volatile.Read(ref producerPos);
            if (cons >= prod) break;
            byte* hdr = data + (cons & _mask);
            uint len = Volatile.Read(ref *(uint*)hdr);
            if ((len & BusyBit) != 0) break;
            uint payload = len & ~(BusyBit | DiscardBit);
            ulong total = (payload + HeaderSize + 7UL) & ~7UL;
            if ((len & DiscardBit) == 0)
            {
                onRecord(new ReadOnlySpan<byte>(hdr + HeaderSize, (int)payload));
                count++;
            }
            cons += total;
            // Release store: the kernel may reuse the space as soon as it sees the new consumer position.
            Volatile.Write(ref consumerPos, cons);
        }
        GC.KeepAlive(_map);
        return count;
    }

    /// <summary>Receives one record; the span points into the ring and is valid only during the call.</summary>
    public delegate void RecordHandler(ReadOnlySpan<byte> record);

    /// <summary>Takes one record if one is ready.</summary>
    public unsafe bool TryRead(out byte[] record)
    {
        ThrowIfDisposed();
        ref ulong consumerPos = ref *(ulong*)_consumer;
        byte* data = (byte*)_producer + _pageSize;
        while (true)
        {
            ulong cons = Volatile.Read(ref consumerPos);
            ulong prod = Volatile.Read(ref *(ulong*)_producer);
            if (cons >= prod) break;
            byte* hdr = data + (cons & _mask);
            uint len = Volatile.Read(ref *(uint*)hdr);
            if ((len & BusyBit) != 0) break;
            uint payload = len & ~(BusyBit | DiscardBit);
            ulong next = cons + ((payload + HeaderSize + 7UL) & ~7UL);
            byte[]? copy = (len & DiscardBit) == 0 ? new ReadOnlySpan<byte>(hdr + HeaderSize, (int)payload).ToArray() : null;
            Volatile.Write(ref consumerPos, next);
            if (copy is not null)
            {
                record = copy;
                return true;
            }
        }
        record = [];
        return false;
    }

    /// <summary>Blocks until the ring has data, <paramref name="timeout"/> passes, or <paramref name="cancellationToken"/> fires.
    /// True when data may be available.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (Pending > 0) return true;
        int n = _epoll.Wait(timeout, cancellationToken, []);
        return n > 0 || Pending > 0;
    }

    /// <summary>Waits for the next record and returns it. The epoll wait blocks a thread-pool thread while the ring is
    /// empty; cancellation wakes it at once.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask<byte[]> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryRead(out var record)) return record;
            await Task.Run(() => Wait(Timeout.InfiniteTimeSpan, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every record as it arrives, until cancelled.</summary>
    public async IAsyncEnumerable<byte[]> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true) yield return await ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Unmaps the ring and closes the epoll and eventfd descriptors.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_consumer != 0 && _consumer != Libc.MapFailed) Libc.Munmap(_consumer, _pageSize);
        if (_producer != 0 && _producer != Libc.MapFailed) Libc.Munmap(_producer, _producerLength);
        _consumer = _producer = 0;
        _epoll.Dispose();
    }
}
