using System.Runtime.Versioning;
using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>
/// Resolves an object's externs against the running kernel as libbpf does (<c>bpf_object__resolve_externs</c> and
/// <c>bpf_object__relocate_data</c>), one program at a time, so only a program that uses an extern which cannot be
/// resolved fails (libbpf fails the whole object):
/// <list type="bullet">
/// <item><c>__kconfig</c>: values laid out in a <c>.kconfig</c> array map (read-only for programs, frozen), the lddw
/// turned into a map-value load; <c>CONFIG_*</c> from <c>/boot/config-$(uname -r)</c> or <c>/proc/config.gz</c> after
/// <see cref="KernelCollectionOptions.Kconfig"/>; <c>LINUX_KERNEL_VERSION</c>, <c>LINUX_HAS_BPF_COOKIE</c>,
/// <c>LINUX_HAS_SYSCALL_WRAPPER</c> probed.</item>
/// <item>typed <c>__ksym</c> variables: the kernel BTF VAR id (lddw src = BPF_PSEUDO_BTF_ID), types checked as libbpf does;
/// typeless ones: the address from <c>/proc/kallsyms</c>.</item>
/// <item>kfunc calls: the kernel BTF FUNC id, prototype checked; an lddw of a kfunc (<c>bpf_ksym_exists</c>) its BTF id.</item>
/// <item>a weak extern that cannot be resolved is 0; a call to a weak kfunc that is absent is poisoned as libbpf does
/// (<c>call 2002000000 + extern index</c>: the kernel rejects it only when reachable).</item>
/// </list>
/// Only vmlinux BTF is searched; kfuncs and variables of kernel modules (module BTF, fd_array) are not resolved.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ExternResolver
{
    /// <summary>libbpf's POISON_CALL_KFUNC_BASE: a call to an unresolved weak kfunc becomes helper call base + extern index.</summary>
    public const int PoisonKfuncBase = 2002000000;

    private const int BpfGetAttachCookie = 174;

    private readonly ObjectSpec _spec;
    private readonly KernelCollectionOptions _options;
    private KconfigValues? _kconfig;

    public ExternResolver(ObjectSpec spec, KernelCollectionOptions options)
    {
        _spec = spec;
        _options = options;
    }

    /// <summary>The <c>.kconfig</c> values, computed on first use.</summary>
    public KconfigValues Kconfig => _kconfig ??= KconfigFor(_spec, _options.Kconfig, _options.TargetBtf);

    /// <summary>
    /// The <c>.kconfig</c> values of <paramref name="spec"/> on the running kernel: the one resolution both engines use
    /// (the kernel engine's <c>.kconfig</c> map, and the interpreter's through <see cref="Runtime.CollectionOptions.Kconfig"/>).
    /// </summary>
    /// <param name="spec">The object.</param>
    /// <param name="extra"><see cref="KernelCollectionOptions.Kconfig"/>: configuration lines that win over the kernel's.</param>
    /// <param name="targetBtf">The kernel BTF to probe for the syscall wrapper; null: the running kernel's.</param>
    internal static KconfigValues KconfigFor(ObjectSpec spec, string? extra, BtfSpec? targetBtf)
    {
        var sources = new List<KconfigSource>();
        if (extra is not null) sources.Add(new KconfigSource("KernelCollectionOptions.Kconfig", extra.Split('\n')));
        bool needsConfig = spec.Externs.Any(e => e.Kind == ExternKind.Kconfig && e.Name.StartsWith("CONFIG_", StringComparison.Ordinal));
        string? missing = null;
        if (needsConfig)
        {
            var (source, lines, why) = RunningKernel.Config;
            if (lines is not null) sources.Add(new KconfigSource(source!, lines));
            else missing = why;
        }
        var virtuals = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var e in spec.Externs)
        {
            switch (e.Kind == ExternKind.Kconfig ? e.Name : null)
            {
                case "LINUX_KERNEL_VERSION":
                    if (RunningKernel.VersionCode is uint v and not 0) virtuals[e.Name] = v;
                    break;
                case "LINUX_HAS_BPF_COOKIE":
                    virtuals[e.Name] = FeatureProbes.SupportsHelper(ProgramType.Tracepoint, BpfGetAttachCookie) ? 1u : 0u;
                    break;
                case "LINUX_HAS_SYSCALL_WRAPPER":
                    virtuals[e.Name] = RunningKernel.SyscallPrefix is { Length: > 0 } prefix
                        && (targetBtf ?? KernelBtf.TryGet())?.FindType(prefix + "sys_bpf", BtfKind.Func) is not null ? 1u : 0u;
                    break;
            }
        }
        return KconfigValues.Build(spec, sources, virtuals, missing);
    }

    /// <summary>Creates the <c>.kconfig</c> map as libbpf does: one element, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, filled and frozen.</summary>
    public BpfMap CreateKconfigMap()
    {
        var map = BpfMap.Create(new MapCreateSpec
        {
            Type = MapType.Array,
            KeySize = 4,
            ValueSize = _spec.KconfigSize,
            MaxEntries = 1,
            Flags = MapFlags.ReadOnlyProgram | MapFlags.Mmapable,
            Name = ObjectSpec.KconfigMapName,
        });
        try
        {
            map.ObjectName = ObjectSpec.KconfigMapName;
            Span<byte> key = stackalloc byte[4];
            key.Clear();
            map.Update(key, Kconfig.Data);
            map.Freeze();
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Patches every extern reference of <paramref name="program"/> into <paramref name="insns"/> (kconfig loads become
    /// map relocations against <paramref name="kconfigMap"/>).
    /// </summary>
    /// <exception cref="ExternResolutionException">A strong extern cannot be resolved, or an extern is malformed; names it.</exception>
    public void Apply(ProgramSpec program, Instruction[] insns, BpfMap? kconfigMap, List<MapRelocation> relocations, List<string> diagnostics)
    {
        foreach (var r in program.References)
        {
            if (r.Kind is not (ReferenceKind.ExternVariable or ReferenceKind.KernelFunction)) continue;
            int at = r.InstructionIndex;
            var e = _spec.Extern(r.Name)
                ?? throw new ExternResolutionException(r.Name, $"program '{program.Name}': instruction {at} refers to '{r.Name}', which is not an extern the object declares (undefined symbol of another type)");
            string where = $"program '{program.Name}': instruction {at}";
            switch (e.Kind)
            {
                case ExternKind.Kconfig:
                    if (Kconfig.Unresolved.TryGetValue(e.Name, out var why)) throw new ExternResolutionException(e.Name, $"{where}: {why}");
                    if (kconfigMap is null) throw new InvalidOperationException($"{where}: the .kconfig map was not created");
                    relocations.Add(new MapRelocation(at, kconfigMap, IsValue: true, ValueOffset: checked(e.Offset + (uint)insns[at].Imm)));
                    break;
                case ExternKind.KernelVariable when e.IsTyped:
                    PatchTypedVariable(e, insns, at, where, diagnostics);
                    break;
                case ExternKind.KernelVariable:
                    PatchTypeless(e, insns, at, where, diagnostics);
                    break;
                case ExternKind.KernelFunction:
                    PatchFunction(e, insns, at, r.Kind == ReferenceKind.KernelFunction, where, diagnostics);
                    break;
                default:
                    throw new ExternResolutionException(e.Name, $"{where}: extern '{e.Name}' cannot be resolved: {e.Problem}");
            }
        }
    }

    private BtfSpec Vmlinux(string where, ExternSpec e) =>
        _options.TargetBtf ?? KernelBtf.Get($"{where} (extern '{e.Name}')");

    private void PatchTypedVariable(ExternSpec e, Instruction[] insns, int at, string where, List<string> diagnostics)
    {
        var kernel = Vmlinux(where, e);
        if (kernel.FindType(e.EssentialName, BtfKind.Var) is not BtfVar var)
        {
            if (!e.IsWeak)
                throw new ExternResolutionException(e.Name, $"{where}: __ksym variable '{e.Name}' (strong) is not a variable of the kernel's BTF (vmlinux; module BTF is not searched)");
            diagnostics.Add($"{where}: __ksym variable '{e.Name}' (weak) is not in the kernel's BTF, loaded as 0");
            SetConstant(insns, at, 0);
            return;
        }
        if (!CoreRelocator.TypesAreCompatible(e.Type!, var.Target))
        {
            throw new ExternResolutionException(e.Name,
                $"{where}: __ksym variable '{e.Name}' is declared {BtfSpec.DisplayName(e.Type!)}, the kernel's is {BtfSpec.DisplayName(var.Target)} (incompatible, as libbpf judges)");
        }
        SetBtfId(insns, at, var.Id);
    }

    private static void PatchTypeless(ExternSpec e, Instruction[] insns, int at, string where, List<string> diagnostics)
    {
        ulong? address;
        try
        {
            address = RunningKernel.SymbolAddress(e.EssentialName);
        }
        catch (InvalidOperationException ex)
        {
            throw new ExternResolutionException(e.Name, $"{where}: __ksym '{e.Name}': {ex.Message}", ex);
        }
        if (address is null && !e.IsWeak)
            throw new ExternResolutionException(e.Name, $"{where}: __ksym '{e.Name}' (strong) is not in {RunningKernel.KallsymsPath}");
        if (address is null) diagnostics.Add($"{where}: __ksym '{e.Name}' (weak) is not in {RunningKernel.KallsymsPath}, loaded as 0");
        SetConstant(insns, at, address ?? 0);
    }

    private void PatchFunction(ExternSpec e, Instruction[] insns, int at, bool isCall, string where, List<string> diagnostics)
    {
        var kernel = Vmlinux(where, e);
        string? missing = null;
        var func = kernel.FindType(e.EssentialName, BtfKind.Func) as BtfFunc;
        if (func is null) missing = "is not a function of the kernel's BTF (vmlinux; module BTF is not searched)";
        else if (!CoreRelocator.TypesAreCompatible(e.Type!, func.Target)) missing = $"has a prototype incompatible with the kernel's ({BtfSpec.DisplayName(func.Target)})";
        if (missing is not null)
        {
            if (!e.IsWeak) throw new ExternResolutionException(e.Name, $"{where}: kfunc '{e.Name}' (strong) {missing}");
            if (isCall)
            {
                int index = IndexOf(e);
                diagnostics.Add($"{where}: kfunc '{e.Name}' (weak) {missing}; the call is poisoned (call {PoisonKfuncBase + index}), so the kernel rejects the program only if it is reachable");
                insns[at] = Instruction.CallHelper(PoisonKfuncBase + index);
            }
            else
            {
                diagnostics.Add($"{where}: kfunc '{e.Name}' (weak) {missing}; its address loads as 0");
                SetConstant(insns, at, 0);
            }
            return;
        }
        if (isCall)
        {
            insns[at] = insns[at].WithSrc((byte)CallKind.Kfunc).WithImm((int)func!.Id).WithOffset(0);
        }
        else
        {
            SetBtfId(insns, at, func!.Id);
        }
    }

    private int IndexOf(ExternSpec e)
    {
        for (int i = 0; i < _spec.Externs.Count; i++)
        {
            if (ReferenceEquals(_spec.Externs[i], e)) return i;
        }
        return 0;
    }

    private static void CheckWide(Instruction[] insns, int at)
    {
        if ((uint)at + 1 >= (uint)insns.Length || !insns[at].IsWide)
            throw new InvalidOperationException($"extern reference at instruction {at} is not an lddw");
    }

    private static void SetConstant(Instruction[] insns, int at, ulong value)
    {
        CheckWide(insns, at);
        insns[at] = insns[at].WithSrc((byte)PseudoSource.None).WithImm((int)(uint)value);
        insns[at + 1] = insns[at + 1].WithImm((int)(uint)(value >> 32));
    }

    private static void SetBtfId(Instruction[] insns, int at, uint id)
    {
        CheckWide(insns, at);
        insns[at] = insns[at].WithSrc((byte)PseudoSource.BtfId).WithImm((int)id);
        insns[at + 1] = insns[at + 1].WithImm(0); // vmlinux: no BTF object fd
    }
}
