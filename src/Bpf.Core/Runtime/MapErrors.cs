namespace Bpf.Runtime;

/// <summary>The kernel's error numbers as the map operations and helpers return them (negated in r0).</summary>
public enum MapError
{
    /// <summary>Success.</summary>
    None = 0,
    /// <summary>EPERM: the operation is not permitted (e.g. a program writing a read-only map).</summary>
    PermissionDenied = 1,
    /// <summary>ENOENT: no such element (lookup/delete of a missing key, update with BPF_EXIST, empty queue).</summary>
    NotFound = 2,
    /// <summary>E2BIG: the map is full, or an array index is at or above max_entries.</summary>
    TooBig = 7,
    /// <summary>ENOMEM: no memory (ring buffer reservations use it too).</summary>
    NoMemory = 12,
    /// <summary>EBUSY: the element is busy.</summary>
    Busy = 16,
    /// <summary>EEXIST: update with BPF_NOEXIST of an existing key.</summary>
    Exists = 17,
    /// <summary>EINVAL: bad flags, a bad key, or an operation the map type does not support (delete on an array).</summary>
    Invalid = 22,
    /// <summary>ENOSPC: no space.</summary>
    NoSpace = 28,
    /// <summary>EOPNOTSUPP: the map type does not support the operation.</summary>
    NotSupported = 95,
    /// <summary>ENOTSUPP (kernel-internal 524): e.g. creating an LRU map with BPF_F_NO_PREALLOC.</summary>
    KernelNotSupported = 524,
}

/// <summary>A map operation failed with a kernel error number.</summary>
public sealed class MapException : BpfException
{
    /// <summary>Creates the exception.</summary>
    public MapException(string mapName, string operation, MapError error)
        : this(mapName, operation, error, null)
    {
    }

    /// <summary>Creates the exception, with the error it translates (e.g. the kernel's <c>BpfSyscallException</c>).</summary>
    public MapException(string mapName, string operation, MapError error, Exception? inner)
        : base((BpfErrno)(int)error, $"map '{mapName}': {operation} failed: {Describe(error)}", inner)
    {
        Error = error;
        MapName = mapName;
    }

    /// <summary>The map.</summary>
    public string MapName { get; }

    /// <summary>The error (its numeric value is the errno).</summary>
    public MapError Error { get; }

    /// <summary>E.g. <c>E2BIG (7)</c>.</summary>
    public static string Describe(MapError error) => error switch
    {
        MapError.None => "success",
        MapError.PermissionDenied => "EPERM (1)",
        MapError.NotFound => "ENOENT (2)",
        MapError.TooBig => "E2BIG (7)",
        MapError.NoMemory => "ENOMEM (12)",
        MapError.Busy => "EBUSY (16)",
        MapError.Exists => "EEXIST (17)",
        MapError.Invalid => "EINVAL (22)",
        MapError.NoSpace => "ENOSPC (28)",
        MapError.NotSupported => "EOPNOTSUPP (95)",
        MapError.KernelNotSupported => "ENOTSUPP (524)",
        _ => $"errno {(int)error}",
    };
}

