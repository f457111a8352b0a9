using System.Buffers.Binary;
using Bpf.Btf;
using Bpf.Helpers;

namespace Bpf.Runtime;

/// <summary>
/// The kernel functions (kfuncs) the managed runtime implements. A kfunc call (<c>call</c> src = BPF_PSEUDO_KFUNC_CALL,
/// imm = the kernel BTF id of its FUNC, as <see cref="KernelSymbolLinker"/> resolved it) is bound when the program is
/// loaded: the id is named through the kernel BTF the collection resolved against
/// (<see cref="CollectionOptions.KernelSymbols"/>) and the call rewritten into a call of the runtime's internal helper
/// for it (<see cref="BpfHelperIds.InternalKfuncBase"/> + its index here), so a run dispatches it as it does any
/// helper: a dense table, no name looked up, nothing allocated. A kfunc the runtime does not implement is refused at
/// load, named. Which kfuncs exist and their flags are <see cref="KfuncTable"/>'s (the verifier's one table); this
/// class only attaches implementations to its entries.
/// </summary>
internal static class RuntimeKfuncs
{
    private const int EINVAL = 22, ENOENT = 2, EPROTO = 71, EAFNOSUPPORT = 97, ENONET = 64;
    private const byte IpprotoTcp = 6, IpprotoUdp = 17;

    /// <summary>NF_BPF_CT_OPTS_OLD_SZ: struct bpf_ct_opts before the conntrack zone members (Linux 6.11) was 12 bytes,
    /// and a kernel whose struct is larger still takes that size.</summary>
    private const int CtOptsOldSize = 12;

    /// <summary>NF_CT_DEFAULT_ZONE_DIR (NF_CT_ZONE_DIR_ORIG | NF_CT_ZONE_DIR_REPL): what the lookup writes into a zero
    /// opts-&gt;ct_zone_dir.</summary>
    private const byte DefaultZoneDirection = 3;

    private static readonly (KfuncEntry Entry, HelperFunction Function)[] Implemented =
    [
        (Entry("bpf_skb_ct_lookup"), CtLookup),
        (Entry("bpf_xdp_ct_lookup"), CtLookup),
        (Entry("bpf_ct_release"), static (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => 0),
        (Entry("bpf_rcu_read_lock"), static (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => 0),
        (Entry("bpf_rcu_read_unlock"), static (ref HelperContext c, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5) => 0),
    ];

    private static KfuncEntry Entry(string name) =>
        KfuncTable.Find(name) ?? throw new InvalidOperationException($"the runtime implements kfunc {name}, which the kfunc table does not describe");

    /// <summary>The number of kfuncs implemented (internal helper ids InternalKfuncBase .. + Count - 1).</summary>
    public static int Count => Implemented.Length;

    /// <summary>The names of the kfuncs the runtime implements.</summary>
    public static IEnumerable<string> Names => Implemented.Select(k => k.Entry.Name);

    /// <summary>The name of the kfunc of internal helper <paramref name="id"/>, or null.</summary>
    public static string? NameOf(int id)
    {
        var i = id - BpfHelperIds.InternalKfuncBase;
        return (uint)i < (uint)Implemented.Length ? Implemented[i].Entry.Name : null;
    }

    /// <summary>Registers every implemented kfunc as its internal helper.</summary>
    public static void RegisterAll(HelperRegistry registry)
    {
        for (var i = 0; i < Implemented.Length; i++) registry.Register(BpfHelperIds.InternalKfuncBase + i, Implemented[i].Entry.Name, Implemented[i].Function);
    }

    /// <summary>Rewrites every kfunc call of <paramref name="slots"/> into the call of its implementation.</summary>
    /// <exception cref="NotSupportedException">A kfunc the runtime does not implement (named), an id that is not a
    /// FUNC of the kernel BTF, or a conntrack kfunc on a kernel BTF without struct nf_conn / bpf_ct_opts. Without
    /// kernel symbols calls are left as they are (the load then refuses them by id).</exception>
    public static void Bind(string program, Instruction[] slots, KernelSymbols? kernel, ManagedCollection collection)
    {
        if (kernel is null) return;
        for (var i = 0; i < slots.Length; i++)
        {
            var insn = slots[i];
            if (insn.IsWide)
            {
                i++;
                continue;
            }
            if (insn.Opcode != Opcodes.Call || insn.SrcRaw != (byte)CallKind.Kfunc) continue;
            BtfType type;
            try
            {
                type = kernel.Btf.TypeById((uint)insn.Imm);
            }
            catch (BpfObjectException e)
            {
                throw new NotSupportedException($"program '{program}': insn {i} calls kfunc BTF id {insn.Imm}, which is not a type of the kernel BTF: {e.Message}", e);
            }
            if (type is not BtfFunc func)
                throw new NotSupportedException($"program '{program}': insn {i} calls kfunc BTF id {insn.Imm}, which is a {type.Kind} of the kernel BTF, not a FUNC");
            var index = Array.FindIndex(Implemented, k => k.Entry.Name == func.Name);
            if (index < 0)
            {
                throw new NotSupportedException($"program '{program}': insn {i} calls kfunc {func.Name} (BTF id {insn.Imm}), which the managed runtime does not implement " +
                    $"(it implements {string.Join(", ", Names)}): load it with the kernel engine");
            }
            if (func.Name is "bpf_skb_ct_lookup" or "bpf_xdp_ct_lookup") collection.UseConntrackLayout(ConntrackLayout.From(kernel.Btf, program, i, func.Name));
            slots[i] = Instruction.CallHelper(BpfHelperIds.InternalKfuncBase + index);
        }
    }

    // ---- net/netfilter/nf_conntrack_bpf.c ----

    /// <summary>bpf_skb_ct_lookup / bpf_xdp_ct_lookup (ctx, bpf_tuple, tuple__sz, opts, opts__sz): the checks of the
    /// kernel's __bpf_nf_ct_lookup in its order, then a lookup in <see cref="BpfEnvironment.Conntrack"/>. Every failure
    /// returns NULL with opts-&gt;error = -errno; a hit returns the entry's struct nf_conn and sets opts-&gt;dir. The
    /// context (which namespace the kernel looks in) plays no part: the runtime has one table.</summary>
    private static ulong CtLookup(ref HelperContext c, ulong ctx, ulong tuple, ulong tupleSize, ulong opts, ulong optsSize)
    {
        if (c.Host is not RunState s)
        {
            c.Fail("the conntrack kfuncs need a run started by a ManagedCollection");
            return 0;
        }
        var layout = s.Collection.ConntrackLayout;
        if (layout is null)
        {
            c.Fail("the conntrack kfuncs were not bound to a kernel BTF (struct nf_conn)");
            return 0;
        }
        if (opts == 0) return 0; // the kernel has nowhere to put the error (its verifier requires opts)
        var optsLen = (uint)optsSize;
        if (tuple == 0 || !(optsLen == layout.OptsSize || (layout.OptsSize > CtOptsOldSize && optsLen == CtOptsOldSize)))
            return Error(ref c, opts, EINVAL);
        if (!c.TryGetMemory(opts, (int)optsLen, true, out var o)) return 0;
        // The zone members (bytes 10..12 of the larger struct) were reserved bytes of the old one: they must be zero
        // there; the larger struct's own reserved bytes must be zero.
        if (optsLen == CtOptsOldSize ? BinaryPrimitives.ReadUInt16LittleEndian(o[10..]) != 0 : o[13..(int)optsLen].ContainsAnyExcept((byte)0))
            return Error(ref c, opts, EINVAL);
        var protocol = o[8];
        if (protocol is not (IpprotoTcp or IpprotoUdp)) return Error(ref c, opts, EPROTO);
        var netns = BinaryPrimitives.ReadInt32LittleEndian(o);
        if (netns < -1) return Error(ref c, opts, EINVAL);
        var tupleLen = (uint)tupleSize;
        if (tupleLen is not (Conntrack.Ipv4TupleSize or Conntrack.Ipv6TupleSize)) return Error(ref c, opts, EAFNOSUPPORT);
        // get_net_ns_by_id: the runtime's namespace has no peer namespace ids.
        if (netns >= 0) return Error(ref c, opts, ENONET);
        ushort zone = 0;
        if (optsLen != CtOptsOldSize)
        {
            zone = BinaryPrimitives.ReadUInt16LittleEndian(o[10..]);
            if (o[12] == 0) o[12] = DefaultZoneDirection;
        }
        if (!c.TryGetMemory(tuple, (int)tupleLen, false, out var t)) return 0;
        var table = s.Collection.Environment.Conntrack;
        var index = table.Find(t, protocol, zone, out var direction);
        if (index < 0) return Error(ref c, opts, ENOENT);
        o[9] = direction;
        return s.Collection.ConntrackMemory(table, layout) + (ulong)index * (ulong)layout.Stride;
    }

    /// <summary>opts-&gt;error = -errno, NULL. The kernel writes opts-&gt;error even when opts__sz (which its verifier
    /// checked the memory against) is smaller than 8: where that lands in memory the program can write, so does this;
    /// elsewhere (past the program's stack, which the kernel clobbers) the write is dropped, not a fault.</summary>
    private static ulong Error(ref HelperContext c, ulong opts, int errno)
    {
        if (c.TryPokeMemory(opts + 4, 4, out var error)) BinaryPrimitives.WriteInt32LittleEndian(error, -errno);
        return 0;
    }
}

/// <summary>Where the fields of the kernel's <c>struct nf_conn</c> a program reads lie, and the size of its
/// <c>struct bpf_ct_opts</c> (NF_BPF_CT_OPTS_SZ), from the kernel BTF the collection resolved against.</summary>
internal sealed record ConntrackLayout(int OptsSize, int NfConnSize, int StatusOffset, int StatusSize, int MarkOffset, int TimeoutOffset)
{
    /// <summary>The distance between two entries' nf_conn in the runtime's block (8-byte aligned).</summary>
    public int Stride => (NfConnSize + 7) & ~7;

    /// <exception cref="NotSupportedException">The BTF lacks struct nf_conn (with status and timeout) or struct bpf_ct_opts.</exception>
    public static ConntrackLayout From(BtfSpec btf, string program, int insn, string kfunc)
    {
        string where = $"program '{program}': insn {insn} calls kfunc {kfunc}";
        if (btf.FindType("bpf_ct_opts", BtfKind.Struct) is not BtfComposite opts)
            throw new NotSupportedException($"{where}, but the kernel BTF has no struct bpf_ct_opts");
        if (btf.FindType("nf_conn", BtfKind.Struct) is not BtfComposite conn || conn.Size == 0 || conn.Size > 1 << 16)
            throw new NotSupportedException($"{where}, but the kernel BTF has no struct nf_conn of a sensible size");
        if (opts.Size < 12 || opts.Size > 64)
            throw new NotSupportedException($"{where}, but the kernel's struct bpf_ct_opts is {opts.Size} bytes (the runtime knows 12 and 16)");
        BtfMember Field(string name, int size)
        {
            var m = conn.FindMember(name);
            if (m is null || m.BitfieldSize != 0 || m.ByteOffset + (ulong)size > conn.Size)
                throw new NotSupportedException($"{where}, but the kernel's struct nf_conn has no {size}-byte member '{name}'");
            return m;
        }
        ulong statusBytes = 0;
        try
        {
            if (conn.FindMember("status") is { } s) statusBytes = BtfSpec.SizeOf(s.Type);
        }
        catch (BpfObjectException)
        {
            // no size: refused below
        }
        if (statusBytes is not (4 or 8)) throw new NotSupportedException($"{where}, but the kernel's struct nf_conn has no 4- or 8-byte member 'status'");
        var statusSize = (int)statusBytes;
        var status = Field("status", statusSize);
        var timeout = Field("timeout", 4);
        // CONFIG_NF_CONNTRACK_MARK: without it nf_conn has no mark, and ConntrackEntry.Mark is not laid out.
        var mark = conn.FindMember("mark") is null ? -1 : (int)Field("mark", 4).ByteOffset;
        return new ConntrackLayout((int)opts.Size, (int)conn.Size, (int)status.ByteOffset, statusSize, mark, (int)timeout.ByteOffset);
    }

    /// <summary>Writes <paramref name="entry"/>'s fields into its nf_conn (the rest stays zero).</summary>
    public void Fill(Span<byte> conn, ConntrackEntry entry)
    {
        if (StatusSize == 8) BinaryPrimitives.WriteUInt64LittleEndian(conn[StatusOffset..], entry.Status);
        else BinaryPrimitives.WriteUInt32LittleEndian(conn[StatusOffset..], (uint)entry.Status);
        if (MarkOffset >= 0) BinaryPrimitives.WriteUInt32LittleEndian(conn[MarkOffset..], entry.Mark);
        BinaryPrimitives.WriteUInt32LittleEndian(conn[TimeoutOffset..], entry.Timeout);
    }
}
