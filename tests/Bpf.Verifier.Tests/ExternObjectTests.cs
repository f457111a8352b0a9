using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>Programs using externs (features/kconfig.c, ksyms.c). __ksym variables and kfuncs come from the running
/// kernel, which this verifier does not model: it says so naming the extern rather than judge unresolved
/// instructions. __kconfig externs are loads from the read-only .kconfig map, judged as the kernel judges them.</summary>
public sealed class ExternObjectTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [Theory]
    [InlineData("ksyms", "typeless_symbol", "KernelVariable")]
    [InlineData("ksyms", "weak_kfunc_called", "KernelFunction")]
    public void Extern_references_are_not_supported_naming_the_extern(string obj, string program, string kind)
    {
        var spec = Read(obj);
        var r = ObjectVerifier.Verify(spec, program);
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error!.Code);
        var first = spec.Program(program)!.References.First(x => x.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction);
        Assert.Equal(first.InstructionIndex, r.Error.InstructionIndex);
        Assert.Contains($"extern '{first.Name}' ({kind}", r.Error.Message);
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
