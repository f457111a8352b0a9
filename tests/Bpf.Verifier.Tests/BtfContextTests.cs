using Bpf.Asm;
using Bpf.Btf;
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

    /// <summary>
    /// A kernel BTF written by hand, for what no real kernel's BTF shows: [1] int; struct task_struct { int pid; };
    /// holder { task_struct t; } (the struct at offset 0); shifted { task_struct t; } with t at bit 32 and bits with t
    /// a 32-bit bitfield (neither at a plain offset 0); typedefs loop_a and loop_b naming each other; and for each of
    /// task_struct, holder, shifted, bits a function f_NAME(NAME *p), and f_loop(loop_a p).
    /// </summary>
    private static BtfSpec HandWrittenKernelBtf()
    {
        var btf = new BtfWriter();
        var i32 = btf.Type("int", BtfWriter.Int, 0, 4, rest: 1u << 24 | 32);
        var task = btf.Type("task_struct", BtfWriter.Struct, 1, 4, rest: [btf.Str("pid"), i32, 0]);
        var holder = btf.Type("holder", BtfWriter.Struct, 1, 4, rest: [btf.Str("t"), task, 0]);
        var shifted = btf.Type("shifted", BtfWriter.Struct, 1, 8, rest: [btf.Str("t"), task, 32]);
        var bits = btf.Type("bits", BtfWriter.Struct, 1, 4, kindFlag: true, rest: [btf.Str("t"), task, 32u << 24]);
        var loopA = btf.Type("loop_a", BtfWriter.Typedef, 0, btf.NextId + 1);
        btf.Type("loop_b", BtfWriter.Typedef, 0, loopA);
        foreach (var (name, id) in new[] { ("task_struct", task), ("holder", holder), ("shifted", shifted), ("bits", bits) })
        {
            var ptr = btf.Type("", BtfWriter.Ptr, 0, id);
            var proto = btf.Type("", BtfWriter.FuncProto, 1, i32, rest: [btf.Str("p"), ptr]);
            btf.Type("f_" + name, BtfWriter.Func, 1, proto);
        }
        var loopProto = btf.Type("", BtfWriter.FuncProto, 1, i32, rest: [btf.Str("p"), loopA]);
        btf.Type("f_loop", BtfWriter.Func, 1, loopProto);
        return BtfSpec.Parse(btf.Blob());
    }

    private static VerificationResult VerifyFentry(string text, string target) => BpfVerifier.Verify(
        Assembler.Assemble(text, AsmDialect.Llvm),
        new VerifierOptions { ProgramType = ProgramType.Tracing, ExpectedAttachType = AttachType.TraceFentry, AttachTarget = target, KernelBtf = HandWrittenKernelBtf() });

    /// <summary>
    /// A helper's struct argument (bpf_get_task_stack's task_struct) matches the struct itself or a struct whose first
    /// member, at offset 0 and not a bitfield, is it (the kernel's btf_struct_ids_match walks only offset 0).
    /// </summary>
    [Theory]
    [InlineData("task_struct", null)]
    [InlineData("holder", null)]
    [InlineData("shifted", "R1 is of type shifted but task_struct is expected")]
    [InlineData("bits", "R1 is of type bits but task_struct is expected")]
    public void A_helpers_struct_argument_matches_only_at_offset_zero(string pointee, string? expected)
    {
        var r = VerifyFentry("""
            r6 = *(u64 *)(r1 + 0)
            r1 = r6
            r2 = r10
            r2 += -16
            r3 = 16
            r4 = 0
            call 141
            r0 = 0
            exit
            """, "f_" + pointee);
        output.WriteLine(r.ToString());
        if (expected is null) Assert.True(r.IsAccepted, r.ToString());
        else Assert.Equal(expected, r.Error?.Message);
    }

    /// <summary>Kernel BTF that cannot be followed (here a typedef loop as an argument's type) is not a verdict on the
    /// program: the context read is not judged, and the message names the option that supplied the BTF.</summary>
    [Fact]
    public void Kernel_btf_that_cannot_be_followed_is_not_a_verdict()
    {
        var r = VerifyFentry("r0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit", "f_loop");
        output.WriteLine(r.ToString());
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        Assert.Contains("VerifierOptions.KernelBtf", r.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("loop", r.Error.Message, StringComparison.Ordinal);
    }

    /// <summary>A tracing context holds at most 12 u64 arguments: a read at 96 is outside the context whatever the
    /// target's prototype, as is a read not aligned to its own size (tracing_prog_is_valid_access); past the
    /// arguments the kernel names the argument after the return value's slot (get_ctx_arg_idx: nr_args + 1), at the
    /// return value's slot the next one, and an aligned narrow read off an 8-byte boundary its offset (btf_ctx_access).</summary>
    [Theory]
    [InlineData(0, "u64", null)]
    [InlineData(8, "u64", "func 'f_task_struct' doesn't have 2-th argument")]
    [InlineData(88, "u64", "func 'f_task_struct' doesn't have 3-th argument")]
    [InlineData(96, "u64", "invalid bpf_context access off=96 size=8")]
    [InlineData(4, "u64", "invalid bpf_context access off=4 size=8")]
    [InlineData(4, "u32", "func 'f_task_struct' offset 4 is not multiple of 8")]
    public void A_tracing_context_holds_twelve_arguments(int off, string width, string? expected)
    {
        var r = VerifyFentry($"r0 = *({width} *)(r1 + {off})\nr0 = 0\nexit", "f_task_struct");
        output.WriteLine(r.ToString());
        if (expected is null) Assert.True(r.IsAccepted, r.ToString());
        else Assert.Equal(expected, r.Error?.Message);
    }

    /// <summary>An LSM program returns 0 or a negative errno, except on the three hooks the kernel lists as returning
    /// a boolean (bool_lsm_hooks), where it returns 0 or 1 — each of the three named, with this machine's BTF.</summary>
    [Theory]
    [InlineData("xfrm_state_pol_flow_match", true)]
    [InlineData("audit_rule_known", true)]
    [InlineData("inode_xattr_skipcap", true)]
    [InlineData("file_open", false)]
    public void Lsm_bool_hooks_return_zero_or_one(string hook, bool boolHook)
    {
        var btf = Vmlinux();
        VerificationResult Returning(int value) => BpfVerifier.Verify(Assembler.Assemble($"r0 = {value}\nexit", AsmDialect.Llvm),
            new VerifierOptions { ProgramType = ProgramType.Lsm, ExpectedAttachType = AttachType.LsmMac, AttachTarget = hook, KernelBtf = btf });
        var one = Returning(1);
        var errno = Returning(-1);
        output.WriteLine($"{hook}: 1 -> {one}; -1 -> {errno}");
        Assert.NotEqual(VerifierErrorCode.NotSupported, one.Error?.Code);
        Assert.Equal(boolHook, one.IsAccepted);
        Assert.Equal(!boolHook, errno.IsAccepted);
        Assert.True(Returning(0).IsAccepted);
        // The context's messages name the hook's BTF function (bpf_lsm_...), as the kernel's btf_ctx_access does.
        var past = BpfVerifier.Verify(Assembler.Assemble("r0 = *(u64 *)(r1 + 88)\nr0 = 0\nexit", AsmDialect.Llvm),
            new VerifierOptions { ProgramType = ProgramType.Lsm, ExpectedAttachType = AttachType.LsmMac, AttachTarget = hook, KernelBtf = btf });
        Assert.StartsWith($"func 'bpf_lsm_{hook}' doesn't have ", past.Error?.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A second hand-written kernel BTF, for reads through kernel objects: struct task_struct { int pid; }; struct holder2
    /// { task_struct *t; task_struct __rcu *r; int *ip; task_struct __user *uu; }; optionally the kernel's trust table
    /// <c>holder2</c>+<paramref name="safeSuffix"/> naming <c>t</c>; functions f_h2(holder2 *), bpf_lsm_h2(holder2 *)
    /// returning int, f_float(double), f_int_ptr(int *), f_ret_ptr() returning task_struct *.
    /// </summary>
    private static BtfSpec ObjectsKernelBtf(string? safeSuffix)
    {
        var btf = new BtfWriter();
        var i32 = btf.Type("int", BtfWriter.Int, 0, 4, rest: 1u << 24 | 32);
        var task = btf.Type("task_struct", BtfWriter.Struct, 1, 4, rest: [btf.Str("pid"), i32, 0]);
        var taskPtr = btf.Type("", BtfWriter.Ptr, 0, task);
        var rcuTag = btf.Type("rcu", 18, 0, task);
        var rcuPtr = btf.Type("", BtfWriter.Ptr, 0, rcuTag);
        var userTag = btf.Type("user", 18, 0, task);
        var userPtr = btf.Type("", BtfWriter.Ptr, 0, userTag);
        var intPtr = btf.Type("", BtfWriter.Ptr, 0, i32);
        var holder = btf.Type("holder2", BtfWriter.Struct, 4, 32,
            rest: [btf.Str("t"), taskPtr, 0, btf.Str("r"), rcuPtr, 64, btf.Str("ip"), intPtr, 128, btf.Str("uu"), userPtr, 192]);
        if (safeSuffix is not null) btf.Type("holder2" + safeSuffix, BtfWriter.Struct, 1, 8, rest: [btf.Str("t"), taskPtr, 0]);
        var holderPtr = btf.Type("", BtfWriter.Ptr, 0, holder);
        var h2 = btf.Type("", BtfWriter.FuncProto, 1, i32, rest: [btf.Str("p"), holderPtr]);
        btf.Type("f_h2", BtfWriter.Func, 1, h2);
        btf.Type("bpf_lsm_h2", BtfWriter.Func, 1, h2);
        var f64 = btf.Type("double", 16, 0, 8);
        btf.Type("f_float", BtfWriter.Func, 1, btf.Type("", BtfWriter.FuncProto, 1, i32, rest: [btf.Str("d"), f64]));
        btf.Type("f_int_ptr", BtfWriter.Func, 1, btf.Type("", BtfWriter.FuncProto, 1, i32, rest: [btf.Str("p"), intPtr]));
        btf.Type("f_ret_ptr", BtfWriter.Func, 1, btf.Type("", BtfWriter.FuncProto, 0, taskPtr));
        return BtfSpec.Parse(btf.Blob());
    }

    private const string GetTaskStack = "r2 = r10\nr2 += -16\nr3 = 16\nr4 = 0\ncall 141\nr0 = 0\nexit";

    /// <summary>Reads through kernel objects and a tracing context's argument kinds, on <see cref="ObjectsKernelBtf"/>
    /// (this kernel refuses fentry and LSM loads before verifying, so these are our rules, pinned: each message is the
    /// kernel's wording for the check, as the BTF context sweep measures where it can load).</summary>
    [Theory]
    // A pointer read through an fentry argument is untrusted: readable, not passable to a helper.
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, "R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")]
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", null)]
    // Through an LSM argument (trusted), the kernel's trust tables decide.
    [InlineData("lsm", "h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, "R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")]
    [InlineData("lsm", "h2", "__safe_trusted", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, null)]
    [InlineData("lsm", "h2", "__safe_trusted_or_null", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, "R1 type=trusted_ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")]
    [InlineData("lsm", "h2", "__safe_trusted_or_null", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\nif r1 == 0 goto +5\n" + GetTaskStack, null)]
    [InlineData("lsm", "h2", "__safe_rcu", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, null)]
    [InlineData("lsm", "h2", "__safe_rcu_or_null", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\n" + GetTaskStack, "R1 type=rcu_ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")]
    [InlineData("lsm", "h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 8)\n" + GetTaskStack, "R1 type=rcu_ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")]
    [InlineData("lsm", "h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 8)\nif r1 == 0 goto +5\n" + GetTaskStack, null)]
    // Pointers to other than a struct, and __user pointers, are scalars: nothing reads through them.
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 16)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", "R1 invalid mem access 'scalar'")]
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 24)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", "R1 invalid mem access 'scalar'")]
    [InlineData("lsm", "h2", "__safe_trusted", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 24)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", "R1 invalid mem access 'scalar'")]
    [InlineData("fentry", "f_int_ptr", null, "r1 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", "R1 invalid mem access 'scalar'")]
    // Offsets: negative, variable, and a moved pointer passed to a helper.
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r6 - 4)\nr0 = 0\nexit", "R6 is ptr_holder2 invalid negative access: off=-4")]
    [InlineData("fentry", "f_h2", null, "r6 = *(u64 *)(r1 + 0)\ncall 7\nr0 &= 8\nr6 += r0\nr0 = *(u32 *)(r6 + 0)\nr0 = 0\nexit", "R6 is ptr_holder2 invalid variable offset: off=0, var_off=(0x0; 0x8)")]
    [InlineData("lsm", "h2", "__safe_trusted", "r6 = *(u64 *)(r1 + 0)\nr1 = *(u64 *)(r6 + 0)\nr1 += 4\n" + GetTaskStack, "$not-supported")]
    // The context's own kinds: a float argument, a narrow read of a pointer, fmod_ret on a pointer, fexit's return value.
    [InlineData("fentry", "f_float", null, "r0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit", "func 'f_float' arg0 'double' has type FLOAT. Only pointer access is allowed")]
    [InlineData("fentry", "f_h2", null, "r0 = *(u32 *)(r1 + 0)\nr0 = 0\nexit", "func 'f_h2' size 4 must be 8")]
    [InlineData("fmod_ret", "f_ret_ptr", null, "r0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit", "ret type PTR not allowed for fmod_ret")]
    [InlineData("fmod_ret", "f_int_ptr", null, "r0 = *(u64 *)(r1 + 8)\nr0 = 0\nexit", null)]
    [InlineData("fexit", "f_int_ptr", null, "r0 = *(u64 *)(r1 + 8)\nr0 = 0\nexit", null)]
    [InlineData("fexit", "f_int_ptr", null, "r0 = *(u64 *)(r1 + 16)\nr0 = 0\nexit", "func 'f_int_ptr' doesn't have 3-th argument")]
    [InlineData("fentry", "f_int_ptr", null, "r0 = *(u64 *)(r1 + 8)\nr0 = 0\nexit", "func 'f_int_ptr' doesn't have 2-th argument")]
    // An LSM program's R0 at exit: a scalar in the hook's range.
    [InlineData("lsm", "h2", null, "r0 = r10\nexit", "At program exit the register R0 is not a known value (fp)")]
    [InlineData("fentry", "no_such_function", null, "r0 = *(u64 *)(r1 + 0)\nr0 = 0\nexit", "$not-supported")]
    public void Reads_through_kernel_objects(string kind, string target, string? safeSuffix, string text, string? expected)
    {
        var (type, attach) = kind switch
        {
            "fentry" => (ProgramType.Tracing, AttachType.TraceFentry),
            "fexit" => (ProgramType.Tracing, AttachType.TraceFexit),
            "fmod_ret" => (ProgramType.Tracing, AttachType.ModifyReturn),
            _ => (ProgramType.Lsm, AttachType.LsmMac),
        };
        var r = BpfVerifier.Verify(Assembler.Assemble(text, AsmDialect.Llvm),
            new VerifierOptions { ProgramType = type, ExpectedAttachType = attach, AttachTarget = target, KernelBtf = ObjectsKernelBtf(safeSuffix) });
        output.WriteLine(r.ToString());
        if (expected is null) Assert.True(r.IsAccepted, r.ToString());
        else if (expected == "$not-supported") Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        else Assert.Equal(expected, r.Error?.Message);
    }

    /// <summary>Reading kernel objects needs CAP_PERFMON and a GPL-compatible program (check_ptr_to_btf_access).</summary>
    [Fact]
    public void Reading_kernel_objects_needs_perfmon_and_gpl()
    {
        var program = Assembler.Assemble("r6 = *(u64 *)(r1 + 0)\nr0 = *(u64 *)(r6 + 0)\nr0 = 0\nexit", AsmDialect.Llvm);
        VerificationResult Verify(PrivilegeMode mode, bool gpl) => BpfVerifier.Verify(program, new VerifierOptions
        {
            ProgramType = ProgramType.Tracing, ExpectedAttachType = AttachType.TraceFentry, AttachTarget = "f_h2",
            KernelBtf = ObjectsKernelBtf(null), Privilege = mode, GplCompatible = gpl,
        });
        var privileged = Verify(PrivilegeMode.Privileged, true);
        Assert.True(privileged.IsAccepted, privileged.ToString());
        Assert.Equal("'struct holder2' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN", Verify(PrivilegeMode.CapBpfOnly, true).Error?.Message);
        Assert.Equal("Cannot access kernel 'struct holder2' from non-GPL compatible program", Verify(PrivilegeMode.Privileged, false).Error?.Message);
    }
}
