using Bpf.Btf;

namespace Bpf;

/// <summary>What an <c>lddw</c> that references a map becomes for one engine: its pseudo source, its immediate and
/// the second slot's immediate (the kernel: fd and value offset; the managed runtime: a 64-bit address; the verifier:
/// a map index and value offset).</summary>
/// <param name="Source">The pseudo source (src register field) of the first slot.</param>
/// <param name="Imm">The first slot's immediate.</param>
/// <param name="NextImm">The second slot's immediate.</param>
internal readonly record struct LddwTarget(PseudoSource Source, int Imm, int NextImm)
{
    /// <summary>A plain 64-bit constant (src 0): the managed runtime's map handles and value addresses.</summary>
    public static LddwTarget Constant(ulong value) => new(PseudoSource.None, (int)(uint)value, (int)(uint)(value >> 32));
}

/// <summary>A map's sizes as they are created: the object's, with the fix-ups every loader applies.</summary>
/// <param name="KeySize">Key size in bytes.</param>
/// <param name="ValueSize">Value size in bytes.</param>
/// <param name="MaxEntries">Maximum number of entries (a ring buffer's size in bytes).</param>
internal readonly record struct MapShape(uint KeySize, uint ValueSize, uint MaxEntries)
{
    /// <summary>
    /// Sizes the kernel insists on whatever the object says, as libbpf and cilium/ebpf fix them up: objects often
    /// declare a ring buffer's event type as its value, or leave a perf event array's key/value sizes out, which the
    /// kernel refuses (EINVAL). Ring buffers take 0/0; perf event arrays 4/4 where the object says 0 or gives a value type (another size is
    /// passed on, and the refusal names the map), and one slot per possible CPU when max_entries is 0 or larger.
    /// </summary>
    public static MapShape For(MapSpec m, int possibleCpus)
    {
        ArgumentNullException.ThrowIfNull(m);
        switch (m.Type)
        {
            case MapType.RingBuf or MapType.UserRingBuf:
                return new(0, 0, m.MaxEntries);
            case MapType.PerfEventArray:
                uint cpus = (uint)possibleCpus;
                // A value *type* (__type(value, struct event)) annotates the events for code generators; its size is
                // not the map's (cilium/ebpf's canHaveValueSize drops it the same way).
                uint value = m.ValueSize == 0 || m.ValueType is not null ? 4 : m.ValueSize;
                return new(m.KeySize == 0 ? 4 : m.KeySize, value, m.MaxEntries == 0 || m.MaxEntries > cpus ? cpus : m.MaxEntries);
            default:
                return new(m.KeySize, m.ValueSize, m.MaxEntries);
        }
    }
}

/// <summary>One engine's part of loading a collection: create a map, encode a map reference, load a program, fill a
/// slot. Everything else — which maps exist and in what order, CO-RE, verification, relocation, <c>.values</c> — is
/// <see cref="CollectionLoader"/>'s, the same for every engine.</summary>
/// <typeparam name="TMap">The engine's map.</typeparam>
/// <typeparam name="TProgram">The engine's program.</typeparam>
internal interface ICollectionBackend<TMap, TProgram> where TMap : class where TProgram : class
{
    /// <summary>How many CPUs per-CPU structures are sized for (perf event arrays get one slot each).</summary>
    int PossibleCpus { get; }

    /// <summary>Creates a map (global data: with its initial contents, <c>.rodata</c> frozen).</summary>
    TMap CreateMap(MapSpec spec, MapShape shape);

    /// <summary>What an <c>lddw</c> referencing <paramref name="map"/> becomes (<paramref name="reference"/>'s kind
    /// is <see cref="ReferenceKind.Map"/> or <see cref="ReferenceKind.MapValue"/>).</summary>
    LddwTarget Encode(InstructionReference reference, TMap map);

    /// <summary>Creates the <c>.kconfig</c> map holding the object's <c>__kconfig</c> externs (only called when the
    /// object has some); null when this engine does not resolve externs.</summary>
    TMap? CreateKconfigMap(ObjectSpec spec);

    /// <summary>Resolves the program's <c>__kconfig</c> references in <paramref name="instructions"/>, or refuses them
    /// (<see cref="ExternResolutionException"/> naming the extern). <c>__ksym</c> variables and kfuncs are resolved
    /// before, by the loader (<see cref="KernelSymbolLinker"/>).</summary>
    void ResolveExterns(ProgramSpec program, Instruction[] instructions, TMap? kconfigMap);

    /// <summary>Loads a program whose instructions are fully relocated.</summary>
    TProgram LoadProgram(ProgramSpec spec, Instruction[] instructions);

    /// <summary>Fills slot <paramref name="index"/> of a program array with a program, or of a map of maps with a map.</summary>
    void SetSlot(MapSpec outerSpec, TMap outer, uint index, TProgram? program, TMap? inner);

    /// <summary>Whether a program that failed to load with <paramref name="error"/> is left out (recorded in
    /// <see cref="LoadedCollection{TMap, TProgram}.Failed"/>) rather than failing the whole collection.</summary>
    bool LeaveOut(ProgramSpec program, Exception error);
}

/// <summary>Checks a program before it is loaded (BpfNet's verifier on the load path): given its instructions with
/// CO-RE applied and <c>__ksym</c>/kfunc externs resolved, map references and <c>__kconfig</c> loads not yet; throws to
/// refuse it.</summary>
/// <param name="spec">The object.</param>
/// <param name="program">The program.</param>
/// <param name="coreRelocated">Its instructions after CO-RE relocation and kernel-symbol resolution.</param>
internal delegate void ProgramCheck(ObjectSpec spec, ProgramSpec program, Instruction[] coreRelocated);

/// <summary>What <see cref="CollectionLoader.Load{TMap, TProgram}"/> needs besides the object and the backend.</summary>
internal sealed class CollectionLoadOptions
{
    /// <summary>The BTF CO-RE relocations resolve against, asked for once, only when a program has CO-RE relocations;
    /// null (or a null answer): such a program fails with an error naming its first relocation.</summary>
    public Func<BtfSpec?>? CoreTarget { get; init; }

    /// <summary>The kernel that <c>__ksym</c> variables and kfunc calls resolve against (<see cref="KernelSymbolLinker"/>),
    /// asked for once, only when a program has such externs; null (or a null answer): such a program fails with an
    /// <see cref="ExternResolutionException"/> naming its first kernel extern.</summary>
    public Func<KernelSymbols?>? KernelSymbols { get; init; }

    /// <summary>Runs before each program is relocated and loaded (the verifier); null: none.</summary>
    public ProgramCheck? Check { get; init; }
}

/// <summary>The outcome of <see cref="CollectionLoader.Load{TMap, TProgram}"/>.</summary>
/// <typeparam name="TMap">The engine's map.</typeparam>
/// <typeparam name="TProgram">The engine's program.</typeparam>
internal sealed class LoadedCollection<TMap, TProgram> where TMap : class where TProgram : class
{
    internal LoadedCollection() { }

    /// <summary>The maps by object name, in creation order.</summary>
    public Dictionary<string, TMap> Maps { get; } = new(StringComparer.Ordinal);

    /// <summary>The programs by function name.</summary>
    public Dictionary<string, TProgram> Programs { get; } = new(StringComparer.Ordinal);

    /// <summary>Programs left out (<see cref="ICollectionBackend{TMap, TProgram}.LeaveOut"/>) with their errors.</summary>
    public Dictionary<string, Exception> Failed { get; } = new(StringComparer.Ordinal);

    /// <summary>What loading did that a user should know (poisoned CO-RE relocations, empty program array slots).</summary>
    public List<string> Diagnostics { get; } = [];
}

/// <summary>
/// The one collection loader: every engine (the kernel's <c>KernelCollection</c>, the managed
/// <c>ManagedCollection</c>) loads objects through it. It decides once which maps exist and in what order, fixes
/// their sizes, applies CO-RE relocations, runs the check (BpfNet's verifier) on each program, relocates map and
/// global-data loads with <see cref="RelocateMapReferences(ProgramSpec, Span{Instruction}, Func{InstructionReference, LddwTarget})"/>, loads the programs and fills program arrays and
/// map-in-map slots from the object's <c>.values</c>. The backend only creates and loads.
/// </summary>
internal static class CollectionLoader
{
    /// <summary>The maps a collection creates, in creation order: every map of the object except inner-map
    /// templates (only a shape for the outer map) and empty global data sections.</summary>
    public static IEnumerable<MapSpec> MapsToCreate(ObjectSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Maps.Where(m => m.Source != MapSource.InnerMap && !(m.Source == MapSource.GlobalData && m.ValueSize == 0));
    }

    /// <summary>Loads <paramref name="spec"/> through <paramref name="backend"/>. On an exception the backend's
    /// partial work is the caller's to release (the backend knows what it created).</summary>
    public static LoadedCollection<TMap, TProgram> Load<TMap, TProgram>(ObjectSpec spec, ICollectionBackend<TMap, TProgram> backend, CollectionLoadOptions? options = null)
        where TMap : class where TProgram : class
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(backend);
        options ??= new CollectionLoadOptions();
        var result = new LoadedCollection<TMap, TProgram>();
        foreach (var m in MapsToCreate(spec))
        {
            result.Maps[m.Name] = backend.CreateMap(m, MapShape.For(m, backend.PossibleCpus));
        }
        // The .kconfig map of __kconfig externs (libbpf's internal map), filled and frozen before any program uses it.
        TMap? kconfig = spec.KconfigSize > 0 ? backend.CreateKconfigMap(spec) : null;
        if (kconfig is not null) result.Maps[ObjectSpec.KconfigMapName] = kconfig;

        BtfSpec? target = null;
        bool targetAsked = false;
        KernelSymbols? kernel = null;
        bool kernelAsked = false;
        foreach (var p in spec.Programs)
        {
            try
            {
                if (p.Type == ProgramType.Unspecified)
                    throw new NotSupportedException($"program '{p.Name}': section '{p.SectionName}' does not name a program type the loader knows");
                var insns = (Instruction[])p.Instructions.Clone();
                if (p.CoreRelocations.Count > 0)
                {
                    if (!targetAsked)
                    {
                        target = options.CoreTarget?.Invoke();
                        targetAsked = true;
                    }
                    result.Diagnostics.AddRange(ApplyCore(p, insns, target));
                }
                if (KernelSymbolLinker.Needs(spec, p))
                {
                    if (!kernelAsked)
                    {
                        kernel = options.KernelSymbols?.Invoke();
                        kernelAsked = true;
                    }
                    KernelSymbolLinker.Apply(spec, p, insns, kernel, result.Diagnostics);
                }
                options.Check?.Invoke(spec, p, insns);
                RelocateMapReferences(p, insns, r => result.Maps.TryGetValue(r.Name, out var map) ? backend.Encode(r, map)
                    : throw new InvalidOperationException($"program '{p.Name}': instruction {r.InstructionIndex} refers to map '{r.Name}', which the collection has not created"));
                if (p.References.Any(r => r.Kind == ReferenceKind.ExternVariable && spec.Extern(r.Name) is { Kind: ExternKind.Kconfig })) backend.ResolveExterns(p, insns, kconfig);
                result.Programs[p.Name] = backend.LoadProgram(p, insns);
            }
            catch (Exception e) when (backend.LeaveOut(p, e))
            {
                result.Failed[p.Name] = e;
            }
        }

        foreach (var m in spec.Maps)
        {
            if (m.InitialValues.Count == 0 || !result.Maps.TryGetValue(m.Name, out var outer)) continue;
            foreach (var v in m.InitialValues)
            {
                if (m.Type == MapType.ProgArray)
                {
                    if (result.Failed.ContainsKey(v.Name))
                    {
                        result.Diagnostics.Add($"program array '{m.Name}' slot {v.Index} left empty: program '{v.Name}' failed to load");
                        continue;
                    }
                    var program = result.Programs.GetValueOrDefault(v.Name)
                        ?? throw new InvalidOperationException($"program array '{m.Name}' slot {v.Index} names program '{v.Name}', which the collection has not loaded");
                    backend.SetSlot(m, outer, v.Index, program, null);
                }
                else
                {
                    var inner = result.Maps.GetValueOrDefault(v.Name)
                        ?? throw new InvalidOperationException($"map-in-map '{m.Name}' slot {v.Index} names map '{v.Name}', which the collection has not created");
                    backend.SetSlot(m, outer, v.Index, null, inner);
                }
            }
        }
        return result;
    }

    /// <summary>Applies a program's CO-RE relocations to <paramref name="instructions"/> against <paramref name="target"/>
    /// (unresolvable ones poisoned, as libbpf does); returns the diagnostics naming poisoned relocations.</summary>
    /// <exception cref="NotSupportedException">No target: the message names the first relocation.</exception>
    public static IReadOnlyList<string> ApplyCore(ProgramSpec program, Instruction[] instructions, BtfSpec? target)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (program.CoreRelocations.Count == 0) return [];
        if (target is null)
        {
            var first = program.CoreRelocations[0];
            throw new NotSupportedException(
                $"program '{program.Name}' has {program.CoreRelocations.Count} CO-RE relocations (the first at insn {first.InstructionIndex}: " +
                $"{first.Kind} of '{first.Type.Name}' access {first.AccessString}) and no target BTF to resolve them against " +
                "(set CollectionOptions.TargetBtf / KernelCollectionOptions.TargetBtf; on Linux BpfEngine supplies the running kernel's)");
        }
        return CoreRelocator.Apply(program, instructions, target);
    }

    /// <summary>
    /// The one map-reference relocation: every map and global-data <c>lddw</c> of <paramref name="program"/> becomes
    /// what <paramref name="encode"/> says. References to externs are left alone (<c>__ksym</c> variables and kfuncs:
    /// <see cref="KernelSymbolLinker"/>; <c>__kconfig</c>: <see cref="ICollectionBackend{TMap, TProgram}.ResolveExterns"/>).
    /// </summary>
    public static void RelocateMapReferences(ProgramSpec program, Span<Instruction> instructions, Func<InstructionReference, LddwTarget> encode)
    {
        ArgumentNullException.ThrowIfNull(program);
        RelocateMapReferences(program.Name, program.References, instructions, encode);
    }

    /// <summary>As <see cref="RelocateMapReferences(ProgramSpec, Span{Instruction}, Func{InstructionReference, LddwTarget})"/>
    /// for instructions that do not come from an object (the references given by the caller).</summary>
    public static void RelocateMapReferences(string programName, IEnumerable<InstructionReference> references, Span<Instruction> instructions, Func<InstructionReference, LddwTarget> encode)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(encode);
        foreach (var r in references)
        {
            if (r.Kind is not (ReferenceKind.Map or ReferenceKind.MapValue)) continue;
            PatchLddw(programName, instructions, r.InstructionIndex, encode(r));
        }
    }

    /// <summary>Writes <paramref name="target"/> into the <c>lddw</c> at <paramref name="index"/>.</summary>
    /// <exception cref="ProgramLoadException">The index is not the first slot of an lddw.</exception>
    public static void PatchLddw(string program, Span<Instruction> instructions, int index, LddwTarget target)
    {
        if ((uint)index + 1 >= (uint)instructions.Length || !instructions[index].IsWide)
        {
            throw new ProgramLoadException(index, $"program '{program}': relocation at insn {index} does not point at an lddw");
        }
        instructions[index] = instructions[index].WithSrc((byte)target.Source).WithImm(target.Imm);
        instructions[index + 1] = instructions[index + 1].WithImm(target.NextImm);
    }
}
