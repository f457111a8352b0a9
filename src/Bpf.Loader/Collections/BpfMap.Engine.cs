using Bpf.Loader.Interop;

namespace Bpf.Loader;

/// <summary>The BTF type ids a kernel map was created with (0 = none).</summary>
/// <param name="BtfId">The kernel's id of the BTF object.</param>
/// <param name="KeyTypeId">Key type id in that BTF.</param>
/// <param name="ValueTypeId">Value type id in that BTF.</param>
public readonly record struct MapBtfIds(uint BtfId, uint KeyTypeId, uint ValueTypeId);

// The kernel side of the engine-neutral map interface.
public sealed partial class BpfMap : IBpfMap
{
    /// <summary>The name in the object file when the map came from one (kernel names are cut to 15 characters).</summary>
    internal string? ObjectName { get; set; }

    string IBpfMap.Name => ObjectName ?? Name;

    int IBpfMap.KeySize => (int)KeySize;

    int IBpfMap.ValueSize => (int)ValueSize;

    int IBpfMap.MaxEntries => (int)MaxEntries;

    /// <summary>The BTF object and key/value type ids the kernel recorded for this map (BPF_OBJ_GET_INFO_BY_FD).</summary>
    public MapBtfIds BtfIds
    {
        get
        {
            var info = new MapInfo();
            ObjectInfo.Get(Fd, ref info);
            return new MapBtfIds(info.btf_id, info.btf_key_type_id, info.btf_value_type_id);
        }
    }
}

// The kernel side of the engine-neutral program interface.
public sealed partial class BpfProgram : IBpfProgram
{
    /// <summary>The function name in the object file when the program came from one.</summary>
    internal string? ObjectName { get; set; }

    string IBpfProgram.Name => ObjectName ?? Name;

    /// <summary>Runs the program once with BPF_PROG_TEST_RUN (see <see cref="TestRun"/>).</summary>
    public BpfRunResult Run(ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default)
    {
        var r = TestRun(data, context);
        return new BpfRunResult(r.ReturnValue, r.Data, r.Context);
    }
}
