using BenchmarkDotNet.Attributes;

namespace Bpf.Bench;

/// <summary>The managed interpreter on each workload. ns/insn = mean time / instructions executed per run.</summary>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    private Interpreter _interpreter = null!;
    private byte[] _memory = null!;

    [ParamsSource(nameof(Programs))]
    public string Program { get; set; } = BenchPrograms.AluLoop;

    public static IEnumerable<string> Programs => BenchPrograms.All;

    [GlobalSetup]
    public void Setup()
    {
        _interpreter = BenchPrograms.CreateInterpreter(Program);
        _memory = BenchPrograms.Memory(Program);
    }

    [Benchmark]
    public ulong Interpret() => _interpreter.Run(_memory).R0;
}
