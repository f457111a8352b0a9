using Bpf.Loader;
using Bpf.Objects;
using ObjMapType = Bpf.MapType;
using LoaderMapSpec = Bpf.Loader.MapCreateSpec;
using LoaderMapFlags = Bpf.Loader.MapFlags;

namespace Bpf.Differential.Tests;

/// <summary>
/// An object file loaded into the kernel the plain way (maps created, global data written, programs relocated
/// and loaded, program arrays and map-in-map slots filled): the reference the managed collection is compared to.
/// </summary>
internal sealed class KernelObject : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public Dictionary<string, BpfMap> Maps { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, BpfProgram> Programs { get; } = new(StringComparer.Ordinal);

    /// <summary>Programs the kernel refused, with its reason (the differential then skips them, visibly).</summary>
    public Dictionary<string, string> Rejected { get; } = new(StringComparer.Ordinal);

    public KernelObject(ObjectSpec spec)
    {
        try
        {
            foreach (var m in spec.Maps)
            {
                if (m.Source == MapSource.InnerMap) continue;
                if (m.Source == MapSource.GlobalData && m.ValueSize == 0) continue;
                var map = Create(m);
                Maps[m.Name] = map;
                if (m.Source == MapSource.GlobalData)
                {
                    map.Update(BitConverter.GetBytes(0u), m.Contents);
                }
            }
            foreach (var p in spec.Programs)
            {
                var relocations = new List<MapRelocation>();
                var unsupported = false;
                foreach (var r in p.References)
                {
                    if (r.Kind is ReferenceKind.Map or ReferenceKind.MapValue)
                    {
                        relocations.Add(new MapRelocation(r.InstructionIndex, Maps[r.Name], r.Kind == ReferenceKind.MapValue, (uint)r.Offset));
                    }
                    else
                    {
                        unsupported = true;
                    }
                }
                if (unsupported)
                {
                    Rejected[p.Name] = "references kernel BTF symbols";
                    continue;
                }
                try
                {
                    var program = BpfProgram.Load((Bpf.ProgramType)(uint)p.Type, p.Instructions, p.License, new LoadOptions
                    {
                        Name = p.Name,
                        MapRelocations = relocations,
                        ExpectedAttachType = p.AttachType is { } at ? (Bpf.AttachType)(uint)at : null,
                        ProgramFlags = p.Flags.HasFlag(Bpf.Objects.ProgramFlags.XdpFrags) ? 32u /* BPF_F_XDP_HAS_FRAGS */ : 0,
                    });
                    _owned.Add(program);
                    Programs[p.Name] = program;
                }
                catch (VerifierException e)
                {
                    Rejected[p.Name] = e.Message.Split('\n')[0];
                }
            }
            foreach (var m in spec.Maps)
            {
                if (!Maps.TryGetValue(m.Name, out var map)) continue;
                foreach (var initial in m.InitialValues)
                {
                    var fd = m.Type == ObjMapType.ProgArray ? Programs[initial.Name].Fd.Value : Maps[initial.Name].Fd.Value;
                    map.Update(BitConverter.GetBytes(initial.Index), BitConverter.GetBytes(fd));
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private BpfMap Create(Bpf.Objects.MapSpec m)
    {
        BpfMap? inner = null;
        if (m.InnerMap is { } template)
        {
            inner = Create(template);
        }
        var map = BpfMap.Create(new LoaderMapSpec
        {
            Type = (Bpf.MapType)(uint)m.Type,
            KeySize = m.KeySize,
            ValueSize = m.ValueSize,
            MaxEntries = m.MaxEntries,
            Flags = (LoaderMapFlags)m.Flags,
            Name = m.Name,
            InnerMap = inner,
        });
        _owned.Add(map);
        return map;
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
