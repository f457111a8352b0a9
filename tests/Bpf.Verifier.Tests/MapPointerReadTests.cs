using Bpf.Asm;
using Bpf.Runtime;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Reads of struct bpf_map fields through a map pointer: judged with a kernel BTF (the kernel's
/// check_ptr_to_map_access), refused without one, and explicitly unsupported by the managed runtime.</summary>
public sealed class MapPointerReadTests(ITestOutputHelper output)
{
    private static readonly VerifierSource Source = VerifierSource.Parse("""
        .type xdp
        .map a array key=4 value=8 entries=4
        r1 = map:a ll
        r0 = *(u32 *)(r1 + 76)
        exit
        """, AsmDialect.Llvm);

    [Fact]
    public void WithoutKernelBtf_RefusedWithTheKernelsMessage()
    {
        var r = BpfVerifier.Verify(Source.Instructions, Source.ToOptions());
        Assert.Equal("map_ptr access not supported without CONFIG_DEBUG_INFO_BTF", r.Error?.Message);
        Assert.Equal(2, r.Error!.InstructionIndex);
    }

    [Fact]
    public void WithKernelBtf_RootReadsAScalar_CapBpfIsRefused()
    {
        var btf = Bpf.Loader.KernelBtf.TryGet();
        if (btf is null) Assert.Skip("no /sys/kernel/btf/vmlinux on this machine");
        var root = BpfVerifier.Verify(Source.Instructions, Source.ToOptions(kernelBtf: btf));
        output.WriteLine($"root: {root}");
        var field = ((Bpf.Btf.BtfComposite)btf.FindType("bpf_map", Bpf.Btf.BtfKind.Struct)!).FindMember("max_entries")!;
        // Offset 76 is max_entries on this machine's 6.18 BTF; on another layout the verdict follows that layout.
        if (field.ByteOffset == 76) Assert.True(root.IsAccepted, root.ToString());
        var cap = BpfVerifier.Verify(Source.Instructions, Source.ToOptions(PrivilegeMode.CapBpfOnly, kernelBtf: btf));
        Assert.Equal("'struct bpf_array' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN", cap.Error?.Message);
    }

    [Fact]
    public void ManagedRuntime_FaultsNamingTheInstruction()
    {
        var c = new ManagedCollection();
        c.CreateMap(Source.Maps[0]);
        var refs = new[] { new InstructionReference(0, ReferenceKind.Map, "a", 0) };
        var insns = Source.Instructions.ToArray();
        c.LoadProgram("p", ProgramType.Xdp, insns, refs);
        var r = c.Run("p", new XdpContext(new byte[64]));
        output.WriteLine(r.Fault?.ToString() ?? "no fault");
        Assert.False(r.Succeeded);
        Assert.Contains("insn 2", r.Fault!.Message, StringComparison.Ordinal);
        Assert.Contains("struct bpf_map fields", r.Fault.Message, StringComparison.Ordinal);
        Assert.Contains("not supported by the managed runtime", r.Fault.Message, StringComparison.Ordinal);
    }
}
