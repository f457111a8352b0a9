namespace Bpf.Runtime;

/// <summary>
/// The kernel helper ids (include/uapi/linux/bpf.h, <c>__BPF_FUNC_MAPPER</c>) the managed runtime implements.
/// Names are the kernel's without the <c>bpf_</c> prefix.
/// </summary>
public static class BpfHelperIds
{
#pragma warning disable CS1591 // The names are the kernel's helper names.
    public const int MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, ProbeRead = 4, KtimeGetNs = 5,
        TracePrintk = 6, GetPrandomU32 = 7, GetSmpProcessorId = 8, SkbStoreBytes = 9, L3CsumReplace = 10,
        L4CsumReplace = 11, TailCall = 12, GetCurrentPidTgid = 14, GetCurrentUidGid = 15, GetCurrentComm = 16,
        Redirect = 23, PerfEventOutput = 25, SkbLoadBytes = 26, SkbPullData = 39, CsumDiff = 28, XdpAdjustHead = 44, RedirectMap = 51, XdpAdjustMeta = 54,
        XdpAdjustTail = 65, MapPushElem = 87, MapPopElem = 88, MapPeekElem = 89, ProbeReadUser = 112,
        ProbeReadKernel = 113, ProbeReadUserStr = 114, ProbeReadKernelStr = 115, KtimeGetBootNs = 125,
        RingbufOutput = 130, RingbufReserve = 131, RingbufSubmit = 132, RingbufDiscard = 133, RingbufQuery = 134;
#pragma warning restore CS1591

    /// <summary>The internal helper the legacy ld_abs/ld_ind packet loads are rewritten into (not a kernel id).</summary>
    public const int InternalLoadPacket = 0xFF00;

    /// <summary>The helper's kernel name: from the shared prototype table (<see cref="Bpf.Helpers.HelperPrototypes"/>,
    /// also used by the verifier) when it describes the id, otherwise from <see cref="Names"/>.</summary>
    public static string NameOf(int id) =>
        Bpf.Helpers.HelperPrototypes.Find(id)?.Name ?? (Names.TryGetValue(id, out var name) ? name : $"helper_{id}");

    /// <summary>Kernel names by id, for every helper above (the prototype table has the ones it describes too).</summary>
    public static IReadOnlyDictionary<int, string> Names { get; } = new Dictionary<int, string>
    {
        [MapLookupElem] = "map_lookup_elem", [MapUpdateElem] = "map_update_elem", [MapDeleteElem] = "map_delete_elem",
        [ProbeRead] = "probe_read", [KtimeGetNs] = "ktime_get_ns", [TracePrintk] = "trace_printk",
        [GetPrandomU32] = "get_prandom_u32", [GetSmpProcessorId] = "get_smp_processor_id",
        [SkbStoreBytes] = "skb_store_bytes", [L3CsumReplace] = "l3_csum_replace", [L4CsumReplace] = "l4_csum_replace",
        [TailCall] = "tail_call", [GetCurrentPidTgid] = "get_current_pid_tgid", [GetCurrentUidGid] = "get_current_uid_gid",
        [GetCurrentComm] = "get_current_comm", [Redirect] = "redirect", [PerfEventOutput] = "perf_event_output",
        [SkbLoadBytes] = "skb_load_bytes", [SkbPullData] = "skb_pull_data",
        [CsumDiff] = "csum_diff", [XdpAdjustHead] = "xdp_adjust_head", [RedirectMap] = "redirect_map",
        [XdpAdjustMeta] = "xdp_adjust_meta", [XdpAdjustTail] = "xdp_adjust_tail", [MapPushElem] = "map_push_elem",
        [MapPopElem] = "map_pop_elem", [MapPeekElem] = "map_peek_elem", [ProbeReadUser] = "probe_read_user",
        [ProbeReadKernel] = "probe_read_kernel", [ProbeReadUserStr] = "probe_read_user_str",
        [ProbeReadKernelStr] = "probe_read_kernel_str", [KtimeGetBootNs] = "ktime_get_boot_ns",
        [RingbufOutput] = "ringbuf_output", [RingbufReserve] = "ringbuf_reserve", [RingbufSubmit] = "ringbuf_submit",
        [RingbufDiscard] = "ringbuf_discard", [RingbufQuery] = "ringbuf_query",
    };
}
