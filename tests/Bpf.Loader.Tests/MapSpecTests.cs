using Bpf.Loader;
using Bpf.Runtime;

namespace Bpf.Loader.Tests;

/// <summary>One map description (issue 11): a <see cref="MapSpec"/> built in code creates the same map on both
/// engines — the kernel's <see cref="BpfMap.Create(MapSpec)"/> and the managed runtime's
/// <see cref="ManagedCollection.CreateMap(MapSpec)"/> — with the same fix-ups an object's maps get.</summary>
public sealed class MapSpecTests : KernelTest
{
    public static TheoryData<MapType, uint, uint, uint, MapFlags> Specs() => new()
    {
        { MapType.Hash, 4, 8, 16, MapFlags.None },
        { MapType.Hash, 4, 8, 16, MapFlags.NoPrealloc },
        { MapType.Array, 4, 12, 3, MapFlags.None },
        { MapType.LruHash, 8, 4, 32, MapFlags.None },
        { MapType.PerCpuArray, 4, 8, 2, MapFlags.None },
    };

    [KernelTheory]
    [MemberData(nameof(Specs))]
    public void Both_engines_create_the_same_map_from_one_spec(MapType type, uint key, uint value, uint max, MapFlags flags)
    {
        var spec = new MapSpec("spec_map", type, key, value, max, flags);
        using var kernel = BpfMap.Create(spec);
        var managed = new ManagedCollection(new CollectionOptions { CpuCount = 2 }).CreateMap(spec);

        Assert.Equal((type, key, value, max), (kernel.Type, kernel.KeySize, kernel.ValueSize, kernel.MaxEntries));
        Assert.Equal((type, (int)key, (int)value, (int)max), (managed.Type, managed.KeySize, managed.ValueSize, managed.MaxEntries));

        if (type is MapType.PerCpuArray) return; // per-CPU values are covered by EngineApiTests on both engines
        var k = new byte[key];
        k[0] = 1;
        var v = Enumerable.Range(1, (int)value).Select(i => (byte)i).ToArray();
        kernel.Update(k, v);
        managed.Update(k, v);
        var fromKernel = new byte[value];
        var fromManaged = new byte[value];
        Assert.True(kernel.TryLookup(k, fromKernel));
        Assert.Equal(MapError.None, managed.TryLookup(k, fromManaged));
        Assert.Equal(v, fromKernel);
        Assert.Equal(fromKernel, fromManaged);
    }

    [KernelFact]
    public void A_ring_buffer_spec_gets_the_kernel_fix_ups_on_both_engines()
    {
        // An object may give a ring buffer key/value sizes; the kernel wants 0/0 (cilium/ebpf and libbpf fix it up).
        var spec = new MapSpec("events", MapType.RingBuf, 4, 8, 4096);
        using var kernel = BpfMap.Create(spec);
        Assert.Equal((0u, 0u, 4096u), (kernel.KeySize, kernel.ValueSize, kernel.MaxEntries));
        var managed = new ManagedCollection(new CollectionOptions { CpuCount = 2 }).CreateMap(spec);
        Assert.Equal((MapType.RingBuf, 0, 0, 4096), (managed.Type, managed.KeySize, managed.ValueSize, managed.MaxEntries));
    }

    [Fact]
    public void A_spec_built_in_code_says_where_it_came_from_and_keeps_its_inner_map()
    {
        var inner = new MapSpec("inner", MapType.Array, 4, 4, 1);
        var outer = new MapSpec("outer", MapType.ArrayOfMaps, 4, 4, 2, MapFlags.None, inner);
        Assert.Equal(MapSource.Code, outer.Source);
        Assert.Same(inner, outer.InnerMap);
        Assert.Throws<ArgumentException>(() => new MapSpec("", MapType.Array, 4, 4, 1));
    }
}
