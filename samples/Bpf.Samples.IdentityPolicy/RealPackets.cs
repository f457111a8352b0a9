using System.Net;
using System.Net.Sockets;
using Bpf.Loader;

namespace Bpf.Samples.IdentityPolicy;

/// <summary>The policy program in the kernel on a veth pair, with real packets from a network namespace (root on Linux):
/// the namespace's address is a frontend endpoint, the host end's an api endpoint, and frontends may reach the api on
/// 8080/TCP only.</summary>
internal static class RealPackets
{
    private const ushort ApiPort = 8080, OtherPort = 8053;
    private const int TcpBytes = 1000, Datagrams = 3;

    /// <summary>Prints the verdicts and what arrived; 0 when it ran and every check held, or when it could not run (saying why).</summary>
    public static int Run(Func<IdentityPolicy, PolicyFile, IdentityAllocator, string> apply, Func<IdentityPolicy, string> verdicts)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Console.WriteLine("== Real packets: skipped (needs root on Linux: a network namespace and a veth pair) ==");
            return 0;
        }
        IdentityPolicy firewall;
        try
        {
            firewall = IdentityPolicy.Open(EngineChoice.Kernel);
        }
        catch (Exception e) when (e is BpfException or NotSupportedException or UnauthorizedAccessException)
        {
            Console.WriteLine($"== Real packets: skipped (the kernel cannot load the object: {e.Message}) ==");
            return 0;
        }
        using var _ = firewall;
        VethPair veth;
        try
        {
            veth = new VethPair("pol", 130 + Environment.ProcessId % 120);
        }
        catch (IOException e)
        {
            Console.WriteLine($"== Real packets: skipped (no veth pair in a namespace: {e.Message}) ==");
            return 0;
        }
        using (veth)
        {
            var policy = new PolicyFile(
                [
                    new Endpoint("client", veth.PeerAddress, new Dictionary<string, string> { ["app"] = "frontend" }),
                    new Endpoint("server", veth.HostAddress, new Dictionary<string, string> { ["app"] = "api" }),
                ],
                [
                    new Rule("frontend-to-api", new Selector(new Dictionary<string, string> { ["app"] = "api" }),
                        [new Selector(new Dictionary<string, string> { ["app"] = "frontend" })], [new PortRule(ApiPort, Flow.Tcp)]),
                ]);
            var summary = apply(firewall, policy, new IdentityAllocator());
            using var attachment = BpfLink.AttachXdp((BpfProgram)firewall.IdentityPolicyProgram, BpfLink.InterfaceIndex(veth.HostName));
            Console.WriteLine($"== Real packets: namespace {veth.Namespace} (client {veth.PeerAddress}, app=frontend) -> {veth.HostName} " +
                              $"(server {veth.HostAddress}, app=api), XDP attached to {veth.HostName} ==");
            Console.WriteLine(summary);

            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(veth.HostAddress, OtherPort));
            var listener = new TcpListener(veth.HostAddress, ApiPort);
            listener.Start();
            try
            {
                veth.InNamespace(() =>
                {
                    using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    for (var i = 0; i < Datagrams; i++) tx.SendTo(new byte[100], new IPEndPoint(veth.HostAddress, OtherPort));
                    using var client = new TcpClient(AddressFamily.InterNetwork);
                    client.Connect(veth.HostAddress, ApiPort);
                    client.GetStream().Write(new byte[TcpBytes]);
                    client.Client.Shutdown(SocketShutdown.Send);
                });
            }
            catch
            {
                listener.Stop();
                throw;
            }
            var (tcpReceived, udpReceived) = (0, 0);
            using (var server = listener.AcceptTcpClient())
            {
                var buffer = new byte[4096];
                for (int n; (n = server.GetStream().Read(buffer)) > 0;) tcpReceived += n;
            }
            listener.Stop();
            var datagram = new byte[2048];
            while (udp.Poll(TimeSpan.FromMilliseconds(300), SelectMode.SelectRead) && udp.Receive(datagram) > 0) udpReceived++;

            Console.Write(verdicts(firewall));
            Console.WriteLine($"Delivered to the server: TCP :{ApiPort} {tcpReceived} of {TcpBytes} bytes; UDP :{OtherPort} {udpReceived} of {Datagrams} datagrams (no rule)");
            var denied = firewall.Verdicts.TryLookup(IdentityPolicy.PolicyVerdict.DropPolicyDenied, out var d) ? d : 0;
            var ok = tcpReceived == TcpBytes && udpReceived == 0 && denied == Datagrams;
            Console.WriteLine(ok ? "Real packets: the allowed connection went through; the datagrams no rule allows were dropped."
                                 : "Real packets: unexpected (see the counts above)!");
            return ok ? 0 : 1;
        }
    }
}
