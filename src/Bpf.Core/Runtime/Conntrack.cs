using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Bpf.Runtime;

/// <summary>A connection tracking entry (<c>conntrack -L</c>): the original direction's tuple and the fields of the
/// kernel's <c>struct nf_conn</c> a program reads. Its reply direction is the tuple reversed (no NAT is modelled).</summary>
/// <param name="Protocol">The layer 4 protocol: <see cref="ProtocolType.Tcp"/> or <see cref="ProtocolType.Udp"/>.</param>
/// <param name="Source">The original direction's source address and port.</param>
/// <param name="Destination">The original direction's destination address and port (the family of the entry).</param>
public sealed record ConntrackEntry(ProtocolType Protocol, IPEndPoint Source, IPEndPoint Destination)
{
    /// <summary><c>nf_conn.status</c>: the IPS_* bits (enum ip_conntrack_status), as the kernel stores them.</summary>
    public ulong Status { get; init; }

    /// <summary><c>nf_conn.mark</c> (<c>conntrack -m</c>, CONFIG_NF_CONNTRACK_MARK).</summary>
    public uint Mark { get; init; }

    /// <summary><c>nf_conn.timeout</c> as the kernel stores it: the jiffies at which the entry expires.</summary>
    public uint Timeout { get; init; }

    /// <summary>The conntrack zone id (<c>nf_conn.zone.id</c>); 0, the default zone, unless set.</summary>
    public ushort Zone { get; init; }
}

/// <summary>
/// The connection tracking table the conntrack kfuncs (bpf_skb_ct_lookup, bpf_xdp_ct_lookup) look up in a managed
/// run (<see cref="BpfEnvironment.Conntrack"/>). Immutable once built; replace <see cref="BpfEnvironment.Conntrack"/>
/// to change it. The default, <see cref="Empty"/>, is what a new network namespace has: no entry, so every lookup
/// with valid arguments fails with -ENOENT.
/// </summary>
/// <remarks>A lookup matches an entry of the same family, protocol and zone whose original tuple equals the given one
/// (opts-&gt;dir = IP_CT_DIR_ORIGINAL) or whose reply tuple, the original reversed, does (IP_CT_DIR_REPLY). Lookups
/// allocate nothing. Not modelled: NAT (a reply tuple differing from the reversed original), zone directions, entries
/// expiring, creating entries (bpf_*_ct_alloc, bpf_ct_insert_entry) and changing them (bpf_ct_set_*, bpf_ct_change_*).</remarks>
public sealed class Conntrack
{
    private readonly Dictionary<Key, (int Index, byte Direction)> _byTuple = [];

    /// <summary>Builds the table.</summary>
    /// <exception cref="ArgumentException">An entry's protocol is neither TCP nor UDP, its endpoints are of different
    /// families or neither IPv4 nor IPv6, or two entries share a tuple in one zone.</exception>
    public Conntrack(IEnumerable<ConntrackEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = [.. entries];
        for (var i = 0; i < Entries.Count; i++)
        {
            var e = Entries[i] ?? throw new ArgumentException($"entry {i} is null");
            ArgumentNullException.ThrowIfNull(e.Source, $"entry {i}: Source");
            ArgumentNullException.ThrowIfNull(e.Destination, $"entry {i}: Destination");
            if (e.Protocol is not (ProtocolType.Tcp or ProtocolType.Udp))
                throw new ArgumentException($"entry {i}: protocol {e.Protocol} is neither TCP nor UDP (the conntrack kfuncs look up only these)");
            var v6 = IsV6(e.Destination.Address, i);
            if (IsV6(e.Source.Address, i) != v6) throw new ArgumentException($"entry {i}: {e.Source} and {e.Destination} are of different families");
            var original = new Key(v6, (byte)e.Protocol, e.Zone, Bits(e.Source.Address), Bits(e.Destination.Address), (ushort)e.Source.Port, (ushort)e.Destination.Port);
            var reply = original with { Source = original.Destination, Destination = original.Source, SourcePort = original.DestinationPort, DestinationPort = original.SourcePort };
            if (!_byTuple.TryAdd(original, (i, 0)) || (reply != original && !_byTuple.TryAdd(reply, (i, 1))))
                throw new ArgumentException($"entry {i}: {e.Protocol} {e.Source} -> {e.Destination} (zone {e.Zone}) clashes with another entry's tuple");
        }
    }

    /// <summary>A new network namespace's table: no entry.</summary>
    public static Conntrack Empty { get; } = new([]);

    /// <summary>The entries.</summary>
    public IReadOnlyList<ConntrackEntry> Entries { get; }

    private static bool IsV6(IPAddress a, int entry) => a.AddressFamily switch
    {
        AddressFamily.InterNetwork => false,
        AddressFamily.InterNetworkV6 => true,
        _ => throw new ArgumentException($"entry {entry}: {a} is neither IPv4 nor IPv6"),
    };

    private static UInt128 Bits(IPAddress a)
    {
        Span<byte> b = stackalloc byte[16];
        a.TryWriteBytes(b, out var n);
        return n == 4 ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt128BigEndian(b);
    }

    /// <summary>struct bpf_sock_tuple's ipv4 member: saddr, daddr, sport, dport (12 bytes, network order).</summary>
    internal const int Ipv4TupleSize = 12;

    /// <summary>struct bpf_sock_tuple's ipv6 member: saddr[4], daddr[4], sport, dport (36 bytes, network order).</summary>
    internal const int Ipv6TupleSize = 36;

    /// <summary>The entry a tuple (<see cref="Ipv4TupleSize"/> or <see cref="Ipv6TupleSize"/> bytes, as a program
    /// passes it) names, and the direction it matched; -1 when none.</summary>
    internal int Find(ReadOnlySpan<byte> tuple, byte protocol, ushort zone, out byte direction)
    {
        Key key;
        if (tuple.Length == Ipv4TupleSize)
        {
            key = new Key(false, protocol, zone, BinaryPrimitives.ReadUInt32BigEndian(tuple), BinaryPrimitives.ReadUInt32BigEndian(tuple[4..]),
                BinaryPrimitives.ReadUInt16BigEndian(tuple[8..]), BinaryPrimitives.ReadUInt16BigEndian(tuple[10..]));
        }
        else
        {
            key = new Key(true, protocol, zone, BinaryPrimitives.ReadUInt128BigEndian(tuple), BinaryPrimitives.ReadUInt128BigEndian(tuple[16..]),
                BinaryPrimitives.ReadUInt16BigEndian(tuple[32..]), BinaryPrimitives.ReadUInt16BigEndian(tuple[34..]));
        }
        if (_byTuple.TryGetValue(key, out var hit))
        {
            direction = hit.Direction;
            return hit.Index;
        }
        direction = 0;
        return -1;
    }

    private readonly record struct Key(bool V6, byte Protocol, ushort Zone, UInt128 Source, UInt128 Destination, ushort SourcePort, ushort DestinationPort);
}
