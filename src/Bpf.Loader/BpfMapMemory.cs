using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// A shared mapping of an array map created with <see cref="MapFlags.Mmapable"/> (5.5+; global data in
/// <c>.data</c>/<c>.bss</c>): reads and writes go straight to the kernel's memory, seen by programs at once.
/// Disposing unmaps it. Not thread-safe to dispose while spans are in use.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class BpfMapMemory : IDisposable
{
    private nint _addr;
    private readonly nuint _mappedLength;

    private BpfMapMemory(nint addr, nuint mappedLength, int length)
    {
        _addr = addr;
        _mappedLength = mappedLength;
        Length = length;
    }

    /// <summary>Bytes of map data (value size × max entries).</summary>
    public int Length { get; }

    /// <summary>The mapped bytes.</summary>
    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_addr == 0, this);
            return new Span<byte>((void*)_addr, Length);
        }
    }

    internal static BpfMapMemory Map(BpfMap map, bool writable)
    {
        if (map.Type != MapType.Array || (map.Flags & MapFlags.Mmapable) == 0)
            throw new InvalidOperationException($"only Array maps created with MapFlags.Mmapable can be memory-mapped ({map})");
        long bytes = (long)((map.ValueSize + 7) & ~7u) * map.MaxEntries;
        if (bytes > int.MaxValue) throw new NotSupportedException($"map of {bytes} bytes is too large to expose as a span");
        long page = Environment.SystemPageSize;
        nuint mapped = (nuint)((bytes + page - 1) / page * page);
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        nint addr = Libc.Mmap(0, mapped, prot, Libc.MAP_SHARED, map.Fd.Value, 0);
        if (addr == Libc.MapFailed)
            throw BpfSyscallException.Create("mmap", Marshal.GetLastPInvokeError(), writable && (map.Flags & MapFlags.ReadOnlyProgram) == 0 ? $"{map}" : $"{map} (frozen maps can only be mapped read-only)");
        GC.KeepAlive(map);
        return new BpfMapMemory(addr, mapped, (int)bytes);
    }

    /// <summary>Unmaps the memory.</summary>
    public void Dispose()
    {
        nint a = Interlocked.Exchange(ref _addr, 0);
        if (a != 0) Libc.Munmap(a, _mappedLength);
    }
}
