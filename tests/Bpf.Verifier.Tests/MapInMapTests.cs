using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>A lookup in a map of maps yields the inner map (typed by its template) or null, as in the kernel.</summary>
public sealed class MapInMapTests
{
    private static ObjectSpec Read() => ObjectSpec.ReadFile(RepoPaths.CorpusObject("map_in_map"));

    [Fact]
    public void NullCheckedInnerMap_CanBeLookedUp()
    {
        var r = ObjectVerifier.Verify(Read(), "lookup_nested");
        Assert.True(r.IsAccepted, r.ToString());
    }

    [Fact]
    public void InnerMap_WithoutTheNullCheck_IsRefused()
    {
        var spec = Read();
        Assert.True(ObjectVerifier.TryPrepare(spec, spec.Program("lookup_nested")!, PrivilegeMode.Privileged, out var insns, out var options, out var error), error?.Message);
        // The first "if rX == 0" after the outer lookup is the null check: make it fall through.
        var firstCall = Array.FindIndex(insns, i => i.Opcode == Opcodes.Call);
        var check = Array.FindIndex(insns, firstCall, i => i.Opcode == 0x15 && i.Imm == 0);
        Assert.True(check > firstCall, "no null check found after the outer lookup");
        insns[check] = new Instruction(0x05, (byte)0, (byte)0, 0, 0); // goto +0
        var r = BpfVerifier.Verify(insns, options);
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.InvalidHelperArgument, r.Error!.Code);
        Assert.Contains("map_value_or_null", r.Error.Message);
    }
}
