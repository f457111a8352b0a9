using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>The verifier judges CO-RE programs after relocation, as the kernel sees them (features/core_*.c).</summary>
public sealed class CoreObjectTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    [Fact]
    public void Relocated_against_a_target_that_has_the_field_it_is_accepted()
    {
        var r = ObjectVerifier.Verify(Read("core_config"), "read_threshold", PrivilegeMode.Privileged, Read("core_target_moved").Btf);
        Assert.True(r.IsAccepted, r.Error?.ToString());
    }

    [Fact]
    public void Without_a_target_it_is_not_judged_unrelocated()
    {
        var r = ObjectVerifier.Verify(Read("core_config"), "read_threshold");
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error!.Code);
        Assert.Contains("CO-RE", r.Error.Message);
    }

    [Fact]
    public void A_poisoned_relocation_that_the_program_reaches_is_rejected_at_that_instruction()
    {
        var spec = Read("core_config");
        var r = ObjectVerifier.Verify(spec, "read_threshold", PrivilegeMode.Privileged, Read("core_target_missing").Btf);
        Assert.False(r.IsAccepted);
        Assert.Equal(spec.Program("read_threshold")!.CoreRelocations[0].InstructionIndex, r.Error!.InstructionIndex);
    }
}
