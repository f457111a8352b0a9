using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Bpf.Bench;

// Run e.g.: dotnet run -c Release --project bench/Bpf.Bench -- --filter '*Interpreter*' --job short
// KernelComparisonBenchmarks runs the same BenchPrograms through BPF_PROG_TEST_RUN (root only), so the ns/insn
// figures line up: dotnet run -c Release --project bench/Bpf.Bench -- --filter '*KernelComparison*' --job short
// bench/veth/scan-vs-lookup-veth.sh: hold an XDP program attached while it sends packets (not a benchmark).
if (args.Length > 0 && args[0] == "xdp-hold")
{
    return OperatingSystem.IsLinux() ? VethXdpHold.Run(args[1..]) : 2;
}

// Median and Min next to the Mean: on the shared machine a few preempted iterations move the Mean a lot.
var config = DefaultConfig.Instance.AddColumn(StatisticColumn.Median, StatisticColumn.Min, new NsPerInstructionColumn(),
    new KernelDurationColumn(ratio: false), new KernelDurationColumn(ratio: true), new ProcessedColumn(kernel: false),
    new ProcessedColumn(kernel: true));
if (OperatingSystem.IsLinux()) config = config.AddColumn(new KernelReportedColumn());
BenchmarkSwitcher.FromAssembly(typeof(InterpreterBenchmarks).Assembly).Run(args, config);
return 0;
