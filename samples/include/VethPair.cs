// Real packets for the samples: a veth pair whose peer end is in a network namespace the sample creates and removes
// (root on Linux), so traffic sent from the namespace goes through the host end, where a sample attaches its program.
// Linked into the samples that use it.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Bpf.Samples;

/// <summary>A veth pair, the peer end in a namespace of its own; <c>tag</c> names both. Disposing removes both.</summary>
public sealed partial class VethPair : IDisposable
{
    /// <param name="tag">A short name for the sample (at most 4 characters: interface names have 15).</param>
    /// <param name="subnet">The third byte of the pair's 10.215.x.0/24 addresses.</param>
    public VethPair(string tag, int subnet)
    {
        var id = $"{tag}{Environment.ProcessId % 100000}";
        Namespace = $"bpfnet-{id}";
        HostName = $"{id}A";
        PeerName = $"{id}B";
        HostAddress = IPAddress.Parse($"10.215.{subnet}.1");
        PeerAddress = IPAddress.Parse($"10.215.{subnet}.2");
        try
        {
            Ip($"netns add {Namespace}");
            Ip($"link add {HostName} type veth peer name {PeerName} netns {Namespace}");
            Ip($"addr add {HostAddress}/24 dev {HostName}");
            Ip($"link set {HostName} up");
            Ip($"-n {Namespace} addr add {PeerAddress}/24 dev {PeerName}");
            Ip($"-n {Namespace} link set {PeerName} up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Namespace { get; }
    public string HostName { get; }
    public string PeerName { get; }
    public IPAddress HostAddress { get; }
    public IPAddress PeerAddress { get; }

    /// <summary>Runs <paramref name="action"/> on a thread that has entered the namespace (sockets it creates live there).</summary>
    public void InNamespace(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle($"/var/run/netns/{Namespace}");
                if (SetNs((int)ns.DangerousGetHandle(), 0x40000000 /* CLONE_NEWNET */) != 0)
                    throw new IOException($"setns {Namespace}: errno {Marshal.GetLastPInvokeError()}");
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new IOException($"in namespace {Namespace}: {failure.Message}", failure);
    }

    public void Dispose()
    {
        Ip($"netns del {Namespace}", check: false);
        Ip($"link del {HostName}", check: false);
    }

    private static void Ip(string arguments, bool check = true)
    {
        var psi = new ProcessStartInfo("ip", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new IOException("cannot run ip");
        var error = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (check && p.ExitCode != 0) throw new IOException($"ip {arguments}: {error.Trim()}");
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
