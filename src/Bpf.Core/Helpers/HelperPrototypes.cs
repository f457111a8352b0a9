namespace Bpf.Helpers;

/// <summary>What a helper expects in one argument register (the kernel's ARG_* kinds, reduced to those used here).</summary>
public enum HelperArgKind : byte
{
    /// <summary>No argument in this register.</summary>
    None,
    /// <summary>Any initialized value (scalars; pointers only where pointer leaks are allowed).</summary>
    Anything,
    /// <summary>A map pointer loaded with lddw.</summary>
    MapPointer,
    /// <summary>Pointer to a map key: key-size bytes, readable and initialized.</summary>
    MapKey,
    /// <summary>Pointer to a map value: value-size bytes, readable and initialized.</summary>
    MapValue,
    /// <summary>The program context pointer, unmodified.</summary>
    Context,
    /// <summary>Pointer to readable, initialized memory whose size is the next argument.</summary>
    ReadableMemory,
    /// <summary>As <see cref="ReadableMemory"/>, or null when the size is zero.</summary>
    ReadableMemoryOrNull,
    /// <summary>Pointer to writable memory (may be uninitialized) whose size is the next argument.</summary>
    WritableMemory,
    /// <summary>The size of the preceding memory argument: bounded and non-zero.</summary>
    Size,
    /// <summary>The size of the preceding memory argument: bounded, may be zero.</summary>
    SizeOrZero,
    /// <summary>A constant allocation size (ringbuf reserve).</summary>
    AllocSize,
    /// <summary>A pointer previously returned by ringbuf reserve, not null, unmodified; the call releases it.</summary>
    RingbufMemory,
    /// <summary>Pointer to value-size bytes the helper writes (may be uninitialized): the kernel's
    /// <c>ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE</c> (map_pop_elem, map_peek_elem).</summary>
    UninitMapValue,
    /// <summary>A pointer to a BPF function of the same program, loaded with <c>ld_imm64</c> (the kernel's
    /// <c>ARG_PTR_TO_FUNC</c>, a callback). Bpf.Verifier explores the callbacks of bpf_loop and
    /// bpf_for_each_map_elem and reports other helpers taking one as not supported.</summary>
    Function,
    /// <summary>A stack pointer or null (the kernel's <c>ARG_PTR_TO_STACK_OR_NULL</c>, a callback's context).
    /// Bpf.Verifier does not model it: it reports helpers taking one as not supported.</summary>
    StackOrNull,
    /// <summary>A pointer to the <c>struct bpf_spin_lock</c> of a map value (the kernel's <c>ARG_PTR_TO_SPIN_LOCK</c>):
    /// the map's BTF must place the lock at the pointer's constant offset (<see cref="MapDefinition.SpinLockOffset"/>).</summary>
    SpinLock,
    /// <summary>A pointer to a kernel object typed by the kernel's BTF (the kernel's <c>ARG_PTR_TO_BTF_ID</c>): not
    /// null, unmodified, pointing to the struct <see cref="HelperPrototype.KernelStruct"/> names (or to a struct whose
    /// first member is one). Bpf.Verifier takes such pointers from BTF-typed contexts (tracing, LSM, iterators).</summary>
    KernelStruct,
    /// <summary>A per-CPU kernel variable loaded by a BTF-id <c>ld_imm64</c> (the kernel's
    /// <c>ARG_PTR_TO_PERCPU_BTF_ID</c>: PTR_TO_BTF_ID | MEM_PERCPU at offset 0).</summary>
    PercpuKernelObject,
    /// <summary>Pointer to initialized memory the helper reads and writes, whose size is the next argument (the
    /// kernel's <c>ARG_PTR_TO_MEM | MEM_WRITE</c>, fib_lookup's parameters): checked as a write (bounds, read-only
    /// memory refused) and as initialized.</summary>
    ReadWriteMemory,
}

/// <summary>What a helper returns in R0.</summary>
public enum HelperReturnKind : byte
{
    /// <summary>An integer (unknown scalar).</summary>
    Integer,
    /// <summary>Nothing: R0 is left uninitialized.</summary>
    Void,
    /// <summary>A pointer to the map's value, or null.</summary>
    MapValueOrNull,
    /// <summary>A pointer to ringbuf memory of the reserved size, or null; must be submitted or discarded.</summary>
    RingbufMemoryOrNull,
    /// <summary>One CPU's copy of the per-CPU variable passed in R1 (the kernel's RET_PTR_TO_MEM_OR_BTF_ID |
    /// MEM_RDONLY): a kernel object pointer for a struct, read-only memory of the type's size otherwise.</summary>
    PercpuObject,
    /// <summary>As <see cref="PercpuObject"/>, or null (an out-of-range CPU).</summary>
    PercpuObjectOrNull,
}

/// <summary>Which program types offer a helper (the kernel's per-type func_proto tables, simplified to groups).</summary>
[Flags]
public enum HelperAvailability
{
    /// <summary>Offered to every program type (bpf_base_func_proto without capability requirements).</summary>
    Base = 1,
    /// <summary>Base helpers that need CAP_BPF.</summary>
    BaseCapBpf = 2,
    /// <summary>Base helpers that need CAP_PERFMON (trace_printk, probe reads), and always offered to tracing types.</summary>
    BasePerfmon = 4,
    /// <summary>Socket filters.</summary>
    SocketFilter = 8,
    /// <summary>tc classifiers and actions.</summary>
    Tc = 16,
    /// <summary>XDP.</summary>
    Xdp = 32,
    /// <summary>Tracing types (kprobe, tracepoint).</summary>
    Tracing = 64,
    /// <summary>cgroup skb.</summary>
    CgroupSkb = 128,
    /// <summary>With <see cref="Tracing"/>: only iterator programs (<c>SEC("iter/...")</c>) may call it (seq_file output).</summary>
    IteratorOnly = 256,
    /// <summary>With <see cref="Tracing"/>: only kprobe, tracepoint and perf event programs (for the other tracing types
    /// the kernel's tables differ by attach type; this table does not follow them there).</summary>
    ProbesOnly = 512,
}

/// <summary>One helper function: id, name, argument kinds and return kind.</summary>
/// <param name="Id">The helper id (the call instruction's immediate).</param>
/// <param name="Name">The kernel's name without the <c>bpf_</c> prefix.</param>
/// <param name="Return">What R0 holds after the call.</param>
/// <param name="Args">Kinds of R1..R5 (trailing <see cref="HelperArgKind.None"/> omitted).</param>
/// <param name="Availability">Which program types offer it.</param>
/// <param name="GplOnly">Only GPL-compatible programs may call it.</param>
/// <param name="ChangesPacketData">The call may move packet data: every packet pointer is invalidated.</param>
public sealed record HelperPrototype(int Id, string Name, HelperReturnKind Return, HelperArgKind[] Args,
    HelperAvailability Availability, bool GplOnly = false, bool ChangesPacketData = false)
{
    /// <summary>For a <see cref="HelperArgKind.KernelStruct"/> argument: the name of the kernel struct it points to.</summary>
    public string? KernelStruct { get; init; }

    /// <summary>Program types that offer it beyond those <see cref="Availability"/> names (the kernel's per-type
    /// tables for lightweight tunnels, sk_skb, sk_msg, sock_ops, the cgroup hooks and others, which have no flag).</summary>
    public IReadOnlyList<ProgramType> AlsoOfferedTo { get; init; } = [];

    /// <summary>The helper may be handed packet pointers (the kernel's <c>pkt_access</c>): for every other helper, a
    /// packet pointer in any argument but an <see cref="HelperArgKind.Anything"/> one is refused ("helper access to
    /// the packet is not allowed").</summary>
    public bool PacketAccess { get; init; }

    /// <summary>The kind of argument register R(<paramref name="index"/>+1).</summary>
    public HelperArgKind Arg(int index) => index < Args.Length ? Args[index] : HelperArgKind.None;
}

/// <summary>
/// The one table of helpers: every helper the managed runtime implements, with the kernel's id, name, argument
/// and return kinds. The verifier checks calls against it (reporting helpers whose argument kinds it does not
/// model as not supported) and the runtime takes its helper ids and names from it. Ids and signatures follow
/// include/uapi/linux/bpf.h and the kernel's <c>bpf_func_proto</c> definitions.
/// </summary>
public static class HelperPrototypes
{
    private const HelperAvailability Net = HelperAvailability.Tc | HelperAvailability.Xdp;
    private const HelperAvailability Skb = HelperAvailability.SocketFilter | HelperAvailability.Tc | HelperAvailability.CgroupSkb;

    private static readonly HelperPrototype[] All =
    [
        new(1, "map_lookup_elem", HelperReturnKind.MapValueOrNull, [HelperArgKind.MapPointer, HelperArgKind.MapKey], HelperAvailability.Base)
            { PacketAccess = true },
        new(2, "map_update_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.MapKey, HelperArgKind.MapValue, HelperArgKind.Anything], HelperAvailability.Base)
            { PacketAccess = true },
        new(3, "map_delete_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.MapKey], HelperAvailability.Base)
            { PacketAccess = true },
        new(4, "probe_read", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.Tracing, GplOnly: true),
        new(5, "ktime_get_ns", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(6, "trace_printk", HelperReturnKind.Integer, [HelperArgKind.ReadableMemory, HelperArgKind.Size], HelperAvailability.BasePerfmon, GplOnly: true),
        new(7, "get_prandom_u32", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(93, "spin_lock", HelperReturnKind.Void, [HelperArgKind.SpinLock], HelperAvailability.BaseCapBpf),
        new(94, "spin_unlock", HelperReturnKind.Void, [HelperArgKind.SpinLock], HelperAvailability.BaseCapBpf),
        new(8, "get_smp_processor_id", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(9, "skb_store_bytes", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything, HelperArgKind.ReadableMemory, HelperArgKind.Size, HelperArgKind.Anything], HelperAvailability.Tc, ChangesPacketData: true)
            { AlsoOfferedTo = [ProgramType.LwtXmit, ProgramType.SkSkb] },
        new(10, "l3_csum_replace", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything, HelperArgKind.Anything, HelperArgKind.Anything, HelperArgKind.Anything], HelperAvailability.Tc, ChangesPacketData: true)
            { AlsoOfferedTo = [ProgramType.LwtXmit] },
        new(11, "l4_csum_replace", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything, HelperArgKind.Anything, HelperArgKind.Anything, HelperArgKind.Anything], HelperAvailability.Tc, ChangesPacketData: true)
            { AlsoOfferedTo = [ProgramType.LwtXmit] },
        new(12, "tail_call", HelperReturnKind.Void, [HelperArgKind.Context, HelperArgKind.MapPointer, HelperArgKind.Anything], HelperAvailability.Base),
        new(14, "get_current_pid_tgid", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(15, "get_current_uid_gid", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(16, "get_current_comm", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.Size], HelperAvailability.Tracing | HelperAvailability.BasePerfmon),
        new(23, "redirect", HelperReturnKind.Integer, [HelperArgKind.Anything, HelperArgKind.Anything], Net)
            { AlsoOfferedTo = [ProgramType.LwtXmit] },
        new(25, "perf_event_output", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.MapPointer, HelperArgKind.Anything, HelperArgKind.ReadableMemory, HelperArgKind.SizeOrZero], Skb | Net | HelperAvailability.Tracing, GplOnly: true)
            { AlsoOfferedTo = [ProgramType.CgroupDevice, ProgramType.CgroupSock, ProgramType.CgroupSockAddr, ProgramType.CgroupSockopt, ProgramType.CgroupSysctl, ProgramType.SkLookup, ProgramType.SockOps, ProgramType.SkMsg, ProgramType.SkSkb, ProgramType.LwtIn, ProgramType.LwtOut, ProgramType.LwtXmit, ProgramType.LwtSeg6Local] },
        new(26, "skb_load_bytes", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything, HelperArgKind.WritableMemory, HelperArgKind.Size], Skb)
            { AlsoOfferedTo = [ProgramType.FlowDissector, ProgramType.SkReuseport, ProgramType.SkSkb, ProgramType.LwtIn, ProgramType.LwtOut, ProgramType.LwtXmit, ProgramType.LwtSeg6Local] },
        new(28, "csum_diff", HelperReturnKind.Integer, [HelperArgKind.ReadableMemoryOrNull, HelperArgKind.SizeOrZero, HelperArgKind.ReadableMemoryOrNull, HelperArgKind.SizeOrZero, HelperArgKind.Anything], Net)
            { PacketAccess = true, AlsoOfferedTo = [ProgramType.LwtIn, ProgramType.LwtOut, ProgramType.LwtXmit, ProgramType.LwtSeg6Local] },
        new(35, "get_current_task", HelperReturnKind.Integer, [], HelperAvailability.BasePerfmon, GplOnly: true),
        new(39, "skb_pull_data", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything], HelperAvailability.Tc, ChangesPacketData: true)
            { AlsoOfferedTo = [ProgramType.SkSkb, ProgramType.LwtIn, ProgramType.LwtOut, ProgramType.LwtXmit, ProgramType.LwtSeg6Local] },
        new(45, "probe_read_str", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.Tracing, GplOnly: true),
        new(44, "xdp_adjust_head", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything], HelperAvailability.Xdp, ChangesPacketData: true),
        new(51, "redirect_map", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.Anything, HelperArgKind.Anything], HelperAvailability.Xdp),
        new(54, "xdp_adjust_meta", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything], HelperAvailability.Xdp, ChangesPacketData: true),
        new(65, "xdp_adjust_tail", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.Anything], HelperAvailability.Xdp, ChangesPacketData: true),
        new(87, "map_push_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.MapValue, HelperArgKind.Anything], HelperAvailability.Base)
            { PacketAccess = true },
        new(88, "map_pop_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.UninitMapValue], HelperAvailability.Base),
        new(89, "map_peek_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.UninitMapValue], HelperAvailability.Base),
        new(112, "probe_read_user", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.BasePerfmon, GplOnly: true),
        new(113, "probe_read_kernel", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.BasePerfmon, GplOnly: true),
        new(114, "probe_read_user_str", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.BasePerfmon, GplOnly: true),
        new(115, "probe_read_kernel_str", HelperReturnKind.Integer, [HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.BasePerfmon, GplOnly: true),
        new(125, "ktime_get_boot_ns", HelperReturnKind.Integer, [], HelperAvailability.Base),
        new(130, "ringbuf_output", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.ReadableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.Base),
        new(131, "ringbuf_reserve", HelperReturnKind.RingbufMemoryOrNull, [HelperArgKind.MapPointer, HelperArgKind.AllocSize, HelperArgKind.Anything], HelperAvailability.Base),
        new(132, "ringbuf_submit", HelperReturnKind.Void, [HelperArgKind.RingbufMemory, HelperArgKind.Anything], HelperAvailability.Base),
        new(133, "ringbuf_discard", HelperReturnKind.Void, [HelperArgKind.RingbufMemory, HelperArgKind.Anything], HelperAvailability.Base),
        new(134, "ringbuf_query", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.Anything], HelperAvailability.Base),
        new(164, "for_each_map_elem", HelperReturnKind.Integer, [HelperArgKind.MapPointer, HelperArgKind.Function, HelperArgKind.StackOrNull, HelperArgKind.Anything], HelperAvailability.BaseCapBpf),
        new(69, "fib_lookup", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.ReadWriteMemory, HelperArgKind.Size, HelperArgKind.Anything], Net, GplOnly: true),
        new(181, "loop", HelperReturnKind.Integer, [HelperArgKind.Anything, HelperArgKind.Function, HelperArgKind.StackOrNull, HelperArgKind.Anything], HelperAvailability.Base),
        new(67, "get_stack", HelperReturnKind.Integer, [HelperArgKind.Context, HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything], HelperAvailability.Tracing, GplOnly: true),
        new(120, "get_ns_current_pid_tgid", HelperReturnKind.Integer, [HelperArgKind.Anything, HelperArgKind.Anything, HelperArgKind.WritableMemory, HelperArgKind.Size], HelperAvailability.Base),
        new(174, "get_attach_cookie", HelperReturnKind.Integer, [HelperArgKind.Context], HelperAvailability.Tracing | HelperAvailability.ProbesOnly)
            { AlsoOfferedTo = [ProgramType.RawTracepoint, ProgramType.RawTracepointWritable] },
        new(177, "trace_vprintk", HelperReturnKind.Integer, [HelperArgKind.ReadableMemory, HelperArgKind.Size, HelperArgKind.ReadableMemoryOrNull, HelperArgKind.SizeOrZero],
            HelperAvailability.BasePerfmon, GplOnly: true),
    ];

    /// <summary>Helpers the verifier checks but the managed runtime does not implement (a program calling one is refused
    /// when it loads): bpf_seq_printf, bpf_seq_write and bpf_get_task_stack, which take kernel objects (a seq_file, a
    /// task).</summary>
    private static readonly HelperPrototype[] NotInRuntime =
    [
        new(126, "seq_printf", HelperReturnKind.Integer, [HelperArgKind.KernelStruct, HelperArgKind.ReadableMemory, HelperArgKind.Size, HelperArgKind.ReadableMemoryOrNull, HelperArgKind.SizeOrZero],
            HelperAvailability.Tracing | HelperAvailability.IteratorOnly, GplOnly: true) { KernelStruct = "seq_file" },
        new(127, "seq_write", HelperReturnKind.Integer, [HelperArgKind.KernelStruct, HelperArgKind.ReadableMemory, HelperArgKind.SizeOrZero],
            HelperAvailability.Tracing | HelperAvailability.IteratorOnly, GplOnly: true) { KernelStruct = "seq_file" },
        new(141, "get_task_stack", HelperReturnKind.Integer, [HelperArgKind.KernelStruct, HelperArgKind.WritableMemory, HelperArgKind.SizeOrZero, HelperArgKind.Anything],
            HelperAvailability.Tracing | HelperAvailability.BasePerfmon) { KernelStruct = "task_struct" },
        new(153, "per_cpu_ptr", HelperReturnKind.PercpuObjectOrNull, [HelperArgKind.PercpuKernelObject, HelperArgKind.Anything], HelperAvailability.BasePerfmon),
        new(154, "this_cpu_ptr", HelperReturnKind.PercpuObject, [HelperArgKind.PercpuKernelObject], HelperAvailability.BasePerfmon),
    ];

    private static readonly HelperPrototype?[] ById = BuildIndex();

    /// <summary>Every prototype the managed runtime implements, by id.</summary>
    public static IReadOnlyList<HelperPrototype> Prototypes => All;

    /// <summary>Prototypes known to the verifier only (see <see cref="Find"/>, which finds both kinds).</summary>
    public static IReadOnlyList<HelperPrototype> VerifierOnly => NotInRuntime;

    /// <summary>The highest helper id the kernel (6.18) defines; ids above it are unknown to the kernel.</summary>
    public const int MaxKernelHelperId = 211;

    /// <summary>Looks a helper up by id; null when this table does not describe it.</summary>
    public static HelperPrototype? Find(int id) => (uint)id < (uint)ById.Length ? ById[id] : null;

    /// <summary>The prototype of helper <paramref name="id"/>.</summary>
    /// <exception cref="KeyNotFoundException">The table does not describe the id.</exception>
    public static HelperPrototype Get(int id) =>
        Find(id) ?? throw new KeyNotFoundException($"helper #{id} is not in the helper prototype table");

    private static HelperPrototype?[] BuildIndex()
    {
        var table = new HelperPrototype?[All.Concat(NotInRuntime).Max(p => p.Id) + 1];
        foreach (var p in All.Concat(NotInRuntime))
        {
            if (table[p.Id] is not null) throw new InvalidOperationException($"helper #{p.Id} is in the prototype table twice");
            table[p.Id] = p;
        }
        return table;
    }
}
