using System.Text;
using Bpf.Elf;

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
        Assert.Equal(MapFlags.Mmapable, arena.Flags);
    }

    [Fact]
    public void Struct_ops_maps_are_read_with_their_programs_and_initial_bytes()
    {
        var spec = Read("struct_ops");
        var map = spec.Map("bpfnet_cc")!;
        Assert.Equal(MapSource.StructOps, map.Source);
        Assert.Equal(MapType.StructOps, map.Type);
        Assert.Equal((4u, 48u, 1u), (map.KeySize, map.ValueSize, map.MaxEntries));
        Assert.Equal(MapFlags.Link, map.Flags); // .struct_ops.link: BPF_F_LINK
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
        Assert.Equal((ProgramType.SocketFilter, "tail"), (spec.Program("tail")!.Type, spec.Program("tail")!.AttachTo));
    }

    [Fact]
    public void Functions_in_sections_naming_no_program_type_that_programs_call_are_subprograms()
    {
        var spec = Read("sections");
        Assert.Equal(["lookup", "sock_one", "tail", "xdp_legacy"], spec.Programs.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal([("tail", "socket/tail"), ("static_helper", "static"), ("global_helper", "other")],
            spec.Program("tail")!.Functions.Select(f => (f.Name, f.SectionName)));
        var run = Bpf.Runtime.ManagedCollection.Load(spec).Run("tail", new Bpf.Runtime.SkBuffContext(new byte[64]));
        Assert.Equal(7u, run.ReturnValue); // (3 - 1) + (4 + 1)
    }

    [Fact]
    public void Map_fixups_object_reads_as_written()
    {
        // The reader keeps what the object says; the kernel loader fixes the sizes up (KernelCollection tests).
        var spec = Read("map_fixups");
        Assert.Equal((0u, 16u, 4096u), (spec.Map("events")!.KeySize, spec.Map("events")!.ValueSize, spec.Map("events")!.MaxEntries));
        Assert.Equal((0u, 0u, 1024u), (spec.Map("perf")!.KeySize, spec.Map("perf")!.ValueSize, spec.Map("perf")!.MaxEntries));
        Assert.Equal((0u, 16u, 2u), (spec.Map("perf_typed")!.KeySize, spec.Map("perf_typed")!.ValueSize, spec.Map("perf_typed")!.MaxEntries));
    }

    [Fact]
    public void Kconfig_externs_are_classified_and_laid_out_as_libbpf_does()
    {
        var spec = Read("kconfig");
        var byName = spec.Externs.ToDictionary(e => e.Name);
        Assert.All(spec.Externs, e => Assert.Equal(ExternKind.Kconfig, e.Kind));
        Assert.Equal(KconfigType.Int, byName["LINUX_KERNEL_VERSION"].ConfigType);
        Assert.Equal(KconfigType.Bool, byName["CONFIG_BPF_SYSCALL"].ConfigType);
        Assert.Equal(KconfigType.Tristate, byName["CONFIG_BPF_JIT"].ConfigType);
        Assert.Equal((KconfigType.Int, true), (byName["CONFIG_HZ"].ConfigType!.Value, byName["CONFIG_HZ"].IsSigned));
        Assert.Equal(KconfigType.Char, byName["CONFIG_BPF_LSM"].ConfigType);
        Assert.Equal((KconfigType.CharArray, 16u), (byName["CONFIG_LOCALVERSION"].ConfigType!.Value, byName["CONFIG_LOCALVERSION"].Size));
        Assert.Equal([false, false, false, true, true, true, true],
            new[] { "LINUX_KERNEL_VERSION", "CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_HZ", "CONFIG_LOCALVERSION", "CONFIG_BPF_LSM", "CONFIG_BPFNET_NO_SUCH_OPTION" }
                .Select(n => byName[n].IsWeak));
        // Descending alignment, then ascending size, then name: the 8-byte one first, then the 4-byte ones by name,
        // then the 1-byte bool and char, then the 16-byte char array.
        Assert.Equal(
            [("CONFIG_BPFNET_NO_SUCH_OPTION", 0u), ("CONFIG_BPF_JIT", 8u), ("CONFIG_HZ", 12u), ("LINUX_KERNEL_VERSION", 16u),
             ("CONFIG_BPF_LSM", 20u), ("CONFIG_BPF_SYSCALL", 21u), ("CONFIG_LOCALVERSION", 22u)],
            spec.Externs.OrderBy(e => e.Offset).Select(e => (e.Name, e.Offset)));
        Assert.Equal(38u, spec.KconfigSize);
        Assert.Contains(spec.Program("read_config")!.References, r => r.Kind == ReferenceKind.ExternVariable && r.Name == "CONFIG_HZ");
    }

    [Fact]
    public void Ksym_externs_are_variables_typed_or_not_and_kfuncs()
    {
        var spec = Read("ksyms");
        Assert.Equal((ExternKind.KernelVariable, true, false), (spec.Extern("bpf_prog_active")!.Kind, spec.Extern("bpf_prog_active")!.IsTyped, spec.Extern("bpf_prog_active")!.IsWeak));
        Assert.Equal((ExternKind.KernelVariable, false), (spec.Extern("bpf_fentry_test1")!.Kind, spec.Extern("bpf_fentry_test1")!.IsTyped));
        Assert.Equal((ExternKind.KernelFunction, true), (spec.Extern("bpfnet_no_such_kfunc")!.Kind, spec.Extern("bpfnet_no_such_kfunc")!.IsWeak));
        Assert.IsType<Bpf.Btf.BtfFuncProto>(spec.Extern("bpf_cast_to_kern_ctx")!.Type);
        Assert.Equal(0u, spec.KconfigSize);
        var calls = spec.Program("kfunc_calls")!.References.Where(r => r.Kind == ReferenceKind.KernelFunction).Select(r => r.Name);
        Assert.Equal(["bpf_rcu_read_lock", "bpf_rcu_read_unlock", "bpf_cast_to_kern_ctx"], calls);
    }

    private static KconfigValues Kconfig(string config, IReadOnlyDictionary<string, ulong>? virtuals = null) =>
        KconfigValues.Build(Read("kconfig"), [new KconfigSource("test", config.Split('\n'))],
            virtuals ?? new Dictionary<string, ulong> { ["LINUX_KERNEL_VERSION"] = 0x06122c });

    [Fact]
    public void Kconfig_values_are_set_as_libbpf_sets_them()
    {
        var spec = Read("kconfig");
        var k = Kconfig("# CONFIG_X is not set\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=m\nCONFIG_HZ=-5\nCONFIG_BPF_LSM=n\nCONFIG_LOCALVERSION=\"-abc\"\nCONFIG_HZ=300");
        Assert.Empty(k.Unresolved);
        int At(string name) => (int)spec.Extern(name)!.Offset;
        Assert.Equal(0x06122cu, BitConverter.ToUInt32(k.Data, At("LINUX_KERNEL_VERSION")));
        Assert.Equal(1, k.Data[At("CONFIG_BPF_SYSCALL")]);
        Assert.Equal(2u, BitConverter.ToUInt32(k.Data, At("CONFIG_BPF_JIT")));
        Assert.Equal(-5, BitConverter.ToInt32(k.Data, At("CONFIG_HZ"))); // the first value given wins
        Assert.Equal((byte)'n', k.Data[At("CONFIG_BPF_LSM")]);
        Assert.Equal("-abc\0", Encoding.ASCII.GetString(k.Data, At("CONFIG_LOCALVERSION"), 5));
        Assert.Contains(k.Notes, n => n.Contains("CONFIG_BPFNET_NO_SUCH_OPTION", StringComparison.Ordinal) && n.Contains("left 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("CONFIG_BPF_SYSCALL=y", "CONFIG_BPF_JIT", "(strong): not set in test")]
    [InlineData("CONFIG_BPF_SYSCALL=m\nCONFIG_BPF_JIT=y", "CONFIG_BPF_SYSCALL", "value 'm' implies a tristate or char")]
    [InlineData("CONFIG_BPF_SYSCALL=2\nCONFIG_BPF_JIT=y", "CONFIG_BPF_SYSCALL", "implies an integer type")]
    [InlineData("CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HZ=0x100000000", "CONFIG_HZ", "does not fit in 4 bytes")]
    [InlineData("CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HZ=12abc", "CONFIG_HZ", "is not a valid integer")]
    [InlineData("CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HZ=\"x\"", "CONFIG_HZ", "implies a char array")]
    [InlineData("CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=\"y\"", "CONFIG_BPF_JIT", "implies a char array")]
    public void Kconfig_values_that_cannot_be_set_name_the_extern(string config, string name, string why)
    {
        var k = Kconfig(config);
        Assert.Contains(why, k.Unresolved[name]);
        Assert.Single(k.Unresolved);
    }

    [Fact]
    public void Kconfig_without_a_kernel_version_refuses_the_strong_virtual_extern()
    {
        var k = Kconfig("CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y", new Dictionary<string, ulong>());
        Assert.Contains("LINUX_KERNEL_VERSION", k.Unresolved["LINUX_KERNEL_VERSION"]);
    }

    [Theory]
    [InlineData("kconfig", "read_config", "does not resolve externs")]
    [InlineData("ksyms", "strong_kfunc_missing", "needs a kernel's BTF and symbols to resolve against, and none was given")]
    public void The_managed_runtime_without_kernel_facts_refuses_programs_using_externs_naming_the_extern(string obj, string program, string why)
    {
        var spec = Read(obj);
        var collection = Bpf.Runtime.ManagedCollection.Load(spec);
        var first = spec.Program(program)!.References.First(r => r.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction);
        var ex = Assert.Throws<NotSupportedException>(() => collection.Program(program));
        Assert.Contains($"program '{program}'", ex.Message);
        Assert.Contains($"{first.InstructionIndex}", ex.Message);
        Assert.Contains($"'{first.Name}'", ex.Message);
        Assert.Contains(why, ex.Message);
        Assert.Equal(spec.Programs.Count, collection.UnsupportedPrograms.Count); // every program of these objects uses one
    }

    [Fact]
    public void A_kconfig_extern_of_absurd_size_is_refused_without_allocating_it()
    {
        // Make every char[16] of the object's BTF (CONFIG_LOCALVERSION's type) a char[0x7fffffff].
        var bytes = File.ReadAllBytes(RepoPaths.FeatureObject("kconfig"));
        var btf = ElfFile.Parse(bytes).Sections.Single(s => s.Name == ".BTF");
        var span = bytes.AsSpan((int)btf.Offset, (int)btf.Size);
        int patched = 0;
        for (int i = 24; i + 24 <= span.Length; i += 4)
        {
            if (BitConverter.ToUInt32(span[(i + 4)..]) == 0x03000000 && BitConverter.ToUInt32(span[(i + 8)..]) == 0 && BitConverter.ToUInt32(span[(i + 20)..]) == 16)
            {
                BitConverter.TryWriteBytes(span[(i + 20)..], 0x7fffffff);
                patched++;
            }
        }
        Assert.True(patched > 0);
        var ex = Assert.Throws<BpfObjectException>(() => ObjectSpec.Read(bytes, "mutant"));
        Assert.Contains("__kconfig extern 'CONFIG_LOCALVERSION' is 2147483647 bytes", ex.Message);
    }
}
