using System.Buffers.Binary;

namespace Bpf.Runtime;

/// <summary>
/// The input of one program run: what r1 points at. Use <see cref="XdpContext"/>, <see cref="SkBuffContext"/> or
/// <see cref="MemoryContext"/>. After a run the context holds the program's output (the packet as the program
/// left it, the fields it wrote). A context is used by one run at a time.
/// </summary>
public abstract class ProgramContext
{
    private protected ProgramContext()
    {
    }

    /// <summary>The BPF cookie of the attachment this run stands for, what bpf_get_attach_cookie returns (the kernel's
    /// <c>bpf_cookie</c> of a kprobe, uprobe, tracepoint or perf event link); 0 (default) for an attachment without one.</summary>
    public ulong AttachCookie { get; set; }

    /// <summary>The context kind (must match the program's type).</summary>
    public abstract ContextKind Kind { get; }

    /// <summary>The size of the input memory this context needs.</summary>
    internal abstract int InputLength { get; }

    /// <summary>Fills the input memory before a run.</summary>
    internal abstract void Write(Span<byte> input);

    /// <summary>Takes the output from the input memory after a run.</summary>
    internal abstract void Read(ReadOnlySpan<byte> input);

    /// <summary>What programs may address of the input memory: everything for a plain buffer; for a packet context
    /// the UAPI struct (read: the whole context block, so the rewritten pointer loads work; write: the fields the
    /// kernel may let programs write) and the packet [data_meta, data_end) as the pointer slots say now. The
    /// runtime's pointer slots, the headroom and the tailroom are never program-writable.</summary>
    internal virtual InputWindows Windows(ReadOnlySpan<byte> input) => InputWindows.Whole(input.Length);

    private protected static InputWindows PacketWindows(ReadOnlySpan<byte> input, int writableFields) =>
        new(ContextLayout.Size, writableFields, PointerOffset(input, ContextLayout.DataMetaPointer), PointerOffset(input, ContextLayout.DataEndPointer));

    private protected static void SetPointers(Span<byte> input, int data, int dataEnd, int dataMeta, int hardStart)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(input[ContextLayout.DataPointer..], VmLayout.InputBase + (ulong)data);
        BinaryPrimitives.WriteUInt64LittleEndian(input[ContextLayout.DataEndPointer..], VmLayout.InputBase + (ulong)dataEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(input[ContextLayout.DataMetaPointer..], VmLayout.InputBase + (ulong)dataMeta);
        BinaryPrimitives.WriteUInt64LittleEndian(input[ContextLayout.HardStartPointer..], VmLayout.InputBase + (ulong)hardStart);
    }

    /// <summary>Reads a pointer slot back as an offset into the input memory.</summary>
    internal static int PointerOffset(ReadOnlySpan<byte> input, int slot) =>
        (int)(BinaryPrimitives.ReadUInt64LittleEndian(input[slot..]) - VmLayout.InputBase);
}

/// <summary>A plain byte buffer: r1 = its address, r2 = its length (tracepoint records, raw memory).</summary>
public sealed class MemoryContext : ProgramContext
{
    /// <summary>Creates the context over a copy of <paramref name="memory"/>.</summary>
    public MemoryContext(ReadOnlySpan<byte> memory)
    {
        Memory = memory.ToArray();
    }

    /// <summary>The bytes (after a run: as the program left them).</summary>
    public byte[] Memory { get; private set; }

    /// <summary>The most a raw tracepoint's test run takes: MAX_BPF_FUNC_ARGS (12) u64 arguments, as the kernel's
    /// bpf_prog_test_run_raw_tp checks.</summary>
    internal const int MaxRawTracepointArguments = 12 * sizeof(ulong);

    /// <summary>Refuses, as the kernel's test run does (EINVAL), raw tracepoint arguments longer than 12 u64s, naming
    /// the program; both engines call it before a run.</summary>
    internal static void CheckRawTracepointArguments(ReadOnlySpan<byte> arguments, string program)
    {
        if (arguments.Length > MaxRawTracepointArguments)
        {
            throw new ArgumentException($"program '{program}' is a raw tracepoint: its test run takes at most 12 u64 arguments ({MaxRawTracepointArguments} bytes); got {arguments.Length} bytes", nameof(arguments));
        }
    }

    /// <inheritdoc/>
    public override ContextKind Kind => ContextKind.Memory;

    internal override int InputLength => Memory.Length;

    internal override void Write(Span<byte> input) => Memory.CopyTo(input);

    internal override void Read(ReadOnlySpan<byte> input) => Memory = input[..Memory.Length].ToArray();
}

/// <summary>
/// An XDP context (<c>struct xdp_md</c>) over a one-page frame laid out as BPF_PROG_TEST_RUN lays it out:
/// 256 bytes of zeroed headroom, the packet, and the skb_shared_info tailroom that xdp_adjust_tail may not grow into.
/// </summary>
public sealed class XdpContext : ProgramContext
{
    /// <summary>Creates the context for a packet.</summary>
    /// <exception cref="ArgumentException">The packet is larger than one frame allows.</exception>
    public XdpContext(ReadOnlySpan<byte> packet, uint ingressIfindex = 1, uint rxQueueIndex = 0)
    {
        if (packet.Length > ContextLayout.MaxXdpPacket)
        {
            throw new ArgumentException($"an XDP packet is at most {ContextLayout.MaxXdpPacket} bytes (one page minus headroom and tailroom); got {packet.Length}", nameof(packet));
        }
        Packet = packet.ToArray();
        IngressIfindex = ingressIfindex;
        RxQueueIndex = rxQueueIndex;
    }

    /// <summary>The packet from data_meta to data_end (in: the packet; after a run: the output packet, metadata included, as
    /// the test run returns it). A run whose output packet has the input's length writes it into this same array (so
    /// running a context again allocates nothing); copy it first to keep one run's output across the next run.</summary>
    public byte[] Packet { get; private set; }

    /// <summary>After a run: the metadata length (data − data_meta).</summary>
    public int MetadataLength { get; private set; }

    /// <summary>xdp_md.ingress_ifindex (test runs default to 1, the loopback device).</summary>
    public uint IngressIfindex { get; set; }

    /// <summary>xdp_md.rx_queue_index.</summary>
    public uint RxQueueIndex { get; set; }

    /// <summary>xdp_md.egress_ifindex (0: not a devmap program).</summary>
    public uint EgressIfindex { get; set; }

    /// <inheritdoc/>
    public override ContextKind Kind => ContextKind.Xdp;

    internal override int InputLength => ContextLayout.FrameOffset + ContextLayout.FrameSize;

    internal override void Write(Span<byte> input)
    {
        input[..(ContextLayout.FrameOffset + ContextLayout.Headroom)].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(input[12..], IngressIfindex);
        BinaryPrimitives.WriteUInt32LittleEndian(input[16..], RxQueueIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(input[20..], EgressIfindex);
        var data = ContextLayout.FrameOffset + ContextLayout.Headroom;
        Packet.CopyTo(input[data..]);
        SetPointers(input, data, data + Packet.Length, data, ContextLayout.FrameOffset);
    }

    /// <summary>xdp_md is read-only to programs (the kernel's xdp_is_valid_access refuses every write).</summary>
    internal override InputWindows Windows(ReadOnlySpan<byte> input) => PacketWindows(input, writableFields: 0);

    internal override void Read(ReadOnlySpan<byte> input)
    {
        var meta = PointerOffset(input, ContextLayout.DataMetaPointer);
        var data = PointerOffset(input, ContextLayout.DataPointer);
        var end = PointerOffset(input, ContextLayout.DataEndPointer);
        MetadataLength = data - meta;
        var output = input[meta..end];
        if (output.Length == Packet.Length) output.CopyTo(Packet);
        else Packet = output.ToArray();
    }
}
