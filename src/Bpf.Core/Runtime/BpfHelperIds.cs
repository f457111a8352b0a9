using Bpf.Helpers;

namespace Bpf.Runtime;

/// <summary>
/// Named ids of the kernel helpers the managed runtime implements (include/uapi/linux/bpf.h,
/// <c>__BPF_FUNC_MAPPER</c>). The helper table is <see cref="HelperPrototypes"/>: it holds every id here with its
/// name and prototype, and a test checks that each constant's name is the table's name for its id.
/// </summary>
public static class BpfHelperIds
{
#pragma warning disable CS1591 // The names are the kernel's helper names (HelperPrototypes), in PascalCase.
    public const int MapLookupElem = 1, MapUpdateElem = 2, MapDeleteElem = 3, ProbeRead = 4, KtimeGetNs = 5,
        TracePrintk = 6, GetPrandomU32 = 7, GetSmpProcessorId = 8, SkbStoreBytes = 9, L3CsumReplace = 10,
        L4CsumReplace = 11, TailCall = 12, GetCurrentPidTgid = 14, GetCurrentUidGid = 15, GetCurrentComm = 16,
        Redirect = 23, PerfEventOutput = 25, SkbLoadBytes = 26, CsumDiff = 28, GetCurrentTask = 35, SkbPullData = 39,
        XdpAdjustHead = 44, ProbeReadStr = 45, RedirectMap = 51, XdpAdjustMeta = 54, XdpAdjustTail = 65, MapPushElem = 87,
        MapPopElem = 88, MapPeekElem = 89, ProbeReadUser = 112, ProbeReadKernel = 113, ProbeReadUserStr = 114,
        ProbeReadKernelStr = 115, KtimeGetBootNs = 125, RingbufOutput = 130, RingbufReserve = 131,
        RingbufSubmit = 132, RingbufDiscard = 133, RingbufQuery = 134, Loop = 181, SpinLock = 93, SpinUnlock = 94,
        GetStack = 67, GetNsCurrentPidTgid = 120, GetAttachCookie = 174, TraceVprintk = 177, FibLookup = 69,
        ForEachMapElem = 164;
#pragma warning restore CS1591

    /// <summary>The internal helper the legacy ld_abs/ld_ind packet loads are rewritten into (not a kernel id,
    /// so not in the helper table).</summary>
    public const int InternalLoadPacket = 0xFF00;

    /// <summary>The name of <see cref="InternalLoadPacket"/> in the runtime's helper registry.</summary>
    public const string InternalLoadPacketName = "internal_load_packet";

    /// <summary>The internal helper the loop function bpf_for_each_map_elem calls become steps with (map, &amp;cursor,
    /// key buffer) → the next element's value address or 0 (<see cref="Bpf.Runtime.CallbackInliner"/>).</summary>
    internal const int InternalForEachNext = 0xFF01;

    /// <summary>The name of <see cref="InternalForEachNext"/> in the runtime's helper registry.</summary>
    internal const string InternalForEachNextName = "internal_map_for_each_next";

    /// <summary>The first of the internal helpers the kfunc calls the runtime implements are rewritten into when a
    /// program is loaded (<see cref="RuntimeKfuncs"/>: one id per kfunc, named as the kfunc).</summary>
    internal const int InternalKfuncBase = 0xFF10;

    /// <summary>The helper's kernel name (without the <c>bpf_</c> prefix), from <see cref="HelperPrototypes"/>.</summary>
    /// <exception cref="KeyNotFoundException">The id is neither in the helper table nor an internal helper.</exception>
    public static string NameOf(int id) => id switch
    {
        InternalLoadPacket => InternalLoadPacketName,
        InternalForEachNext => InternalForEachNextName,
        _ when RuntimeKfuncs.NameOf(id) is { } kfunc => kfunc,
        _ => HelperPrototypes.Get(id).Name,
    };
}
