using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Structural rules checked on small programs assembled from text.</summary>
public sealed class StructureTests
{
    private static VerificationResult Verify(string text, VerifierOptions? o = null) =>
        BpfVerifier.Verify(Assembler.Assemble(text, AsmDialect.Llvm), o ?? VerifierOptions.Default);

    [Fact]
    public void DeadCodeBehindConstantCondition_IsReachableSyntactically()
    {
        var r = Verify("r0 = 0\nif r0 == 1 goto +1\ngoto +1\nr0 = 1\nexit");
        Assert.True(r.IsAccepted, r.ToString());
    }

    [Fact]
    public void EmptyProgram_Rejected()
    {
        var r = BpfVerifier.Verify(ReadOnlySpan<Instruction>.Empty);
        Assert.Equal(VerifierErrorCode.EmptyProgram, r.Error!.Code);
        // A whole-program error names no instruction.
        Assert.Equal(-1, r.Error.InstructionIndex);
        Assert.Equal("program has no instructions", r.Error.ToString());
    }

    [Fact]
    public void SizeLimit_DependsOnPrivilege()
    {
        var text = string.Concat(Enumerable.Repeat("r0 = 0\n", 4096)) + "exit";
        Assert.True(Verify(text).IsAccepted);
        var r = Verify(text, new VerifierOptions { Privilege = PrivilegeMode.Unprivileged });
        Assert.Equal(VerifierErrorCode.ProgramTooLarge, r.Error!.Code);
        var small = Verify("r0 = 0\nr0 = 0\nexit", new VerifierOptions { MaxInstructions = 2 });
        Assert.Equal(VerifierErrorCode.ProgramTooLarge, small.Error!.Code);
    }

    [Fact]
    public void BackEdge_RejectedOnlyWhenUnprivileged()
    {
        const string loop = "r1 = 0\nl: r1 += 1\nif r1 < 3 goto l\nr0 = 0\nexit";
        Assert.True(Verify(loop).IsAccepted);
        var r = Verify(loop, new VerifierOptions { Privilege = PrivilegeMode.Unprivileged });
        Assert.Equal(VerifierErrorCode.BackEdge, r.Error!.Code);
        Assert.Equal("back-edge from insn 2 to 1", r.Error.Message);
    }

    /// <summary>Without CAP_BPF, bpf-to-bpf calls, kfunc calls and function pointers are refused (the kernel's
    /// add_subprog_and_kfunc), each naming what is refused.</summary>
    [Theory]
    [InlineData("call f\nr0 = 0\nexit\nf: r0 = 0\nexit", "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN")]
    [InlineData("call kfunc 7\nr0 = 0\nexit", "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN")]
    [InlineData("r2 = func +2 ll\nr0 = 0\nexit\nr0 = 0\nexit", "function pointers are allowed for CAP_BPF and CAP_SYS_ADMIN")]
    public void Calls_and_function_pointers_need_cap_bpf(string text, string message)
    {
        var r = Verify(text, new VerifierOptions { Privilege = PrivilegeMode.Unprivileged });
        Assert.Equal(VerifierErrorCode.InvalidCallTarget, r.Error?.Code);
        Assert.Equal(message, r.Error!.Message);
        Assert.NotEqual(message, Verify(text, new VerifierOptions { Privilege = PrivilegeMode.CapBpfOnly }).Error?.Message);
    }

    /// <summary>A map named by file descriptor (pseudo source 1, or 2 for its value) is the declared map with that
    /// descriptor; a map index (5, 6) must be a declared map.</summary>
    [Fact]
    public void Maps_are_found_by_descriptor_or_index()
    {
        var maps = new[] { new MapDefinition("a", MapType.Array, 4, 8, 1, Fd: 40), new MapDefinition("b", MapType.Array, 4, 16, 1, Fd: 41) };
        var options = new VerifierOptions { Maps = maps };
        // lddw r1, map_fd 41 (then a read of its value through map_value: fd 41 + 8 is inside b's 16 bytes, not a's 8).
        static Instruction Insn(byte opcode, byte dst, byte src, int imm) => new(opcode, dst, src, (short)0, imm);
        static Instruction[] Lddw(byte src, int imm, int next) =>
        [
            Insn(Opcodes.LdDw, 1, src, imm), Insn(0, 0, 0, next),
            Insn(0x79, 0, 1, 0), Insn(Opcodes.Exit, 0, 0, 0), // r0 = *(u64 *)(r1 + 0); exit
        ];
        var byValue = BpfVerifier.Verify(Lddw(2, 41, 8), options);
        Assert.True(byValue.IsAccepted, byValue.ToString());
        var pastA = BpfVerifier.Verify(Lddw(2, 40, 8), options);
        Assert.Equal("invalid access to map value pointer, value_size=8 off=8", pastA.Error?.Message);
        var unknownFd = BpfVerifier.Verify(Lddw(1, 42, 0), options);
        Assert.Equal("fd 42 is not pointing to valid bpf_map", unknownFd.Error?.Message);
        var index = BpfVerifier.Verify(Lddw(6, 1, 8), options);
        Assert.True(index.IsAccepted, index.ToString());
        var undeclared = BpfVerifier.Verify(Lddw(5, 2, 0), options);
        Assert.Equal("map index 2 is not a declared map", undeclared.Error?.Message);
        var negative = BpfVerifier.Verify(Lddw(5, -1, 0), options);
        Assert.Equal("map index -1 is not a declared map", negative.Error?.Message);
    }

    [Fact]
    public void Error_CarriesInstructionRegisterStateAndPath()
    {
        var r = Verify("call 7\nif r0 > 5 goto +1\nr3 = 1\nr0 = r3\nexit");
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.UninitializedRegister, r.Error!.Code);
        Assert.Equal(3, r.Error.InstructionIndex);
        Assert.Equal(Register.R3, r.Error.Register);
        Assert.Equal("!read_ok", r.Error.RegisterState);
        Assert.Contains((1, 3), r.Error.Path);
        Assert.Contains("\"verdict\":\"reject\"", r.ToJson());
        Assert.Contains("\"code\":\"UninitializedRegister\"", r.ToJson());
    }

    [Fact]
    public void SourceLocator_NamesTheLine()
    {
        var r = Verify("r0 = r5\nexit", new VerifierOptions { SourceLocator = i => new SourceLocation("prog.c", 10 + i, 0, null) });
        Assert.Equal(10, r.Error!.Source!.Line);
    }

    [Fact]
    public void VerifierSource_DirectivesDeclareTypeAndMaps()
    {
        var src = VerifierSource.Parse(".type xdp\n.map m hash key=4 value=8 entries=16\nlddw %r1, map:m\nmov %r0, 2\nexit");
        Assert.Equal(ProgramType.Xdp, src.ProgramType);
        Assert.Equal(MapType.Hash, src.Maps[0].Type);
        Assert.Equal((byte)PseudoSource.MapIndex, src.Instructions[0].SrcRaw);
        Assert.True(BpfVerifier.Verify(src.Instructions, src.ToOptions()).IsAccepted);
        var ex = Assert.Throws<AsmException>(() => VerifierSource.Parse("lddw %r1, map:nope\nexit"));
        Assert.Equal(1, ex.Line);
    }
}

/// <summary>Rules that depend on the privilege mode.</summary>
public sealed class PrivilegeTests
{
    private static VerificationResult Verify(string text, PrivilegeMode mode, ProgramType type = ProgramType.SocketFilter) =>
        BpfVerifier.Verify(Assembler.Assemble(text, AsmDialect.Llvm), new VerifierOptions { Privilege = mode, ProgramType = type });

    [Fact]
    public void LocalCalls_NeedCapBpf()
    {
        const string text = "call f\nexit\nf: r0 = 0\nexit";
        Assert.True(Verify(text, PrivilegeMode.CapBpfOnly).IsAccepted);
        Assert.Equal(VerifierErrorCode.InvalidCallTarget, Verify(text, PrivilegeMode.Unprivileged).Error!.Code);
    }

    [Fact]
    public void ProgramTypes_NeedTheirCapabilities()
    {
        Assert.Equal(VerifierErrorCode.PermissionDenied, Verify("r0 = 0\nexit", PrivilegeMode.CapBpfOnly, ProgramType.Kprobe).Error!.Code);
        Assert.Equal(VerifierErrorCode.PermissionDenied, Verify("r0 = 2\nexit", PrivilegeMode.Unprivileged, ProgramType.Xdp).Error!.Code);
        Assert.True(Verify("r0 = 0\nexit", PrivilegeMode.Unprivileged).IsAccepted);
    }

    [Fact]
    public void PointerLeaks_AllowedOnlyForRoot()
    {
        Assert.True(Verify("r0 = r10\nexit", PrivilegeMode.Privileged).IsAccepted);
        Assert.Equal(VerifierErrorCode.PointerLeak, Verify("r0 = r10\nexit", PrivilegeMode.Unprivileged).Error!.Code);
    }

    [Fact]
    public void UninitializedStackReads_AllowedOnlyForRoot()
    {
        Assert.True(Verify("r0 = *(u64 *)(r10 - 8)\nexit", PrivilegeMode.Privileged).IsAccepted);
        Assert.Equal(VerifierErrorCode.InvalidStackAccess, Verify("r0 = *(u64 *)(r10 - 8)\nexit", PrivilegeMode.CapBpfOnly).Error!.Code);
    }

    [Theory]
    [InlineData(264, false, "tail_call is not allowed in subprogs without BTF")]
    [InlineData(264, true, "tail_calls are not allowed when call stack of previous frames is")]
    [InlineData(64, true, null)]
    public void TailCallInSubprogram_NeedsFuncInfo_AndCallersUnder256Bytes(int mainStack, bool funcInfo, string? error)
    {
        var src = VerifierSource.Parse($"""
            .map jt prog_array key=4 value=4 entries=1
            r6 = r1
            *(u64 *)(r10 - {mainStack}) = 0
            r1 = r6
            call sub
            r0 = 0
            exit
            sub:
            r2 = map:jt ll
            r3 = 0
            call 12
            r0 = 0
            exit
            """, AsmDialect.Llvm);
        var options = src.ToOptions(PrivilegeMode.Privileged);
        var r = BpfVerifier.Verify(src.Instructions, new VerifierOptions { Maps = options.Maps, HasFuncInfo = funcInfo });
        if (error is null) Assert.True(r.IsAccepted, r.ToString());
        else Assert.StartsWith(error, r.Error!.Message);
    }
}
