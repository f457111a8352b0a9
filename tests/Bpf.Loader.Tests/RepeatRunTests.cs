namespace Bpf.Loader.Tests;

/// <summary>
/// <see cref="IBpfProgram.Run(ReadOnlySpan{byte}, ReadOnlySpan{byte}, int)"/> with a repeat count: the kernel's test run
/// keeps one packet and one context for its whole repeat loop, so a program that changes its input sees its own
/// change on the next run. Both engines must give the same output (programs/repeat_state.c). The kernel half needs
/// a kernel: it skips naming why, or fails under BPFNET_REQUIRE_KERNEL=1.
/// </summary>
public sealed class RepeatRunTests
{
    public static TheoryData<string> Engines => new() { "interpreter", "kernel" };

    private static IBpfCollection Open(string engine) => EngineApiTests.Open("repeat_state", engine);

    private static byte[] Frame()
    {
        var frame = new byte[64];
        frame[0] = 40;
        frame[12] = 0x08; // IPv4, so the skb test run takes it as an Ethernet frame
        frame[14] = 0x45;
        return frame;
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Xdp_runs_share_the_packet_and_its_moved_pointers(string engine)
    {
        using var c = Open(engine);
        var p = c.Program("grow_and_count");
        var once = p.Run(Frame());
        Assert.Equal(68, once.Data.Length);
        Assert.Equal(41, once.Data[0]);

        var r = p.Run(Frame(), default, 3);
        Assert.Equal(3, r.Runs);
        Assert.Equal(2u, r.ReturnValue);
        // Each run moved data 4 bytes further into the headroom (zeroed) and wrote its count in front.
        Assert.Equal(64 + 3 * 4, r.Data.Length);
        Assert.Equal([43, 0, 0, 0, 42, 0, 0, 0, 41, 0, 0, 0, 40], r.Data[..13]);
        Assert.Equal(Frame()[1..], r.Data[13..]);
        Assert.True(r.NanosecondsPerRun > 0);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Skb_runs_share_the_packet_and_the_context(string engine)
    {
        using var c = Open(engine);
        var p = c.Program("count_skb");
        var context = new byte[12]; // __sk_buff up to and including mark
        BitConverter.TryWriteBytes(context.AsSpan(8), 5u);

        var r = p.Run(Frame(), context, 4);
        Assert.Equal(4, r.Runs);
        Assert.Equal(0u, r.ReturnValue);
        Assert.Equal(44, r.Data[0]);
        Assert.Equal(Frame()[1..], r.Data[1..]);
        Assert.Equal(9u, BitConverter.ToUInt32(r.Context, 8));

        var once = p.Run(Frame(), context);
        Assert.Equal(41, once.Data[0]);
        Assert.Equal(6u, BitConverter.ToUInt32(once.Context, 8));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Raw_tracepoint_runs_on_its_context_alone_and_repeats(string engine)
    {
        using var c = Open(engine);
        var p = c.Program("count_raw");
        var args = new byte[16];
        args[0] = 9;
        var r = p.Run([], args, 3);
        Assert.Equal(7u, r.ReturnValue);
        Assert.Equal(3, r.Runs);
        Assert.Equal(args, r.Context);
        Assert.Equal(3ul, BitConverter.ToUInt64(c.ReadVariable("raw_runs")));
        Assert.Equal(7u, p.Run([], args).ReturnValue);
        Assert.Equal(4ul, BitConverter.ToUInt64(c.ReadVariable("raw_runs")));
        // Given as data alone, the arguments are the program's input on both engines (no context to give back; the
        // data comes back as given, read-only to the program).
        var viaData = p.Run(args);
        Assert.Equal(7u, viaData.ReturnValue);
        Assert.Empty(viaData.Context);
        Assert.Equal(args, viaData.Data);
        Assert.Equal(5ul, BitConverter.ToUInt64(c.ReadVariable("raw_runs")));
        // At most 12 u64 arguments (the kernel's EINVAL), refused the same way on both engines before a run.
        Assert.Equal(7u, p.Run([], new byte[96]).ReturnValue);
        Assert.Contains("at most 12 u64 arguments", Assert.Throws<ArgumentException>(() => p.Run([], new byte[104])).Message);
        Assert.Equal(6ul, BitConverter.ToUInt64(c.ReadVariable("raw_runs")));
    }
}
