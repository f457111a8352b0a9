using System.Text;
using Bpf.Elf;
using Bpf.Objects;

namespace Bpf.Tests.Elf;

/// <summary>Objects written to exercise one reader feature each (tests/Bpf.Core.Tests/programs/features).</summary>
public class FeatureObjectTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [Fact]
    public void Arena_map_extra_is_read_from_a_64_bit_ulong_attribute()
    {
        var arena = Read("arena_map").Map("arena")!;
        Assert.Equal(MapType.Arena, arena.Type);
        Assert.Equal(0x7f000000UL, arena.MapExtra);
        Assert.Equal(16u, arena.MaxEntries);
        Assert.Equal(1024u, arena.Flags);
    }

    [Fact]
    public void Struct_ops_maps_are_read_with_their_programs_and_initial_bytes()
    {
        var spec = Read("struct_ops");
        var map = spec.Map("bpfnet_cc")!;
        Assert.Equal(MapSource.StructOps, map.Source);
        Assert.Equal(MapType.StructOps, map.Type);
        Assert.Equal((4u, 48u, 1u), (map.KeySize, map.ValueSize, map.MaxEntries));
        Assert.Equal(0x2000u, map.Flags); // .struct_ops.link: BPF_F_LINK
        Assert.Equal("bpfnet_cc_ops", map.ValueType!.Name);
        Assert.Equal([new StructOpsProgram("init", 0, "cc_init"), new StructOpsProgram("ssthresh", 8, "cc_ssthresh")], map.StructOpsPrograms);
        // The struct's data members as compiled: flags = 7 at 24, name at 28.
        Assert.Equal(7u, BitConverter.ToUInt32(map.Contents[24..28]));
        Assert.Equal("bpfnet_cc", Encoding.ASCII.GetString(map.Contents[28..37]));
        Assert.Equal(["cc_init", "cc_ssthresh"], spec.Programs.Select(p => p.Name).Order());
        Assert.All(spec.Programs, p => Assert.Equal(ProgramType.StructOps, p.Type));
    }

    [Fact]
    public void Struct_ops_relocation_to_a_non_function_member_names_the_member()
    {
        // Point the first relocation's offset at byte 24 (the 'flags' member): the reader must say which member.
        var bytes = File.ReadAllBytes(RepoPaths.FeatureObject("struct_ops"));
        var elf = ElfFile.Parse(bytes);
        var rel = elf.Sections.Single(s => s.Name == ".rel.struct_ops.link");
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((int)rel.Offset), 24);
        var ex = Assert.Throws<BpfObjectException>(() => ObjectSpec.Read(bytes, "mutant"));
        Assert.Contains("member 'flags' is not a function pointer", ex.Message);
        Assert.Contains(".rel.struct_ops.link", ex.Message);
    }

    [Fact]
    public void Section_names_in_the_wild_resolve()
    {
        var spec = Read("sections");
        Assert.Equal(ProgramType.SocketFilter, spec.Program("sock_one")!.Type);
        Assert.Equal((ProgramType.SkLookup, AttachType.SkLookup), (spec.Program("lookup")!.Type, spec.Program("lookup")!.AttachType));
        Assert.Equal((ProgramType.Xdp, AttachType.Xdp), (spec.Program("xdp_legacy")!.Type, spec.Program("xdp_legacy")!.AttachType));
    }

    [Fact]
    public void Map_fixups_object_reads_as_written()
    {
        // The reader keeps what the object says; the kernel loader fixes the sizes up (KernelCollection tests).
        var spec = Read("map_fixups");
        Assert.Equal((0u, 16u, 4096u), (spec.Map("events")!.KeySize, spec.Map("events")!.ValueSize, spec.Map("events")!.MaxEntries));
        Assert.Equal((0u, 0u, 1024u), (spec.Map("perf")!.KeySize, spec.Map("perf")!.ValueSize, spec.Map("perf")!.MaxEntries));
    }
}
