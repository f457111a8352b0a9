using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>The hash map's consistency model under concurrent C# readers and writers: readers take no lock and
/// retry, so they never see a torn value, a stable key never goes missing and a key's value never goes back.</summary>
public class MapConcurrencyTests
{
    private readonly record struct Pair(ulong A, ulong B);

    [Theory]
    [InlineData(0u)]
    [InlineData(MapFlags.NoPrealloc)]
    public async Task Lock_free_readers_see_no_torn_lost_or_stale_values_while_writers_insert_delete_and_grow(uint flags)
    {
        const int Stable = 32;
        var map = new ManagedCollection(new CollectionOptions { CpuCount = 2 })
            .CreateMap(new MapDefinition("h", MapType.Hash, 4, 16, 4096, (MapFlags)flags));
        for (var k = 0u; k < Stable; k++) map.Update(k, new Pair(0, 0));
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var reads = 0L;

        // One writer per stable key range (so each key's counter only grows), one churning other keys.
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            for (ulong n = 1; !stop.IsCancellationRequested; n++)
            {
                for (var k = (uint)w; k < Stable; k += 2) map.Update(k, new Pair(n, n));
            }
        }, TestContext.Current.CancellationToken)).ToList();
        writers.Add(Task.Run(() =>
        {
            var round = 0u;
            while (!stop.IsCancellationRequested)
            {
                // Fresh keys force inserts (and growth of a BPF_F_NO_PREALLOC map), then deletes reuse the slots.
                for (var k = 1000u + round % 2; k < 3000u; k++) map.Update(k, new Pair(k, k));
                for (var k = 1000u + round % 2; k < 3000u; k++) map.Delete(k);
                round++;
            }
        }, TestContext.Current.CancellationToken));
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var last = new ulong[Stable];
            while (!stop.IsCancellationRequested)
            {
                for (var k = 0u; k < Stable; k++)
                {
                    if (!map.TryLookup(k, out Pair p)) failures.Enqueue($"stable key {k} missing");
                    else if (p.A != p.B) failures.Enqueue($"key {k}: torn value ({p.A}, {p.B})");
                    else if (p.A < last[k]) failures.Enqueue($"key {k}: went back from {last[k]} to {p.A}");
                    else last[k] = p.A;
                }
                for (var k = 1000u; k < 1100u; k++)
                {
                    if (map.TryLookup(k, out Pair p) && (p.A != k || p.B != k)) failures.Enqueue($"churned key {k}: value ({p.A}, {p.B})");
                }
                Interlocked.Increment(ref reads);
            }
        }, TestContext.Current.CancellationToken)).ToList();

        await Task.Delay(1500, TestContext.Current.CancellationToken);
        stop.Cancel();
        await Task.WhenAll([.. writers, .. readers]);
        Assert.Empty(failures.Take(10));
        Assert.True(Interlocked.Read(ref reads) > 0, "the readers made no progress");
    }

    /// <summary>A value of 32 words, every word the same number: a reader that sees two numbers saw two writes.</summary>
    [System.Runtime.CompilerServices.InlineArray(32)]
    private struct Wide
    {
        private ulong _word;
    }

    private static string? Torn(ReadOnlySpan<byte> value)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(value);
        foreach (var w in words)
        {
            if (w != words[0]) return $"words {words[0]:x} and {w:x}";
        }
        return null;
    }

    /// <summary>
    /// The sequence lock with values wider than one store (256 bytes): two writers rewrite the same keys through both
    /// C# update paths while two readers read them through both lookup paths; no reader ever returns a value mixing
    /// two writes, and a lookup of a key being inserted and deleted returns either the whole value or NotFound with
    /// the caller's buffer untouched or zeroed, never the remains of a discarded read.
    /// </summary>
    [Theory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.LruHash)]
    public async Task Readers_never_see_a_wide_value_mixing_two_writes(MapType type)
    {
        const int Keys = 4, Churned = 64;
        var map = new ManagedCollection(new CollectionOptions { CpuCount = 2 })
            .CreateMap(new MapDefinition("wide", type, 4, 256, 1024));
        var fill = new byte[256];
        for (var k = 0u; k < Keys; k++) map.Update(BitConverter.GetBytes(k), fill);
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long reads = 0, retriedMisses = 0;

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var value = new byte[256];
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(value.AsSpan());
            for (ulong n = 1; !stop.IsCancellationRequested; n++)
            {
                for (var k = 0u; k < Keys; k++)
                {
                    var stamp = n << 8 | (ulong)w << 4 | k;
                    if ((n & 1) == 0)
                    {
                        words.Fill(stamp);
                        map.Update(BitConverter.GetBytes(k), value);
                    }
                    else
                    {
                        var wide = default(Wide);
                        ((Span<ulong>)wide).Fill(stamp);
                        map.Update(k, wide);
                    }
                }
                // Keys that come and go: a reader may find one, then lose it on its retry.
                var churned = 1000u + (uint)(n % Churned);
                words.Fill(churned);
                if (w == 0) map.Update(BitConverter.GetBytes(churned), value);
                else map.Delete(churned - 1);
            }
        }, TestContext.Current.CancellationToken)).ToList();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var buffer = new byte[256];
            while (!stop.IsCancellationRequested)
            {
                for (var k = 0u; k < Keys; k++)
                {
                    if (r == 0)
                    {
                        if (map.TryLookup(BitConverter.GetBytes(k), buffer) != MapError.None) failures.Enqueue($"key {k} missing");
                        else if (Torn(buffer) is { } why) failures.Enqueue($"key {k}: torn value through the byte path: {why}");
                    }
                    else if (!map.TryLookup(k, out Wide wide)) failures.Enqueue($"key {k} missing");
                    else if (Torn(System.Runtime.InteropServices.MemoryMarshal.AsBytes((ReadOnlySpan<ulong>)wide)) is { } why) failures.Enqueue($"key {k}: torn value through the typed path: {why}");
                }
                for (var k = 1000u; k < 1000 + Churned; k++)
                {
                    buffer.AsSpan().Fill(0xEE);
                    var error = map.TryLookup(BitConverter.GetBytes(k), buffer);
                    if (error == MapError.None)
                    {
                        if (Torn(buffer) is { } why || BitConverter.ToUInt64(buffer) != k) failures.Enqueue($"churned key {k}: value {BitConverter.ToUInt64(buffer):x}");
                    }
                    else if (buffer.Any(b => b != 0xEE))
                    {
                        if (buffer.Any(b => b != 0)) failures.Enqueue($"churned key {k}: NotFound left {BitConverter.ToUInt64(buffer):x} in the buffer");
                        else Interlocked.Increment(ref retriedMisses);
                    }
                }
                Interlocked.Increment(ref reads);
            }
        }, TestContext.Current.CancellationToken)).ToList();

        await Task.Delay(1500, TestContext.Current.CancellationToken);
        stop.Cancel();
        await Task.WhenAll([.. writers, .. readers]);
        Assert.Empty(failures.Take(10));
        Assert.True(Interlocked.Read(ref reads) > 0, "the readers made no progress");
        TestContext.Current.TestOutputHelper?.WriteLine($"{reads} read rounds, {retriedMisses} misses after a discarded read");
    }

    /// <summary>
    /// Lock-free lookups racing with growth: a lazily allocated map rehashes into a new bucket array as it doubles;
    /// readers looking up keys inserted before (from C#, both paths, and as a program) always find them.
    /// </summary>
    [Fact]
    public async Task Readers_racing_with_growth_never_miss_a_present_key()
    {
        const int Stable = 16;
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 2 });
        HashMap? current = null;
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var rounds = 0;
        var writer = Task.Run(() =>
        {
            for (var round = 0; round < 24 && !stop.IsCancellationRequested; round++)
            {
                var map = (HashMap)collection.CreateMap(new MapDefinition($"grow{round}", MapType.Hash, 4, 8, 1 << 14, MapFlags.NoPrealloc));
                for (var k = 0u; k < Stable; k++) map.Update(k, (ulong)k);
                Volatile.Write(ref current, map);
                for (var k = 1000u; k < 1000 + (1 << 14) - Stable; k++) map.Update(k, (ulong)k);   // 64 → 16384: 8 rehashes
                rounds++;
            }
        }, TestContext.Current.CancellationToken);
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var buffer = new byte[8];
            while (!stop.IsCancellationRequested)
            {
                var map = Volatile.Read(ref current);
                if (map is null) continue;
                for (var k = 0u; k < Stable; k++)
                {
                    var key = BitConverter.GetBytes(k);
                    var found = ((k + (uint)r) % 3) switch
                    {
                        0 => map.TryLookup(key, buffer) == MapError.None && BitConverter.ToUInt64(buffer) == k,
                        1 => map.TryLookup(k, out ulong v) && v == k,
                        _ => map.ProgramLookup(key, 0) != 0,
                    };
                    if (!found) failures.Enqueue($"{map.Name}: key {k} missing (path {(k + (uint)r) % 3})");
                }
            }
        }, TestContext.Current.CancellationToken)).ToList();
        await writer;
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Empty(failures.Take(10));
        Assert.True(rounds > 0);
    }
}
