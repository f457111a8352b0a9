using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// A program loaded in the kernel, as <c>BPF_OBJ_GET_INFO_BY_FD</c> describes it — what <c>bpftool prog list</c>
/// prints. From <see cref="BpfProgram.GetInfo"/> (a program this process holds) or <see cref="BpfProgram.ListLoaded"/>
/// (every program in the kernel). Fields a kernel does not report (older than the field) are null.
/// </summary>
public sealed record ProgramInfo
{
    internal ProgramInfo() { }

    /// <summary>The kernel's id (system-wide, never reused while the program lives).</summary>
    public uint Id { get; init; }

    /// <summary>The program type.</summary>
    public ProgramType Type { get; init; }

    /// <summary>The object name given at load (at most 15 characters), or empty.</summary>
    public string Name { get; init; } = "";

    /// <summary>The kernel's tag: a hash of the program's instructions (with map fds zeroed), 16 hex digits.</summary>
    public string Tag { get; init; } = "";

    /// <summary>When it was loaded, as time since boot (the kernel's own clock, <c>CLOCK_BOOTTIME</c>).</summary>
    public TimeSpan LoadedSinceBoot { get; init; }

    /// <summary>When it was loaded, in UTC: <see cref="LoadedSinceBoot"/> placed on the wall clock (exact to the
    /// current offset between <c>CLOCK_REALTIME</c> and <c>CLOCK_BOOTTIME</c>).</summary>
    public DateTimeOffset LoadTime { get; init; }

    /// <summary>The uid of the process that loaded it.</summary>
    public uint CreatedByUid { get; init; }

    /// <summary>Whether it runs JIT-compiled (<see cref="JitedSize"/> &gt; 0). False when it is interpreted, or
    /// when this process may not see the JIT image (then <see cref="JitedSize"/> is 0 too).</summary>
    public bool IsJited => JitedSize > 0;

    /// <summary>Bytes of machine code (0: not JITed, or not visible to this process).</summary>
    public uint JitedSize { get; init; }

    /// <summary>Bytes of the instructions after the verifier's rewrites (8 a slot; 0 when not visible to this process).</summary>
    public uint XlatedSize { get; init; }

    /// <summary>Ids of the maps the program uses.</summary>
    public IReadOnlyList<uint> MapIds { get; init; } = [];

    /// <summary>The id of the BTF object it was loaded with (func and line info), or null.</summary>
    public uint? BtfId { get; init; }

    /// <summary>Whether its licence is GPL-compatible (so it may call GPL-only helpers).</summary>
    public bool GplCompatible { get; init; }

    /// <summary>Instructions the verifier processed to accept it (5.16+), or null.</summary>
    public uint? VerifiedInstructions { get; init; }

    /// <summary>Total time spent running it and how many runs, counted only while <c>kernel.bpf_stats_enabled</c>
    /// is 1 (else 0).</summary>
    public TimeSpan RunTime { get; init; }

    /// <summary>How many times it ran while <c>kernel.bpf_stats_enabled</c> was 1 (else 0).</summary>
    public ulong RunCount { get; init; }

    [SupportedOSPlatform("linux")]
    internal static unsafe ProgramInfo Read(BpfFd fd)
    {
        var info = new BpfProgInfo();
        uint written = ObjectInfo.GetLength(fd, ref info);
        uint[] mapIds = [];
        if (info.nr_map_ids > 0)
        {
            // A second call with room for the ids (the count can only grow, by BPF_PROG_BIND_MAP: keep the smaller).
            var ids = new uint[info.nr_map_ids];
            var again = new BpfProgInfo { nr_map_ids = (uint)ids.Length };
            fixed (uint* p = ids)
            {
                again.map_ids = (ulong)p;
                ObjectInfo.Get(fd, ref again);
            }
            mapIds = again.nr_map_ids < ids.Length ? ids[..(int)again.nr_map_ids] : ids;
        }
        bool Has(string field) => written >= (uint)System.Runtime.InteropServices.Marshal.OffsetOf<BpfProgInfo>(field) + 4;
        var sinceBoot = TimeSpan.FromTicks((long)(info.load_time / 100));
        return new ProgramInfo
        {
            Id = info.id,
            Type = (ProgramType)info.type,
            Name = ObjectInfo.Name(info.name),
            Tag = Convert.ToHexStringLower(new ReadOnlySpan<byte>(info.tag, 8)),
            LoadedSinceBoot = sinceBoot,
            LoadTime = BootTime() + sinceBoot,
            CreatedByUid = info.created_by_uid,
            JitedSize = info.jited_prog_len,
            XlatedSize = info.xlated_prog_len,
            MapIds = mapIds,
            BtfId = Has(nameof(BpfProgInfo.btf_id)) && info.btf_id != 0 ? info.btf_id : null,
            GplCompatible = (info.gpl_compatible_word & 1) != 0,
            VerifiedInstructions = Has(nameof(BpfProgInfo.verified_insns)) ? info.verified_insns : null,
            RunTime = TimeSpan.FromTicks((long)(info.run_time_ns / 100)),
            RunCount = info.run_cnt,
        };
    }

    /// <summary>The wall-clock time of boot: now (CLOCK_REALTIME) minus the time since boot (CLOCK_BOOTTIME).</summary>
    [SupportedOSPlatform("linux")]
    private static DateTimeOffset BootTime()
    {
        if (Libc.ClockGetTime(Libc.CLOCK_REALTIME, out var real) != 0 || Libc.ClockGetTime(Libc.CLOCK_BOOTTIME, out var boot) != 0)
            throw BpfSyscallException.Create("clock_gettime", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        long ns = (real.tv_sec - boot.tv_sec) * 1_000_000_000 + (real.tv_nsec - boot.tv_nsec);
        return DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
    }
}

/// <summary>
/// A map in the kernel, as <c>BPF_OBJ_GET_INFO_BY_FD</c> describes it — what <c>bpftool map list</c> prints. From
/// <see cref="BpfMap.GetInfo"/> or <see cref="BpfMap.ListLoaded"/>.
/// </summary>
public sealed record MapInfo
{
    internal MapInfo() { }

    /// <summary>The kernel's id.</summary>
    public uint Id { get; init; }

    /// <summary>The map type.</summary>
    public MapType Type { get; init; }

    /// <summary>The object name (at most 15 characters), or empty.</summary>
    public string Name { get; init; } = "";

    /// <summary>Key size in bytes.</summary>
    public uint KeySize { get; init; }

    /// <summary>Value size in bytes (of one CPU's value, for per-CPU maps).</summary>
    public uint ValueSize { get; init; }

    /// <summary>Maximum number of entries.</summary>
    public uint MaxEntries { get; init; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; init; }

    /// <summary>The BTF object and key/value type ids (all 0 when the map was created without BTF).</summary>
    public MapBtfIds Btf { get; init; }

    [SupportedOSPlatform("linux")]
    internal static MapInfo Read(BpfFd fd)
    {
        var info = new BpfMapInfo();
        ObjectInfo.Get(fd, ref info);
        return From(info);
    }

    [SupportedOSPlatform("linux")]
    internal static unsafe MapInfo From(BpfMapInfo info) => new()
    {
        Id = info.id,
        Type = (MapType)info.type,
        Name = ObjectInfo.Name(info.name),
        KeySize = info.key_size,
        ValueSize = info.value_size,
        MaxEntries = info.max_entries,
        Flags = (MapFlags)info.map_flags,
        Btf = new MapBtfIds(info.btf_id, info.btf_key_type_id, info.btf_value_type_id),
    };
}
