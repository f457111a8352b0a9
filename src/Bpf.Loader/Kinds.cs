namespace Bpf.Loader;

/// <summary>Program types (<c>enum bpf_prog_type</c>); values are the kernel's.</summary>
public enum ProgramType : uint
{
    /// <summary>BPF_PROG_TYPE value 0.</summary>
    Unspecified = 0,
    /// <summary>BPF_PROG_TYPE value 1 (Linux 3.19+).</summary>
    SocketFilter = 1,
    /// <summary>BPF_PROG_TYPE value 2 (Linux 4.1+).</summary>
    Kprobe = 2,
    /// <summary>BPF_PROG_TYPE value 3 (Linux 4.1+).</summary>
    SchedCls = 3,
    /// <summary>BPF_PROG_TYPE value 4 (Linux 4.1+).</summary>
    SchedAct = 4,
    /// <summary>BPF_PROG_TYPE value 5 (Linux 4.7+).</summary>
    Tracepoint = 5,
    /// <summary>BPF_PROG_TYPE value 6 (Linux 4.8+).</summary>
    Xdp = 6,
    /// <summary>BPF_PROG_TYPE value 7 (Linux 4.9+).</summary>
    PerfEvent = 7,
    /// <summary>BPF_PROG_TYPE value 8 (Linux 4.10+).</summary>
    CgroupSkb = 8,
    /// <summary>BPF_PROG_TYPE value 9 (Linux 4.10+).</summary>
    CgroupSock = 9,
    /// <summary>BPF_PROG_TYPE value 10 (Linux 4.10+).</summary>
    LwtIn = 10,
    /// <summary>BPF_PROG_TYPE value 11 (Linux 4.10+).</summary>
    LwtOut = 11,
    /// <summary>BPF_PROG_TYPE value 12 (Linux 4.10+).</summary>
    LwtXmit = 12,
    /// <summary>BPF_PROG_TYPE value 13 (Linux 4.13+).</summary>
    SockOps = 13,
    /// <summary>BPF_PROG_TYPE value 14 (Linux 4.14+).</summary>
    SkSkb = 14,
    /// <summary>BPF_PROG_TYPE value 15 (Linux 4.15+).</summary>
    CgroupDevice = 15,
    /// <summary>BPF_PROG_TYPE value 16 (Linux 4.17+).</summary>
    SkMsg = 16,
    /// <summary>BPF_PROG_TYPE value 17 (Linux 4.17+).</summary>
    RawTracepoint = 17,
    /// <summary>BPF_PROG_TYPE value 18 (Linux 4.17+).</summary>
    CgroupSockAddr = 18,
    /// <summary>BPF_PROG_TYPE value 19 (Linux 4.18+).</summary>
    LwtSeg6Local = 19,
    /// <summary>BPF_PROG_TYPE value 20 (Linux 4.18+).</summary>
    LircMode2 = 20,
    /// <summary>BPF_PROG_TYPE value 21 (Linux 4.19+).</summary>
    SkReuseport = 21,
    /// <summary>BPF_PROG_TYPE value 22 (Linux 4.20+).</summary>
    FlowDissector = 22,
    /// <summary>BPF_PROG_TYPE value 23 (Linux 5.2+).</summary>
    CgroupSysctl = 23,
    /// <summary>BPF_PROG_TYPE value 24 (Linux 5.2+).</summary>
    RawTracepointWritable = 24,
    /// <summary>BPF_PROG_TYPE value 25 (Linux 5.3+).</summary>
    CgroupSockopt = 25,
    /// <summary>BPF_PROG_TYPE value 26 (Linux 5.5+).</summary>
    Tracing = 26,
    /// <summary>BPF_PROG_TYPE value 27 (Linux 5.6+).</summary>
    StructOps = 27,
    /// <summary>BPF_PROG_TYPE value 28 (Linux 5.6+).</summary>
    Extension = 28,
    /// <summary>BPF_PROG_TYPE value 29 (Linux 5.7+).</summary>
    Lsm = 29,
    /// <summary>BPF_PROG_TYPE value 30 (Linux 5.9+).</summary>
    SkLookup = 30,
    /// <summary>BPF_PROG_TYPE value 31 (Linux 5.14+).</summary>
    Syscall = 31,
    /// <summary>BPF_PROG_TYPE value 32 (Linux 6.4+).</summary>
    Netfilter = 32,
}

/// <summary>Map types (<c>enum bpf_map_type</c>); values are the kernel's.</summary>
public enum MapType : uint
{
    /// <summary>BPF_MAP_TYPE value 0.</summary>
    Unspecified = 0,
    /// <summary>BPF_MAP_TYPE value 1 (Linux 3.19+).</summary>
    Hash = 1,
    /// <summary>BPF_MAP_TYPE value 2 (Linux 3.19+).</summary>
    Array = 2,
    /// <summary>BPF_MAP_TYPE value 3 (Linux 4.2+).</summary>
    ProgArray = 3,
    /// <summary>BPF_MAP_TYPE value 4 (Linux 4.3+).</summary>
    PerfEventArray = 4,
    /// <summary>BPF_MAP_TYPE value 5 (Linux 4.6+).</summary>
    PerCpuHash = 5,
    /// <summary>BPF_MAP_TYPE value 6 (Linux 4.6+).</summary>
    PerCpuArray = 6,
    /// <summary>BPF_MAP_TYPE value 7 (Linux 4.6+).</summary>
    StackTrace = 7,
    /// <summary>BPF_MAP_TYPE value 8 (Linux 4.8+).</summary>
    CgroupArray = 8,
    /// <summary>BPF_MAP_TYPE value 9 (Linux 4.10+).</summary>
    LruHash = 9,
    /// <summary>BPF_MAP_TYPE value 10 (Linux 4.10+).</summary>
    LruPerCpuHash = 10,
    /// <summary>BPF_MAP_TYPE value 11 (Linux 4.11+).</summary>
    LpmTrie = 11,
    /// <summary>BPF_MAP_TYPE value 12 (Linux 4.12+).</summary>
    ArrayOfMaps = 12,
    /// <summary>BPF_MAP_TYPE value 13 (Linux 4.12+).</summary>
    HashOfMaps = 13,
    /// <summary>BPF_MAP_TYPE value 14 (Linux 4.14+).</summary>
    DevMap = 14,
    /// <summary>BPF_MAP_TYPE value 15 (Linux 4.14+).</summary>
    SockMap = 15,
    /// <summary>BPF_MAP_TYPE value 16 (Linux 4.15+).</summary>
    CpuMap = 16,
    /// <summary>BPF_MAP_TYPE value 17 (Linux 4.18+).</summary>
    XskMap = 17,
    /// <summary>BPF_MAP_TYPE value 18 (Linux 4.18+).</summary>
    SockHash = 18,
    /// <summary>BPF_MAP_TYPE value 19 (Linux 4.19+).</summary>
    CgroupStorage = 19,
    /// <summary>BPF_MAP_TYPE value 20 (Linux 4.19+).</summary>
    ReuseportSockArray = 20,
    /// <summary>BPF_MAP_TYPE value 21 (Linux 4.20+).</summary>
    PerCpuCgroupStorage = 21,
    /// <summary>BPF_MAP_TYPE value 22 (Linux 4.20+).</summary>
    Queue = 22,
    /// <summary>BPF_MAP_TYPE value 23 (Linux 4.20+).</summary>
    Stack = 23,
    /// <summary>BPF_MAP_TYPE value 24 (Linux 5.2+).</summary>
    SkStorage = 24,
    /// <summary>BPF_MAP_TYPE value 25 (Linux 5.4+).</summary>
    DevMapHash = 25,
    /// <summary>BPF_MAP_TYPE value 26 (Linux 5.6+).</summary>
    StructOps = 26,
    /// <summary>BPF_MAP_TYPE value 27 (Linux 5.8+).</summary>
    RingBuf = 27,
    /// <summary>BPF_MAP_TYPE value 28 (Linux 5.10+).</summary>
    InodeStorage = 28,
    /// <summary>BPF_MAP_TYPE value 29 (Linux 5.11+).</summary>
    TaskStorage = 29,
    /// <summary>BPF_MAP_TYPE value 30 (Linux 5.16+).</summary>
    BloomFilter = 30,
    /// <summary>BPF_MAP_TYPE value 31 (Linux 6.1+).</summary>
    UserRingBuf = 31,
    /// <summary>BPF_MAP_TYPE value 32 (Linux 6.2+).</summary>
    CgrpStorage = 32,
    /// <summary>BPF_MAP_TYPE value 33 (Linux 6.9+).</summary>
    Arena = 33,
}

/// <summary>Attach types (<c>enum bpf_attach_type</c>); values are the kernel's.</summary>
public enum AttachType : uint
{
    /// <summary>BPF attach type value 0.</summary>
    CgroupInetIngress = 0,
    /// <summary>BPF attach type value 1.</summary>
    CgroupInetEgress = 1,
    /// <summary>BPF attach type value 2.</summary>
    CgroupInetSockCreate = 2,
    /// <summary>BPF attach type value 3.</summary>
    CgroupSockOps = 3,
    /// <summary>BPF attach type value 4.</summary>
    SkSkbStreamParser = 4,
    /// <summary>BPF attach type value 5.</summary>
    SkSkbStreamVerdict = 5,
    /// <summary>BPF attach type value 6.</summary>
    CgroupDevice = 6,
    /// <summary>BPF attach type value 7.</summary>
    SkMsgVerdict = 7,
    /// <summary>BPF attach type value 8.</summary>
    CgroupInet4Bind = 8,
    /// <summary>BPF attach type value 9.</summary>
    CgroupInet6Bind = 9,
    /// <summary>BPF attach type value 10.</summary>
    CgroupInet4Connect = 10,
    /// <summary>BPF attach type value 11.</summary>
    CgroupInet6Connect = 11,
    /// <summary>BPF attach type value 12.</summary>
    CgroupInet4PostBind = 12,
    /// <summary>BPF attach type value 13.</summary>
    CgroupInet6PostBind = 13,
    /// <summary>BPF attach type value 14.</summary>
    CgroupUdp4Sendmsg = 14,
    /// <summary>BPF attach type value 15.</summary>
    CgroupUdp6Sendmsg = 15,
    /// <summary>BPF attach type value 16.</summary>
    LircMode2 = 16,
    /// <summary>BPF attach type value 17.</summary>
    FlowDissector = 17,
    /// <summary>BPF attach type value 18.</summary>
    CgroupSysctl = 18,
    /// <summary>BPF attach type value 19.</summary>
    CgroupUdp4Recvmsg = 19,
    /// <summary>BPF attach type value 20.</summary>
    CgroupUdp6Recvmsg = 20,
    /// <summary>BPF attach type value 21.</summary>
    CgroupGetsockopt = 21,
    /// <summary>BPF attach type value 22.</summary>
    CgroupSetsockopt = 22,
    /// <summary>BPF attach type value 23.</summary>
    TraceRawTp = 23,
    /// <summary>BPF attach type value 24.</summary>
    TraceFentry = 24,
    /// <summary>BPF attach type value 25.</summary>
    TraceFexit = 25,
    /// <summary>BPF attach type value 26.</summary>
    ModifyReturn = 26,
    /// <summary>BPF attach type value 27.</summary>
    LsmMac = 27,
    /// <summary>BPF attach type value 28.</summary>
    TraceIter = 28,
    /// <summary>BPF attach type value 29.</summary>
    CgroupInet4Getpeername = 29,
    /// <summary>BPF attach type value 30.</summary>
    CgroupInet6Getpeername = 30,
    /// <summary>BPF attach type value 31.</summary>
    CgroupInet4Getsockname = 31,
    /// <summary>BPF attach type value 32.</summary>
    CgroupInet6Getsockname = 32,
    /// <summary>BPF attach type value 33.</summary>
    XdpDevMap = 33,
    /// <summary>BPF attach type value 34.</summary>
    CgroupInetSockRelease = 34,
    /// <summary>BPF attach type value 35.</summary>
    XdpCpuMap = 35,
    /// <summary>BPF attach type value 36.</summary>
    SkLookup = 36,
    /// <summary>BPF attach type value 37.</summary>
    Xdp = 37,
    /// <summary>BPF attach type value 38.</summary>
    SkSkbVerdict = 38,
    /// <summary>BPF attach type value 39.</summary>
    SkReuseportSelect = 39,
    /// <summary>BPF attach type value 40.</summary>
    SkReuseportSelectOrMigrate = 40,
    /// <summary>BPF attach type value 41.</summary>
    PerfEvent = 41,
    /// <summary>BPF attach type value 42.</summary>
    TraceKprobeMulti = 42,
    /// <summary>BPF attach type value 43.</summary>
    LsmCgroup = 43,
    /// <summary>BPF attach type value 44.</summary>
    StructOps = 44,
    /// <summary>BPF attach type value 45.</summary>
    Netfilter = 45,
    /// <summary>BPF attach type value 46.</summary>
    TcxIngress = 46,
    /// <summary>BPF attach type value 47.</summary>
    TcxEgress = 47,
    /// <summary>BPF attach type value 48.</summary>
    TraceUprobeMulti = 48,
    /// <summary>BPF attach type value 49.</summary>
    CgroupUnixConnect = 49,
    /// <summary>BPF attach type value 50.</summary>
    CgroupUnixSendmsg = 50,
    /// <summary>BPF attach type value 51.</summary>
    CgroupUnixRecvmsg = 51,
    /// <summary>BPF attach type value 52.</summary>
    CgroupUnixGetpeername = 52,
    /// <summary>BPF attach type value 53.</summary>
    CgroupUnixGetsockname = 53,
    /// <summary>BPF attach type value 54.</summary>
    NetkitPrimary = 54,
    /// <summary>BPF attach type value 55.</summary>
    NetkitPeer = 55,
    /// <summary>BPF attach type value 56.</summary>
    TraceKprobeSession = 56,
}

/// <summary>First mainline kernel versions of program and map types (for not-supported errors).</summary>
public static class KernelVersions
{
    /// <summary>The first kernel with <paramref name="type"/>, or null if unknown.</summary>
    public static Version? Of(ProgramType type) => type switch
    {
        ProgramType.SocketFilter => new Version(3, 19),
        ProgramType.Kprobe => new Version(4, 1),
        ProgramType.SchedCls => new Version(4, 1),
        ProgramType.SchedAct => new Version(4, 1),
        ProgramType.Tracepoint => new Version(4, 7),
        ProgramType.Xdp => new Version(4, 8),
        ProgramType.PerfEvent => new Version(4, 9),
        ProgramType.CgroupSkb => new Version(4, 10),
        ProgramType.CgroupSock => new Version(4, 10),
        ProgramType.LwtIn => new Version(4, 10),
        ProgramType.LwtOut => new Version(4, 10),
        ProgramType.LwtXmit => new Version(4, 10),
        ProgramType.SockOps => new Version(4, 13),
        ProgramType.SkSkb => new Version(4, 14),
        ProgramType.CgroupDevice => new Version(4, 15),
        ProgramType.SkMsg => new Version(4, 17),
        ProgramType.RawTracepoint => new Version(4, 17),
        ProgramType.CgroupSockAddr => new Version(4, 17),
        ProgramType.LwtSeg6Local => new Version(4, 18),
        ProgramType.LircMode2 => new Version(4, 18),
        ProgramType.SkReuseport => new Version(4, 19),
        ProgramType.FlowDissector => new Version(4, 20),
        ProgramType.CgroupSysctl => new Version(5, 2),
        ProgramType.RawTracepointWritable => new Version(5, 2),
        ProgramType.CgroupSockopt => new Version(5, 3),
        ProgramType.Tracing => new Version(5, 5),
        ProgramType.StructOps => new Version(5, 6),
        ProgramType.Extension => new Version(5, 6),
        ProgramType.Lsm => new Version(5, 7),
        ProgramType.SkLookup => new Version(5, 9),
        ProgramType.Syscall => new Version(5, 14),
        ProgramType.Netfilter => new Version(6, 4),
        _ => null,
    };

    /// <summary>The first kernel with <paramref name="type"/>, or null if unknown.</summary>
    public static Version? Of(MapType type) => type switch
    {
        MapType.Hash => new Version(3, 19),
        MapType.Array => new Version(3, 19),
        MapType.ProgArray => new Version(4, 2),
        MapType.PerfEventArray => new Version(4, 3),
        MapType.PerCpuHash => new Version(4, 6),
        MapType.PerCpuArray => new Version(4, 6),
        MapType.StackTrace => new Version(4, 6),
        MapType.CgroupArray => new Version(4, 8),
        MapType.LruHash => new Version(4, 10),
        MapType.LruPerCpuHash => new Version(4, 10),
        MapType.LpmTrie => new Version(4, 11),
        MapType.ArrayOfMaps => new Version(4, 12),
        MapType.HashOfMaps => new Version(4, 12),
        MapType.DevMap => new Version(4, 14),
        MapType.SockMap => new Version(4, 14),
        MapType.CpuMap => new Version(4, 15),
        MapType.XskMap => new Version(4, 18),
        MapType.SockHash => new Version(4, 18),
        MapType.CgroupStorage => new Version(4, 19),
        MapType.ReuseportSockArray => new Version(4, 19),
        MapType.PerCpuCgroupStorage => new Version(4, 20),
        MapType.Queue => new Version(4, 20),
        MapType.Stack => new Version(4, 20),
        MapType.SkStorage => new Version(5, 2),
        MapType.DevMapHash => new Version(5, 4),
        MapType.StructOps => new Version(5, 6),
        MapType.RingBuf => new Version(5, 8),
        MapType.InodeStorage => new Version(5, 10),
        MapType.TaskStorage => new Version(5, 11),
        MapType.BloomFilter => new Version(5, 16),
        MapType.UserRingBuf => new Version(6, 1),
        MapType.CgrpStorage => new Version(6, 2),
        MapType.Arena => new Version(6, 9),
        _ => null,
    };
}
