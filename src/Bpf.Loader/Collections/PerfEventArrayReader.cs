using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// One record from a perf event array: a sample (the bytes a program passed to <c>bpf_perf_event_output</c>) or,
/// when the CPU's ring was full, a count of samples the kernel dropped.
/// </summary>
/// <param name="Cpu">The CPU whose ring the record came from.</param>
/// <param name="Data">The sample's raw bytes (empty for a lost record). The kernel pads the raw data so that its
/// 4-byte size prefix plus the data is a multiple of 8: a sample of n bytes arrives as n..n+7 bytes, its tail undefined.</param>
/// <param name="Lost">For a PERF_RECORD_LOST record, how many samples were dropped; 0 for a sample.</param>
public readonly record struct PerfEventRecord(int Cpu, byte[] Data, ulong Lost)
{
    /// <summary>True for a lost-samples record.</summary>
    public bool IsLost => Lost != 0;
}

/// <summary>
/// Reads what programs write into a <see cref="MapType.PerfEventArray"/> map with <c>bpf_perf_event_output</c>,
/// the way libbpf's perf_buffer does: for every possible CPU (up to the map's max_entries) a software perf event
/// PERF_COUNT_SW_BPF_OUTPUT with PERF_SAMPLE_RAW is opened on that CPU, its ring (one metadata page and 2^n data
/// pages) mapped, and its fd stored in the map at the CPU's index; records (PERF_RECORD_SAMPLE, PERF_RECORD_LOST)
/// are consumed between data_tail and data_head, a record that wraps past the end of the ring reassembled.
/// Waiting is an epoll over every CPU's event, woken early by cancellation through an eventfd in the same set.
/// One reader per map (the map's slots are overwritten); not thread-safe. Disposing clears the slots it set.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class PerfEventArrayReader : IDisposable
{
    private const uint PerfTypeSoftware = 1;
    private const ulong PerfCountSwBpfOutput = 10;
    private const ulong PerfSampleRaw = 1 << 10;
    private const nint PerfFlagFdCloexec = 8;
    private const uint PerfRecordLost = 2, PerfRecordSample = 9;
    // Offsets in struct perf_event_mmap_page.
    private const int DataHeadOffset = 1024, DataTailOffset = 1032, DataOffsetOffset = 1040, DataSizeOffset = 1048;

    private readonly BpfMap _map;
    private readonly List<CpuRing> _rings = [];
    private readonly EpollSet _epoll;
    private byte[] _scratch = new byte[256];
    private int _next;
    private ulong _pendingTail; // where the tail goes once the record Take returned is released
    private int _disposed;

    private sealed class CpuRing
    {
        public required int Cpu { get; init; }
        public required BpfFd Event { get; init; }
        public nint Base { get; set; }
        public nuint Length { get; init; }
        public nint Data { get; set; }
        public ulong Size { get; set; }
        public bool InMap { get; set; }
    }

    /// <summary>
    /// Opens a ring of <paramref name="pagesPerCpu"/> data pages on every possible CPU (offline CPUs are skipped)
    /// and stores the events in <paramref name="map"/>, which stays owned by the caller and must outlive the reader.
    /// </summary>
    /// <exception cref="ArgumentException">The map is not a perf event array, or <paramref name="pagesPerCpu"/> is not a power of two.</exception>
    /// <exception cref="BpfSyscallException">perf_event_open, mmap or the map update failed (names the CPU).</exception>
    public unsafe PerfEventArrayReader(BpfMap map, int pagesPerCpu = 8)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type != MapType.PerfEventArray) throw new ArgumentException($"{map} is not a PerfEventArray map", nameof(map));
        if (pagesPerCpu <= 0 || (pagesPerCpu & (pagesPerCpu - 1)) != 0)
            throw new ArgumentException($"pagesPerCpu must be a power of two, not {pagesPerCpu}", nameof(pagesPerCpu));
        _map = map;
        PagesPerCpu = pagesPerCpu;
        nuint page = (nuint)Environment.SystemPageSize;
        int cpus = (int)Math.Min((uint)PossibleCpus.Count, map.MaxEntries);
        _epoll = new EpollSet(map.ToString());
        try
        {
            Span<byte> key = stackalloc byte[4];
            Span<byte> value = stackalloc byte[4];
            for (int cpu = 0; cpu < cpus; cpu++)
            {
                var attr = new PerfEventAttr
                {
                    type = PerfTypeSoftware,
                    size = (uint)sizeof(PerfEventAttr),
                    config = PerfCountSwBpfOutput,
                    sample_period = 1,
                    sample_type = PerfSampleRaw,
                    wakeup_events = 1,
                };
                nint r = Libc.Syscall5(SyscallNumbers.PerfEventOpen, (nint)(&attr), -1, cpu, -1, PerfFlagFdCloexec);
                if (r < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == Errno.ENODEV) continue; // a possible but offline CPU: nothing can run there
                    throw BpfSyscallException.Create("perf_event_open(PERF_COUNT_SW_BPF_OUTPUT)", e, $"CPU {cpu} for {map}");
                }
                var ring = new CpuRing { Cpu = cpu, Event = BpfFd.FromNew((int)r), Length = page * (nuint)(1 + pagesPerCpu) };
                _rings.Add(ring);
                ring.Base = Libc.Mmap(0, ring.Length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, ring.Event.Value, 0);
                if (ring.Base == Libc.MapFailed)
                {
                    int e = Marshal.GetLastPInvokeError();
                    ring.Base = 0;
                    throw BpfSyscallException.Create("mmap(perf ring)", e, $"CPU {cpu}, {pagesPerCpu} data pages (perf_event_mlock_kb may be too low)");
                }
                // data_offset/data_size exist since 4.1; before, the data follows the first page and fills the rest.
                ulong offset = *(ulong*)(ring.Base + DataOffsetOffset), size = *(ulong*)(ring.Base + DataSizeOffset);
                ring.Data = ring.Base + (nint)(offset != 0 ? offset : page);
                ring.Size = size != 0 ? size : (ulong)page * (ulong)pagesPerCpu;
                _epoll.Add(ring.Event, (ulong)(_rings.Count - 1), $"perf event of CPU {cpu}");
                BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)cpu);
                BinaryPrimitives.WriteUInt32LittleEndian(value, ring.Event.Raw);
                map.Update(key, value);
                ring.InMap = true;
            }
            if (_rings.Count == 0) throw new InvalidOperationException($"no online CPU below {cpus} to open a perf ring on for {map}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Data pages per CPU ring.</summary>
    public int PagesPerCpu { get; }

    /// <summary>The CPUs that have a ring (the possible CPUs below the map's max_entries that are online).</summary>
    public IReadOnlyList<int> Cpus => _rings.Select(r => r.Cpu).ToArray();

    /// <summary>Samples the kernel reported dropped (PERF_RECORD_LOST) so far, over all CPUs.</summary>
    public ulong LostSamples { get; private set; }

    /// <summary>Bytes written by the kernel and not yet consumed, over all CPUs.</summary>
    public unsafe long Pending
    {
        get
        {
            ThrowIfDisposed();
            long total = 0;
            foreach (var r in _rings)
                total += (long)(Volatile.Read(ref *(ulong*)(r.Base + DataHeadOffset)) - *(ulong*)(r.Base + DataTailOffset));
            return total;
        }
    }

    /// <summary>Receives one sample; the span is valid only during the call.</summary>
    public delegate void SampleHandler(int cpu, ReadOnlySpan<byte> data);

    /// <summary>Receives a count of samples the kernel dropped on a CPU because its ring was full.</summary>
    public delegate void LostHandler(int cpu, ulong lost);

    /// <summary>Consumes every record available now on every CPU: samples go to <paramref name="onSample"/>, lost
    /// counts to <paramref name="onLost"/> (and <see cref="LostSamples"/>). Returns how many samples were delivered.</summary>
    public int ReadAvailable(SampleHandler onSample, LostHandler? onLost = null)
    {
        ArgumentNullException.ThrowIfNull(onSample);
        ThrowIfDisposed();
        int count = 0;
        foreach (var ring in _rings)
        {
            while (Take(ring, out uint type, out var body))
            {
                if (type == PerfRecordSample)
                {
                    onSample(ring.Cpu, body);
                    count++;
                }
                else if (type == PerfRecordLost)
                {
                    onLost?.Invoke(ring.Cpu, BinaryPrimitives.ReadUInt64LittleEndian(body));
                }
                Release(ring);
            }
        }
        GC.KeepAlive(_map);
        return count;
    }

    /// <summary>Takes one record (a sample or a lost count) if any CPU has one, visiting the CPUs in turn.</summary>
    public bool TryRead(out PerfEventRecord record)
    {
        ThrowIfDisposed();
        for (int i = 0; i < _rings.Count; i++)
        {
            var ring = _rings[(_next + i) % _rings.Count];
            while (Take(ring, out uint type, out var body))
            {
                PerfEventRecord? found = type switch
                {
                    PerfRecordSample => new PerfEventRecord(ring.Cpu, body.ToArray(), 0),
                    PerfRecordLost => new PerfEventRecord(ring.Cpu, [], BinaryPrimitives.ReadUInt64LittleEndian(body)),
                    _ => null,
                };
                Release(ring);
                if (found is PerfEventRecord r)
                {
                    _next = (_next + i + 1) % _rings.Count;
                    record = r;
                    return true;
                }
            }
        }
        record = default;
        return false;
    }

    /// <summary>
    /// Reads the record at the ring's tail without consuming it: its type and body (for a sample the raw bytes,
    /// for a lost record the 8-byte count). Records of other types are skipped. Call <see cref="Release"/> after use.
    /// </summary>
    private unsafe bool Take(CpuRing ring, out uint type, out ReadOnlySpan<byte> body)
    {
        ref ulong headRef = ref *(ulong*)(ring.Base + DataHeadOffset);
        ulong tail = *(ulong*)(ring.Base + DataTailOffset);
        // Acquire: the record bytes are visible once data_head says so.
        ulong head = Volatile.Read(ref headRef);
        body = default;
        type = 0;
        if (tail >= head) return false;
        ulong mask = ring.Size - 1;
        byte* data = (byte*)ring.Data;
        // perf_event_header { u32 type; u16 misc; u16 size; } is 8-aligned and so never wraps.
        byte* hdr = data + (tail & mask);
        type = *(uint*)hdr;
        int size = *(ushort*)(hdr + 6);
        if (size < 8 || (ulong)size > head - tail)
            throw new InvalidDataException($"perf ring of CPU {ring.Cpu}: record of {size} bytes at position {tail} with {head - tail} bytes published");
        _pendingTail = tail + (ulong)size;
        ReadOnlySpan<byte> record = Contiguous(data, mask, tail, size);
        switch (type)
        {
            case PerfRecordSample:
            {
                // PERF_SAMPLE_RAW only: u32 size, then the raw bytes.
                uint raw = size >= 12 ? BinaryPrimitives.ReadUInt32LittleEndian(record[8..]) : uint.MaxValue;
                if (raw > (uint)(size - 12))
                    throw new InvalidDataException($"perf ring of CPU {ring.Cpu}: sample of {size} bytes claims {raw} raw bytes");
                body = record.Slice(12, (int)raw);
                return true;
            }
            case PerfRecordLost:
                // u64 id; u64 lost.
                if (size < 24) throw new InvalidDataException($"perf ring of CPU {ring.Cpu}: lost record of {size} bytes");
                body = record.Slice(16, 8);
                LostSamples += BinaryPrimitives.ReadUInt64LittleEndian(body);
                return true;
            default:
                type = 0;
                body = default;
                return true; // skipped by the callers, but consumed
        }
    }

    /// <summary>The record's bytes: in place, or copied into the scratch buffer when it wraps past the ring's end.</summary>
    private unsafe ReadOnlySpan<byte> Contiguous(byte* data, ulong mask, ulong position, int size)
    {
        ulong start = position & mask;
        ulong firstPart = Math.Min((ulong)size, mask + 1 - start);
        if (firstPart == (ulong)size) return new ReadOnlySpan<byte>(data + start, size);
        if (_scratch.Length < size) _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
        new ReadOnlySpan<byte>(data + start, (int)firstPart).CopyTo(_scratch);
        new ReadOnlySpan<byte>(data, size - (int)firstPart).CopyTo(_scratch.AsSpan((int)firstPart));
        return _scratch.AsSpan(0, size);
    }

    private unsafe void Release(CpuRing ring) =>
        // Release store: the kernel may overwrite the space as soon as it sees the new tail.
        Volatile.Write(ref *(ulong*)(ring.Base + DataTailOffset), _pendingTail);

    /// <summary>Blocks until some CPU's ring has data, <paramref name="timeout"/> passes, or <paramref name="cancellationToken"/> fires.
    /// True when data may be available.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (Pending > 0) return true;
        int n = _epoll.Wait(timeout, cancellationToken, []);
        return n > 0 || Pending > 0;
    }

    /// <summary>Waits for the next record (sample or lost count) and returns it. The epoll wait blocks a thread-pool
    /// thread while every ring is empty; cancellation wakes it at once.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask<PerfEventRecord> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryRead(out var record)) return record;
            await Task.Run(() => Wait(Timeout.InfiniteTimeSpan, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every record as it arrives, until cancelled.</summary>
    public async IAsyncEnumerable<PerfEventRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true) yield return await ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Clears the map slots this reader set (when the map is still open), unmaps the rings and closes
    /// the perf events, the epoll and the eventfd.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Span<byte> key = stackalloc byte[4];
        foreach (var ring in _rings)
        {
            if (ring.InMap && !_map.Fd.IsClosed)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(key, (uint)ring.Cpu);
                _map.TryDelete(key);
            }
            if (ring.Base != 0) Libc.Munmap(ring.Base, ring.Length);
            ring.Base = 0;
            ring.Event.Dispose();
        }
        _epoll.Dispose();
    }
}
