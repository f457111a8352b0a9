using System.Buffers.Binary;

namespace Bpf.Loader.Tests;

public sealed class RingBufTests : KernelTest
{
    private static KernelCollection LoadRingbuf(ulong marker)
    {
        var spec = ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject("ringbuf"));
        spec.Variable("marker")!.SetUInt64(marker);
        return KernelCollection.Load(spec);
    }

    [KernelFact]
    public async Task RecordsWrittenByTestRuns_AreReadInOrder()
    {
        using var c = LoadRingbuf(0x1234_5678_9abc);
        using var reader = new RingBufReader(c.Map("events"));
        Assert.Equal(4096, reader.Size);
        int[] sizes = [60, 70, 1000];
        foreach (var n in sizes) Assert.Equal(2u, c.Run("emit", ProgramTests.MakePacket(n)).ReturnValue);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (var n in sizes)
        {
            var rec = await reader.ReadAsync(cts.Token);
            Assert.Equal(16, rec.Length);
            Assert.Equal((ulong)n, BinaryPrimitives.ReadUInt64LittleEndian(rec));
            Assert.Equal(0x1234_5678_9abcUL, BinaryPrimitives.ReadUInt64LittleEndian(rec.AsSpan(8)));
        }
        Assert.Equal(0, reader.Pending);
        Assert.False(reader.TryRead(out _));
    }

    [KernelFact]
    public void Wraparound_ManyMoreRecordsThanFit_AllDelivered()
    {
        using var c = LoadRingbuf(7);
        using var reader = new RingBufReader(c.Map("events"));
        // 24 bytes per record (8 header + 16): 4096 bytes hold 170; write 1000 in batches and consume between.
        long total = 0;
        ulong expect = 0;
        for (int batch = 0; batch < 10; batch++)
        {
            for (int i = 0; i < 100; i++) c.Run("emit", ProgramTests.MakePacket(20 + (int)((expect + (ulong)i) % 50)));
            total += reader.ReadAvailable(r =>
            {
                Assert.Equal(20 + expect % 50, BinaryPrimitives.ReadUInt64LittleEndian(r));
                expect++;
            });
        }
        Assert.Equal(1000, total);
    }

    [KernelFact]
    public async Task ReadAsync_OnAnEmptyRing_IsCancelled()
    {
        using var c = LoadRingbuf(1);
        using var reader = new RingBufReader(c.Map("events"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(cts.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [KernelFact]
    public async Task ReadAsync_WaitingReader_WakesWhenARecordArrives()
    {
        using var c = LoadRingbuf(99);
        using var reader = new RingBufReader(c.Map("events"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var pending = reader.ReadAsync(cts.Token).AsTask();
        await Task.Delay(100);
        Assert.False(pending.IsCompleted);
        c.Run("emit", ProgramTests.MakePacket(64));
        var rec = await pending;
        Assert.Equal(99ul, BinaryPrimitives.ReadUInt64LittleEndian(rec.AsSpan(8)));
    }

    [KernelFact]
    public void NotARingBuffer_IsRefused()
    {
        using var m = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        Assert.Throws<ArgumentException>(() => new RingBufReader(m));
    }
}
