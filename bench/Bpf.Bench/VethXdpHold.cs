using System.Runtime.Versioning;
using Bpf.Loader;

namespace Bpf.Bench;

/// <summary>
/// <c>Bpf.Bench xdp-hold PROGRAM RULES IFACE</c>: loads scan_vs_lookup.o into the kernel with the benchmark's RULES
/// rules, attaches PROGRAM (xdp_hash, xdp_scan or xdp_lpm) to IFACE in driver mode (this process's network
/// namespace), prints "ready", and detaches when standard input closes. bench/veth/scan-vs-lookup-veth.sh runs it
/// inside the namespace it creates, to compare XDP with real iptables rules on a veth pair.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class VethXdpHold
{
    public static int Run(string[] args)
    {
        if (args.Length != 3 || !int.TryParse(args[1], out var rules) || rules is < 1 or > ScanVsLookup.MaxRules)
        {
            Console.Error.WriteLine($"usage: xdp-hold PROGRAM RULES(1..{ScanVsLookup.MaxRules}) IFACE");
            return 2;
        }
        using var kernel = KernelCollection.Load(ScanVsLookup.Spec());
        ScanVsLookup.Fill(kernel, rules);
        var program = kernel.Program(args[0]);
        using (BpfLink.AttachXdp(program, args[2], XdpFlags.Driver))
        {
            Console.WriteLine("ready");
            Console.Out.Flush();
            Console.In.ReadToEnd(); // until the caller closes our standard input
        }
        Console.WriteLine("detached");
        return 0;
    }
}
