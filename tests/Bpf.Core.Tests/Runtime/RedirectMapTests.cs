using Bpf.Runtime;

namespace Bpf.Core.Tests.Runtime;

/// <summary>Device, CPU, XSK and socket maps (<see cref="RedirectTargetMap"/>) and bpf_redirect_map over them, with
/// rt_redirect.o: the return values are the kernel's (checked against BPF_PROG_TEST_RUN in the CLI tests).</summary>
public class RedirectMapTests
{
    private const ulong XdpAborted = 0, XdpDrop = 1, XdpPass = 2, XdpRedirect = 4;

    private static ManagedCollection Load() => RuntimeCorpus.Load("rt_redirect.o");

    private static RunResult Run(ManagedCollection c, string program, int length = 64, uint rxQueue = 0) =>
        c.Run(program, new XdpContext(new byte[length], rxQueueIndex: rxQueue));

    [Fact]
    public void Redirect_to_a_device_entry_is_recorded_and_a_missing_entry_takes_the_fallback()
    {
        var c = Load();
        var r = Run(c, "redirect_dev");
        Assert.Equal(XdpPass, r.R0);
        Assert.Null(r.Redirect);

        c.Map("tx_port").Update(0u, 3u); // ifindex 3
        r = Run(c, "redirect_dev");
        Assert.Equal(XdpRedirect, r.R0);
        Assert.Equal(0ul, r.Redirect!.Target);
        Assert.Same(c.Map("tx_port"), r.Redirect.Map);

        c.Map("tx_port").Update(0u, 0u); // ifindex 0 empties the slot, as in the kernel
        Assert.Equal(XdpPass, Run(c, "redirect_dev").R0);
        Assert.Empty(c.Map("tx_port").Keys());
    }

    [Fact]
    public void Device_hash_entries_are_read_only_values_and_a_failing_second_redirect_undoes_the_first()
    {
        var c = Load();
        var hash = c.Map("tx_hash");
        Assert.Equal(XdpDrop, Run(c, "redirect_dev_hash").R0);
        Assert.Equal(0ul, Run(c, "read_dev_hash").R0);

        hash.Update(7u, 9ul); // struct bpf_devmap_val { ifindex 9, no program }
        Assert.Equal(XdpRedirect, Run(c, "redirect_dev_hash").R0);
        Assert.Equal(9ul, Run(c, "read_dev_hash").R0);
        var longer = Run(c, "redirect_dev_hash", length: 200); // then key 99, absent: XDP_PASS and no redirect left
        Assert.Equal(XdpPass, longer.R0);
        Assert.Null(longer.Redirect);

        Assert.Equal([7u], hash.Keys().Select(k => BitConverter.ToUInt32(k)));
        Assert.Throws<MapException>(() => hash.Update(8u, 0ul));            // ifindex 0: no such device
        Assert.Throws<MapException>(() => hash.Update(8u, 9ul | (5ul << 32))); // a program on the entry: not modelled
        Assert.True(hash.Delete(7u));
        Assert.Equal(0ul, Run(c, "read_dev_hash").R0);
    }

    [Fact]
    public void Cpu_and_xsk_maps_redirect_when_the_cpu_or_queue_has_an_entry()
    {
        var c = Load(); // two CPUs
        Assert.Equal(XdpPass, Run(c, "redirect_cpu").R0);
        c.Map("cpus").Update(1u, 192u); // qsize
        Assert.Equal(XdpRedirect, Run(c, "redirect_cpu").R0);
        c.Map("cpus").Update(1u, 0u); // qsize 0 removes it
        Assert.Equal(XdpPass, Run(c, "redirect_cpu").R0);
        Assert.Throws<MapException>(() => c.Map("cpus").Update(1u, 20000u)); // above the kernel's qsize limit

        var xsks = c.Map("xsks");
        xsks.Update(2u, 42u); // a number stands for the AF_XDP socket
        Assert.Equal(XdpPass, Run(c, "redirect_xsk", rxQueue: 1).R0);
        var r = Run(c, "redirect_xsk", rxQueue: 2);
        Assert.Equal(XdpRedirect, r.R0);
        Assert.Equal(2ul, r.Redirect!.Target);
        Assert.False(xsks.TryLookup(2u, out uint _)); // user space cannot read AF_XDP sockets back (EOPNOTSUPP)
    }

    [Fact]
    public void Broadcast_redirects_without_an_entry_and_unknown_flags_abort()
    {
        var c = Load();
        var r = Run(c, "broadcast");
        Assert.Equal(XdpRedirect, r.R0);
        Assert.Equal(3ul << 3, r.Redirect!.Flags);
        Assert.Equal(XdpAborted, Run(c, "bad_flags").R0); // BPF_F_BROADCAST is for device maps only
    }

    [Fact]
    public void Socket_maps_hold_entries_by_index_or_by_key()
    {
        var c = Load();
        var socks = c.Map("socks");
        socks.Update(1u, 1001ul);
        Assert.True(socks.TryLookup(1u, out ulong sock));
        Assert.Equal(1001ul, sock);
        Assert.Throws<MapException>(() => socks.Update(4u, 1ul)); // beyond max_entries
        Assert.False(socks.Delete(2u));                           // empty slot: EINVAL

        var hash = c.Map("sock_hash");
        for (ulong k = 0; k < 4; k++) hash.Update(k * 1000, k);
        Assert.Throws<MapException>(() => hash.Update(9999ul, 1ul)); // full
        Assert.True(hash.Delete(1000ul));
        hash.Update(9999ul, 1ul);
        Assert.Equal([0ul, 2000ul, 3000ul, 9999ul], hash.Keys().Select(k => BitConverter.ToUInt64(k)));
    }
}
