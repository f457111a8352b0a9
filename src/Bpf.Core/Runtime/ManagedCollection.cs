using Bpf.Helpers;

namespace Bpf.Runtime;

/// <summary>Options of a <see cref="ManagedCollection"/>.</summary>
public sealed class CollectionOptions
{
    /// <summary>How many CPUs per-CPU maps keep values for and runs may be bound to. Defaults to the host's count.</summary>
    public int CpuCount { get; set; } = System.Environment.ProcessorCount;

    /// <summary>Clocks, random numbers, task identity and the trace sink helpers see.</summary>
    public BpfEnvironment Environment { get; set; } = new();

    /// <summary>The maximum number of instructions of one program run (per program of a tail-call chain).</summary>
    public long InstructionBudget { get; set; } = InterpreterOptions.DefaultInstructionBudget;

    /// <summary>The default <see cref="MaxMapMemory"/>: 1 GiB.</summary>
    public const long DefaultMaxMapMemory = 1L << 30;

    /// <summary>The most memory one map may allocate (values, keys and index of every entry; twice the size of a
    /// ring buffer). The kernel's only bound is the memory it can get (ENOMEM); the managed runtime refuses a larger
    /// preallocated map with <see cref="MapError.NoMemory"/> before allocating anything, and fails an insert that
    /// would grow a lazily allocated map (BPF_F_NO_PREALLOC hash, LPM trie) past it with ENOMEM.</summary>
    public long MaxMapMemory { get; set; } = DefaultMaxMapMemory;

    /// <summary>
    /// The BTF that CO-RE relocations are resolved against (the kernel the program is meant for). The Loader's
    /// <c>BpfEngine</c> supplies the running kernel's on Linux; elsewhere pass one (e.g. a saved vmlinux BTF).
    /// A program with CO-RE relocations and no target is left out, with the reason, rather than run unrelocated.
    /// </summary>
    public Btf.BtfSpec? TargetBtf { get; set; }

    /// <summary>
    /// The values of an object's <c>__kconfig</c> externs (<c>LINUX_KERNEL_VERSION</c>, <c>CONFIG_*</c>, ...), for the
    /// kernel the program is meant for. The Loader's <c>BpfEngine</c> supplies the running kernel's on Linux, computed by
    /// the same routine the kernel engine uses; elsewhere build them with <see cref="KconfigValues.Build"/>. Null: a
    /// program that reads a <c>__kconfig</c> extern is left out, named, rather than run with made-up values.
    /// </summary>
    public Func<ObjectSpec, KconfigValues>? Kconfig { get; set; }

    /// <summary>
    /// The kernel an object's <c>__ksym</c> variables and kfunc calls resolve against (its BTF and symbol addresses),
    /// the same resolution the kernel engine does. The Loader's <c>BpfEngine</c> supplies the running kernel's on Linux.
    /// A typeless <c>__ksym</c> (an address) and a weak extern the kernel lacks (0) become constants a program can
    /// run with; a typed variable (kernel memory) or a kfunc call (a kernel function) cannot run in the managed runtime,
    /// so a program using one is refused, named. Null: a program with such externs is refused, named.
    /// </summary>
    public KernelSymbols? KernelSymbols { get; set; }

    /// <summary>A copy of these options with <see cref="TargetBtf"/> set.</summary>
    public CollectionOptions WithTargetBtf(Btf.BtfSpec? targetBtf)
    {
        var copy = Copy();
        copy.TargetBtf = targetBtf;
        return copy;
    }

    /// <summary>A copy of these options with <see cref="KernelSymbols"/> set.</summary>
    public CollectionOptions WithKernelSymbols(KernelSymbols? kernelSymbols)
    {
        var copy = Copy();
        copy.KernelSymbols = kernelSymbols;
        return copy;
    }

    /// <summary>A copy of these options with <see cref="Kconfig"/> set.</summary>
    public CollectionOptions WithKconfig(Func<ObjectSpec, KconfigValues>? kconfig)
    {
        var copy = Copy();
        copy.Kconfig = kconfig;
        return copy;
    }

    private CollectionOptions Copy() => new()
    {
        CpuCount = CpuCount,
        Environment = Environment,
        InstructionBudget = InstructionBudget,
        MaxMapMemory = MaxMapMemory,
        TargetBtf = TargetBtf,
        Kconfig = Kconfig,
        KernelSymbols = KernelSymbols,
    };
}

/// <summary>
/// A managed "collection": maps and programs that run in the interpreter with the kernel's helper, map and
/// context semantics. Load an object file with <see cref="Load(ObjectSpec, CollectionOptions?)"/> (maps created,
/// global data initialised, relocations applied, program arrays and map-in-map slots filled), then run a program
/// by name and inspect or change maps from C# before and after.
/// </summary>
/// <remarks>
/// A program can address the memory of every map created before it was loaded. Register extra helpers on
/// <see cref="Helpers"/> before loading the programs that call them.
/// </remarks>
public sealed class ManagedCollection
{
    private readonly Dictionary<string, ManagedMap> _maps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ManagedProgram> _programs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _unsupported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Exception> _failed = new(StringComparer.Ordinal);
    private readonly List<string> _diagnostics = [];
    private readonly List<ManagedProgram> _programsById = [];
    private readonly Dictionary<string, (ArrayMap Map, int Offset, int Size)> _variables = new(StringComparer.Ordinal);
    private volatile RingBufferMap[] _ringBuffers = [];
    private readonly object _gate = new();
    private readonly long _budget;
    private readonly long _maxMapMemory;
    private readonly Func<ObjectSpec, KconfigValues>? _kconfig;
    private readonly KernelSymbols? _kernelSymbols;
    private volatile ConntrackLayout? _conntrackLayout;
    private volatile ConntrackBlock? _conntrackBlock;

    /// <summary>One conntrack table's entries as the kernel's struct nf_conn, in a read-only region of this collection.</summary>
    private sealed record ConntrackBlock(Conntrack Table, ulong Address);

    /// <summary>The layout of struct nf_conn and the size of struct bpf_ct_opts in the kernel BTF, once a program
    /// calling a conntrack lookup kfunc was loaded; null before.</summary>
    internal ConntrackLayout? ConntrackLayout => _conntrackLayout;

    internal void UseConntrackLayout(ConntrackLayout layout)
    {
        lock (_gate)
        {
            if (_conntrackLayout is { } known && known != layout)
                throw new InvalidOperationException("two programs of one collection were bound to different kernel BTFs");
            _conntrackLayout = layout;
        }
    }

    /// <summary>The address of <paramref name="table"/>'s first nf_conn: its entries are laid out once per table (a
    /// region allocated the first time a lookup hits in it, kept while it is the environment's table), not per call.</summary>
    internal ulong ConntrackMemory(Conntrack table, ConntrackLayout layout) => _conntrackBlock is { } block && ReferenceEquals(block.Table, table)
        ? block.Address
        : LayOut(table, layout);

    private ulong LayOut(Conntrack table, ConntrackLayout layout)
    {
        lock (_gate)
        {
            if (_conntrackBlock is { } block && ReferenceEquals(block.Table, table)) return block.Address;
            var region = Space.Allocate("nf_conn", Math.Max(1L, (long)table.Entries.Count * layout.Stride), writable: false);
            for (var i = 0; i < table.Entries.Count; i++) layout.Fill(region.Data.Slice(i * layout.Stride, layout.NfConnSize), table.Entries[i]);
            _conntrackBlock = new ConntrackBlock(table, region.Address);
            return region.Address;
        }
    }

    /// <summary>Creates an empty collection.</summary>
    public ManagedCollection(CollectionOptions? options = null)
    {
        options ??= new CollectionOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.CpuCount);
        CpuCount = options.CpuCount;
        Environment = options.Environment ?? new BpfEnvironment();
        _budget = options.InstructionBudget;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxMapMemory);
        _maxMapMemory = options.MaxMapMemory;
        _kconfig = options.Kconfig;
        _kernelSymbols = options.KernelSymbols;
        Helpers = new HelperRegistry();
        RuntimeHelpers.RegisterAll(Helpers);
    }

    internal AddressSpace Space { get; } = new();

    internal RingBufferMap[] RingBuffers => _ringBuffers;

    /// <summary>The number of CPUs.</summary>
    public int CpuCount { get; }

    /// <summary>What helpers see of the outside world.</summary>
    public BpfEnvironment Environment { get; }

    /// <summary>The helpers programs may call: the runtime's kernel helpers; register your own here (before loading
    /// the programs that use them).</summary>
    public HelperRegistry Helpers { get; }

    /// <summary>The maps by name.</summary>
    public IReadOnlyDictionary<string, ManagedMap> Maps => _maps;

    /// <summary>The programs by name.</summary>
    public IReadOnlyDictionary<string, ManagedProgram> Programs => _programs;

    /// <summary>The map with this name.</summary>
    /// <exception cref="KeyNotFoundException">No such map (the message lists the maps).</exception>
    public ManagedMap Map(string name) => _maps.TryGetValue(name, out var map) ? map
        : throw new KeyNotFoundException($"no map '{name}' (maps: {string.Join(", ", _maps.Keys.Order())})");

    /// <summary>The map with this name, as its concrete type.</summary>
    public T Map<T>(string name) where T : ManagedMap => Map(name) as T
        ?? throw new InvalidCastException($"map '{name}' is a {Map(name).GetType().Name}, not a {typeof(T).Name}");

    /// <summary>Programs of the loaded object the managed runtime cannot run, with the reason.</summary>
    public IReadOnlyDictionary<string, string> UnsupportedPrograms => _unsupported;

    /// <summary>Programs of the loaded object left out because they failed to load when the caller asked to skip such
    /// programs (BpfNet's verifier rejected them, or they are malformed), with the error; the others were loaded.</summary>
    public IReadOnlyDictionary<string, Exception> FailedPrograms => _failed;

    /// <summary>What loading the object did that a user should know (e.g. CO-RE relocations poisoned because the target lacks a field).</summary>
    public IReadOnlyList<string> Diagnostics => _diagnostics;

    /// <summary>The program with this name.</summary>
    /// <exception cref="KeyNotFoundException">No such program (the message lists the programs).</exception>
    /// <exception cref="NotSupportedException">The object has the program but the managed runtime cannot run it, or it
    /// was left out because it failed to load (<see cref="FailedPrograms"/>; the error is the inner exception).</exception>
    public ManagedProgram Program(string name) => _programs.TryGetValue(name, out var program) ? program
        : _unsupported.TryGetValue(name, out var reason) ? throw new NotSupportedException($"program '{name}': {reason}")
        : _failed.TryGetValue(name, out var failure) ? throw LeftOut(name, failure)
        : throw new KeyNotFoundException($"no program '{name}' (programs: {string.Join(", ", _programs.Keys.Order())})");

    /// <summary>The error <see cref="Program"/> raises for a program left out because it failed to load: the same
    /// message shape as the kernel engine's, the failure as the inner exception.</summary>
    internal static NotSupportedException LeftOut(string name, Exception failure) =>
        new($"program '{name}' was not loaded (SkipFailedPrograms): {failure.Message}", failure);

    /// <summary>Runs a program by name (see <see cref="ManagedProgram.Run"/>).</summary>
    public RunResult Run(string program, ProgramContext context, int cpu = 0) => Program(program).Run(context, cpu);

    /// <summary>The live bytes of a global variable (.data, .rodata, .bss...), readable and writable between runs.</summary>
    /// <exception cref="KeyNotFoundException">No such variable.</exception>
    public Span<byte> Variable(string name)
    {
        if (!_variables.TryGetValue(name, out var v)) throw new KeyNotFoundException($"no global variable '{name}' (variables: {string.Join(", ", _variables.Keys.Order())})");
        return v.Map.Memory.Slice(v.Offset, v.Size);
    }

    /// <summary>The names of the global variables.</summary>
    public IReadOnlyList<string> VariableNames => [.. _variables.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Where a variable lives: its section's map, offset and size.</summary>
    internal bool TryGetVariable(string name, out ArrayMap map, out int offset, out int size)
    {
        var found = _variables.TryGetValue(name, out var v);
        (map, offset, size) = v;
        return found;
    }

    /// <summary>Creates a map.</summary>
    /// <exception cref="ArgumentException">The name is taken or the attributes are invalid for the type.</exception>
    /// <exception cref="NotSupportedException">The map type is not implemented by the managed runtime.</exception>
    /// <exception cref="MapException">The kernel would refuse the sizes (EINVAL, E2BIG), or the map needs more than
    /// <see cref="CollectionOptions.MaxMapMemory"/> (ENOMEM).</exception>
    public ManagedMap CreateMap(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return CreateMap(spec, MapShape.For(spec, CpuCount));
    }

    /// <summary>Creates a map in the shape the collection loader fixed up (<see cref="MapShape.For"/>: ring buffer and
    /// perf event array sizes as the kernel wants them).</summary>
    private ManagedMap CreateMap(MapSpec spec, MapShape shape)
    {
        var definition = MapDefinition.FromSpec(spec);
        if (shape != new MapShape(spec.KeySize, spec.ValueSize, spec.MaxEntries))
            definition = definition with { KeySize = (int)shape.KeySize, ValueSize = (int)shape.ValueSize, MaxEntries = (int)shape.MaxEntries };
        var map = CreateMap(definition);
        if (spec.Source == MapSource.GlobalData) spec.Contents.CopyTo(((ArrayMap)map).Memory);
        return map;
    }

    internal ManagedMap CreateMap(MapDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_gate)
        {
            if (_maps.ContainsKey(definition.Name)) throw new ArgumentException($"a map named '{definition.Name}' already exists");
            var map = ManagedMap.Create(definition, CpuCount, Space, ProgramById, _maxMapMemory);
            _maps.Add(definition.Name, map);
            if (map is RingBufferMap ring) _ringBuffers = [.. _ringBuffers, ring];
            return map;
        }
    }

    /// <summary>The program with this id, or null.</summary>
    public ManagedProgram? ProgramById(int id)
    {
        lock (_gate) return id >= 1 && id <= _programsById.Count ? _programsById[id - 1] : null;
    }

    /// <summary>Loads a program: applies <paramref name="references"/> (map pointers and map-value addresses by map
    /// name), rewrites context accesses for <paramref name="type"/>, and pre-decodes it.</summary>
    /// <exception cref="ProgramLoadException">The program is malformed or accesses its context in a way the kernel rejects.</exception>
    /// <exception cref="NotSupportedException">It references kernel functions, extern variables or function pointers, or
    /// its type's context is made of kernel objects (tracing and LSM programs).</exception>
    public ManagedProgram LoadProgram(string name, ProgramType type, ReadOnlySpan<Instruction> instructions, IReadOnlyList<InstructionReference>? references = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var slots = instructions.ToArray();
        RefuseExterns(name, references ?? []);
        CollectionLoader.RelocateMapReferences(name, references ?? [], slots, r => Encode(name, r, Map(r.Name)));
        return LoadRelocated(name, type, slots);
    }

    /// <summary>A helper the verifier knows but the runtime does not implement (bpf_seq_printf, bpf_get_task_stack, …) is
    /// refused when the program is loaded, named, rather than faulting when a run reaches the call.</summary>
    private void RefuseHelpersNotImplemented(Instruction[] slots)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var insn = slots[i];
            if (insn.Opcode != Opcodes.Call || insn.SrcRaw != 0 || Helpers.TryGet(insn.Imm, out _)) continue;
            if (HelperPrototypes.VerifierOnly.FirstOrDefault(p => p.Id == insn.Imm) is { } missing)
            {
                throw new NotSupportedException($"insn {i}: calls bpf_{missing.Name} (helper {missing.Id}), which the managed runtime does not implement");
            }
        }
    }

    /// <summary>A resolved typed <c>__ksym</c> (an lddw of a kernel BTF id: kernel memory) cannot run in the managed
    /// runtime, nor a kfunc call left unbound (no kernel BTF to name it by: <see cref="RuntimeKfuncs.Bind"/> binds
    /// or refuses, named, the others): refused when the program is loaded.</summary>
    private static void RefuseKernelReferences(string name, Instruction[] slots)
    {
        for (var i = 0; i < slots.Length; i++)
        {
            var insn = slots[i];
            if (insn.Opcode == Opcodes.Call && insn.SrcRaw == (byte)CallKind.Kfunc)
                throw new NotSupportedException($"program '{name}': insn {i} calls a kernel function (kfunc, BTF id {insn.Imm}), which the managed runtime does not have: load it with the kernel engine");
            if (insn.IsWide && insn.SrcRaw == (byte)PseudoSource.BtfId)
                throw new NotSupportedException($"program '{name}': insn {i} loads the address of a kernel object (typed __ksym or kfunc, BTF id {insn.Imm}), which the managed runtime does not have: load it with the kernel engine");
            if (insn.IsWide) i++;
        }
    }

    /// <summary>The managed runtime does not resolve externs: the first one is refused, named.</summary>
    private static void RefuseExterns(string program, IEnumerable<InstructionReference> references)
    {
        foreach (var reference in references)
        {
            if (reference.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction)
            {
                throw new ExternResolutionException(reference.Name,
                    $"insn {reference.InstructionIndex} references extern '{reference.Name}' ({reference.Kind}: a __kconfig or __ksym variable, or a kfunc); " +
                    "the managed runtime does not resolve externs (they need the running kernel's configuration, BTF or kallsyms): load it with the kernel engine");
            }
        }
    }

    /// <summary>What an lddw referencing <paramref name="map"/> becomes: its handle, or the address inside an array's value.</summary>
    internal static LddwTarget Encode(string program, InstructionReference reference, ManagedMap map) => reference.Kind switch
    {
        ReferenceKind.Map => LddwTarget.Constant(map.Handle),
        _ => map is ArrayMap array
            ? LddwTarget.Constant(array.Address + (ulong)reference.Offset)
            : throw new ProgramLoadException(reference.InstructionIndex, $"program '{program}': insn {reference.InstructionIndex} takes the address of a value of map '{reference.Name}', which is not an array"),
    };

    private ManagedProgram LoadRelocated(string name, ProgramType type, Instruction[] slots)
    {
        if (type is ProgramType.Tracing or ProgramType.Lsm)
        {
            // fentry/fexit/fmod_ret/tp_btf/iter and LSM programs read kernel objects through their context.
            throw new NotSupportedException($"program '{name}': the context of a {type} program is the arguments of the kernel function, " +
                "hook or iterator it attaches to, kernel objects typed by the kernel's BTF, which the managed runtime does not have: load it with the kernel engine");
        }
        RuntimeKfuncs.Bind(name, slots, _kernelSymbols, this);
        RefuseKernelReferences(name, slots);
        slots = CallbackInliner.Inline(slots);
        RefuseHelpersNotImplemented(slots);
        var kind = ContextLayout.KindOf(type);
        var rewritten = kind switch
        {
            ContextKind.Xdp => ContextRewriter.Rewrite(slots, ContextLayout.XdpField, -1),
            ContextKind.SkBuff => ContextRewriter.Rewrite(slots, ContextLayout.SkBuffField, BpfHelperIds.InternalLoadPacket),
            _ => slots,
        };
        // Every region of the collection, including those lazily growing maps add later.
        var options = new InterpreterOptions { Helpers = Helpers, InstructionBudget = _budget, RegionSource = Space };
        var interpreter = new Interpreter(rewritten, options);
        lock (_gate)
        {
            if (_programs.ContainsKey(name)) throw new ArgumentException($"a program named '{name}' already exists");
            var program = new ManagedProgram(this, _programsById.Count + 1, name, type, rewritten, interpreter);
            _programsById.Add(program);
            _programs.Add(name, program);
            return program;
        }
    }

    /// <summary>Loads an object: creates its maps (global data initialised from the object), loads every program,
    /// then fills program arrays and map-in-map slots from the object's initial values.</summary>
    /// <exception cref="NotSupportedException">A map type or reference the managed runtime does not implement.</exception>
    /// <exception cref="MapException">A map the kernel would refuse (EINVAL, E2BIG) or too large for the runtime
    /// (ENOMEM); the message names the map.</exception>
    /// <exception cref="ArgumentException">Map attributes invalid for their type.</exception>
    /// <exception cref="ProgramLoadException">A program is malformed or accesses its context in a way the kernel rejects.</exception>
    /// <exception cref="KeyNotFoundException">A relocation or initial value names a map or program the object lacks.</exception>
    internal static ManagedCollection Load(ObjectSpec spec, CollectionOptions? options = null) => Load(spec, options, null);

    /// <summary>Loads an object through the one collection loader (<see cref="CollectionLoader"/>), with
    /// <paramref name="check"/> run on every program before it is loaded (the Loader's <c>BpfEngine</c> passes
    /// BpfNet's verifier here; this overload with null runs what it is given).</summary>
    internal static ManagedCollection Load(ObjectSpec spec, CollectionOptions? options, ProgramCheck? check) => Load(spec, options, check, skipFailed: false);

    /// <summary>As <see cref="Load(ObjectSpec, CollectionOptions?, ProgramCheck?)"/>; with <paramref name="skipFailed"/>
    /// a program that <paramref name="check"/> refuses, or that is malformed, is left out (<see cref="FailedPrograms"/>)
    /// and the others are loaded — as the kernel engine does under <c>SkipFailedPrograms</c>.</summary>
    internal static ManagedCollection Load(ObjectSpec spec, CollectionOptions? options, ProgramCheck? check, bool skipFailed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var collection = new ManagedCollection(options);
        var target = options?.TargetBtf;
        var backend = new Backend(collection) { SkipFailed = skipFailed };
        ProgramCheck? recorded = check is null ? null : (s, p, insns) =>
        {
            try
            {
                check(s, p, insns);
            }
            catch (Exception e)
            {
                backend.CheckFailure = e;
                throw;
            }
        };
        var kernel = options?.KernelSymbols;
        var loaded = CollectionLoader.Load(spec, backend, new CollectionLoadOptions { CoreTarget = () => target, KernelSymbols = () => kernel, Check = recorded });
        collection._diagnostics.AddRange(loaded.Diagnostics);
        foreach (var variable in spec.Variables)
        {
            if (collection._maps.TryGetValue(variable.SectionName, out var map) && map is ArrayMap array)
            {
                collection._variables[variable.Name] = (array, (int)variable.Offset, (int)variable.Size);
            }
        }
        return collection;
    }

    /// <summary>The managed runtime as a backend of the one collection loader.</summary>
    private sealed class Backend(ManagedCollection collection) : ICollectionBackend<ManagedMap, ManagedProgram>
    {
        public int PossibleCpus => collection.CpuCount;

        public ManagedMap CreateMap(MapSpec spec, MapShape shape) => collection.CreateMap(spec, shape);

        public LddwTarget Encode(InstructionReference reference, ManagedMap map) => ManagedCollection.Encode(reference.Name, reference, map);

        private KconfigValues? _kconfigValues;
        private ObjectSpec? _kconfigSpec;

        /// <summary>The <c>.kconfig</c> map as the kernel engine makes it (libbpf's internal map): one element holding
        /// every <c>__kconfig</c> value, read-only for programs; none when the collection was given no values.</summary>
        public ManagedMap? CreateKconfigMap(ObjectSpec spec)
        {
            if (collection._kconfig is not { } resolve) return null;
            var values = _kconfigValues = resolve(spec);
            _kconfigSpec = spec;
            if (values.Data.Length != spec.KconfigSize)
                throw new ArgumentException($"the .kconfig values are {values.Data.Length} bytes, the object lays out {spec.KconfigSize}");
            var map = (ArrayMap)collection.CreateMap(new MapDefinition(ObjectSpec.KconfigMapName, MapType.Array, 4, (int)spec.KconfigSize, 1,
                MapFlags.ReadOnlyProgram | MapFlags.Mmapable));
            values.Data.CopyTo(map.Memory);
            collection._diagnostics.AddRange(values.Notes);
            return map;
        }

        /// <summary>A <c>__kconfig</c> lddw becomes the address of the extern's bytes in the <c>.kconfig</c> map (the
        /// kernel engine's map-value load, resolved).</summary>
        public void ResolveExterns(ProgramSpec program, Instruction[] instructions, ManagedMap? kconfigMap)
        {
            foreach (var reference in program.References)
            {
                if (reference.Kind is not (ReferenceKind.ExternVariable or ReferenceKind.KernelFunction)) continue;
                int at = reference.InstructionIndex;
                if (reference.Kind == ReferenceKind.ExternVariable && kconfigMap is ArrayMap kconfig && _kconfigValues is { } values
                    && _kconfigSpec?.Extern(reference.Name) is { Kind: ExternKind.Kconfig } e)
                {
                    if (values.Unresolved.TryGetValue(e.Name, out var why))
                        throw new ExternResolutionException(e.Name, $"program '{program.Name}': instruction {at}: {why}");
                    var addend = (uint)instructions[at].Imm;
                    CollectionLoader.PatchLddw(program.Name, instructions, at, LddwTarget.Constant(kconfig.Address + e.Offset + addend));
                    continue;
                }
                RefuseExterns(program.Name, [reference]);
            }
        }

        public ManagedProgram LoadProgram(ProgramSpec spec, Instruction[] instructions) => collection.LoadRelocated(spec.Name, spec.Type, instructions);

        public void SetSlot(MapSpec outerSpec, ManagedMap outer, uint index, ManagedProgram? program, ManagedMap? inner)
        {
            switch (outer)
            {
                case ProgramArrayMap programs:
                    programs.Set((int)index, program!);
                    break;
                case MapOfMaps maps:
                    maps.Set(BitConverter.GetBytes(index), inner!);
                    break;
            }
        }

        /// <summary>Whether a program the check refuses, or a malformed one, is left out rather than failing the load.</summary>
        public bool SkipFailed { get; init; }

        /// <summary>The last exception the check threw, so a refusal is told from the other failures.</summary>
        public Exception? CheckFailure { get; set; }

        public bool LeaveOut(ProgramSpec program, Exception error)
        {
            // One program needing something the runtime lacks (kfuncs, externs, a CO-RE target) does not stop the others.
            if (error is NotSupportedException)
            {
                collection._unsupported[program.Name] = error.Message;
                return true;
            }
            if (SkipFailed && (ReferenceEquals(error, CheckFailure) || error is ProgramLoadException))
            {
                collection._failed[program.Name] = error;
                collection._diagnostics.Add($"program '{program.Name}' left out: {error.Message.Split('\n')[0]}");
                return true;
            }
            return false;
        }
    }

    /// <summary>Reads an object file and loads it (see <see cref="Load(ObjectSpec, CollectionOptions?)"/>).</summary>
    internal static ManagedCollection LoadFile(string path, CollectionOptions? options = null) => Load(ObjectSpec.ReadFile(path), options);
}
