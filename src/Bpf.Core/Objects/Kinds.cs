namespace Bpf;




/// <summary>How a map is pinned (libbpf's LIBBPF_PIN_*).</summary>
public enum PinType : uint
{
    /// <summary>Not pinned.</summary>
    None = 0,
    /// <summary>Pinned by name under the pin root (e.g. /sys/fs/bpf).</summary>
    ByName = 1,
}

/// <summary>Extra properties libbpf derives from a program's section name.</summary>
[Flags]
public enum ProgramFlags
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>Loaded with BPF_F_SLEEPABLE (".s" sections).</summary>
    Sleepable = 1,
    /// <summary>Loaded with BPF_F_XDP_HAS_FRAGS (".frags" sections).</summary>
    XdpFrags = 2,
    /// <summary>The attach target is a kernel BTF function/type named after the '/' (fentry, lsm, iter...).</summary>
    AttachBtf = 4,
    /// <summary>A return probe (kretprobe, uretprobe, kretsyscall).</summary>
    ReturnProbe = 8,
    /// <summary>A USDT probe.</summary>
    Usdt = 16,
}
