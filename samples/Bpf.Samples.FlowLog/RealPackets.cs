using System.Net;
using System.Net.Sockets;
using Bpf.Loader;

namespace Bpf.Samples.FlowLog;

/// <summary>The flow program in the kernel on a veth pair, with real packets from a network namespace (root on Linux).</summary>
internal static class RealPackets
{
    private const ushort DnsLikePort = 8053, WebPort = 8080;
    private const int Datagrams = 5, DeniedDatagrams = 3, TcpBytes = 1000;

    /// <summary>Prints the flows and what arrived; 0 when it ran and every check held, or when it could not run (saying why).</summary>
    public static int Run(ushort deniedPort)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Console.WriteLine("== Real packets: skipped (needs root on Linux: a network namespace and a veth pair) ==");
            return 0;
        }
        FlowLog flows;
        try
        {
            flows = FlowLog.Open(EngineChoice.Kernel);
        }
        catch (Exception e) when (e is BpfException or NotSupportedException or UnauthorizedAccessException)
        {
            Console.WriteLine($"== Real packets: skipped (the kernel cannot load the object: {e.Message}) ==");
            return 0;
        }
        using var _ = flows;
        VethPair veth;
        try
        {
            veth = new VethPair("flow", 10 + Environment.ProcessId % 120);
        }
        catch (IOException e)
        {
            Console.WriteLine($"== Real packets: skipped (no veth pair in a namespace: {e.Message}) ==");
            return 0;
        }
        using (veth)
        {
            flows.DeniedPorts.Update(deniedPort, 1);
            using var attachment = BpfLink.AttachXdp((BpfProgram)flows.FlowLogProgram, BpfLink.InterfaceIndex(veth.HostName));
            Console.WriteLine($"== Real packets: namespace {veth.Namespace} ({veth.PeerName}, {veth.PeerAddress}) -> {veth.HostName} ({veth.HostAddress}), " +
                              $"XDP attached to {veth.HostName} ==");

            using var udp = Bound(veth.HostAddress, DnsLikePort);
            using var denied = Bound(veth.HostAddress, deniedPort);
            var listener = new TcpListener(veth.HostAddress, WebPort);
            listener.Start();
            try
            {
                veth.InNamespace(() =>
                {
                    using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    for (var i = 0; i < Datagrams; i++) tx.SendTo(new byte[100], new IPEndPoint(veth.HostAddress, DnsLikePort));
                    for (var i = 0; i < DeniedDatagrams; i++) tx.SendTo(new byte[100], new IPEndPoint(veth.HostAddress, deniedPort));
                    using var client = new TcpClient(AddressFamily.InterNetwork);
                    client.Connect(veth.HostAddress, WebPort);
                    client.GetStream().Write(new byte[TcpBytes]);
                    client.Client.Shutdown(SocketShutdown.Send);  // FIN: the host reads to the end below
                });
            }
            catch
            {
                listener.Stop();
                throw;
            }
            var (tcpReceived, udpReceived, deniedReceived) = (0, 0, 0);
            using (var server = listener.AcceptTcpClient())
            {
                var buffer = new byte[4096];
                for (int n; (n = server.GetStream().Read(buffer)) > 0;) tcpReceived += n;
            }
            listener.Stop();
            var datagram = new byte[2048];
            while (udp.Poll(TimeSpan.FromMilliseconds(500), SelectMode.SelectRead) && udp.Receive(datagram) > 0) udpReceived++;
            while (denied.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead) && denied.Receive(datagram) > 0) deniedReceived++;

            var totals = new FlowTotals();
            var events = flows.Flows.ReadAvailable();
            foreach (var e in events) totals.Add(e);
            Console.Write(totals.Render());
            Console.WriteLine($"Delivered to {veth.HostAddress}: UDP :{DnsLikePort} {udpReceived} of {Datagrams} datagrams; " +
                              $"UDP :{deniedPort} {deniedReceived} of {DeniedDatagrams} (denied); TCP :{WebPort} {tcpReceived} of {TcpBytes} bytes");
            var droppedEvents = events.Count(e => e.Verdict == FlowLog.FlowVerdict.FlowDropped);
            var ok = udpReceived == Datagrams && deniedReceived == 0 && tcpReceived == TcpBytes && droppedEvents == DeniedDatagrams;
            Console.WriteLine(ok ? "Real packets: the program saw them all and dropped only the denied ones."
                                 : "Real packets: unexpected (see the counts above)!");
            return ok ? 0 : 1;
        }
    }

    private static Socket Bound(IPAddress address, ushort port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(address, port));
        return s;
    }
}
