using Bpf.Asm;
using Bpf.Btf;
using Bpf.Loader;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Kernel function calls (kfuncs) and BTF-id wide loads (typed __ksym variables, bpf_ksym_exists): raw programs whose
/// kfunc and symbol ids are looked up by name in this machine's kernel BTF, judged by our verifier (verdict and
/// message) and, for the differential, loaded into the running kernel with the same program type and attach target.
/// </summary>
public sealed class KfuncTests(ITestOutputHelper output)
{
    /// <summary>One raw program: its text (LLVM dialect, <c>{name}</c> replaced by the kernel BTF id of that FUNC
    /// or VAR), program type, attach point and what our verifier says (null: accepted; else its exact message).</summary>
    public sealed record Case(string Name, ProgramType Type, string Text, string? Expect, AttachType? Attach = null, string? Target = null);

    /// <summary>A task iterator's task (trusted, maybe null) acquired and released.</summary>
    private const string IterTaskAcquireRelease = """
        r1 = *(u64 *)(r1 + 8)
        if r1 == 0 goto out
        call kfunc {bpf_task_acquire}
        if r0 == 0 goto out
        r1 = r0
        call kfunc {bpf_task_release}
        out:
        r0 = 0
        exit
        """;

    private const string TcCtLookup = """
        r6 = r1
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = r6
        r2 = r10
        r2 += -8
        r3 = 0
        r4 = r10
        r4 += -8
        r5 = 0
        call kfunc {bpf_skb_ct_lookup}
        """;

    /// <summary>The cases; <c>{Ref}</c> in an expected message stands for the reference id, which depends on how
    /// many ids the path allocated before (the kernel's id_gen).</summary>
    public static readonly Case[] Cases =
    [
        // cilium/ebpf testdata/kfunc.c call_kfunc: lookup with zero-sized (uninitialised) buffers, release if found.
        new("tc_ct_lookup_release", ProgramType.SchedCls, """
            r6 = r1
            r2 = r10
            r2 += -1
            r1 = r6
            r3 = 0
            r4 = r10
            r4 += -1
            r5 = 0
            call kfunc {bpf_skb_ct_lookup}
            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, null),
        new("tc_ct_lookup_leak", ProgramType.SchedCls, TcCtLookup + "\nr0 = 1\nexit", "Unreleased reference id=2 alloc_insn=10"),
        new("tc_ct_release_unchecked", ProgramType.SchedCls, TcCtLookup + """

            r1 = r0
            call kfunc {bpf_ct_release}
            r0 = 1
            exit
            """, "Possibly NULL pointer passed to trusted arg0"),
        new("tc_ct_lookup_stack_as_ctx", ProgramType.SchedCls, TcCtLookup.Replace("r1 = r6\n", "r1 = r10\nr1 += -16\n", StringComparison.Ordinal) + "\nr0 = 1\nexit",
            "arg#0 expected pointer to ctx, but got fp"),
        new("tc_ct_lookup_modified_ctx", ProgramType.SchedCls, TcCtLookup.Replace("r1 = r6\n", "r1 = r6\nr1 += 4\n", StringComparison.Ordinal) + "\nr0 = 1\nexit",
            "dereference of modified ctx ptr R1 off=4 disallowed"),
        new("tc_ct_lookup_tuple_out_of_bounds", ProgramType.SchedCls, TcCtLookup.Replace("r3 = 0", "r3 = 16", StringComparison.Ordinal) + "\nr0 = 1\nexit",
            "invalid read from stack R2 off=-8 size=16\narg#1 arg#2 memory, len pair leads to invalid memory access"),
        new("tc_ct_lookup_tuple_in_bounds", ProgramType.SchedCls, TcCtLookup.Replace("r3 = 0", "r3 = 8", StringComparison.Ordinal) + """

            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, null),
        new("tc_ct_lookup_size_not_scalar", ProgramType.SchedCls, TcCtLookup.Replace("r3 = 0", "r3 = r10", StringComparison.Ordinal) + "\nr0 = 1\nexit",
            "R2 must be referenced or trusted"),
        new("tc_ct_lookup_null_tuple", ProgramType.SchedCls, TcCtLookup.Replace("r2 = r10\nr2 += -8", "r2 = 0", StringComparison.Ordinal) + "\nif r0 == 0 goto out\nr1 = r0\ncall kfunc {bpf_ct_release}\nout:\nr0 = 1\nexit", "Possibly NULL pointer passed to trusted arg1"),
        new("xdp_skb_ct_lookup_fp", ProgramType.Xdp, TcCtLookup.Replace("r1 = r6\n", "r1 = r10\nr1 += -16\n", StringComparison.Ordinal) + "\nr0 = 2\nexit", 
            "arg#0 pointer type STRUCT __sk_buff must point to scalar, or struct with scalar"),
        new("socket_filter_ct_lookup", ProgramType.SocketFilter, TcCtLookup + "\nr0 = 1\nexit", "calling kernel function bpf_skb_ct_lookup is not allowed"),
        new("sched_act_ct_lookup", ProgramType.SchedAct, TcCtLookup + "\nr0 = 1\nexit", "calling kernel function bpf_skb_ct_lookup is not allowed"),
        new("xdp_ct_lookup_release", ProgramType.Xdp, TcCtLookup.Replace("bpf_skb_ct_lookup", "bpf_xdp_ct_lookup", StringComparison.Ordinal) + """

            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_ct_release}
            out:
            r0 = 2
            exit
            """, null),
        new("xdp_skb_ct_lookup", ProgramType.Xdp, TcCtLookup + "\nr0 = 2\nexit",
            "arg#0 pointer type STRUCT __sk_buff must point to scalar, or struct with scalar"),
        new("tc_ct_release_stack", ProgramType.SchedCls, """
            r1 = r10
            r1 += -8
            call kfunc {bpf_ct_release}
            r0 = 1
            exit
            """, "arg#0 pointer type STRUCT nf_conn must point to scalar, or struct with scalar"),
        new("tc_ct_release_twice", ProgramType.SchedCls, TcCtLookup + """

            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            call kfunc {bpf_ct_release}
            r1 = r6
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, "arg#0 pointer type STRUCT nf_conn must point to scalar, or struct with scalar"),
        new("tc_ct_release_with_offset", ProgramType.SchedCls, TcCtLookup + """

            if r0 == 0 goto out
            r1 = r0
            r1 += 8
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, "R1 must have zero offset when passed to release func or trusted arg to kfunc"),
        new("tc_ct_change_timeout", ProgramType.SchedCls, TcCtLookup + """

            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            r2 = 1000
            call kfunc {bpf_ct_change_timeout}
            r1 = r6
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, null),
        new("tc_ct_set_timeout_on_inserted", ProgramType.SchedCls, TcCtLookup + """

            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            r2 = 1000
            call kfunc {bpf_ct_set_timeout}
            r1 = r6
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, "kernel function bpf_ct_set_timeout args#0 expected pointer to STRUCT nf_conn___init but R1 has a pointer to STRUCT nf_conn"),
        new("tc_ct_alloc_insert_release", ProgramType.SchedCls, TcCtLookup.Replace("bpf_skb_ct_lookup", "bpf_skb_ct_alloc", StringComparison.Ordinal) + """

            if r0 == 0 goto out
            r6 = r0
            r1 = r6
            r2 = 1000
            call kfunc {bpf_ct_set_timeout}
            r1 = r6
            call kfunc {bpf_ct_insert_entry}
            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, null),
        new("tc_ct_alloc_released_by_ct_release", ProgramType.SchedCls, TcCtLookup.Replace("bpf_skb_ct_lookup", "bpf_skb_ct_alloc", StringComparison.Ordinal) + """

            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_ct_release}
            out:
            r0 = 1
            exit
            """, "kernel function bpf_ct_release args#0 expected pointer to STRUCT nf_conn but R1 has a pointer to STRUCT nf_conn___init"),

        // Tasks (the generic kfunc set: tc, XDP, cgroup, tracing, struct_ops, syscall programs).
        new("tc_task_from_pid_release", ProgramType.SchedCls, TaskFromPid + "\nr0 = 1\nexit", null),
        new("xdp_task_from_pid_release", ProgramType.Xdp, TaskFromPid + "\nr0 = 2\nexit", null),
        new("cgroup_skb_task_from_pid_release", ProgramType.CgroupSkb, TaskFromPid + "\nr0 = 1\nexit", null),
        new("socket_filter_task_from_pid", ProgramType.SocketFilter, TaskFromPid + "\nr0 = 0\nexit", "calling kernel function bpf_task_from_pid is not allowed"),
        new("kprobe_task_from_pid", ProgramType.Kprobe, TaskFromPid + "\nr0 = 0\nexit", "calling kernel function bpf_task_from_pid is not allowed"),
        new("tc_task_from_pid_pointer_arg", ProgramType.SchedCls, """
            r1 = r10
            call kfunc {bpf_task_from_pid}
            r0 = 1
            exit
            """, "R1 is not a scalar"),
        new("tc_task_from_pid_leak", ProgramType.SchedCls, """
            r1 = 1
            call kfunc {bpf_task_from_pid}
            r0 = 1
            exit
            """, "Unreleased reference id=2 alloc_insn=1"),
        new("iter_task_acquire_release", ProgramType.Tracing, IterTaskAcquireRelease, null, AttachType.TraceIter, "task"),
        new("iter_task_release_not_acquired", ProgramType.Tracing, """
            r1 = *(u64 *)(r1 + 8)
            if r1 == 0 goto out
            call kfunc {bpf_task_release}
            out:
            r0 = 0
            exit
            """, "release kernel function bpf_task_release expects refcounted PTR_TO_BTF_ID", AttachType.TraceIter, "task"),
        // A trusted argument may carry a fixed positive offset (the kernel then matches the struct found there; not
        // modelled here), never a negative or a variable one (__check_ptr_off_reg with fixed_off_ok).
        new("iter_task_acquire_negative_offset", ProgramType.Tracing,
            IterTaskAcquireRelease.Replace("call kfunc {bpf_task_acquire}", "r1 += -8\ncall kfunc {bpf_task_acquire}", StringComparison.Ordinal),
            "negative offset trusted_ptr_ ptr R1 off=-8 disallowed", AttachType.TraceIter, "task"),
        new("iter_task_acquire_variable_offset", ProgramType.Tracing, """
            r6 = *(u64 *)(r1 + 8)
            if r6 == 0 goto out
            call 5
            r0 &= 8
            r6 += r0
            r1 = r6
            call kfunc {bpf_task_acquire}
            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_task_release}
            out:
            r0 = 0
            exit
            """, "variable trusted_ptr_ access var_off=(0x0; 0x8) disallowed", AttachType.TraceIter, "task"),
        new("iter_task_acquire_unchecked_ctx", ProgramType.Tracing, """
            r1 = *(u64 *)(r1 + 8)
            call kfunc {bpf_task_acquire}
            r0 = 0
            exit
            """, "Possibly NULL pointer passed to trusted arg0", AttachType.TraceIter, "task"),

        // fentry arguments are plain PTR_TO_BTF_ID: neither trusted nor RCU-protected.
        new("fentry_task_acquire_untrusted_arg", ProgramType.Tracing, """
            r1 = *(u64 *)(r1 + 0)
            call kfunc {bpf_task_acquire}
            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_task_release}
            out:
            r0 = 0
            exit
            """, "R1 must be a rcu pointer", AttachType.TraceFentry, "wake_up_process"),
        new("fentry_task_from_pid_release", ProgramType.Tracing, TaskFromPid + "\nr0 = 0\nexit", null, AttachType.TraceFentry, "wake_up_process"),

        // cilium/ebpf testdata/kfunc.c call_weak_kfunc: bpf_ksym_exists(bpf_cpumask_create), create, release.
        new("tp_btf_weak_cpumask_create_release", ProgramType.Tracing, """
            r1 = btf_id {bpf_cpumask_create} ll
            if r1 == 0 goto absent
            call kfunc {bpf_cpumask_create}
            if r0 == 0 goto done
            r1 = r0
            call kfunc {bpf_cpumask_release}
            done:
            r0 = 1
            exit
            absent:
            r0 = 0
            exit
            """, null, AttachType.TraceRawTp, "task_newtask"),
        new("tp_btf_cpumask_set_test_cpu", ProgramType.Tracing, """
            call kfunc {bpf_cpumask_create}
            if r0 == 0 goto done
            r6 = r0
            r1 = 0
            r2 = r6
            call kfunc {bpf_cpumask_set_cpu}
            r1 = 0
            r2 = r6
            call kfunc {bpf_cpumask_test_cpu}
            r1 = r6
            call kfunc {bpf_cpumask_release}
            done:
            r0 = 0
            exit
            """, null, AttachType.TraceRawTp, "task_newtask"),
        new("tp_btf_cpumask_leak", ProgramType.Tracing, """
            call kfunc {bpf_cpumask_create}
            r0 = 0
            exit
            """, "Unreleased reference id=2 alloc_insn=0", AttachType.TraceRawTp, "task_newtask"),
        new("tp_btf_cpumask_release_unchecked", ProgramType.Tracing, """
            call kfunc {bpf_cpumask_create}
            r1 = r0
            call kfunc {bpf_cpumask_release}
            r0 = 0
            exit
            """, "Possibly NULL pointer passed to trusted arg0", AttachType.TraceRawTp, "task_newtask"),
        new("tp_btf_cpumask_populate", ProgramType.Tracing, """
            call kfunc {bpf_cpumask_create}
            if r0 == 0 goto done
            r6 = r0
            r1 = -1
            *(u64 *)(r10 - 8) = r1
            r1 = r6
            r2 = r10
            r2 += -8
            r3 = 8
            call kfunc {bpf_cpumask_populate}
            r1 = r6
            call kfunc {bpf_cpumask_release}
            done:
            r0 = 0
            exit
            """, null, AttachType.TraceRawTp, "task_newtask"),
        new("tp_btf_cpumask_populate_beyond_buffer", ProgramType.Tracing, """
            call kfunc {bpf_cpumask_create}
            if r0 == 0 goto done
            r6 = r0
            r1 = -1
            *(u64 *)(r10 - 8) = r1
            r1 = r6
            r2 = r10
            r2 += -8
            r3 = 16
            call kfunc {bpf_cpumask_populate}
            r1 = r6
            call kfunc {bpf_cpumask_release}
            done:
            r0 = 0
            exit
            """, "invalid read from stack R2 off=-8 size=16\narg#1 arg#2 memory, len pair leads to invalid memory access", AttachType.TraceRawTp, "task_newtask"),
        new("iter_task_under_cgroup", ProgramType.Tracing, """
            r6 = *(u64 *)(r1 + 8)
            if r6 == 0 goto out
            r1 = 1
            call kfunc {bpf_cgroup_from_id}
            if r0 == 0 goto out
            r7 = r0
            r1 = r6
            r2 = r7
            call kfunc {bpf_task_under_cgroup}
            r1 = r7
            call kfunc {bpf_cgroup_release}
            out:
            r0 = 0
            exit
            """, null, AttachType.TraceIter, "task"),
        new("tc_cgroup_from_id_wrong_release", ProgramType.SchedCls, """
            r1 = 1
            call kfunc {bpf_cgroup_from_id}
            if r0 == 0 goto out
            r1 = r0
            call kfunc {bpf_task_release}
            out:
            r0 = 0
            exit
            """, "kernel function bpf_task_release args#0 expected pointer to STRUCT task_struct but R1 has a pointer to STRUCT cgroup"),
        new("tc_cpumask_create", ProgramType.SchedCls, """
            call kfunc {bpf_cpumask_create}
            r0 = 1
            exit
            """, "calling kernel function bpf_cpumask_create is not allowed"),
        new("tp_btf_rcu_read_lock", ProgramType.Tracing, """
            call kfunc {bpf_rcu_read_lock}
            call kfunc {bpf_rcu_read_unlock}
            r0 = 0
            exit
            """, null, AttachType.TraceRawTp, "task_newtask"),
        new("tc_rcu_read_lock_nested", ProgramType.SchedCls, """
            call kfunc {bpf_rcu_read_lock}
            call kfunc {bpf_rcu_read_lock}
            call kfunc {bpf_rcu_read_unlock}
            r0 = 0
            exit
            """, "nested rcu read lock (kernel function bpf_rcu_read_lock)"),
        new("tc_rcu_read_unlock_unmatched", ProgramType.SchedCls, """
            call kfunc {bpf_rcu_read_unlock}
            r0 = 0
            exit
            """, "unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)"),
        new("tc_rcu_read_lock_exit", ProgramType.SchedCls, """
            call kfunc {bpf_rcu_read_lock}
            r0 = 0
            exit
            """, "BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region"),
        new("tc_ld_abs_inside_rcu_read_lock", ProgramType.SchedCls, """
            r6 = r1
            call kfunc {bpf_rcu_read_lock}
            r0 = *(u8 *)skb[12]
            call kfunc {bpf_rcu_read_unlock}
            r0 = 0
            exit
            """, "BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region"),
        new("socket_filter_rcu_read_lock_on_one_branch", ProgramType.SocketFilter, """
            call 7
            if r0 == 0 goto skip
            call kfunc {bpf_rcu_read_lock}
            skip:
            call kfunc {bpf_rcu_read_unlock}
            r0 = 0
            exit
            """, "unmatched rcu read unlock (kernel function bpf_rcu_read_unlock)"),

        // BTF-id wide loads.
        new("ksym_func_exists_prunes_null_branch", ProgramType.SocketFilter, """
            r1 = btf_id {bpf_cpumask_create} ll
            if r1 == 0 goto absent
            r0 = 0
            exit
            absent:
            r0 = *(u8 *)(r2 + 0)
            exit
            """, null),
        new("ksym_func_not_null_either_way", ProgramType.SocketFilter, """
            r1 = btf_id {bpf_cpumask_create} ll
            if r1 != 0 goto present
            r0 = *(u8 *)(r2 + 0)
            exit
            present:
            r0 = 0
            exit
            """, null),
        new("ksym_func_read", ProgramType.SocketFilter, """
            r1 = btf_id {bpf_cpumask_create} ll
            r0 = *(u8 *)(r1 + 0)
            exit
            """, "invalid access to memory, mem_size=0 off=0 size=1"),
        new("ksym_func_write", ProgramType.SocketFilter, """
            r1 = btf_id {bpf_cpumask_create} ll
            r2 = 0
            *(u8 *)(r1 + 0) = r2
            r0 = 0
            exit
            """, "R1 cannot write into rdonly_mem"),
        new("ksym_percpu_int_var", ProgramType.SocketFilter, """
            r1 = btf_id {bpf_prog_active} ll
            r0 = 0
            exit
            """, "$var:bpf_prog_active"),
        new("ksym_percpu_struct_var", ProgramType.SocketFilter, """
            r1 = btf_id {softnet_data} ll
            r0 = 0
            exit
            """, "$var:softnet_data"),
        new("ksym_struct_id", ProgramType.SocketFilter, """
            r1 = btf_id {task_struct} ll
            r0 = 0
            exit
            """, "pseudo btf_id {task_struct} in ldimm64 isn't KIND_VAR or KIND_FUNC"),
        new("ksym_invalid_id", ProgramType.SocketFilter, """
            r1 = btf_id 2000000000 ll
            r0 = 0
            exit
            """, "ldimm64 insn specifies invalid btf_id 2000000000."),
        new("kfunc_id_zero", ProgramType.SchedCls, """
            call kfunc 0
            r0 = 0
            exit
            """, "invalid kernel function call not eliminated in verifier pass"),
        new("kfunc_struct_id", ProgramType.SchedCls, """
            call kfunc {task_struct}
            r0 = 0
            exit
            """, "kernel btf_id {task_struct} is not a function"),
    ];

    private const string TaskFromPid = """
        r1 = 1
        call kfunc {bpf_task_from_pid}
        if r0 == 0 goto out
        r1 = r0
        call kfunc {bpf_task_release}
        out:
        """;

    private static BtfSpec Vmlinux()
    {
        Need.SystemFile("/sys/kernel/btf/vmlinux");
        return KernelBtf.TryGet() ?? throw new InvalidOperationException("/sys/kernel/btf/vmlinux exists but could not be read");
    }

    /// <summary>The id of the named FUNC, VAR or STRUCT in the kernel's BTF.</summary>
    private static uint IdOf(BtfSpec btf, string name) =>
        (btf.FindType(name, BtfKind.Func) ?? btf.FindType(name, BtfKind.Var) ?? btf.FindType(name, BtfKind.Struct)
         ?? throw new InvalidOperationException($"the kernel's BTF has no FUNC, VAR or STRUCT '{name}'")).Id;

    private static string Resolve(BtfSpec btf, string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"\{([a-z_0-9]+)\}", m => IdOf(btf, m.Groups[1].Value).ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Instruction[] Program(BtfSpec btf, Case c) => Assembler.Assemble(Resolve(btf, c.Text), AsmDialect.Llvm);

    /// <summary>This machine's kallsyms, as the kernel's kallsyms_lookup_name sees it.</summary>
    private static ulong? Kallsyms(string name) => RunningKernel.SymbolAddress(name);

    private static VerifierOptions Options(BtfSpec btf, Case c, Func<string, ulong?>? symbols) => new()
    {
        ProgramType = c.Type,
        ExpectedAttachType = c.Attach,
        AttachTarget = c.Target,
        KernelBtf = btf,
        KernelSymbolAddress = symbols,
    };

    /// <summary>What our verifier must say with this machine's kallsyms: the case's message, with the ones that
    /// depend on this machine (whether kallsyms lists a variable) worked out here.</summary>
    private static string? Expected(BtfSpec btf, Case c)
    {
        if (c.Expect is null) return null;
        if (c.Expect.StartsWith("$var:", StringComparison.Ordinal))
        {
            var name = c.Expect[5..];
            return Kallsyms(name) is null ? $"ldimm64 failed to find the address for kernel symbol '{name}'." : null;
        }
        return Resolve(btf, c.Expect);
    }

    public static TheoryData<string> CaseNames() => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void OurVerdict_AndMessage(string name)
    {
        var btf = Vmlinux();
        Need.SystemFile(RunningKernel.KallsymsPath);
        var c = Cases.Single(x => x.Name == name);
        var r = BpfVerifier.Verify(Program(btf, c), Options(btf, c, Kallsyms));
        output.WriteLine(r.ToString());
        var expected = Expected(btf, c);
        if (expected is null)
        {
            Assert.True(r.IsAccepted, r.ToString());
        }
        else
        {
            Assert.False(r.IsAccepted);
            Assert.Equal(expected, r.Error!.Message);
        }
    }

    [Fact]
    public void PercpuVariables_WithAnAddress_ArePerCpuPointers()
    {
        var btf = Vmlinux();
        // A kernel that lists every symbol (CONFIG_KALLSYMS_ALL): the variable resolves, and a direct read is refused.
        var everything = (Func<string, ulong?>)(_ => 0xffffffff81000000);
        var intVar = Assembler.Assemble(Resolve(btf, "r1 = btf_id {bpf_prog_active} ll\nr0 = *(u32 *)(r1 + 0)\nexit"), AsmDialect.Llvm);
        var r = BpfVerifier.Verify(intVar, new VerifierOptions { KernelBtf = btf, KernelSymbolAddress = everything });
        Assert.Equal("R1 is ptr_int access percpu memory: off=0", r.Error?.Message);
        var structVar = Assembler.Assemble(Resolve(btf, "r1 = btf_id {softnet_data} ll\nr0 = *(u32 *)(r1 + 4)\nexit"), AsmDialect.Llvm);
        r = BpfVerifier.Verify(structVar, new VerifierOptions { KernelBtf = btf, KernelSymbolAddress = everything });
        Assert.Equal("R1 is ptr_softnet_data access percpu memory: off=4", r.Error?.Message);
        // Loading the address alone (and storing it: a privileged pointer leak) is accepted.
        var load = Assembler.Assemble(Resolve(btf, "r1 = btf_id {softnet_data} ll\n*(u64 *)(r10 - 8) = r1\nr0 = 0\nexit"), AsmDialect.Llvm);
        Assert.True(BpfVerifier.Verify(load, new VerifierOptions { KernelBtf = btf, KernelSymbolAddress = everything }).IsAccepted);
        // Passed to a kfunc it is refused (MEM_PERCPU is an unsafe modifier).
        var toKfunc = Assembler.Assemble(Resolve(btf, "r1 = btf_id {softnet_data} ll\ncall kfunc {bpf_task_release}\nr0 = 0\nexit"), AsmDialect.Llvm);
        r = BpfVerifier.Verify(toKfunc, new VerifierOptions { ProgramType = ProgramType.SchedCls, KernelBtf = btf, KernelSymbolAddress = everything });
        Assert.Equal("R1 must be referenced or trusted", r.Error?.Message);
    }

    /// <summary>A small kernel BTF (this machine's names only percpu variables): [1] int, [2] struct foo { int a;
    /// int b; }, [3] VAR v_int, [4] VAR v_foo, [5] VAR v_pcpu (int) and [9] VAR v_pfoo (struct foo) in [6] DATASEC
    /// .data..percpu, [7] a FUNC_PROTO, [8] FUNC f.</summary>
    private static BtfSpec SmallKernelBtf()
    {
        var strings = "\0int\0foo\0a\0b\0v_int\0v_foo\0v_pcpu\0.data..percpu\0f\0v_pfoo\0"u8.ToArray();
        uint sInt = 1, sFoo = 5, sA = 9, sB = 11, sVInt = 13, sVFoo = 19, sVPcpu = 25, sSec = 32, sF = 46, sVPfoo = 48;
        var t = new List<uint>();
        void Type(uint name, uint kind, uint vlen, uint sizeOrType) => t.AddRange([name, kind << 24 | vlen, sizeOrType]);
        Type(sInt, 1, 0, 4); t.Add(1u << 24 | 32);                       // [1] int
        Type(sFoo, 4, 2, 8); t.AddRange([sA, 1, 0, sB, 1, 32]);           // [2] struct foo
        Type(sVInt, 14, 0, 1); t.Add(1);                                  // [3] VAR v_int
        Type(sVFoo, 14, 0, 2); t.Add(1);                                  // [4] VAR v_foo
        Type(sVPcpu, 14, 0, 1); t.Add(1);                                 // [5] VAR v_pcpu
        Type(sSec, 15, 2, 16); t.AddRange([5, 0, 4, 9, 8, 8]);            // [6] DATASEC .data..percpu
        Type(0, 13, 0, 1);                                                // [7] FUNC_PROTO int (void)
        Type(sF, 12, 1, 7);                                               // [8] FUNC f
        Type(sVPfoo, 14, 0, 2); t.Add(1);                                 // [9] VAR v_pfoo
        return BtfSpec.Parse(KernelOracle.BtfBlob(t, strings));
    }

    [Theory]
    [InlineData("r1 = btf_id 3 ll\nr0 = *(u32 *)(r1 + 0)\nexit", null)]
    [InlineData("r1 = btf_id 3 ll\nr0 = *(u32 *)(r1 + 4)\nexit", "invalid access to memory, mem_size=4 off=4 size=4")]
    [InlineData("r1 = btf_id 3 ll\nr2 = 0\n*(u32 *)(r1 + 0) = r2\nr0 = 0\nexit", "R1 cannot write into rdonly_mem")]
    [InlineData("r1 = btf_id 3 ll\nif r1 == 0 goto bad\nr0 = 0\nexit\nbad:\nr0 = *(u8 *)(r2 + 0)\nexit", null)]
    [InlineData("r1 = btf_id 4 ll\nr0 = *(u32 *)(r1 + 4)\nexit", null)]
    [InlineData("r1 = btf_id 4 ll\nr0 = *(u32 *)(r1 + 8)\nexit", "access beyond struct foo at off 8 size 4")]
    [InlineData("r1 = btf_id 4 ll\nr2 = 0\n*(u32 *)(r1 + 0) = r2\nr0 = 0\nexit", "only read is supported")]
    [InlineData("r1 = btf_id 5 ll\nr0 = *(u32 *)(r1 + 0)\nexit", "R1 is ptr_int access percpu memory: off=0")]
    [InlineData("r1 = btf_id 5 ll\nr0 = 0\nexit", null)]
    [InlineData("r1 = btf_id 7 ll\nr0 = 0\nexit", "pseudo btf_id 7 in ldimm64 isn't KIND_VAR or KIND_FUNC")]
    [InlineData("r1 = btf_id 10 ll\nr0 = 0\nexit", "ldimm64 insn specifies invalid btf_id 10.")]
    [InlineData("r1 = btf_id 0 ll\nr0 = 0\nexit", "ldimm64 insn specifies invalid btf_id 0.")]
    [InlineData("r1 = btf_id 8 ll\nr0 = *(u8 *)(r1 + 0)\nexit", "invalid access to memory, mem_size=0 off=0 size=1")]
    [InlineData("r1 = btf_id 3, 7 ll\nr0 = 0\nexit", "$not-supported")]
    // bpf_this_cpu_ptr (154) and bpf_per_cpu_ptr (153): one CPU's copy, read-only memory or a kernel object.
    [InlineData("r1 = btf_id 5 ll\ncall 154\nr0 = *(u32 *)(r0 + 0)\nexit", null)]
    [InlineData("r1 = btf_id 5 ll\ncall 154\nr0 = *(u32 *)(r0 + 4)\nexit", "invalid access to memory, mem_size=4 off=4 size=4")]
    [InlineData("r1 = btf_id 5 ll\ncall 154\nr1 = 0\n*(u32 *)(r0 + 0) = r1\nr0 = 0\nexit", "R0 cannot write into rdonly_mem")]
    [InlineData("r1 = btf_id 5 ll\nr2 = 0\ncall 153\nr0 = *(u32 *)(r0 + 0)\nexit", "R0 invalid mem access 'rdonly_mem_or_null'")]
    [InlineData("r1 = btf_id 5 ll\nr2 = 0\ncall 153\nif r0 == 0 goto out\nr0 = *(u32 *)(r0 + 0)\nout:\nexit", null)]
    [InlineData("r1 = btf_id 9 ll\ncall 154\nr0 = *(u32 *)(r0 + 4)\nexit", null)]
    [InlineData("r1 = btf_id 9 ll\ncall 154\nr0 = *(u32 *)(r0 + 8)\nexit", "access beyond struct foo at off 8 size 4")]
    [InlineData("r1 = btf_id 9 ll\nr2 = 1\ncall 153\nif r0 == 0 goto out\nr0 = *(u32 *)(r0 + 0)\nout:\nexit", null)]
    [InlineData("r1 = btf_id 9 ll\nr1 += 4\ncall 154\nr0 = 0\nexit", "dereference of modified percpu_ptr_ ptr R1 off=4 disallowed")]
    [InlineData("r1 = r10\nr1 += -8\ncall 154\nr0 = 0\nexit", "R1 type=fp expected=percpu_ptr_")]
    [InlineData("r1 = btf_id 3 ll\ncall 154\nr0 = 0\nexit", "R1 type=rdonly_mem expected=percpu_ptr_")]
    public void TypedVariables_OfEachKind(string text, string? expected)
    {
        var r = BpfVerifier.Verify(Assembler.Assemble(text, AsmDialect.Llvm),
            new VerifierOptions { KernelBtf = SmallKernelBtf(), KernelSymbolAddress = _ => 0xffffffff82000000 });
        output.WriteLine(r.ToString());
        if (expected == "$not-supported")
        {
            Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        }
        else if (expected is null)
        {
            Assert.True(r.IsAccepted, r.ToString());
        }
        else
        {
            Assert.Equal(expected, r.Error?.Message);
        }
    }

    /// <summary>A kernel BTF holding one kfunc of the table's name with the given prototype — prototypes this kernel
    /// does not have, to reach the checks of the kernel's check_kfunc_args that its own kfuncs never trip. Types:
    /// "int", "void", "task*" (struct task_struct { int pid; }), "int*", "void*", "foo" (struct foo { int a; } by value),
    /// "ctx:NAME*" (a pointer to struct NAME { int a; }). Returns the BTF and the FUNC's id.</summary>
    private static (BtfSpec Btf, uint Func) OneKfunc(string name, string ret, params (string Name, string Type)[] parameters)
    {
        var w = new BtfWriter();
        var i32 = w.Type("int", BtfWriter.Int, 0, 4, false, 1u << 24 | 32);
        var a = w.Str("a");
        var task = w.Type("task_struct", BtfWriter.Struct, 1, 4, false, w.Str("pid"), i32, 0);
        var taskPtr = w.Type("", BtfWriter.Ptr, 0, task);
        var intPtr = w.Type("", BtfWriter.Ptr, 0, i32);
        var voidPtr = w.Type("", BtfWriter.Ptr, 0, 0);
        var foo = w.Type("foo", BtfWriter.Struct, 1, 4, false, a, i32, 0);
        uint Of(string t)
        {
            if (t.StartsWith("ctx:", StringComparison.Ordinal))
            {
                var ctx = w.Type(t[4..^1], BtfWriter.Struct, 1, 4, false, w.Str("a"), i32, 0);
                return w.Type("", BtfWriter.Ptr, 0, ctx);
            }
            return t switch
            {
                "int" => i32, "void" => 0, "task*" => taskPtr, "int*" => intPtr, "void*" => voidPtr, "foo" => foo,
                _ => throw new ArgumentException(t),
            };
        }
        var retId = Of(ret);
        var rest = new List<uint>();
        foreach (var (pname, ptype) in parameters)
        {
            var pt = Of(ptype);
            rest.AddRange([w.Str(pname), pt]);
        }
        var proto = w.Type("", BtfWriter.FuncProto, (uint)parameters.Length, retId, false, [.. rest]);
        var func = w.Type(name, BtfWriter.Func, 1, proto);
        return (BtfSpec.Parse(w.Blob()), func);
    }

    public static TheoryData<string, string, string, string, string> KfuncPrototypeCases() => new()
    {
        // name, return, parameters ("name:type,..."), program ("{f}" the FUNC's id), expected message ("$not-supported", or null: accepted)
        { "bpf_task_from_pid", "task*", "a:int,b:int,c:int,d:int,e:int,f:int", "r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall kfunc {f}\nr0 = 0\nexit", "Function bpf_task_from_pid has 6 > 5 args" },
        { "bpf_cpumask_first", "int", "f:foo", "r1 = 0\ncall kfunc {f}\nr0 = 0\nexit", "Unrecognized arg#0 type STRUCT" },
        { "bpf_cpumask_first", "int", "a__k:int,b__k:int", "r1 = 1\nr2 = 2\ncall kfunc {f}\nr0 = 0\nexit", "$not-supported" },
        { "bpf_cpumask_first", "int", "a__k:int", "r1 = 1\ncall kfunc {f}\nexit", null! },
        { "bpf_cpumask_first", "int", "a__k:int", "call 7\nr1 = r0\ncall kfunc {f}\nr0 = 0\nexit", "R1 must be a known constant" },
        { "bpf_cpumask_first", "int", "s__str:int", "r1 = 1\ncall kfunc {f}\nr0 = 0\nexit", "$not-supported" },
        { "bpf_cpumask_first", "int", "p__uninit:int*", "r1 = r10\nr1 += -8\ncall kfunc {f}\nr0 = 0\nexit", "$not-supported" },
        { "bpf_cpumask_first", "int", "p:int*,sz__szk:int", "r1 = r10\nr1 += -8\nr2 = 4\ncall kfunc {f}\nr0 = 0\nexit", "$not-supported" },
        // A pointer to an int: read and written through, its size the int's.
        { "bpf_cpumask_first", "int", "p:int*", "*(u32 *)(r10 - 4) = 0\nr1 = r10\nr1 += -4\ncall kfunc {f}\nexit", null! },
        { "bpf_cpumask_first", "int", "p:int*", "r1 = r10\nr1 += -2\ncall kfunc {f}\nr0 = 0\nexit", "invalid read from stack R1 off=-2 size=4" },
        { "bpf_cpumask_first", "int", "p__nullable:int*", "r1 = 0\ncall kfunc {f}\nexit", null! },
        // A pointer to void with no size after it: neither memory of a known size nor a kernel object.
        { "bpf_cpumask_first", "int", "p:void*", "r1 = r10\nr1 += -8\ncall kfunc {f}\nr0 = 0\nexit", "arg#0 pointer type UNKNOWN  must point to scalar, or struct with scalar" },
        { "bpf_cpumask_first", "int", "p:void*,p__sz:int", "*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nr2 = 8\ncall kfunc {f}\nexit", null! },
        // Return types: an acquire kfunc must return a struct pointer; memory of the pointee's size, read-only.
        { "bpf_task_from_pid", "int", "pid:int", "r1 = 1\ncall kfunc {f}\nr0 = 0\nexit", "acquire kernel function does not return PTR_TO_BTF_ID" },
        { "bpf_cpumask_first", "void*", "", "call kfunc {f}\nr0 = 0\nexit", "kernel function bpf_cpumask_first returns pointer type UNKNOWN  is not supported" },
        { "bpf_cpumask_first", "int*", "", "call kfunc {f}\nr0 = *(u32 *)(r0 + 0)\nexit", null! },
        { "bpf_cpumask_first", "int*", "", "call kfunc {f}\nr0 = *(u32 *)(r0 + 2)\nexit", "invalid access to memory, mem_size=4 off=2 size=4" },
        { "bpf_cpumask_first", "int*", "", "call kfunc {f}\nr1 = 0\n*(u32 *)(r0 + 0) = r1\nr0 = 0\nexit", "R0 cannot write into rdonly_mem" },
        { "bpf_cpumask_first", "void", "", "call kfunc {f}\nexit", "R0 !read_ok" },
    };

    [Theory]
    [MemberData(nameof(KfuncPrototypeCases))]
    public void Kfunc_prototypes_this_kernel_lacks(string name, string ret, string parameters, string text, string? expected)
    {
        var ps = parameters.Length == 0 ? [] : parameters.Split(',').Select(x => (x.Split(':')[0], x.Split(':')[1])).ToArray();
        var (btf, func) = OneKfunc(name, ret, ps);
        var r = BpfVerifier.Verify(Assembler.Assemble(text.Replace("{f}", func.ToString(), StringComparison.Ordinal), AsmDialect.Llvm),
            new VerifierOptions { ProgramType = ProgramType.Syscall, KernelBtf = btf });
        output.WriteLine(r.ToString());
        if (expected is null) Assert.True(r.IsAccepted, r.ToString());
        else if (expected == "$not-supported")
        {
            Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
            Assert.Contains(name, r.Error!.Message, StringComparison.Ordinal);
        }
        else Assert.Equal(expected, r.Error?.Message);
    }

    /// <summary>A kfunc's context argument names the program type's context struct (the kernel's prog_ctx_type):
    /// the context itself is accepted, a stack pointer is refused naming it.</summary>
    [Theory]
    [InlineData(ProgramType.SchedCls, "__sk_buff")]
    [InlineData(ProgramType.Xdp, "xdp_md")]
    [InlineData(ProgramType.CgroupSock, "bpf_sock")]
    [InlineData(ProgramType.CgroupSockAddr, "bpf_sock_addr")]
    [InlineData(ProgramType.SockOps, "bpf_sock_ops")]
    [InlineData(ProgramType.SkMsg, "sk_msg_md")]
    [InlineData(ProgramType.PerfEvent, "bpf_perf_event_data")]
    [InlineData(ProgramType.RawTracepoint, "bpf_raw_tracepoint_args")]
    [InlineData(ProgramType.CgroupSysctl, "bpf_sysctl")]
    [InlineData(ProgramType.CgroupSockopt, "bpf_sockopt")]
    [InlineData(ProgramType.SkReuseport, "sk_reuseport_md")]
    [InlineData(ProgramType.SkLookup, "bpf_sk_lookup")]
    [InlineData(ProgramType.Netfilter, "bpf_nf_ctx")]
    public void A_kfunc_context_argument_names_the_program_types_context(ProgramType type, string ctx)
    {
        var (btf, func) = OneKfunc("bpf_rcu_read_lock", "void", ("ctx", $"ctx:{ctx}*"));
        var options = new VerifierOptions { ProgramType = type, KernelBtf = btf };
        var stack = BpfVerifier.Verify(Assembler.Assemble($"r1 = r10\nr1 += -8\ncall kfunc {func}\nr0 = 0\nexit", AsmDialect.Llvm), options);
        Assert.Equal("arg#0 expected pointer to ctx, but got fp", stack.Error?.Message);
        // The context passes; the section left open is what is refused then.
        var context = BpfVerifier.Verify(Assembler.Assemble($"call kfunc {func}\nr0 = 0\nexit", AsmDialect.Llvm), options);
        Assert.DoesNotContain("expected pointer to ctx", context.Error?.Message ?? "", StringComparison.Ordinal);
        // Another type's context struct is a plain kernel struct: not the context.
        var (other, otherFunc) = OneKfunc("bpf_rcu_read_lock", "void", ("ctx", ctx == "xdp_md" ? "ctx:__sk_buff*" : "ctx:xdp_md*"));
        var wrong = BpfVerifier.Verify(Assembler.Assemble($"call kfunc {otherFunc}\nr0 = 0\nexit", AsmDialect.Llvm), new VerifierOptions { ProgramType = type, KernelBtf = other });
        Assert.DoesNotContain("expected pointer to ctx", wrong.Error?.Message ?? "", StringComparison.Ordinal);
        Assert.False(wrong.IsAccepted);
    }

    [Fact]
    public void WithoutTheSymbolTable_VariablesAreNotJudged_FunctionsAre()
    {
        var btf = Vmlinux();
        var variable = Assembler.Assemble(Resolve(btf, "r1 = btf_id {bpf_prog_active} ll\nr0 = 0\nexit"), AsmDialect.Llvm);
        var r = BpfVerifier.Verify(variable, new VerifierOptions { KernelBtf = btf });
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        Assert.Contains("VerifierOptions.KernelSymbolAddress", r.Error!.Message, StringComparison.Ordinal);
        var func = Assembler.Assemble(Resolve(btf, "r1 = btf_id {bpf_cpumask_create} ll\nr0 = 0\nexit"), AsmDialect.Llvm);
        Assert.True(BpfVerifier.Verify(func, new VerifierOptions { KernelBtf = btf }).IsAccepted);
        // A symbol table without the function: the kernel's ENOENT for the lddw, EINVAL for a call.
        var none = (Func<string, ulong?>)(_ => null);
        r = BpfVerifier.Verify(func, new VerifierOptions { KernelBtf = btf, KernelSymbolAddress = none });
        Assert.Equal("ldimm64 failed to find the address for kernel symbol 'bpf_cpumask_create'.", r.Error?.Message);
        var call = Assembler.Assemble(Resolve(btf, "r1 = 1\ncall kfunc {bpf_task_from_pid}\nr0 = 0\nexit"), AsmDialect.Llvm);
        r = BpfVerifier.Verify(call, new VerifierOptions { ProgramType = ProgramType.SchedCls, KernelBtf = btf, KernelSymbolAddress = none });
        Assert.Equal("cannot find address for kernel function bpf_task_from_pid", r.Error?.Message);
    }

    [Fact]
    public void WithoutKernelBtf_KfuncsAndBtfIdsAreNotJudged()
    {
        var call = Assembler.Assemble("r1 = 1\ncall kfunc 100\nr0 = 0\nexit", AsmDialect.Llvm);
        var r = BpfVerifier.Verify(call, new VerifierOptions { ProgramType = ProgramType.SchedCls });
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        Assert.Contains("VerifierOptions.KernelBtf", r.Error!.Message, StringComparison.Ordinal);
        var lddw = Assembler.Assemble("r1 = btf_id 100 ll\nr0 = 0\nexit", AsmDialect.Llvm);
        r = BpfVerifier.Verify(lddw, VerifierOptions.Default);
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        Assert.Contains("VerifierOptions.KernelBtf", r.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KfuncsOutsideTheTable_AreNotSupported_ByName()
    {
        var btf = Vmlinux();
        var call = Assembler.Assemble(Resolve(btf, "r1 = 0\ncall kfunc {bpf_fentry_test1}\nr0 = 0\nexit"), AsmDialect.Llvm);
        var r = BpfVerifier.Verify(call, new VerifierOptions { ProgramType = ProgramType.SchedCls, KernelBtf = btf });
        Assert.Equal(VerifierErrorCode.NotSupported, r.Error?.Code);
        Assert.Contains("bpf_fentry_test1", r.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonGplPrograms_CannotCallKfuncs()
    {
        var btf = Vmlinux();
        var call = Assembler.Assemble(Resolve(btf, "r1 = 1\ncall kfunc {bpf_task_from_pid}\nr0 = 0\nexit"), AsmDialect.Llvm);
        var r = BpfVerifier.Verify(call, new VerifierOptions { ProgramType = ProgramType.SchedCls, KernelBtf = btf, GplCompatible = false });
        Assert.Equal("cannot call kernel function from non-GPL compatible program", r.Error?.Message);
    }

    [Fact]
    public void TheKfuncTable_NamesOnlyFunctionsOfThisKernel()
    {
        var btf = Vmlinux();
        var missing = Bpf.Helpers.KfuncTable.Entries.Where(k => btf.FindType(k.Name, BtfKind.Func) is null).Select(k => k.Name).ToList();
        Assert.True(missing.Count == 0, $"not in this kernel's BTF: {string.Join(", ", missing)}");
    }

    /// <summary>Each case loaded into the running kernel (GPL, privileged, with the case's attach point): the
    /// kernel's verdict must equal ours. Cases ours does not judge are listed, never compared.</summary>
    [KernelFact]
    public void Verdicts_AgreeWithTheKernel()
    {
        Need.Kernel();
        var btf = Vmlinux();
        var compared = 0;
        var sameMessage = 0;
        var disagreements = new List<string>();
        foreach (var c in Cases)
        {
            var insns = Program(btf, c);
            var ours = BpfVerifier.Verify(insns, Options(btf, c, Kallsyms));
            if (ours.Error?.Code == VerifierErrorCode.NotSupported)
            {
                output.WriteLine($"{c.Name}: not judged by ours ({ours.Error.Message})");
                continue;
            }
            uint attachId = 0;
            if (c.Target is not null)
            {
                var (kname, kind) = BtfAttachTargets.KernelName(c.Type, c.Attach, c.Target);
                attachId = btf.FindType(kname, kind)?.Id ?? throw new InvalidOperationException($"no {kind} {kname} in the kernel's BTF");
            }
            string? kernelError = null;
            var kernelLog = "";
            try
            {
                using var prog = BpfProgram.Load(c.Type, insns, "GPL", new LoadOptions { ExpectedAttachType = c.Attach, AttachBtfId = attachId });
            }
            catch (BpfSyscallException e) when (e.IsEnvironmentRefusal)
            {
                // EPERM before verifying (no log): no verdict from this kernel; not compared.
                output.WriteLine($"{c.Name}: no kernel verdict here ({e.Message}); ours {ours}");
                continue;
            }
            catch (ProgramRejectedException e)
            {
                kernelLog = e.Log;
                kernelError = e.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .LastOrDefault(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal)
                                        && !l.StartsWith("stack depth", StringComparison.Ordinal)) ?? e.Message;
            }
            catch (BpfSyscallException e)
            {
                kernelError = $"{e.ErrnoName}: {e.Message}";
            }
            compared++;
            var kernelAccepted = kernelError is null;
            if (!kernelAccepted && !ours.IsAccepted)
            {
                if (ours.Error!.Message.Split('\n').All(l => kernelLog.Contains(l + "\n", StringComparison.Ordinal))) sameMessage++;
                else output.WriteLine($"{c.Name}: the kernel's log lacks our message");
            }
            output.WriteLine($"{c.Name}: kernel {(kernelAccepted ? "accepts" : "rejects: " + kernelError)}; ours {(ours.IsAccepted ? "accepts" : "rejects: " + ours.Error!.Message.Replace('\n', ' '))}");
            if (Environment.GetEnvironmentVariable("KFUNC_DEBUG") == "1" && !kernelAccepted) output.WriteLine(kernelLog);
            if (ours.IsAccepted != kernelAccepted) disagreements.Add($"{c.Name}: kernel {(kernelAccepted ? "accepts" : "rejects: " + kernelError)}, ours {ours}");
        }
        output.WriteLine($"compared {compared} of {Cases.Length}; rejections whose message lines all appear in the kernel's log: {sameMessage}");
        Assert.True(compared >= 40, $"only {compared} programs had a kernel verdict");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }
}
