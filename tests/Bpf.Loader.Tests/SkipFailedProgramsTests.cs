using Bpf.Tests;

namespace Bpf.Loader.Tests;

/// <summary>BpfEngineOptions.SkipFailedPrograms: an object with one program the verifiers reject (partly_rejected.c:
/// `unchecked`, a packet read without a bounds check) opens on both engines with its other programs, which run; the
/// rejected one is reported as not loadable with its ProgramRejectedException.</summary>
public sealed class SkipFailedProgramsTests
{
    private static ObjectSpec PartlyRejected() => ObjectSpec.ReadFile(KernelCollectionTests.LoaderObject("partly_rejected"));

    private static readonly BpfEngineOptions Skip = new() { SkipFailedPrograms = true };

    private static readonly byte[] Packet = new byte[64];

    [Fact]
    public void Interpreter_LeavesTheRejectedProgramOut_AndRunsTheOthers()
    {
        using var c = BpfEngine.Open(PartlyRejected(), EngineChoice.Interpreter, Skip);
        Assert.Equal(["length", "pass"], c.Programs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2UL, c.Program("pass").Run(Packet).ReturnValue);
        Assert.Equal((ulong)Packet.Length, c.Program("length").Run(Packet).ReturnValue);
        var leftOut = Assert.Throws<NotSupportedException>(() => c.Program("unchecked"));
        var rejected = Assert.IsType<ProgramRejectedException>(leftOut.InnerException);
        Assert.Equal(RejectedBy.BpfNetVerifier, rejected.RejectedBy);
        Assert.Equal("unchecked", rejected.ProgramName);
        Assert.Contains(rejected.Message, leftOut.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => c.Program("no_such_program"));
    }

    [Fact]
    public void Interpreter_WithoutTheOption_RefusesTheWholeObject()
    {
        var e = Assert.Throws<ProgramRejectedException>(() => BpfEngine.Open(PartlyRejected(), EngineChoice.Interpreter));
        Assert.Equal("unchecked", e.ProgramName);
    }

    [KernelFact]
    public void BothEngines_LeaveOutTheSameProgram_AndAgreeOnTheOthers()
    {
        Need.Kernel();
        using var kernel = Need.PermittedOrSkip("loading partly_rejected.o", () => BpfEngine.Open(PartlyRejected(), EngineChoice.Kernel, Skip));
        using var interp = BpfEngine.Open(PartlyRejected(), EngineChoice.Interpreter, Skip);
        Assert.Equal(interp.Programs.Keys.Order(StringComparer.Ordinal), kernel.Programs.Keys.Order(StringComparer.Ordinal));
        var refused = Assert.IsType<ProgramRejectedException>(Assert.Throws<NotSupportedException>(() => kernel.Program("unchecked")).InnerException);
        Assert.Equal(RejectedBy.Kernel, refused.RejectedBy);
        foreach (var name in new[] { "pass", "length" })
        {
            Assert.Equal(kernel.Program(name).Run(Packet).ReturnValue, interp.Program(name).Run(Packet).ReturnValue);
        }
    }

    [Fact]
    public void Interpreter_LeavesOutProgramsWhoseContextIsKernelObjects()
    {
        // fentry, fexit and LSM programs (and iterators) beside kprobes: the runtime has no kernel objects for them.
        var spec = ObjectSpec.ReadFile(Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "programs", "btf", "btf_ctx.o"));
        using var c = BpfEngine.Open(spec, EngineChoice.Interpreter, Skip);
        var e = Assert.Throws<NotSupportedException>(() => c.Program("ok_fentry_args"));
        Assert.Contains("which the managed runtime does not have: load it with the kernel engine", e.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => c.Program("ok_lsm_file_open"));
        Assert.Throws<NotSupportedException>(() => c.Program("ok_iter_task"));
        // Its write to a __kconfig extern is refused by BpfNet's verifier, which models the read-only .kconfig map.
        var rejected = Assert.IsType<ProgramRejectedException>(Assert.Throws<NotSupportedException>(() => c.Program("bad_kconfig_write")).InnerException);
        Assert.Contains("write into map forbidden", rejected.Message, StringComparison.Ordinal);
    }
}
