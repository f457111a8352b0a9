using System.Text.RegularExpressions;
using Bpf.Verifier;

namespace Bpf.Loader.Tests;

/// <summary>BpfNet's verifier on the load path: the interpreter engine refuses what the kernel refuses, with the same
/// exception, instruction and source line; a kernel rejection carries our verifier's explanation.</summary>
public sealed partial class VerifiedLoadTests
{
    // past_data_end.c checks data_end for 14 bytes, then reads data[20]: instruction 6, line 12.
    private static ObjectSpec PastDataEnd() => ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject("past_data_end"));

    private const int FailingInstruction = 6;
    private const string FailingLine = "past_data_end.c:12";

    private static IBpfCollection RefusePrivileges(ObjectSpec spec, KernelCollectionOptions? o) =>
        throw new BpfSyscallException("BPF_PROG_LOAD", 1, "BPF_PROG_LOAD failed: EPERM (1)");

    private static void AssertOurRejection(ProgramRejectedException ex)
    {
        Assert.Equal(RejectedBy.BpfNetVerifier, ex.RejectedBy);
        Assert.Equal("past_data_end", ex.ProgramName);
        Assert.Equal(FailingInstruction, ex.FailedInstructionIndex);
        Assert.Equal("EACCES", ex.ErrnoName);
        Assert.Contains($"at instruction {FailingInstruction}", ex.Message);
        Assert.Contains(FailingLine, ex.Message);
        Assert.Contains("return data[20] == 6 ? 2 : 1;", ex.Message);
        Assert.Equal(VerifierErrorCode.PacketOutOfBounds, ex.Explanation!.Code);
        Assert.False(string.IsNullOrEmpty(ex.Log));
    }

    [Fact]
    public void Interpreter_RefusesAProgramThatReadsPastDataEnd()
    {
        AssertOurRejection(Assert.Throws<ProgramRejectedException>(() => BpfEngine.Open(PastDataEnd(), EngineChoice.Interpreter)));
    }

    [Fact]
    public void AutoFallback_RefusesAProgramThatReadsPastDataEnd()
    {
        AssertOurRejection(Assert.Throws<ProgramRejectedException>(() => BpfEngine.OpenWith(PastDataEnd(), EngineChoice.Auto, null, RefusePrivileges)));
    }

    [Fact]
    public void NoKernelOnThisSystem_AutoVerifiesToo()
    {
        AssertOurRejection(Assert.Throws<ProgramRejectedException>(() => BpfEngine.OpenOn(PastDataEnd(), EngineChoice.Auto, null, KernelHost.None)));
    }

    [Fact]
    public void Verification_CanBeTurnedOff_Explicitly()
    {
        using var c = BpfEngine.Open(PastDataEnd(), EngineChoice.Interpreter,
            new BpfEngineOptions { Verify = false, Privilege = PrivilegeMode.Privileged });
        Assert.Contains("NOT verified", c.EngineReason);
        // The interpreter is memory-safe: the read past the end is a fault, never a read of foreign memory.
        Assert.ThrowsAny<Exception>(() => c.Program("past_data_end").Run(new byte[14]));
    }

    [Fact]
    public void AcceptedObject_SaysItWasVerified_AndWithWhichPrivileges()
    {
        using var c = BpfEngine.Open(ObjectSpec.ReadFile(RepoPaths.CorpusObject("globals")), EngineChoice.Interpreter,
            new BpfEngineOptions { Privilege = PrivilegeMode.CapBpfOnly });
        Assert.Contains("verified by BpfNet's verifier (CAP_BPF without CAP_PERFMON)", c.EngineReason);
    }

    [Fact]
    public void PrivilegeMode_IsConfigurable_UnprivilegedRefusesXdp()
    {
        var ex = Assert.Throws<ProgramRejectedException>(() => BpfEngine.Open(ObjectSpec.ReadFile(Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs", "rt_xdp_filter.o")),
            EngineChoice.Interpreter, new BpfEngineOptions { Privilege = PrivilegeMode.Unprivileged }));
        Assert.Equal("EPERM", ex.ErrnoName);
        Assert.Equal(VerifierErrorCode.PermissionDenied, ex.Explanation!.Code);
        Assert.Contains("unprivileged", ex.Message);
    }

    [Fact]
    public void NoKernelOnThisSystem_CoReWithoutTarget_NamesTheRelocation_InsteadOfReadingTheHostsBtf()
    {
        // With no kernel host, nothing may be read from the system: a CO-RE program without a supplied target is not
        // relocated against /sys/kernel/btf/vmlinux but reported, naming the relocation.
        var spec = ObjectSpec.ReadFile(RepoPaths.FeatureObject("core_config"));
        using var c = (InterpreterCollection)BpfEngine.OpenOn(spec, EngineChoice.Auto, null, KernelHost.None);
        var why = Assert.Single(c.Managed.UnsupportedPrograms).Value;
        Assert.Contains($"insn {spec.Programs[0].CoreRelocations[0].InstructionIndex}", why);
        Assert.Contains("'config'", why);
        Assert.Contains("no target BTF", why);
    }

    [Fact]
    public void CoRe_WithASuppliedTarget_IsRelocatedVerifiedAndRun_InTheInterpreter()
    {
        var spec = ObjectSpec.ReadFile(RepoPaths.FeatureObject("core_config"));
        var target = ObjectSpec.ReadFile(RepoPaths.FeatureObject("core_target_moved")).Btf;
        using var c = BpfEngine.OpenOn(spec, EngineChoice.Auto, new BpfEngineOptions { Interpreter = new Runtime.CollectionOptions { TargetBtf = target } }, KernelHost.None);
        Assert.Contains("verified by BpfNet's verifier", c.EngineReason);
        var value = new byte[32];
        // core_target_moved puts threshold at byte 12: the relocated program reads there, not at the object's offset 4.
        BitConverter.TryWriteBytes(value.AsSpan(12), 7u);
        BitConverter.TryWriteBytes(value.AsSpan(4), 99u);
        c.Map("settings").Update(new byte[4], value);
        Assert.Equal(7u, c.Program("read_threshold").Run(new byte[64]).ReturnValue);
    }

    [KernelFact]
    public void Kernel_RefusesTheSameInstructionAndLine_AndCarriesOurExplanation()
    {
        Kernel.Require();
        var ex = Assert.Throws<ProgramRejectedException>(() => BpfEngine.Open(PastDataEnd(), EngineChoice.Kernel));
        Assert.Equal(RejectedBy.Kernel, ex.RejectedBy);
        Assert.Equal(FailingInstruction, ex.FailedInstructionIndex);
        // The kernel's log names the source line of the failing instruction.
        Assert.Contains($"@ {FailingLine}", ex.Log);
        var kernelLine = LastSourceLine().Matches(ex.Log).Last().Groups[1].Value;
        Assert.Equal(FailingLine, kernelLine);
        // Our verifier's account of the same program: same instruction, same line.
        Assert.NotNull(ex.Explanation);
        Assert.Equal(FailingInstruction, ex.Explanation.InstructionIndex);
        Assert.Equal(12, ex.Explanation.Source!.Line);
        Assert.Contains("BpfNet verifier", ex.Message);

        var ours = Assert.Throws<ProgramRejectedException>(() => BpfEngine.Open(PastDataEnd(), EngineChoice.Interpreter));
        Assert.Equal(ex.FailedInstructionIndex, ours.FailedInstructionIndex);
        Assert.Equal(ex.GetType(), ours.GetType());
        Assert.Equal(ex.ErrnoName, ours.ErrnoName);
    }

    [GeneratedRegex(@"@ (\S+:\d+)")]
    private static partial Regex LastSourceLine();
}
