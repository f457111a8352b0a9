using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Bpf.Loader.Tests;

public sealed partial class PerfEventArrayTests : KernelTest
{
    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static unsafe partial int SchedSetAffinity(int pid, nuint size, byte* mask);

    private static KernelCollection LoadPerf(uint marker)
    {
        var spec = ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject("perf_output"));
        spec.Variable("marker")!.Set(BitConverter.GetBytes(marker));
        return KernelCollection.Load(spec);
    }

    /// <summary>Runs <paramref name="body"/> on a thread pinned to CPU 0, so every test run writes to the same ring.</summary>
    private static unsafe void OnCpu0(Action body)
    {
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                byte* mask = stackalloc byte[128];
                new Span<byte>(mask, 128).Clear();
                mask[0] = 1;
                if (SchedSetAffinity(0, 128, mask) != 0) throw new IOException($"sched_setaffinity: errno {Marshal.GetLastPInvokeError()}");
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw new Exception("pinned thread failed", failure);
    }

    [KernelFact]
    public async Task SamplesWrittenByTestRuns_ArriveWithTheirBytes()
    {
        using var c = LoadPerf(0x1234_5678);
        Assert.Equal((uint)PossibleCpus.Count, c.Map("events").MaxEntries); // max_entries left out: one slot per possible CPU
        using var reader = new PerfEventArrayReader(c.Map("events"));
        Assert.NotEmpty(reader.Cpus);
        int[] sizes = [60, 70, 1000];
        foreach (var n in sizes) Assert.Equal(2u, c.Run("emit", ProgramTests.MakePacket(n)).ReturnValue); // not XDP_ABORTED: the output worked
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var got = new List<uint[]>();
        for (int i = 0; i < sizes.Length; i++)
        {
            var rec = await reader.ReadAsync(cts.Token);
            Assert.False(rec.IsLost);
            Assert.Contains(rec.Cpu, reader.Cpus);
            Assert.Equal(20, rec.Data.Length); // 4 + 20 is a multiple of 8: no padding
            var words = new uint[5];
            for (int w = 0; w < 5; w++) words[w] = BinaryPrimitives.ReadUInt32LittleEndian(rec.Data.AsSpan(4 * w));
            got.Add(words);
        }
        // Runs may land on different CPUs, so order by the program's sequence number.
        got.Sort((a, b) => a[2].CompareTo(b[2]));
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal([(uint)sizes[i], 0x1234_5678u, (uint)(i + 1), 0xa1b2c3d4u, ~(uint)(i + 1)], got[i]);
        }
        Assert.Equal(0, reader.Pending);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(0ul, reader.LostSamples);
    }

    [KernelFact]
    public void WrappingRecords_ManyMoreThanFit_AllDeliveredIntact() => OnCpu0(() =>
    {
        using var c = LoadPerf(1);
        // One data page: 48-byte records (8 header + 4 size + 29 bytes padded to 36) do not divide 4096, so some wrap.
        using var reader = new PerfEventArrayReader(c.Map("events"), pagesPerCpu: 1);
        int total = 0;
        for (int batch = 0; batch < 12; batch++)
        {
            for (int i = 0; i < 60; i++) Assert.Equal(2u, c.Run("emit_odd", ProgramTests.MakePacket(20 + (total + i) % 200)).ReturnValue);
            int expected = total;
            int read = reader.ReadAvailable((cpu, data) =>
            {
                Assert.Equal(0, cpu);
                Assert.Equal(36, data.Length);
                Assert.Equal((byte)(20 + expected % 200), data[0]);
                for (int k = 1; k < 29; k++) Assert.Equal((byte)(0x40 + k), data[k]);
                expected++;
            });
            Assert.Equal(60, read);
            total += read;
        }
        Assert.Equal(720, total);
        Assert.Equal(0ul, reader.LostSamples);
    });

    [KernelFact]
    public void FullRing_ReportsLostSamples() => OnCpu0(() =>
    {
        using var c = LoadPerf(2);
        using var reader = new PerfEventArrayReader(c.Map("events"), pagesPerCpu: 1);
        // 4096 / 32-byte records: 128 fit. Write 200 without reading; the output helper fails for the rest.
        int aborted = 0;
        for (int i = 0; i < 200; i++) if (c.Run("emit", ProgramTests.MakePacket(64)).ReturnValue == 0) aborted++;
        int samples = reader.ReadAvailable((_, _) => { });
        Assert.Equal(200 - aborted, samples);
        Assert.True(aborted > 0, "the ring should have overflowed");
        // The kernel reports the loss in the next record it manages to write.
        Assert.Equal(2u, c.Run("emit", ProgramTests.MakePacket(64)).ReturnValue);
        ulong lostSeen = 0;
        int more = reader.ReadAvailable((_, _) => { }, (cpu, lost) => { Assert.Equal(0, cpu); lostSeen += lost; });
        Assert.Equal(1, more);
        Assert.Equal((ulong)aborted, lostSeen);
        Assert.Equal((ulong)aborted, reader.LostSamples);
    });

    [KernelFact]
    public async Task ReadAsync_OnEmptyRings_IsCancelled()
    {
        using var c = LoadPerf(3);
        using var reader = new PerfEventArrayReader(c.Map("events"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(cts.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [KernelFact]
    public async Task ReadAsync_WaitingReader_WakesWhenASampleArrives()
    {
        using var c = LoadPerf(4);
        using var reader = new PerfEventArrayReader(c.Map("events"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var pending = reader.ReadAsync(cts.Token).AsTask();
        await Task.Delay(100);
        Assert.False(pending.IsCompleted);
        c.Run("emit", ProgramTests.MakePacket(77));
        var rec = await pending;
        Assert.Equal(77u, BinaryPrimitives.ReadUInt32LittleEndian(rec.Data));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(rec.Data.AsSpan(4)));
    }

    [KernelFact]
    public void Dispose_ClearsTheMapSlots_SoOutputFails()
    {
        using var c = LoadPerf(5);
        Assert.Equal(0u, c.Run("emit", ProgramTests.MakePacket(64)).ReturnValue); // no reader yet: -ENOENT, XDP_ABORTED
        using (new PerfEventArrayReader(c.Map("events")))
        {
            Assert.Equal(2u, c.Run("emit", ProgramTests.MakePacket(64)).ReturnValue);
        }
        Assert.Equal(0u, c.Run("emit", ProgramTests.MakePacket(64)).ReturnValue);
    }

    [KernelFact]
    public void BadArguments_AreRefused()
    {
        using var m = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        Assert.Throws<ArgumentException>(() => new PerfEventArrayReader(m));
        using var c = LoadPerf(6);
        Assert.Throws<ArgumentException>(() => new PerfEventArrayReader(c.Map("events"), pagesPerCpu: 3));
    }
}
