namespace Bpf;

/// <summary>Flags of a map element update (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK); values are the kernel's.
/// The managed runtime, the loader and the engine-neutral API all take this one type.</summary>
[Flags]
public enum MapUpdateFlags : ulong
{
    /// <summary>BPF_ANY: create or replace.</summary>
    Any = 0,
    /// <summary>BPF_NOEXIST: create only; EEXIST when the key exists.</summary>
    NoExist = 1,
    /// <summary>BPF_EXIST: replace only; ENOENT when the key is missing.</summary>
    Exist = 2,
    /// <summary>BPF_F_LOCK: update under the value's bpf_spin_lock (the managed runtime does not support it).</summary>
    Lock = 4,
}
