using Bpf.Loader;
using static Bpf.Loader.Tests.Asm;
using R = Bpf.Register;

namespace Bpf.Loader.Tests;

public sealed class ProgramTests : KernelTest
{
    private static readonly byte[] Packet = MakePacket(64);

    internal static byte[] MakePacket(int n)
    {
        var p = new byte[n];
        for (int i = 0; i < n; i++) p[i] = (byte)(i * 7 + 3);
        return p;
    }

    [KernelTheory]
    [InlineData(0)] // XDP_ABORTED
    [InlineData(1)] // XDP_DROP
    [InlineData(2)] // XDP_PASS
    [InlineData(3)] // XDP_TX
    public void Xdp_ReturningConstant_TestRunReturnsIt(int action)
    {
        using var prog = BpfProgram.Load(ProgramType.Xdp, [Mov(R.R0, action), Exit()], "GPL");
        var r = prog.TestRun(Packet);
        Assert.Equal((uint)action, r.ReturnValue);
        Assert.Equal(Packet, r.Data);
    }

    private static readonly Instruction[] FirstByte =
    [
        Ldx(MemSize.W, R.R2, R.R1, 0), // data
        Ldx(MemSize.W, R.R3, R.R1, 4), // data_end
        Mov(R.R4, R.R2),
        Add(R.R4, 1),
        Jgt(R.R4, R.R3, 2),
        Ldx(MemSize.B, R.R0, R.R2, 0),
        Exit(),
        Mov(R.R0, 0),
        Exit(),
    ];

    [KernelFact]
    public void Xdp_ReadingPacketByte_ReturnsThatByte()
    {
        using var prog = BpfProgram.Load(ProgramType.Xdp, FirstByte, "GPL", new LoadOptions { Name = "first-byte!" });
        Assert.Equal("first_byte_", prog.Name);
        var rng = new Random(1234);
        for (int i = 0; i < 8; i++)
        {
            var pkt = MakePacket(60);
            pkt[0] = (byte)rng.Next(256);
            Assert.Equal(pkt[0], prog.TestRun(pkt).ReturnValue);
        }
    }

    [KernelFact]
    public void TestRun_Repeat_ReportsDuration()
    {
        using var prog = BpfProgram.Load(ProgramType.Xdp, FirstByte, "GPL");
        var r = prog.TestRun(Packet, options: new TestRunOptions { Repeat = 1000 });
        Assert.Equal(Packet[0], r.ReturnValue);
        Assert.True(r.NanosecondsPerRun is < 1_000_000, $"mean duration {r.NanosecondsPerRun} ns");
    }

    [KernelFact]
    public void Rejected_Program_GivesVerifierExceptionNamingInstruction()
    {
        // r3 is never written: the verifier stops at instruction 2.
        var ex = Assert.Throws<ProgramRejectedException>(() =>
            BpfProgram.Load(ProgramType.Xdp, [Mov(R.R0, 0), Mov(R.R1, 1), Mov(R.R0, R.R3), Exit()], "GPL"));
        Assert.Equal(13, ex.Errno); // EACCES
        Assert.Equal("EACCES", ex.ErrnoName);
        Assert.Equal("BPF_PROG_LOAD", ex.Command);
        Assert.Contains("R3 !read_ok", ex.Log);
        Assert.Equal(2, ex.FailedInstructionIndex);
        Assert.Contains("R3 !read_ok", ex.Message);
        Assert.Contains("instruction 2", ex.Message);
    }

    [KernelFact]
    public void Rejected_Program_TinyInitialLog_IsGrownToWholeLog()
    {
        var prog = new List<Instruction>();
        for (int i = 0; i < 200; i++) prog.Add(Mov(R.R0, i));
        prog.Add(Mov(R.R0, R.R5));
        prog.Add(Exit());
        var ex = Assert.Throws<ProgramRejectedException>(() =>
            BpfProgram.Load(ProgramType.Xdp, prog.ToArray(), "GPL", new LoadOptions { InitialLogSize = 256 }));
        Assert.False(ex.Truncated);
        Assert.Contains("R5 !read_ok", ex.Log);
        Assert.Contains("0: (b7) r0 = 0", ex.Log);
        Assert.Equal(200, ex.FailedInstructionIndex);
    }

    [KernelFact]
    public void Load_WithStatsLog_ParsesProcessedAndTime()
    {
        using var prog = BpfProgram.Load(ProgramType.Xdp, FirstByte, "GPL",
            new LoadOptions { LogLevel = VerifierLogLevel.Basic | VerifierLogLevel.Stats });
        Assert.NotNull(prog.VerifierLog);
        Assert.NotNull(prog.ProcessedInstructions);
        Assert.InRange(prog.ProcessedInstructions!.Value, 5, 100);
        Assert.NotNull(prog.VerificationTime);
    }

    [KernelFact]
    public void Load_WithoutLogLevel_HasNoLog()
    {
        using var prog = BpfProgram.Load(ProgramType.SocketFilter, [Mov(R.R0, 0), Exit()], "GPL");
        Assert.Null(prog.VerifierLog);
        Assert.True(prog.Fd.IsCloseOnExec);
        Assert.True(prog.Fd.Value > 2);
        Assert.NotEqual(0u, prog.Id);
    }

    [KernelFact]
    public void Load_GplHelperWithNonGplLicense_IsRejected()
    {
        // bpf_trace_printk (6) is GPL-only.
        var insns = new[] { Mov(R.R1, R.R10), Add(R.R1, -8), St(MemSize.DW, R.R10, -8, 0), Mov(R.R2, 8), Call(6), Mov(R.R0, 0), Exit() };
        var ex = Assert.Throws<ProgramRejectedException>(() => BpfProgram.Load(ProgramType.Kprobe, insns, "Proprietary"));
        Assert.Contains("GPL", ex.Log);
    }

    [KernelFact]
    public void MapRelocation_PatchesFd_AndProgramCountsIntoMap()
    {
        using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 4, Name = "counts" });
        var insns = Prog(Mov(R.R6, 2), CountInto(R.R6), Mov(R.R0, 2), Exit());
        using var prog = BpfProgram.Load(ProgramType.Xdp, insns, "GPL",
            new LoadOptions { MapRelocations = [new MapRelocation(2, map)] });
        prog.TestRun(Packet, options: new TestRunOptions { Repeat = 5 });
        prog.TestRun(Packet);
        Assert.Equal(6ul, map.Lookup<uint, ulong>(2));
        Assert.Equal(0ul, map.Lookup<uint, ulong>(0));
    }

    [KernelFact]
    public void MapValueRelocation_PointsIntoArrayValue()
    {
        using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 16, MaxEntries = 1 });
        // r1 = &value[8]; *(u64*)r1 = 0x1234; r0 = 2
        var insns = Prog(LdMap(R.R1), St(MemSize.DW, R.R1, 0, 0x1234), Mov(R.R0, 2), Exit());
        using var prog = BpfProgram.Load(ProgramType.Xdp, insns, "GPL",
            new LoadOptions { MapRelocations = [new MapRelocation(0, map, IsValue: true, ValueOffset: 8)] });
        prog.TestRun(Packet);
        var v = new byte[16];
        map.Lookup(BitConverter.GetBytes(0u), v);
        Assert.Equal(0x1234ul, BitConverter.ToUInt64(v, 8));
        Assert.Equal(0ul, BitConverter.ToUInt64(v, 0));
    }

    [Fact]
    public void Relocate_NotOnLddw_NamesInstruction()
    {
        var insns = new[] { Mov(R.R0, 0), Exit() };
        Need.Kernel(); // needs a map fd to build the relocation
        using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        var ex = Assert.Throws<ArgumentException>(() => BpfProgram.Relocate(insns, [new MapRelocation(1, map)]));
        Assert.Contains("instruction 1", ex.Message);
    }
}
