using Bpf.Btf;
using Bpf.Runtime;
using Bpf.Tests.Elf;

namespace Bpf.Tests.Runtime;

/// <summary>
/// __ksym variables and kfunc calls resolved against a kernel's facts (<see cref="KernelSymbols"/>) in the managed
/// runtime, with a small hand-built "kernel" BTF and symbol table: the same resolution the kernel engine does
/// (KernelSymbolLinker), after which an address or an absent weak extern runs and kernel memory or functions are
/// refused, named. The object is tests/Bpf.Core.Tests/programs/features/ksyms.c.
/// </summary>
public sealed class KernelSymbolTests
{
    private const ulong FentryTest1 = 0xffffffff81234560;

    private static ObjectSpec Ksyms() => ObjectSpec.ReadFile(RepoPaths.FeatureObject("ksyms"));

    /// <summary>A kernel with <c>int bpf_prog_active</c>, <c>void bpf_rcu_read_lock(void)</c>,
    /// <c>void bpf_rcu_read_unlock(void)</c>, <c>void *bpf_cast_to_kern_ctx(void *)</c>, <c>struct sk_buff</c>, and the symbols given.</summary>
    private static KernelSymbols Kernel(IReadOnlyDictionary<string, ulong>? symbols = null)
    {
        var b = new BtfBuilder();
        uint i = b.Type("int", 1, 0, false, 4, (1u << 24) | 32);         // 1: int (signed, 32 bits)
        uint cint = b.Type("", 10, 0, false, i);                          // 2: const int
        b.Type("bpf_prog_active", 14, 0, false, cint, 1);                 // 3: VAR, global
        uint voidFn = b.Type("", 13, 0, false, 0);                        // 4: void (void)
        b.Type("bpf_rcu_read_lock", 12, 1, false, voidFn);               // 5: FUNC, global
        b.Type("bpf_rcu_read_unlock", 12, 1, false, voidFn);             // 6
        uint voidPtr = b.Type("", 2, 0, false, 0);                        // 7: void *
        uint castProto = b.Type("", 13, 1, false, voidPtr, b.Str("obj"), voidPtr); // 8: void *(void *obj)
        b.Type("bpf_cast_to_kern_ctx", 12, 1, false, castProto);         // 9
        uint u = b.Type("unsigned int", 1, 0, false, 4, 32);              // 10
        b.Type("sk_buff", 4, 1, false, 4, b.Str("len"), u, 0);             // 11: struct sk_buff { unsigned int len; } (for CO-RE)
        var table = symbols ?? new Dictionary<string, ulong> { ["bpf_fentry_test1"] = FentryTest1 };
        return new KernelSymbols(BtfSpec.Parse(b.Build()), name => table.TryGetValue(name, out var a) ? a : null);
    }

    private static ManagedCollection Load(KernelSymbols kernel) =>
        ManagedCollection.Load(Ksyms(), new CollectionOptions { CpuCount = 1, KernelSymbols = kernel, TargetBtf = kernel.Btf });

    [Fact]
    public void A_typeless_ksym_runs_with_the_kernels_address()
    {
        var c = Load(Kernel());
        Assert.Equal(0UL, c.Run("typeless_symbol", new SkBuffContext(new byte[64])).R0);
        Assert.Equal(FentryTest1, BitConverter.ToUInt64(c.Variable("typeless_address")));
    }

    [Fact]
    public void A_weak_extern_the_kernel_lacks_is_zero_and_its_guarded_path_is_not_taken()
    {
        var c = Load(Kernel());
        Assert.Equal(5UL, c.Run("weak_variable", new SkBuffContext(new byte[64])).R0);
        Assert.Equal(3UL, c.Run("weak_kfunc_guarded", new SkBuffContext(new byte[64])).R0);
        Assert.Contains(c.Diagnostics, d => d.Contains("bpfnet_no_such_variable", StringComparison.Ordinal) && d.Contains("loaded as 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Kernel_memory_and_kernel_functions_are_refused_naming_the_instruction()
    {
        var c = Load(Kernel());
        var typed = Assert.Throws<NotSupportedException>(() => c.Program("typed_variable"));
        Assert.Contains("program 'typed_variable': insn ", typed.Message);
        Assert.Contains("address of a kernel object", typed.Message);
        // bpf_rcu_read_lock/unlock are the runtime's; bpf_cast_to_kern_ctx is not, and is named.
        var kfunc = Assert.Throws<NotSupportedException>(() => c.Program("kfunc_calls"));
        Assert.Contains("program 'kfunc_calls': insn ", kfunc.Message);
        Assert.Contains("calls kfunc bpf_cast_to_kern_ctx (BTF id 9), which the managed runtime does not implement", kfunc.Message);
    }

    [Fact]
    public void A_kfunc_call_without_a_kernel_BTF_to_name_it_is_refused_by_its_id()
    {
        var spec = Ksyms();
        var insns = (Instruction[])spec.Program("kfunc_calls")!.Instructions.Clone();
        KernelSymbolLinker.Apply(spec, spec.Program("kfunc_calls")!, insns, Kernel(), []);
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var e = Assert.Throws<NotSupportedException>(() => c.LoadProgram("raw", ProgramType.SchedCls, insns));
        Assert.Contains("calls a kernel function (kfunc, BTF id 5)", e.Message);
    }

    [Fact]
    public void A_reachable_call_to_an_absent_weak_kfunc_is_poisoned_and_rejected_by_the_verifier_path()
    {
        // The runtime loads what the loader produced; the poisoned call is a helper call no runtime has.
        var spec = Ksyms();
        var insns = (Instruction[])spec.Program("weak_kfunc_called")!.Instructions.Clone();
        KernelSymbolLinker.Apply(spec, spec.Program("weak_kfunc_called")!, insns, Kernel(), []);
        int index = spec.Externs.ToList().FindIndex(e => e.Name == "bpfnet_no_such_kfunc");
        Assert.Contains(insns, insn => insn.Opcode == Opcodes.Call && insn.SrcRaw == 0 && insn.Imm == KernelSymbolLinker.PoisonKfuncBase + index);
    }

    [Fact]
    public void Strong_externs_the_kernel_lacks_fail_only_their_program_naming_it()
    {
        var c = Load(Kernel(new Dictionary<string, ulong>()));
        var strong = Assert.Throws<NotSupportedException>(() => c.Program("strong_kfunc_missing"));
        Assert.Contains("kfunc 'bpfnet_strong_missing_kfunc' (strong) is not a function of the kernel's BTF", strong.Message);
        var typeless = Assert.Throws<NotSupportedException>(() => c.Program("typeless_symbol"));
        Assert.Contains("__ksym 'bpf_fentry_test1' (strong) is not among the kernel's symbols", typeless.Message);
        Assert.Equal(5UL, c.Run("weak_variable", new SkBuffContext(new byte[64])).R0);
    }

    [Fact]
    public void An_incompatible_kernel_declaration_is_refused_as_libbpf_refuses_it()
    {
        // A kernel whose bpf_prog_active is a pointer, not an int.
        var b = new BtfBuilder();
        uint ptr = b.Type("", 2, 0, false, 0);
        b.Type("bpf_prog_active", 14, 0, false, ptr, 1);
        var kernel = new KernelSymbols(BtfSpec.Parse(b.Build()), _ => null);
        var spec = Ksyms();
        var p = spec.Program("typed_variable")!;
        var e = Assert.Throws<ExternResolutionException>(() => KernelSymbolLinker.Apply(spec, p, (Instruction[])p.Instructions.Clone(), kernel, []));
        Assert.Equal("bpf_prog_active", e.ExternName);
        Assert.Contains("incompatible", e.Message);
    }

    [Fact]
    public void Kallsyms_that_cannot_be_read_name_the_extern_and_the_reason()
    {
        var kernel = new KernelSymbols(Kernel().Btf, _ => throw new InvalidOperationException("kallsyms hidden"));
        var spec = Ksyms();
        var p = spec.Program("typeless_symbol")!;
        var e = Assert.Throws<ExternResolutionException>(() => KernelSymbolLinker.Apply(spec, p, (Instruction[])p.Instructions.Clone(), kernel, []));
        Assert.Contains("'bpf_fentry_test1': kallsyms hidden", e.Message);
    }
}
