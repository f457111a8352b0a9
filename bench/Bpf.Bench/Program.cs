using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Bpf.Bench;

// Run e.g.: dotnet run -c Release --project bench/Bpf.Bench -- --filter '*Interpreter*' --job short
// Kernel comparisons (through Bpf.Loader, once it exists) belong in their own benchmark class over the same
// BenchPrograms, so the ns/insn figures line up.
var config = DefaultConfig.Instance.AddColumn(new NsPerInstructionColumn());
BenchmarkSwitcher.FromAssembly(typeof(InterpreterBenchmarks).Assembly).Run(args, config);
