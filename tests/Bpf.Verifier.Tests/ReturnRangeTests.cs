using Bpf.Loader;
using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>The kernel's per-type return ranges (check_return_code): `mov r0, N; exit` judged by us and by the kernel.
/// Found on cilium/ebpf's testdata/constants.c, an sk_lookup program returning -1 that we accepted.</summary>
public sealed class ReturnRangeTests(ITestOutputHelper output)
{
    public static TheoryData<ProgramType, AttachType?, int, bool> Cases => new()
    {
        { ProgramType.SkLookup, AttachType.SkLookup, 1, true },
        { ProgramType.SkLookup, AttachType.SkLookup, -1, false },
        { ProgramType.SkLookup, AttachType.SkLookup, 2, false },
        { ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, 1, true },
        { ProgramType.CgroupSockAddr, AttachType.CgroupInet4Connect, 3, false },
        { ProgramType.CgroupSockAddr, AttachType.CgroupInet4Bind, 3, true },
        { ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Recvmsg, 0, false },
        { ProgramType.CgroupSockAddr, AttachType.CgroupUdp4Recvmsg, 1, true },
        { ProgramType.CgroupSkb, AttachType.CgroupInetEgress, 3, true },
        { ProgramType.CgroupSkb, AttachType.CgroupInetIngress, 2, false },
        { ProgramType.CgroupSock, AttachType.CgroupInetSockCreate, 2, false },
        { ProgramType.SockOps, AttachType.CgroupSockOps, 1, true },
        { ProgramType.SockOps, AttachType.CgroupSockOps, 7, false },
        { ProgramType.CgroupSysctl, AttachType.CgroupSysctl, -1, false },
        { ProgramType.SocketFilter, null, -1, true },
        { ProgramType.Xdp, AttachType.Xdp, 99, true },
        // A raw tracepoint's return value is not checked, whatever expected attach type it is loaded with (6.18).
        { ProgramType.RawTracepoint, null, 2, true },
        { ProgramType.RawTracepoint, AttachType.TraceRawTp, 2, true },
        { ProgramType.Kprobe, null, 2, true },
        { ProgramType.Kprobe, AttachType.TraceKprobeSession, 2, false },
        { ProgramType.Kprobe, AttachType.TraceUprobeSession, 1, true },
        { ProgramType.Kprobe, AttachType.TraceUprobeSession, 2, false },
    };

    private static Instruction[] Return(int value) =>
        [Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, value), Instruction.ExitInsn()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Return_values_are_checked_as_the_kernel_checks_them(ProgramType type, AttachType? attach, int value, bool accepted)
    {
        var r = BpfVerifier.Verify(Return(value), new VerifierOptions { ProgramType = type, ExpectedAttachType = attach });
        Assert.True(accepted == r.IsAccepted, r.Error?.ToString() ?? "accepted");
        if (!accepted) Assert.Contains("At program exit the register R0", r.Error!.Message);
    }

    /// <summary>
    /// The whole table against the kernel: every program type with no expected attach type and with each attach type
    /// the kernel knows (0 to 57), returning -1 to 4. The kernel refuses most pairs before verifying (a program type
    /// that does not take that attach type, or that needs a BTF target); each pair it verifies is compared, verdict
    /// and message. Found that raw tracepoints are never checked and that uprobe sessions are (0 or 1).
    /// </summary>
    [KernelFact]
    public void Every_program_and_attach_type_agrees_with_the_kernel()
    {
        Need.Kernel();
        var compared = 0;
        var disagreements = new List<string>();
        foreach (var type in Enum.GetValues<ProgramType>())
        {
            for (var a = -1; a <= (int)AttachType.TraceUprobeSession; a++)
            {
                AttachType? attach = a < 0 ? null : (AttachType)a;
                foreach (var value in new[] { -1, 0, 1, 2, 3, 4 })
                {
                    bool kernelAccepts;
                    string kernelLog = "";
                    try
                    {
                        using var p = BpfProgram.Load(type, Return(value), "GPL", new LoadOptions { ExpectedAttachType = attach });
                        kernelAccepts = true;
                    }
                    catch (ProgramRejectedException e) when (e.Log.Contains("At program exit", StringComparison.Ordinal))
                    {
                        kernelAccepts = false;
                        kernelLog = e.Log;
                    }
                    catch (BpfException)
                    {
                        continue; // refused before the verifier ran: nothing to compare
                    }
                    compared++;
                    var r = BpfVerifier.Verify(Return(value), new VerifierOptions { ProgramType = type, ExpectedAttachType = attach });
                    if (r.IsAccepted != kernelAccepts || (!kernelAccepts && !kernelLog.Contains(r.Error!.Message, StringComparison.Ordinal)))
                    {
                        disagreements.Add($"{type} {attach?.ToString() ?? "(none)"} returning {value}: kernel {(kernelAccepts ? "accepts" : "refuses")}, ours: {r.Error?.Message ?? "accepts"}");
                    }
                }
            }
        }
        output.WriteLine($"{compared} programs compared, {disagreements.Count} disagreements");
        // Measured on 6.18 as root: 6,930 programs reach the verifier; the floor leaves room
        // for a patch level that refuses a few more pairs before verifying.
        Assert.True(compared >= 6000, $"only {compared} programs reached the kernel's verifier");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    /// <summary>The refusal names the bounds that are not the type's limits (verbose_invalid_scalar): a value known only
    /// to be at most 1 is "smax=1", not an unknown scalar. Checked word for word against the kernel's log.</summary>
    [Fact]
    public void The_message_names_the_known_bound()
    {
        Instruction[] program =
        [
            Instruction.CallHelper(5), // bpf_ktime_get_ns: any 64-bit value
            Instruction.JumpImm(OpClass.Jmp, JumpOp.Jsgt, Register.R0, 1, 1),
            Instruction.ExitInsn(),
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0),
            Instruction.ExitInsn(),
        ];
        var r = BpfVerifier.Verify(program, new VerifierOptions { ProgramType = ProgramType.SkLookup, ExpectedAttachType = AttachType.SkLookup });
        Assert.Equal("At program exit the register R0 has smax=1 should have been in [0, 1]", r.Error?.Message);
        Need.Kernel();
        var e = Assert.Throws<ProgramRejectedException>(() => BpfProgram.Load(ProgramType.SkLookup, program, "GPL", new LoadOptions { ExpectedAttachType = AttachType.SkLookup }).Dispose());
        Assert.Contains(r.Error!.Message + "\n", e.Log, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_kernel_agrees(ProgramType type, AttachType? attach, int value, bool accepted)
    {
        Need.Kernel();
        try
        {
            using var p = BpfProgram.Load(type, Return(value), "GPL", new LoadOptions { ExpectedAttachType = attach });
            Assert.True(accepted, "the kernel accepted");
        }
        catch (ProgramRejectedException e) when (e.ErrnoName == "EINVAL")
        {
            Assert.False(accepted, e.Log);
            Assert.Contains("At program exit the register R0", e.Log);
        }
    }
}
