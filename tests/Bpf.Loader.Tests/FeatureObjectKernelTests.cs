using Bpf.Objects;
using Bpf.Tests;

namespace Bpf.Loader.Tests;

/// <summary>The feature objects (tests/Bpf.Core.Tests/programs/features) against the real kernel.</summary>
public sealed class FeatureObjectKernelTests : KernelTest
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [KernelFact]
    public void Ring_buffer_and_perf_array_sizes_are_fixed_up_as_the_kernel_requires()
    {
        var spec = Read("map_fixups");
        // As written, the kernel refuses both maps: the fix-up is what makes the object load.
        foreach (var name in new[] { "events", "perf" })
        {
            var m = spec.Map(name)!;
            var asWritten = new MapCreateSpec { Type = m.Type, KeySize = m.KeySize, ValueSize = m.ValueSize, MaxEntries = m.MaxEntries };
            var refused = Assert.ThrowsAny<BpfSyscallException>(() => BpfMap.Create(asWritten).Dispose());
            Assert.Equal("EINVAL", refused.ErrnoName);
        }
        using var c = KernelCollection.Load(spec);
        Assert.Equal((0u, 0u, 4096u), (c.Maps["events"].KeySize, c.Maps["events"].ValueSize, c.Maps["events"].MaxEntries));
        Assert.Equal((4u, 4u, (uint)PossibleCpus.Count), (c.Maps["perf"].KeySize, c.Maps["perf"].ValueSize, c.Maps["perf"].MaxEntries));
        Assert.Equal(ProgramType.SocketFilter, c.Programs["emit"].Type);
    }

    [KernelFact]
    public void Section_names_in_the_wild_load_as_their_program_types()
    {
        using var c = KernelCollection.Load(Read("sections"));
        Assert.Equal(ProgramType.SocketFilter, c.Programs["sock_one"].Type);
        Assert.Equal(ProgramType.SkLookup, c.Programs["lookup"].Type);
        Assert.Equal(ProgramType.Xdp, c.Programs["xdp_legacy"].Type);
    }

    [KernelFact]
    public void Struct_ops_maps_are_refused_with_a_clear_not_supported_naming_the_map()
    {
        var ex = Assert.Throws<BpfNotSupportedException>(() => KernelCollection.Load(Read("struct_ops")).Dispose());
        Assert.Contains("struct_ops map 'bpfnet_cc'", ex.Message);
        Assert.Contains("init=cc_init", ex.Message);
    }
}
