using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Btf;
using Bpf.Generators.Consumer;
using XdpFilter = Bpf.Generators.Consumer.Objects.XdpFilter;

namespace Bpf.Generators.Tests;

/// <summary>
/// What the BpfProgram build integration produced in tests/Bpf.Generators.Consumer: objects embedded as resources,
/// generated classes that read them back, types whose layout is the embedded object's BTF, and user code over them.
/// </summary>
public sealed class BuildIntegrationTests
{
    [Fact]
    public void ListedObjectIsEmbeddedByteForByte()
    {
        Assert.Equal("bpf/xdp_filter.o", XdpFilter.ResourceName);
        Assert.Equal(File.ReadAllBytes(RepoPaths.CorpusObject("xdp_filter")), XdpFilter.ReadObject());
        Assert.Equal("packet_counts", Uses.CountsMap);
    }

    [Fact]
    public void CompiledSourceIsEmbeddedAndMatchesTheGeneratedTypes()
    {
        // Built by clang-14 when the build could run it, else the committed layouts.o: either way an object with BTF.
        var spec = ObjectSpec.Read(LayoutProgram.ReadObject(), "layouts");
        Assert.NotNull(spec.Map(LayoutProgram.Maps.Flows));
        Assert.NotNull(spec.Program(LayoutProgram.Programs.Layouts));
        Assert.NotNull(spec.Variable(LayoutProgram.Variables.ConfigPort));
        var btf = spec.Btf!;
        var ev = Assert.IsType<BtfComposite>(btf.TypeById(LayoutProgram.Event.Layout.BtfTypeId));
        Assert.Equal("event", ev.Name);
        Assert.Equal((int)ev.Size, Unsafe.SizeOf<LayoutProgram.Event>());
        Assert.Equal(LayoutProgram.Event.Layout.OffsetOfCookie, (int)ev.FindMember("cookie")!.ByteOffset);
        Assert.Equal(spec.Map("flows")!.KeySize, (uint)Unsafe.SizeOf<LayoutProgram.FlowKey>());
        Assert.Equal(spec.Map("stats")!.ValueSize, (uint)Unsafe.SizeOf<LayoutProgram.StatsValue>());
    }

    [Fact]
    public void UserCodeWritesTheBytesTheBpfProgramReads()
    {
        var e = Uses.SampleEvent();
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<LayoutProgram.Event>(ref e)).ToArray();
        Assert.Equal(42u, BitConverter.ToUInt32(bytes, LayoutProgram.Event.Layout.OffsetOfPid));
        Assert.Equal(1u, BitConverter.ToUInt32(bytes, LayoutProgram.Event.Layout.OffsetOfVerdict));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, bytes[96..104]);                     // __be64 cookie, network order
        Assert.Equal(7, BitConverter.ToUInt16(bytes, LayoutProgram.Event.Layout.OffsetOfMatrix + ((1 * 3) + 2) * 2)); // matrix[1][2]
        Assert.Equal(new byte[] { 0x1f, 0x90 }, bytes[(LayoutProgram.Event.Layout.OffsetOfHops + 8 + 4)..][..2]); // hops[1].port = 8080, big-endian
        var bits = BitConverter.ToUInt64(bytes, LayoutProgram.Event.Layout.OffsetOfFl);
        Assert.Equal(0x12_3456_789AUL, (bits >> LayoutProgram.Flags.Layout.BitOffsetOfBig) & ((1UL << 40) - 1));
    }
}
