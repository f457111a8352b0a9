using Bpf.Loader;
using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>The kernel's per-type return ranges (check_return_code): `mov r0, N; exit` judged by us and by the kernel.
/// Found on cilium/ebpf's testdata/constants.c, an sk_lookup program returning -1 that we accepted.</summary>
public sealed class ReturnRangeTests
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
