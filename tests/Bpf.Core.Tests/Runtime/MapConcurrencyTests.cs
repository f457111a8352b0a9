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
}
