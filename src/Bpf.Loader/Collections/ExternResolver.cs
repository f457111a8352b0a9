using System.Runtime.Versioning;
using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>
/// The kernel engine's part of extern resolution, as libbpf does it (<c>bpf_object__resolve_externs</c>):
/// <c>__kconfig</c> values laid out in a <c>.kconfig</c> array map (read-only for programs, frozen), the lddw turned
/// into a map-value load; <c>CONFIG_*</c> from <c>/boot/config-$(uname -r)</c> or <c>/proc/config.gz</c> after
/// <see cref="KernelCollectionOptions.Kconfig"/>; <c>LINUX_KERNEL_VERSION</c>, <c>LINUX_HAS_BPF_COOKIE</c>,
/// <c>LINUX_HAS_SYSCALL_WRAPPER</c> probed. <c>__ksym</c> variables and kfuncs are resolved for both engines by the
/// collection loader (<see cref="KernelSymbolLinker"/>) against <see cref="KernelBtf.TryGetSymbols"/>.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ExternResolver
{
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
    /// Turns every <c>__kconfig</c> load of <paramref name="program"/> into a map relocation against
    /// <paramref name="kconfigMap"/> (<c>__ksym</c> variables and kfuncs were resolved by the collection loader,
    /// <see cref="KernelSymbolLinker"/>).
    /// </summary>
    /// <exception cref="ExternResolutionException">A <c>__kconfig</c> value is unknown; names it.</exception>
    public void Apply(ProgramSpec program, Instruction[] insns, BpfMap? kconfigMap, List<MapRelocation> relocations)
    {
        foreach (var r in program.References)
        {
            if (r.Kind != ReferenceKind.ExternVariable || _spec.Extern(r.Name) is not { Kind: ExternKind.Kconfig } e) continue;
            int at = r.InstructionIndex;
            string where = $"program '{program.Name}': instruction {at}";
            if (Kconfig.Unresolved.TryGetValue(e.Name, out var why)) throw new ExternResolutionException(e.Name, $"{where}: {why}");
            if (kconfigMap is null) throw new InvalidOperationException($"{where}: the .kconfig map was not created");
            relocations.Add(new MapRelocation(at, kconfigMap, IsValue: true, ValueOffset: checked(e.Offset + (uint)insns[at].Imm)));
        }
    }
}
