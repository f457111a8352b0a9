using Bpf.Loader;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// BTF-typed contexts (fentry, fexit, LSM and iterator programs: the context is the attach target's arguments typed
/// by its prototype in the kernel's BTF, struct pointers are PTR_TO_BTF_ID) and __kconfig externs (the read-only
/// .kconfig map), from programs/btf/btf_ctx.c: each program's name says the kernel's verdict (ok_*, bad_*). Our
/// verdicts need this machine's BTF; the comparison with the kernel covers the programs the kernel judges here (it
/// refuses fentry, fexit and LSM loads with EPERM before verifying on some machines: those are listed, not compared).
/// </summary>
public sealed class BtfContextTests(ITestOutputHelper output)
{
    private static string ObjectPath => Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "programs", "btf", "btf_ctx.o");

    private static Btf.BtfSpec Vmlinux()
    {
        Need.SystemFile("/sys/kernel/btf/vmlinux");
        return KernelBtf.TryGet() ?? throw new InvalidOperationException("/sys/kernel/btf/vmlinux exists but could not be read");
    }

    [Fact]
    public void OurVerdicts_FollowTheProgramNames()
    {
        var btf = Vmlinux();
        var spec = ObjectSpec.ReadFile(ObjectPath);
        Assert.Equal(14, spec.Programs.Count);
        foreach (var p in spec.Programs)
        {
            var r = ObjectVerifier.Verify(spec, p.Name, PrivilegeMode.Privileged, btf);
            output.WriteLine($"{p.Name}: {r}");
            if (p.Name.StartsWith("na_", StringComparison.Ordinal))
            {
                Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
                continue;
            }
            Assert.NotEqual(VerifierErrorCode.NotSupported, r.Error?.Code);
            Assert.True(r.IsAccepted == p.Name.StartsWith("ok_", StringComparison.Ordinal), $"{p.Name}: {r}");
        }
    }

    [Theory]
    [InlineData("bad_iter_task_unchecked", "R1 invalid mem access 'trusted_ptr_or_null_'")]
    [InlineData("bad_iter_wrong_struct", "R1 is of type seq_file but task_struct is expected")]
    [InlineData("bad_iter_write_task", "only read is supported")]
    [InlineData("bad_iter_beyond_struct", "access beyond struct task_struct at off 1048576 size 4")]
    [InlineData("bad_fentry_no_such_arg", "func 'do_unlinkat' doesn't have 3-th argument")]
    [InlineData("bad_fentry_misaligned", "func 'do_unlinkat' offset 4 is not multiple of 8")]
    [InlineData("bad_kconfig_write", "write into map forbidden, value_size=8 off=0 size=4")]
    [InlineData("bad_lsm_positive", "At program exit the register R0 has smin=1 smax=1 should have been in [-4095, 0]")]
    public void Rejections_SayWhatTheKernelSays(string program, string message)
    {
        var btf = Vmlinux();
        var r = ObjectVerifier.Verify(ObjectSpec.ReadFile(ObjectPath), program, PrivilegeMode.Privileged, btf);
        Assert.Equal(message, r.Error?.Message);
    }

    [Fact]
    public void WithoutTheKernelsBtf_BtfContextsAreNotJudged()
    {
        var spec = ObjectSpec.ReadFile(ObjectPath);
        // CO-RE needs a target too: relocate against this machine's BTF, then verify without it.
        var btf = Vmlinux();
        foreach (var name in new[] { "ok_fentry_args", "ok_lsm_file_open" })
        {
            var program = spec.Program(name)!;
            Assert.True(ObjectVerifier.TryPrepare(spec, program, PrivilegeMode.Privileged, btf, out var insns, out var options, out var error), error?.Message);
            var r = BpfVerifier.Verify(insns, new VerifierOptions { ProgramType = options.ProgramType, ExpectedAttachType = options.ExpectedAttachType, Maps = options.Maps, AttachTarget = options.AttachTarget });
            Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
            Assert.Contains("VerifierOptions.KernelBtf", r.Error!.Message, StringComparison.Ordinal);
        }
    }

    [KernelFact]
    public void Verdicts_AgreeWithTheKernel()
    {
        Need.Kernel();
        var btf = Vmlinux();
        var spec = ObjectSpec.ReadFile(ObjectPath);
        using var kernel = Need.PermittedOrSkip("loading btf_ctx.o", () => KernelCollection.Load(spec, new KernelCollectionOptions { SkipFailedPrograms = true }));
        var compared = 0;
        var disagreements = new List<string>();
        foreach (var p in spec.Programs)
        {
            var ours = ObjectVerifier.Verify(spec, p.Name, PrivilegeMode.Privileged, btf);
            if (ours.Error?.Code == VerifierErrorCode.NotSupported)
            {
                output.WriteLine($"{p.Name}: not judged by ours ({ours.Error.Message})");
                continue;
            }
            bool kernelAccepted;
            if (kernel.Programs.ContainsKey(p.Name))
            {
                kernelAccepted = true;
            }
            else
            {
                var failure = kernel.FailedPrograms[p.Name];
                if (failure is ProgramRejectedException { IsEnvironmentRefusal: true })
                {
                    output.WriteLine($"{p.Name}: no kernel verdict on this machine (EPERM before verifying); ours: {ours}");
                    continue;
                }
                Assert.IsType<ProgramRejectedException>(failure);
                kernelAccepted = false;
            }
            compared++;
            output.WriteLine($"{p.Name}: kernel {(kernelAccepted ? "accept" : "reject: " + kernel.FailedPrograms[p.Name].Message.Split('\n')[0])}; ours {ours}");
            if (ours.IsAccepted != kernelAccepted) disagreements.Add($"{p.Name}: kernel {(kernelAccepted ? "accepts" : "rejects")}, ours {ours}");
        }
        // The iterator and kconfig programs (7) are judged by every kernel that runs BPF iterators.
        Assert.True(compared >= 7, $"only {compared} programs had a kernel verdict");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }
}
