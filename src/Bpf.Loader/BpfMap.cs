using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>
/// A map living in the kernel. Keys and values are passed as byte spans of exactly <see cref="KeySize"/> and
/// <see cref="ValueSize"/> bytes, or as any unmanaged type of that size (no allocation). Per-CPU maps hold one
/// value per possible CPU, each slot rounded up to 8 bytes (see <see cref="LookupPerCpu{TKey, TValue}"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe partial class BpfMap : IDisposable
{
    private BpfMap(BpfFd fd, MapType type, uint keySize, uint valueSize, uint maxEntries, MapFlags flags, string name)
    {
        Fd = fd;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        Flags = flags;
        Name = name;
    }

    /// <summary>The map's descriptor.</summary>
    public BpfFd Fd { get; }

    /// <summary>Map type.</summary>
    public MapType Type { get; }

    /// <summary>Key size in bytes.</summary>
    public uint KeySize { get; }

    /// <summary>Value size in bytes (of one CPU's value, for per-CPU maps).</summary>
    public uint ValueSize { get; }

    /// <summary>Maximum number of entries.</summary>
    public uint MaxEntries { get; }

    /// <summary>Creation flags.</summary>
    public MapFlags Flags { get; }

    /// <summary>Object name.</summary>
    public string Name { get; }

    /// <summary>True for the per-CPU map types, whose user-space values hold one slot per possible CPU.</summary>
    public bool IsPerCpu => Type is MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage;

    /// <summary>Bytes of one user-space value: <see cref="ValueSize"/>, or for per-CPU maps 8-byte-rounded size × possible CPUs.</summary>
    public int UserValueSize => IsPerCpu ? PerCpuStride * PossibleCpus.Count : (int)ValueSize;

    private int PerCpuStride => (int)((ValueSize + 7) & ~7u);

    /// <summary>Creates a map from the engine-neutral description (the one an object's maps have, and the one the
    /// managed runtime's <c>ManagedCollection.CreateMap</c> takes), with the kernel's fix-ups applied as for an
    /// object's maps (ring buffer and perf event array sizes). BTF key/value types are not passed; an inner map
    /// template is created first and closed after the outer map holds it.</summary>
    /// <exception cref="BpfNotSupportedException">The kernel does not know the map type.</exception>
    /// <exception cref="BpfSyscallException">Any other failure (bad sizes, memory, privileges).</exception>
    public static BpfMap Create(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var inner = spec.InnerMap is null ? null : Create(spec.InnerMap);
        return Create(KernelCollection.BuildCreateSpec(spec, MapShape.For(spec, PossibleCpus.Count), null, inner));
    }

    /// <summary>Creates a map from the kernel's raw request (BPF_MAP_CREATE attributes, with BTF ids and fds).</summary>
    /// <exception cref="BpfNotSupportedException">The kernel does not know the map type.</exception>
    /// <exception cref="BpfSyscallException">Any other failure (bad sizes, memory, privileges).</exception>
    public static BpfMap Create(MapCreateSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string name = BpfProgram.SanitizeName(spec.Name);
        var attr = new MapCreateAttr
        {
            map_type = (uint)spec.Type,
            key_size = spec.KeySize,
            value_size = spec.ValueSize,
            max_entries = spec.MaxEntries,
            map_flags = (uint)spec.Flags,
            inner_map_fd = spec.InnerMap?.Fd.Raw ?? 0,
            btf_fd = spec.Btf?.Raw ?? 0,
            btf_key_type_id = spec.BtfKeyTypeId,
            btf_value_type_id = spec.BtfValueTypeId,
            map_extra = spec.MapExtra,
        };
        BpfProgram.WriteName(attr.map_name, name);
        int r = Sys.Bpf(BpfCommand.BPF_MAP_CREATE, ref attr, out int errno);
        GC.KeepAlive(spec.InnerMap);
        GC.KeepAlive(spec.Btf);
        if (r < 0)
        {
            if (errno == Errno.EINVAL && !FeatureProbes.KnowsMapTypeNumber(spec.Type))
                throw new BpfNotSupportedException($"map type {spec.Type}", KernelVersions.Of(spec.Type));
            throw BpfSyscallException.Create("BPF_MAP_CREATE", errno,
                errno == Errno.EPERM ? null : $"type {spec.Type}, key {spec.KeySize}, value {spec.ValueSize}, max_entries {spec.MaxEntries}, flags {spec.Flags}");
        }
        return new BpfMap(BpfFd.FromNew(r), spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags, name);
    }

    /// <summary>Opens a map pinned in bpffs; its shape is read from the kernel.</summary>
    public static BpfMap OpenPinned(string path)
    {
        var fd = BpfFs.Get(path);
        try
        {
            return FromFd(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Opens the map with kernel id <paramref name="id"/> (BPF_MAP_GET_FD_BY_ID; CAP_SYS_ADMIN), read-write.</summary>
    /// <exception cref="KeyNotFoundException">No map has that id (never had, or it was freed).</exception>
    /// <exception cref="BpfSyscallException">The kernel refused (EPERM without CAP_SYS_ADMIN).</exception>
    public static BpfMap OpenById(uint id)
    {
        var fd = ObjectInfo.OpenById(BpfCommand.BPF_MAP_GET_FD_BY_ID, id)
            ?? throw new KeyNotFoundException($"no BPF map with id {id} exists");
        try
        {
            return FromFd(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every map in the kernel, in id order, as <c>bpftool map list</c> shows them: each id from
    /// BPF_MAP_GET_NEXT_ID is opened (BPF_MAP_GET_FD_BY_ID), described (BPF_OBJ_GET_INFO_BY_FD) and closed again.
    /// A map freed between its id and its descriptor is left out. Needs CAP_SYS_ADMIN.
    /// </summary>
    /// <exception cref="BpfSyscallException">The kernel refused: EPERM without CAP_SYS_ADMIN
    /// (<see cref="BpfSyscallException.IsEnvironmentRefusal"/>; the message names the missing capabilities).</exception>
    public static IReadOnlyList<MapInfo> ListLoaded() =>
        ObjectInfo.List(BpfCommand.BPF_MAP_GET_NEXT_ID, BpfCommand.BPF_MAP_GET_FD_BY_ID, MapInfo.Read);

    /// <summary>What the kernel says about this map (id, shape, flags, BTF ids): BPF_OBJ_GET_INFO_BY_FD.</summary>
    public MapInfo GetInfo() => MapInfo.Read(Fd);

    private static BpfMap FromFd(BpfFd fd)
    {
        var info = MapInfo.Read(fd);
        return new BpfMap(fd, info.Type, info.KeySize, info.ValueSize, info.MaxEntries, info.Flags, info.Name);
    }

    /// <summary>The kernel's id for this map.</summary>
    public uint Id
    {
        get
        {
            var info = new BpfMapInfo();
            ObjectInfo.Get(Fd, ref info);
            return info.id;
        }
    }

    /// <summary>Pins the map at <paramref name="path"/> in a bpffs mount.</summary>
    public void Pin(string path) => BpfFs.Pin(Fd, path);

    /// <summary>Memory-maps an <see cref="MapFlags.Mmapable"/> array map (global data), read-write unless <paramref name="writable"/> is false.</summary>
    public BpfMapMemory MapMemory(bool writable = true) => BpfMapMemory.Map(this, writable);

    /// <summary>Freezes the map: user space can no longer write it (5.2+).</summary>
    public void Freeze()
    {
        var attr = new MapElemAttr { map_fd = Fd.Raw };
        int r = Sys.Bpf(BpfCommand.BPF_MAP_FREEZE, ref attr, out int errno);
        GC.KeepAlive(this);
        if (r < 0)
        {
            if (errno == Errno.EINVAL && Type is not (MapType.Array or MapType.Hash)) throw BpfSyscallException.Create("BPF_MAP_FREEZE", errno, $"{Type} maps cannot be frozen");
            throw BpfSyscallException.Create("BPF_MAP_FREEZE", errno);
        }
    }

    // ---- raw byte API ----

    /// <summary>Looks up <paramref name="key"/>, writing the value into <paramref name="value"/>; false if absent.</summary>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value) =>
        ElemOp(BpfCommand.BPF_MAP_LOOKUP_ELEM, key, value, 0, allowMissing: true);

    /// <summary>Looks up <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public void Lookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (!TryLookup(key, value)) throw new KeyNotFoundException($"key not found in {Type} map '{Name}'");
    }

    /// <summary>Creates or replaces an element, subject to <paramref name="flags"/>.</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdateFlags flags = MapUpdateFlags.Any) =>
        ElemOp(BpfCommand.BPF_MAP_UPDATE_ELEM, key, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(value), value.Length), (ulong)flags, allowMissing: false);

    /// <summary>Deletes an element; false if it was absent.</summary>
    public bool TryDelete(ReadOnlySpan<byte> key) => ElemOp(BpfCommand.BPF_MAP_DELETE_ELEM, key, Span<byte>.Empty, 0, allowMissing: true);

    /// <summary>Deletes an element; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public void Delete(ReadOnlySpan<byte> key)
    {
        if (!TryDelete(key)) throw new KeyNotFoundException($"key not found in {Type} map '{Name}'");
    }

    /// <summary>Removes and returns an element (queue/stack pop when the key is empty; hash maps 5.14+).</summary>
    public bool TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value) =>
        ElemOp(BpfCommand.BPF_MAP_LOOKUP_AND_DELETE_ELEM, key, value, 0, allowMissing: true);

    /// <summary>
    /// Writes the key after <paramref name="key"/> into <paramref name="nextKey"/> (an empty <paramref name="key"/>
    /// asks for the first key); false at the end. If <paramref name="key"/> is no longer in a hash map, the kernel
    /// answers with the first key.
    /// </summary>
    public bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty) CheckLen(key.Length, (int)KeySize, "key");
        CheckLen(nextKey.Length, (int)KeySize, "next key");
        fixed (byte* pk = key)
        fixed (byte* pn = nextKey)
        {
            var attr = new MapElemAttr { map_fd = Fd.Raw, key = (ulong)pk, value = (ulong)pn };
            int r = Sys.Bpf(BpfCommand.BPF_MAP_GET_NEXT_KEY, ref attr, out int errno);
            GC.KeepAlive(this);
            if (r >= 0) return true;
            if (errno == Errno.ENOENT) return false;
            throw BpfSyscallException.Create("BPF_MAP_GET_NEXT_KEY", errno);
        }
    }

    private bool ElemOp(BpfCommand cmd, ReadOnlySpan<byte> key, Span<byte> value, ulong flags, bool allowMissing)
    {
        CheckLen(key.Length, (int)KeySize, "key");
        if (cmd != BpfCommand.BPF_MAP_DELETE_ELEM) CheckLen(value.Length, UserValueSize, "value");
        fixed (byte* pk = key)
        fixed (byte* pv = value)
        {
            var attr = new MapElemAttr { map_fd = Fd.Raw, key = (ulong)pk, value = (ulong)pv, flags = flags };
            int r = Sys.Bpf(cmd, ref attr, out int errno);
            GC.KeepAlive(this);
            if (r >= 0) return true;
            if (allowMissing && errno == Errno.ENOENT) return false;
            throw BpfSyscallException.Create(cmd.ToString(), errno,
                errno switch
                {
                    Errno.EEXIST => "the key exists (NoExist)",
                    Errno.ENOENT => "the key does not exist (Exist)",
                    Errno.E2BIG => $"the map is full (max_entries {MaxEntries})",
                    Errno.EPERM => null,
                    _ => $"{Type} map '{Name}'",
                });
        }
    }

    private static void CheckLen(int actual, int expected, string what)
    {
        if (actual != expected) throw new ArgumentException($"{what} is {actual} bytes; the map needs {expected}");
    }

    // ---- typed API ----

    /// <summary>Looks up a typed key; false if absent.</summary>
    public bool TryLookup<TKey, TValue>(in TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        value = default;
        return TryLookup(AsBytes(in key), MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
    }

    /// <summary>Looks up a typed key; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public TValue Lookup<TKey, TValue>(in TKey key) where TKey : unmanaged where TValue : unmanaged =>
        TryLookup<TKey, TValue>(in key, out var v) ? v : throw new KeyNotFoundException($"key {key} not found in {Type} map '{Name}'");

    /// <summary>Creates or replaces a typed element.</summary>
    public void Update<TKey, TValue>(in TKey key, in TValue value, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged =>
        Update(AsBytes(in key), AsBytes(in value), flags);

    /// <summary>Deletes a typed key; false if absent.</summary>
    public bool TryDelete<TKey>(in TKey key) where TKey : unmanaged => TryDelete(AsBytes(in key));

    /// <summary>One value per possible CPU for a per-CPU map.</summary>
    public TValue[] LookupPerCpu<TKey, TValue>(in TKey key) where TKey : unmanaged where TValue : unmanaged
    {
        RequirePerCpu<TValue>();
        byte[] buf = new byte[UserValueSize];
        Lookup(AsBytes(in key), buf);
        var result = new TValue[PossibleCpus.Count];
        for (int i = 0; i < result.Length; i++) result[i] = MemoryMarshal.Read<TValue>(buf.AsSpan(i * PerCpuStride));
        return result;
    }

    /// <summary>Writes one value per possible CPU into a per-CPU map (<paramref name="values"/> length = <see cref="PossibleCpus.Count"/>).</summary>
    public void UpdatePerCpu<TKey, TValue>(in TKey key, ReadOnlySpan<TValue> values, MapUpdateFlags flags = MapUpdateFlags.Any) where TKey : unmanaged where TValue : unmanaged
    {
        RequirePerCpu<TValue>();
        if (values.Length != PossibleCpus.Count)
            throw new ArgumentException($"a per-CPU value needs {PossibleCpus.Count} entries (possible CPUs), got {values.Length}", nameof(values));
        byte[] buf = new byte[UserValueSize];
        for (int i = 0; i < values.Length; i++) MemoryMarshal.Write(buf.AsSpan(i * PerCpuStride), in values[i]);
        Update(AsBytes(in key), buf, flags);
    }

    private void RequirePerCpu<TValue>() where TValue : unmanaged
    {
        if (!IsPerCpu) throw new InvalidOperationException($"{Type} is not a per-CPU map");
        if (Unsafe.SizeOf<TValue>() != ValueSize) throw new ArgumentException($"{typeof(TValue).Name} is {Unsafe.SizeOf<TValue>()} bytes; the map's value is {ValueSize}");
    }

    private static ReadOnlySpan<byte> AsBytes<T>(in T v) where T : unmanaged =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in v));

    /// <summary>Closes the map's descriptor (and unmaps the ring buffer the engine-neutral record reader mapped).</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _ringReader, null)?.Dispose();
        Fd.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} map '{Name}' (key {KeySize}, value {ValueSize}, max {MaxEntries})";
}
