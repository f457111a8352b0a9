using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Bpf.Asm;
using Bpf.Runtime;

namespace Bpf.Bench;

/// <summary>
/// Where the fixed per-run cost goes (issue 12, goal 2): the empty program (<c>mov r0, 0; exit</c>, 2 instructions)
/// through each entry point, and the pieces a run is made of measured alone (execution-state acquisition, clearing
/// one 512-byte stack frame, writing and reading back an XDP context, the timestamp a timed repeat loop takes).
/// </summary>
[MemoryDiagnoser]
public class PerRunBenchmarks : IKernelReference
{
    private static readonly byte[] Frame = RuntimeBenchInputs.Packet();

    private Interpreter _interpreter = null!;
    private ManagedProgram _xdp = null!;
    private InterpreterProgram _engineProgram = null!;
    private XdpContext _context = null!;
    private readonly byte[] _input = GC.AllocateArray<byte>(ContextLayout.FrameOffset + ContextLayout.FrameSize, pinned: true);

    [GlobalSetup]
    public void Setup()
    {
        var empty = Assembler.Assemble("mov %r0, 0\nexit");
        _interpreter = new Interpreter(empty);
        var collection = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        _xdp = collection.LoadProgram("empty", ProgramType.Xdp, empty);
        _engineProgram = (InterpreterProgram)new InterpreterCollection(collection).Program("empty");
        _context = new XdpContext(Frame);
    }

    /// <summary>The interpreter alone over empty input memory: state, stack, registers, dispatch of 2 instructions.</summary>
    [Benchmark(Baseline = true)]
    public ulong EmptyInterpreterRun() => _interpreter.Run(default).R0;

    /// <summary>The empty XDP program through <see cref="ManagedProgram.Run"/> with a context reused across runs.</summary>
    [Benchmark]
    public uint EmptyXdpManagedRun() => _xdp.Run(_context).ReturnValue;

    /// <summary>Per run, the empty XDP program 1,000 times in one repeat loop (the context written once), as the kernel's
    /// duration is measured.</summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public uint EmptyXdpRepeatLoop1000() => _xdp.RunRepeated(_context, 0, 1000, out _).ReturnValue;

    /// <summary>The same with a new <see cref="XdpContext"/> per packet (what a caller holding only bytes does).</summary>
    [Benchmark]
    public uint EmptyXdpManagedRunNewContext() => _xdp.Run(new XdpContext(Frame)).ReturnValue;

    /// <summary>The engine-neutral path (<see cref="IBpfProgram.Run(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>):
    /// builds the context the kernel's test run would and returns the output packet.</summary>
    [Benchmark]
    public uint EmptyXdpEngineRun() => _engineProgram.Run(Frame).ReturnValue;

    /// <summary>Part: taking and giving back the thread's cached execution state.</summary>
    [Benchmark]
    public bool PartStateAcquireRelease()
    {
        var state = ExecutionState.Acquire();
        var used = state.InUse;
        state.Release();
        return used;
    }

    /// <summary>Part: zeroing one 512-byte stack frame.</summary>
    [Benchmark]
    public byte PartClearStackFrame()
    {
        var frame = _input.AsSpan(0, VmLayout.FrameStackSize);
        frame.Clear();
        return frame[0];
    }

    /// <summary>Part: writing an XDP context into the input memory and reading the output back.</summary>
    [Benchmark]
    public int PartXdpContextWriteRead()
    {
        var input = _input.AsSpan(0, _context.InputLength);
        _context.Write(input);
        var windows = _context.Windows(input);
        _context.Read(input);
        return windows.PacketEnd;
    }

    /// <summary>The empty program's rows: the kernel's own duration for it as an XDP program (100,000 repetitions).</summary>
    public double? KernelNanosecondsPerOperation(string method)
    {
        if (!OperatingSystem.IsLinux() || !method.StartsWith("Empty", StringComparison.Ordinal)) return null;
        using var loaded = Bpf.Loader.BpfProgram.Load(ProgramType.Xdp, Assembler.Assemble("mov %r0, 0\nexit"), "GPL");
        return loaded.TestRun(Frame, default, new Bpf.Loader.TestRunOptions { Repeat = 100_000, DataOutCapacity = 128 }).NanosecondsPerRun ?? double.NaN;
    }

    /// <summary>Part: one timestamp (a timed repeat loop takes two per run).</summary>
    [Benchmark]
    public long PartTimestamp() => Stopwatch.GetTimestamp();
}
