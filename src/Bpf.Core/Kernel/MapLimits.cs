using System.Numerics;
using Bpf.Runtime;

namespace Bpf;

/// <summary>
/// The kernel's BPF_MAP_CREATE size limits (x86-64, Linux 6.x), checked before anything is allocated: the same
/// errno the kernel returns for a key size, value size or max_entries it refuses. Each check was confirmed against
/// Linux 6.18 with BPF_MAP_CREATE (see <c>tests/Bpf.Core.Tests/Runtime/HostileInputTests.cs</c> for the values).
/// </summary>
internal static class MapLimits
{
    /// <summary>KMALLOC_MAX_SIZE: 1 &lt;&lt; (MAX_PAGE_ORDER 10 + PAGE_SHIFT 12).</summary>
    public const ulong KmallocMaxSize = 1UL << 22;

    /// <summary>sizeof(struct htab_elem) on x86-64.</summary>
    public const ulong HashElementHeader = 48;

    /// <summary>PCPU_MIN_UNIT_SIZE: the largest per-CPU value (rounded up to 8).</summary>
    public const ulong PerCpuMaxValue = 32 * 1024;

    /// <summary>Hash maps: n_buckets = roundup_pow_of_two(max_entries) must not exceed U32_MAX / sizeof(struct bucket) (16).</summary>
    public const ulong HashMaxEntries = 1UL << 28;

    /// <summary>LPM tries: LPM_DATA_SIZE_MAX.</summary>
    public const ulong LpmMaxData = 256;

    /// <summary>LPM tries: LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE − LPM_DATA_SIZE_MAX − sizeof(struct lpm_trie_node) (24).</summary>
    public const ulong LpmMaxValue = KmallocMaxSize - LpmMaxData - 24;

    /// <summary>The kernel's verdict on a map's sizes: <see cref="MapError.None"/>, or the errno with a reason.</summary>
    public static MapError Check(MapType type, ulong keySize, ulong valueSize, ulong maxEntries, MapFlags flags, out string reason)
    {
        reason = "";
        var percpu = type is MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash;
        switch (type)
        {
            case MapType.Array or MapType.PerCpuArray:
                if (maxEntries == 0 || keySize != 4 || valueSize == 0) return Fail(out reason, MapError.Invalid, "an array needs key size 4, a value size and max_entries");
                if (valueSize > int.MaxValue) return Fail(out reason, MapError.TooBig, $"value size {valueSize} is above INT_MAX");
                break;
            case MapType.Hash or MapType.PerCpuHash or MapType.LruHash or MapType.LruPerCpuHash:
                if (maxEntries == 0 || keySize == 0 || valueSize == 0) return Fail(out reason, MapError.Invalid, "a hash map needs a key size, a value size and max_entries");
                if (keySize + valueSize >= KmallocMaxSize - HashElementHeader) return Fail(out reason, MapError.TooBig, $"key size + value size {keySize + valueSize} is not below KMALLOC_MAX_SIZE − sizeof(htab_elem) = {KmallocMaxSize - HashElementHeader}");
                if (maxEntries > HashMaxEntries) return Fail(out reason, MapError.TooBig, $"max_entries {maxEntries} is above {HashMaxEntries} (the bucket array would overflow u32)");
                break;
            case MapType.LpmTrie:
                if (maxEntries == 0 || keySize < 5 || keySize > 4 + LpmMaxData || valueSize == 0 || valueSize > LpmMaxValue)
                {
                    return Fail(out reason, MapError.Invalid, $"an LPM trie needs key size 5..{4 + LpmMaxData}, value size 1..{LpmMaxValue} and max_entries");
                }
                break;
            case MapType.Queue or MapType.Stack:
                if (maxEntries == 0 || keySize != 0 || valueSize == 0) return Fail(out reason, MapError.Invalid, "a queue or stack needs key size 0, a value size and max_entries");
                if (valueSize > KmallocMaxSize) return Fail(out reason, MapError.TooBig, $"value size {valueSize} is above KMALLOC_MAX_SIZE {KmallocMaxSize}");
                break;
            case MapType.RingBuf:
                if (keySize != 0 || valueSize != 0 || maxEntries < 4096 || !BitOperations.IsPow2(maxEntries))
                {
                    return Fail(out reason, MapError.Invalid, $"a ring buffer needs key and value size 0 and max_entries a power of 2 and a multiple of the page size, not {maxEntries}");
                }
                break;
            case MapType.ProgArray or MapType.PerfEventArray or MapType.ArrayOfMaps:
                if (maxEntries == 0 || keySize != 4 || valueSize != 4) return Fail(out reason, MapError.Invalid, "needs key and value size 4 and max_entries");
                break;
            case MapType.HashOfMaps:
                if (maxEntries == 0 || keySize == 0 || valueSize != 4) return Fail(out reason, MapError.Invalid, "needs a key size, value size 4 and max_entries");
                if (keySize + valueSize >= KmallocMaxSize - HashElementHeader) return Fail(out reason, MapError.TooBig, $"key size {keySize} is too big for a hash element");
                if (maxEntries > HashMaxEntries) return Fail(out reason, MapError.TooBig, $"max_entries {maxEntries} is above {HashMaxEntries}");
                break;
            case MapType.DevMap or MapType.DevMapHash or MapType.CpuMap or MapType.XskMap or MapType.SockMap or MapType.SockHash:
                if (Bpf.Runtime.RedirectTargetMap.CheckSizes(type, keySize, valueSize, maxEntries) is { } why) return Fail(out reason, MapError.Invalid, why);
                if (keySize > KmallocMaxSize) return Fail(out reason, MapError.TooBig, "key size above KMALLOC_MAX_SIZE");
                break;
            default:
                // Types the managed runtime does not implement: every kernel map type bounds its key and value by
                // what kmalloc can hold; the rest is the type's own business (creation reports it unsupported).
                if (keySize > KmallocMaxSize || valueSize > KmallocMaxSize) return Fail(out reason, MapError.TooBig, "key or value size above KMALLOC_MAX_SIZE");
                break;
        }
        if (percpu && ((valueSize + 7) & ~7UL) > PerCpuMaxValue) return Fail(out reason, MapError.TooBig, $"a per-CPU value of {valueSize} bytes is above PCPU_MIN_UNIT_SIZE {PerCpuMaxValue}");
        return MapError.None;
    }

    private static MapError Fail(out string reason, MapError error, string why)
    {
        reason = why;
        return error;
    }

    /// <summary>What the managed runtime would allocate up front for a map (values, keys, index), so creation can
    /// refuse a map above its memory limit before allocating anything.</summary>
    public static long ManagedBytes(MapDefinition d, int cpuCount) => ManagedBytes(d, cpuCount, InitialEntries(d));

    /// <summary>The elements a map the kernel fills lazily starts with (then doubles): hash maps with
    /// BPF_F_NO_PREALLOC and LPM tries. Every other map is preallocated: max_entries.</summary>
    public const int LazyInitialEntries = 64;

    /// <summary>Whether the managed runtime, like the kernel, allocates the map's elements as they are inserted.</summary>
    public static bool IsLazy(MapDefinition d) => d.Type == MapType.LpmTrie
        || (d.Type is MapType.Hash or MapType.PerCpuHash && (d.Flags & MapFlags.NoPrealloc) != 0);

    /// <summary>How many elements the managed map backs at creation.</summary>
    public static int InitialEntries(MapDefinition d) => IsLazy(d) ? Math.Min(d.MaxEntries, LazyInitialEntries) : d.MaxEntries;

    /// <summary>What the managed runtime allocates for <paramref name="entries"/> elements of the map.</summary>
    public static long ManagedBytes(MapDefinition d, int cpuCount, long entries)
    {
        long stride = (d.ValueSize + 7L) & ~7L, key = d.KeySize;
        long perEntryIndex = 4 + 8 + 4 + 8 + 4; // hashes, buckets (a power of 2: up to 2 per entry), chain, order links, free stack
        return d.Type switch
        {
            MapType.Array => entries * stride,
            MapType.PerCpuArray => entries * stride * cpuCount,
            MapType.Hash or MapType.LruHash => entries * (stride + key + perEntryIndex + (d.Type == MapType.LruHash ? 8 : 0)),
            MapType.PerCpuHash or MapType.LruPerCpuHash => entries * (stride * cpuCount + key + perEntryIndex + 8),
            MapType.LpmTrie => entries * (stride + 2 * key + perEntryIndex),
            MapType.Queue or MapType.Stack => entries * d.ValueSize,
            MapType.RingBuf => 2L * entries,
            MapType.ProgArray or MapType.ArrayOfMaps => entries * 8,
            MapType.PerfEventArray => entries,
            MapType.HashOfMaps => entries * (8 + key + perEntryIndex),
            MapType.DevMap or MapType.CpuMap or MapType.XskMap or MapType.SockMap => entries * (stride + 1),
            MapType.DevMapHash or MapType.SockHash => entries * (stride + 2 * key + perEntryIndex),
            _ => 0,
        };
    }
}
