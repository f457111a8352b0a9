using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Bpf.Loader;
using Bpf.Loader.Interop;
using static Bpf.Loader.Tests.Asm;
using R = Bpf.Register;

namespace Bpf.Loader.Tests;

public sealed partial class AttachTests(ITestOutputHelper output) : KernelTest
{
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "getpid")]
    private static partial int GetPid();

    internal static string Sh(string exe, string args, bool check = true)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(20_000)) { p.Kill(); throw new TimeoutException($"{exe} {args}"); }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"`{exe} {args}` exited {p.ExitCode}: {se.Result}");
        return so.Result;
    }

    [KernelFact]
    public void SocketFilter_OnLoopbackUdp_DropsLargeDatagrams()
    {
        // Keep packets whose skb->len <= 50, drop the rest.
        var insns = new[] { Ldx(MemSize.W, R.R0, R.R1, 0), Jgt(R.R0, 50, 1), Exit(), Mov(R.R0, 0), Exit() };
        using var prog = BpfProgram.Load(ProgramType.SocketFilter, insns, "GPL");
        using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rx.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        rx.ReceiveTimeout = 300;
        using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var to = rx.LocalEndPoint!;
        var received = new List<int>();
        using (SocketFilter.Attach(rx, prog))
        {
            for (int i = 0; i < 3; i++)
            {
                tx.SendTo(new byte[10], to);
                tx.SendTo(new byte[100], to);
            }
            received.AddRange(Drain(rx));
        }
        Assert.Equal([10, 10, 10], received);
        // Detached: large datagrams come through again.
        tx.SendTo(new byte[100], to);
        Assert.Equal([100], Drain(rx));
    }

    private static List<int> Drain(Socket s)
    {
        var got = new List<int>();
        var buf = new byte[2048];
        while (true)
        {
            try { got.Add(s.Receive(buf)); }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock) { return got; }
        }
    }

    [KernelFact]
    public void Tracepoint_CountsGetpidCallsOfOneThread()
    {
        const int Calls = 25;
        Exception? failure = null;
        ulong count = 0;
        bool wasLink = false;
        var t = new Thread(() =>
        {
            try
            {
                int tid = GetTid();
                using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
                var insns = Prog(
                    Call(14), // bpf_get_current_pid_tgid
                    Instruction.AluReg(OpClass.Alu, AluOp.Mov, R.R0, R.R0), // low 32 bits: the thread id
                    Jne(R.R0, tid, 10),
                    Mov(R.R6, 0),
                    CountInto(R.R6),
                    Mov(R.R0, 0),
                    Exit());
                using var prog = BpfProgram.Load(ProgramType.Tracepoint, insns, "GPL",
                    new LoadOptions { MapRelocations = [new MapRelocation(5, map)] });
                using (var link = TracepointLink.Attach(prog, "syscalls", "sys_enter_getpid"))
                {
                    wasLink = link.IsLink;
                    for (int i = 0; i < Calls; i++) GetPid();
                }
                for (int i = 0; i < 5; i++) GetPid(); // detached: not counted
                count = map.Lookup<uint, ulong>(0);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw new Exception("tracepoint thread failed", failure);
        output.WriteLine($"attached as bpf_link: {wasLink}");
        Assert.Equal((ulong)Calls, count);
    }

    /// <summary>Counts IPv4 UDP packets to <paramref name="port"/> into slot <paramref name="key"/> of the relocated map.</summary>
    internal static (Instruction[] Insns, int LddwIndex) UdpCounter(short dataOff, short dataEndOff, int l3, ushort port, int key, int ret)
    {
        int pass = 21;
        int portLe = (port >> 8) | ((port & 0xff) << 8);
        var insns = Prog(
            Ldx(MemSize.W, R.R2, R.R1, dataOff),
            Ldx(MemSize.W, R.R3, R.R1, dataEndOff),
            Mov(R.R4, R.R2),
            Add(R.R4, l3 + 24),
            Jgt(R.R4, R.R3, (short)(pass - 5)),
            l3 == 14 ? Ldx(MemSize.H, R.R5, R.R2, 12) : Mov(R.R5, 8),
            Jne(R.R5, 0x0008, (short)(pass - 7)), // ETH_P_IP, big-endian
            Ldx(MemSize.B, R.R5, R.R2, (short)(l3 + 9)),
            Jne(R.R5, 17, (short)(pass - 9)), // IPPROTO_UDP
            Ldx(MemSize.H, R.R5, R.R2, (short)(l3 + 22)),
            Jne(R.R5, portLe, (short)(pass - 11)),
            Mov(R.R6, key),
            CountInto(R.R6),
            Mov(R.R0, ret),
            Exit());
        Assert.Equal(23, insns.Length);
        return (insns, 13);
    }

    [KernelFact]
    public void XdpAndTcx_OnVethInNetns_CountRealPackets()
    {
        string tag = $"{Environment.ProcessId % 10000}{Random.Shared.Next(1000):D3}";
        string ns = $"bpfnet-{tag}", va = $"bnA{tag}", vb = $"bnB{tag}";
        int subnet = Random.Shared.Next(10, 250);
        string hostIp = $"10.213.{subnet}.1", nsIp = $"10.213.{subnet}.2";
        const ushort Port = 40123;
        const int Packets = 7;
        // `ip netns add` mounts /run/netns and the peer end is used through setns: both need CAP_SYS_ADMIN.
        Need.Capabilities("a network namespace (ip netns add, setns)", Capability.SysAdmin);
        try
        {
            Sh("ip", $"netns add {ns}");
            Sh("ip", $"link add {va} type veth peer name {vb} netns {ns}");
            Sh("ip", $"addr add {hostIp}/24 dev {va}");
            Sh("ip", $"link set {va} up");
            Sh("ip", $"-n {ns} addr add {nsIp}/24 dev {vb}");
            Sh("ip", $"-n {ns} link set {vb} up");
            Sh("ip", $"-n {ns} link set lo up");

            using var counts = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 2, Name = "udp_counts" });
            var (xdpInsns, xi) = UdpCounter(0, 4, 14, Port, key: 0, ret: 2 /* XDP_PASS */);
            var (tcInsns, ti) = UdpCounter(76, 80, 14, Port, key: 1, ret: 0 /* TCX_PASS */);
            using var xdp = BpfProgram.Load(ProgramType.Xdp, xdpInsns, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(xi, counts)] });
            using var tc = BpfProgram.Load(ProgramType.SchedCls, tcInsns, "GPL", new LoadOptions { MapRelocations = [new MapRelocation(ti, counts)] });
            int ifindex = BpfLink.InterfaceIndex(va);
            using var xdpLink = BpfLink.AttachXdp(xdp, ifindex);
            using var tcxLink = BpfLink.AttachTcx(tc, ifindex, ingress: true);
            Assert.IsType<BpfLink>(xdpLink); // this kernel has XDP and tcx links: no fallback
            Assert.IsType<BpfLink>(tcxLink);
            Assert.Contains(va, Sh("ip", $"link show {va}")); // still there
            Assert.Contains("xdp", Sh("ip", $"link show {va}"));

            // Receive on the host side to prove XDP_PASS/TCX_PASS let the packets through.
            using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            rx.Bind(new IPEndPoint(IPAddress.Parse(hostIp), Port));
            rx.ReceiveTimeout = 1000;
            SendFromNamespace(ns, new IPEndPoint(IPAddress.Parse(hostIp), Port), Packets);
            int got = 0;
            var buf = new byte[64];
            while (got < Packets) { rx.Receive(buf); got++; }

            Assert.Equal((ulong)Packets, counts.Lookup<uint, ulong>(0));
            Assert.Equal((ulong)Packets, counts.Lookup<uint, ulong>(1));

            xdpLink.Dispose();
            Assert.DoesNotContain(" xdp", Sh("ip", $"link show {va}"));
        }
        finally
        {
            Sh("ip", $"netns del {ns}", check: false);
            Sh("ip", $"link del {va}", check: false);
        }
    }

    internal static void SendFromNamespace(string ns, EndPoint to, int packets)
    {
        Exception? failure = null;
        // setns changes only the calling thread's namespace; a socket keeps the namespace it was created in.
        var t = new Thread(() =>
        {
            try
            {
                int fd = Libc.Open($"/var/run/netns/{ns}", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                if (fd < 0) throw new IOException($"open netns {ns}: errno {Marshal.GetLastPInvokeError()}");
                using var nsFd = BpfFd.FromNew(fd);
                if (Libc.Syscall3(SyscallNumbers.SetNs, nsFd.Value, 0x40000000 /* CLONE_NEWNET */, 0) < 0)
                    throw new IOException($"setns: errno {Marshal.GetLastPInvokeError()}");
                using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                for (int i = 0; i < packets; i++) tx.SendTo(new byte[] { (byte)i, 1, 2, 3 }, to);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw new Exception("sending from the namespace failed", failure);
    }

    [KernelFact]
    public void CgroupSkbEgress_CountsPacketsOfProcessesInCgroup()
    {
        string root = "/sys/fs/cgroup/unified";
        if (!File.Exists(Path.Combine(root, "cgroup.procs"))) root = "/sys/fs/cgroup";
        Assert.True(File.Exists(Path.Combine(root, "cgroup.procs")), "no cgroup v2 hierarchy found");
        string cg = Path.Combine(root, $"bpfnet-test-{Environment.ProcessId}-{Random.Shared.Next(100000)}");
        Directory.CreateDirectory(cg);
        try
        {
            const ushort Port = 40177;
            using var counts = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 2 });
            // cgroup skb: data starts at the IP header; allow (1) everything.
            var (insns, li) = UdpCounter(76, 80, 0, Port, key: 0, ret: 1);
            using var prog = BpfProgram.Load(ProgramType.CgroupSkb, insns, "GPL",
                new LoadOptions { MapRelocations = [new MapRelocation(li, counts)], ExpectedAttachType = AttachType.CgroupInetEgress });
            using (BpfLink.AttachCgroup(prog, cg, AttachType.CgroupInetEgress))
            {
                using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                rx.Bind(new IPEndPoint(IPAddress.Loopback, Port));
                // A child shell joins the cgroup and sends 4 datagrams; our own sends (outside the cgroup) must not count.
                Sh("bash", $"-c \"echo $$ > {cg}/cgroup.procs && for i in 1 2 3 4; do echo hi > /dev/udp/127.0.0.1/{Port}; done\"");
                using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                tx.SendTo(new byte[3], new IPEndPoint(IPAddress.Loopback, Port));
                Assert.Equal(4ul, counts.Lookup<uint, ulong>(0));
            }
        }
        finally
        {
            for (int i = 0; i < 50 && Directory.Exists(cg); i++)
            {
                try { Directory.Delete(cg); } catch (IOException) { Thread.Sleep(20); }
            }
        }
    }
}
