using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>Programs using externs (features/kconfig.c, ksyms.c): their values come from the running kernel, which
/// this verifier does not model; it says so naming the extern rather than judge unresolved instructions.</summary>
public sealed class ExternObjectTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [Theory]
    [InlineData("kconfig", "read_config", "Kconfig")]
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
}
