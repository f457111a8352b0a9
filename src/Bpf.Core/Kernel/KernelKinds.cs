namespace Bpf;

// The kernel's own enumerations, shared by the object reader, the loader, the verifier and the runtime.

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
    /// <summary>BPF attach type value 57.</summary>
    TraceUprobeSession = 57,
}

/// <summary>Map creation flags (<c>map_flags</c>): one set for every map description (<c>MapSpec</c>) and
/// both engines, which enforce them alike (BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG in the verifier and the runtime,
/// BPF_F_RDONLY/BPF_F_WRONLY on user space access).</summary>
[Flags]
public enum MapFlags : uint
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>BPF_F_NO_PREALLOC (required for LPM tries).</summary>
    NoPrealloc = 1,
    /// <summary>BPF_F_NO_COMMON_LRU.</summary>
    NoCommonLru = 2,
    /// <summary>BPF_F_NUMA_NODE.</summary>
    NumaNode = 4,
    /// <summary>BPF_F_RDONLY: read-only for user space.</summary>
    ReadOnly = 8,
    /// <summary>BPF_F_WRONLY: write-only for user space.</summary>
    WriteOnly = 16,
    /// <summary>BPF_F_STACK_BUILD_ID.</summary>
    StackBuildId = 32,
    /// <summary>BPF_F_ZERO_SEED.</summary>
    ZeroSeed = 64,
    /// <summary>BPF_F_RDONLY_PROG: read-only for programs.</summary>
    ReadOnlyProgram = 128,
    /// <summary>BPF_F_WRONLY_PROG: write-only for programs.</summary>
    WriteOnlyProgram = 256,
    /// <summary>BPF_F_CLONE.</summary>
    Clone = 512,
    /// <summary>BPF_F_MMAPABLE: array maps that can be mmap'ed (global data, 5.5+).</summary>
    Mmapable = 1024,
    /// <summary>BPF_F_PRESERVE_ELEMS.</summary>
    PreserveElements = 2048,
    /// <summary>BPF_F_INNER_MAP.</summary>
    InnerMap = 4096,
    /// <summary>BPF_F_LINK: a struct_ops map attached through a link (<c>.struct_ops.link</c>).</summary>
    Link = 8192,
}
