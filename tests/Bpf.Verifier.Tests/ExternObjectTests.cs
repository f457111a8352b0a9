using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>Programs using externs (features/kconfig.c, ksyms.c). __ksym variables and kfuncs resolve against a
/// kernel (<see cref="KernelSymbols"/>) as the loader resolves them, and the verifier judges the resolved program;
/// without one it says so naming the extern rather than judge unresolved instructions. __kconfig externs are loads
/// from the read-only .kconfig map, judged as the kernel judges them.</summary>
public sealed class ExternObjectTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [Theory]
    [InlineData("ksyms", "typeless_symbol", "KernelVariable")]
    [InlineData("ksyms", "weak_kfunc_called", "KernelFunction")]
    public void Without_a_kernel_extern_references_are_not_supported_naming_the_extern(string obj, string program, string kind)
    {
        var spec = Read(obj);
        var r = ObjectVerifier.Verify(spec, program);
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error!.Code);
        var first = spec.Program(program)!.References.First(x => x.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction);
        Assert.Equal(first.InstructionIndex, r.Error.InstructionIndex);
        Assert.Contains($"extern '{first.Name}' ({kind}", r.Error.Message);
    }

    /// <summary>Against the running kernel: the resolved program is judged, and the kernel's verdict is the same
    /// (a typeless address and absent weak externs are constants; a poisoned call to an absent weak kfunc is refused
    /// only where it is reachable: "invalid func unknown#2002000000+index", the kernel's words).</summary>
    [KernelTheory]
    [InlineData("typeless_symbol", true)]
    [InlineData("weak_variable", true)]
    [InlineData("weak_kfunc_guarded", true)]
    [InlineData("weak_kfunc_called", false)]
    public void Resolved_against_the_running_kernel_the_verdict_is_the_kernels(string program, bool accepted)
    {
        Need.Kernel();
        var spec = Read("ksyms");
        var symbols = Bpf.Loader.KernelBtf.TryGetSymbols() ?? throw new InvalidOperationException("the kernel has no BTF");
        var ours = ObjectVerifier.Verify(spec, program, PrivilegeMode.Privileged, symbols.Btf, symbols);
        Assert.Equal(accepted, ours.IsAccepted);
        if (!accepted)
        {
            int index = spec.Externs.ToList().FindIndex(e => e.Name == "bpfnet_no_such_kfunc");
            Assert.Equal($"invalid func unknown#{2002000000 + index}", ours.Error!.Message);
        }
        using var c = Need.PermittedOrSkip("loading ksyms.o", () => Bpf.Loader.KernelCollection.Load(spec, new Bpf.Loader.KernelCollectionOptions { SkipFailedPrograms = true }));
        Assert.Equal(accepted, c.Programs.ContainsKey(program));
        if (!accepted) Assert.Contains(ours.Error!.Message, c.FailedPrograms[program].Message);
    }

    [Theory]
    [InlineData("kconfig", "read_config")]
    [InlineData("kconfig_virtual", "virtuals")]
    public void Kconfig_externs_are_reads_of_the_kconfig_map(string obj, string program)
    {
        var spec = Read(obj);
        var r = ObjectVerifier.Verify(spec, program);
        Assert.True(r.IsAccepted, r.ToString());
    }

    [KernelTheory]
    [InlineData("kconfig", "read_config")]
    [InlineData("kconfig_virtual", "virtuals")]
    public void Kconfig_programs_are_accepted_by_the_kernel_too(string obj, string program)
    {
        Need.Kernel();
        var spec = Read(obj);
        using var c = Need.PermittedOrSkip($"loading {obj}.o", () => Bpf.Loader.KernelCollection.Load(spec, new Bpf.Loader.KernelCollectionOptions { SkipFailedPrograms = true }));
        Assert.True(c.Programs.ContainsKey(program), c.FailedPrograms.GetValueOrDefault(program)?.Message);
    }
}
