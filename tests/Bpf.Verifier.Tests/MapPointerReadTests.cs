using Bpf.Asm;
using Bpf.Runtime;
using Bpf.Tests;
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

    /// <summary>
    /// Every member of the kernel's struct bpf_map (at the start of an array map's bpf_array), read through the map
    /// pointer at its offset with every width and one past it; every pointer member also passed to a helper where a
    /// map is expected (the refusal names the pointer's type: untrusted, as every pointer read through another). Offsets
    /// come from this machine's BTF; verdict and words compared with the kernel's.
    /// </summary>
    [KernelFact]
    public void Every_bpf_map_member_agrees_with_the_kernel()
    {
        Need.Kernel();
        var btf = Bpf.Loader.KernelBtf.TryGet() ?? throw new InvalidOperationException("the kernel runs BPF but has no BTF to read");
        var map = (Bpf.Btf.BtfComposite)btf.FindType("bpf_map", Bpf.Btf.BtfKind.Struct)!;
        var programs = new List<(string Name, VerifierSource Source)>();
        foreach (var m in map.Members)
        {
            var off = (int)m.ByteOffset;
            foreach (var (w, at) in new[] { ("u8", off), ("u16", off), ("u32", off), ("u64", off), ("u32", off + 1) })
            {
                programs.Add(($"{m.Name} {w} +{at}", VerifierSource.Parse($".map a array key=4 value=8 entries=4\nr1 = map:a ll\nr0 = *({w} *)(r1 + {at})\nr0 = 0\nexit\n", AsmDialect.Llvm)));
            }
            // (A pointer to anything but a struct is the kernel's rdonly_untrusted_mem, a scalar for ours: the same
            // refusal in other words, so only struct pointers are passed.)
            if (Bpf.Btf.BtfSpec.Underlying(m.Type) is Bpf.Btf.BtfPointer ptr && Bpf.Btf.BtfSpec.Underlying(ptr.Target) is Bpf.Btf.BtfComposite)
            {
                programs.Add(($"{m.Name} passed as a map", VerifierSource.Parse(
                    $".map a array key=4 value=8 entries=4\n*(u32 *)(r10 - 4) = 0\nr1 = map:a ll\nr1 = *(u64 *)(r1 + {off})\nr2 = r10\nr2 += -4\ncall 1\nr0 = 0\nexit\n", AsmDialect.Llvm)));
            }
        }
        var kernel = KernelOracle.LoadAll(programs.Select(p => (p.Source.Instructions, p.Source.Maps, ProgramType.SocketFilter)).ToList(), PrivilegeMode.Privileged);
        var disagreements = new List<string>();
        var wording = new WordingDifferences();
        int accepted = 0;
        for (var i = 0; i < programs.Count; i++)
        {
            Assert.False(kernel[i].SetupFailed, kernel[i].Message);
            var ours = BpfVerifier.Verify(programs[i].Source.Instructions, programs[i].Source.ToOptions(kernelBtf: btf));
            if (kernel[i].Accepted) accepted++;
            if (ours.IsAccepted != kernel[i].Accepted || ours.Error?.Code == VerifierErrorCode.NotSupported)
            {
                disagreements.Add($"{programs[i].Name}: ours [{ours}] kernel [{(kernel[i].Accepted ? "accept" : kernel[i].Message)}]");
            }
            wording.Check(programs[i].Name, ours, kernel[i]);
        }
        output.WriteLine($"{programs.Count} programs over {map.Members.Count} members compared, kernel accepted {accepted}, {disagreements.Count} disagree, {wording.Count} worded differently");
        foreach (var d in disagreements) output.WriteLine(d);
        foreach (var w in wording.Report()) output.WriteLine(w);
        Assert.True(accepted >= 20 && accepted < programs.Count, $"the kernel accepted {accepted} of {programs.Count}");
        Assert.Empty(disagreements);
        Assert.True(wording.Count == 0, string.Join("\n", wording.Report()));
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
