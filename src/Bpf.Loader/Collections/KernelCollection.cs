using System.Buffers.Binary;
using System.Runtime.Versioning;
using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>
/// An object file loaded into the kernel (like libbpf's <c>bpf_object__load</c> or cilium/ebpf's
/// <c>NewCollection</c>): every map created from its <see cref="MapSpec"/>, global data written (and
/// <c>.rodata</c> frozen) before the programs load, map references patched with real fds, CO-RE relocations
/// resolved against the kernel's BTF, the object's BTF loaded for map types and func/line info, program arrays
/// and map-in-map slots filled from the object's <c>.values</c>, maps pinned as the object asks.
/// Disposing closes every map and program the collection holds.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class KernelCollection : IBpfCollection
{
    private readonly Dictionary<string, BpfMap> _maps;
    private readonly Dictionary<string, BpfProgram> _programs;
    private readonly BpfFd? _btf;
    private readonly IReadOnlyDictionary<string, IBpfMap> _mapView;
    private readonly IReadOnlyDictionary<string, IBpfProgram> _programView;
    private readonly Dictionary<string, BpfMapMemory> _memory = new(StringComparer.Ordinal);
    private bool _disposed;

    private KernelCollection(ObjectSpec spec, Dictionary<string, BpfMap> maps, Dictionary<string, BpfProgram> programs,
        BpfFd? btf, string? btfDiagnostic, List<string> diagnostics, List<string> pinned, Dictionary<string, Exception> failed)
    {
        FailedPrograms = failed;
        Spec = spec;
        _maps = maps;
        _programs = programs;
        _btf = btf;
        BtfDiagnostic = btfDiagnostic;
        Diagnostics = diagnostics;
        PinnedMaps = pinned;
        _mapView = maps.ToDictionary(kv => kv.Key, kv => (IBpfMap)kv.Value, StringComparer.Ordinal);
        _programView = programs.ToDictionary(kv => kv.Key, kv => (IBpfProgram)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>Always <see cref="Engine.Kernel"/>.</summary>
    public Engine Engine => Engine.Kernel;

    /// <summary>Why the kernel engine: set by <see cref="BpfEngine.Open"/>; "loaded into the kernel" otherwise.</summary>
    public string EngineReason { get; internal set; } = "loaded into the kernel";

    /// <summary>The object the collection was loaded from.</summary>
    public ObjectSpec Spec { get; }

    /// <summary>The kernel maps by object name (global data maps under their section names: ".data", ".rodata", ...).</summary>
    public IReadOnlyDictionary<string, BpfMap> Maps => _maps;

    /// <summary>The kernel programs by function name.</summary>
    public IReadOnlyDictionary<string, BpfProgram> Programs => _programs;

    IReadOnlyDictionary<string, IBpfMap> IBpfCollection.Maps => _mapView;

    IReadOnlyDictionary<string, IBpfProgram> IBpfCollection.Programs => _programView;

    /// <summary>True when the object's BTF is loaded in the kernel (maps carry key/value types, programs func/line info).</summary>
    public bool HasBtf => _btf is not null;

    /// <summary>Why the collection runs without BTF (the object has none, it was turned off, or the kernel refused it); null when it has BTF.</summary>
    public string? BtfDiagnostic { get; }

    /// <summary>Things the loader did differently from what the object asked, e.g. a map created without BTF.</summary>
    public IReadOnlyList<string> Diagnostics { get; }

    /// <summary>Programs left out under <see cref="KernelCollectionOptions.SkipFailedPrograms"/>, with why (a
    /// <see cref="ProgramRejectedException"/>, a <see cref="NotSupportedException"/>, ...); empty otherwise.</summary>
    public IReadOnlyDictionary<string, Exception> FailedPrograms { get; }

    /// <summary>Paths of maps pinned (or reused from pins) for <see cref="PinType.ByName"/>.</summary>
    public IReadOnlyList<string> PinnedMaps { get; }

    /// <summary>The map with this name.</summary>
    /// <exception cref="KeyNotFoundException">No such map (the message lists the maps).</exception>
    public BpfMap Map(string name) => _maps.TryGetValue(name, out var m) ? m
        : throw new KeyNotFoundException($"no map '{name}' (maps: {string.Join(", ", _maps.Keys.Order(StringComparer.Ordinal))})");

    /// <summary>The program with this name.</summary>
    /// <exception cref="KeyNotFoundException">No such program (the message lists the programs).</exception>
    public BpfProgram Program(string name) => _programs.TryGetValue(name, out var p) ? p
        : FailedPrograms.TryGetValue(name, out var why) ? throw new NotSupportedException($"program '{name}' was not loaded (SkipFailedPrograms): {why.Message}", why)
        : throw new KeyNotFoundException($"no program '{name}' (programs: {string.Join(", ", _programs.Keys.Order(StringComparer.Ordinal))})");

    IBpfMap IBpfCollection.Map(string name) => Map(name);

    IBpfProgram IBpfCollection.Program(string name) => Program(name);

    /// <summary>Runs a program by name once with BPF_PROG_TEST_RUN.</summary>
    public RunResult Run(string program, ReadOnlySpan<byte> data, ReadOnlySpan<byte> context = default) => Program(program).Run(data, context);

    /// <summary>
    /// The live bytes of a global variable in a writable data section (.data, .bss, .data.*): a view of the map's
    /// memory (mmap), so writes are seen by the programs' next runs and the programs' writes are seen here at once.
    /// Valid until the collection is disposed.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such variable.</exception>
    /// <exception cref="InvalidOperationException">The variable is in a read-only section (.rodata*), which is frozen
    /// once loaded: set it on the <see cref="ObjectSpec"/> before loading, read it with <see cref="ReadVariable"/>.</exception>
    public Span<byte> Variable(string name)
    {
        var v = FindVariable(name);
        if (v.Map.IsReadOnly)
            throw new InvalidOperationException($"variable '{name}' is in {v.SectionName}, which is frozen after loading; set it on the ObjectSpec before loading (VariableSpec.Set) and read it with ReadVariable");
        return MemoryOf(v.SectionName).Span.Slice((int)v.Offset, (int)v.Size);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> VariableNames =>
        [.. Spec.Variables.Where(v => _maps.ContainsKey(v.SectionName)).Select(v => v.Name).Order(StringComparer.Ordinal)];

    /// <inheritdoc/>
    public void WriteVariable(string name, ReadOnlySpan<byte> value)
    {
        var v = FindVariable(name);
        if (v.Map.IsReadOnly)
            throw new BpfException(BpfErrno.EPERM, $"variable '{name}' is in a read-only section, which is frozen after loading; set it on the ObjectSpec before loading (VariableSpec.Set)");
        if (value.Length != (int)v.Size) throw new ArgumentException($"variable '{name}' has {v.Size} bytes; {value.Length} given", nameof(value));
        value.CopyTo(MemoryOf(v.SectionName).Span.Slice((int)v.Offset, (int)v.Size));
    }

    /// <summary>A copy of a global variable's current bytes (any data section, .rodata included).</summary>
    /// <exception cref="KeyNotFoundException">No such variable.</exception>
    public byte[] ReadVariable(string name)
    {
        var v = FindVariable(name);
        var value = new byte[Map(v.SectionName).ValueSize];
        Map(v.SectionName).Lookup(new byte[4], value);
        return value.AsSpan((int)v.Offset, (int)v.Size).ToArray();
    }

    private VariableSpec FindVariable(string name)
    {
        if (_disposed) throw new ObjectDisposedException($"variable '{name}'", "the collection was disposed");
        var v = Spec.Variable(name);
        if (v is null || !_maps.ContainsKey(v.SectionName))
            throw new KeyNotFoundException($"no global variable '{name}' (variables: {string.Join(", ", Spec.Variables.Select(x => x.Name).Order(StringComparer.Ordinal))})");
        return v;
    }

    private BpfMapMemory MemoryOf(string section)
    {
        lock (_memory)
        {
            if (!_memory.TryGetValue(section, out var mem))
            {
                mem = Map(section).MapMemory(writable: true);
                _memory[section] = mem;
            }
            return mem;
        }
    }

    /// <summary>Reads an object file and loads it (see <see cref="Load(ObjectSpec, KernelCollectionOptions?)"/>).</summary>
    public static KernelCollection LoadFile(string path, KernelCollectionOptions? options = null) => Load(ObjectSpec.ReadFile(path), options);

    /// <summary>
    /// Loads every map and program of <paramref name="spec"/> into the kernel. Set global variables on the spec
    /// (<see cref="VariableSpec.Set(ReadOnlySpan{byte})"/>) before calling: <c>.rodata</c> is frozen once written.
    /// </summary>
    /// <exception cref="ProgramRejectedException">The kernel rejected a program (names it; carries the whole log with source lines when BTF loaded).</exception>
    /// <exception cref="BpfSyscallException">A map could not be created, populated or pinned (the message names it).</exception>
    /// <exception cref="NotSupportedException">The object needs something the loader does not do (names the program and what).</exception>
    public static KernelCollection Load(ObjectSpec spec, KernelCollectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new KernelCollectionOptions();
        var maps = new Dictionary<string, BpfMap>(StringComparer.Ordinal);
        var programs = new Dictionary<string, BpfProgram>(StringComparer.Ordinal);
        var diagnostics = new List<string>();
        var pinned = new List<string>();
        var failed = new Dictionary<string, Exception>(StringComparer.Ordinal);
        BpfFd? btf = null;
        KernelBackend? backend = null;
        try
        {
            // 1. BTF. Line info strings go into the string table before it is encoded.
            string? btfDiagnostic = null;
            var lineInfos = new Dictionary<ProgramSpec, byte[]>();
            if (spec.Btf is null) btfDiagnostic = "the object has no .BTF section";
            else if (!options.LoadBtf) btfDiagnostic = "BTF loading was turned off (KernelCollectionOptions.LoadBtf)";
            else
            {
                string? firstError = null;
                foreach (bool sanitize in options.SanitizeBtf ? new[] { true } : [false, true])
                {
                    try
                    {
                        var encoder = new BtfEncoder(spec.Btf, sanitize, spec.HiddenSubprograms);
                        lineInfos.Clear();
                        foreach (var p in spec.Programs) lineInfos[p] = encoder.LineInfo(p);
                        btf = BtfLoad.Load(encoder.Encode());
                        if (sanitize) diagnostics.Add("the object's BTF was loaded sanitised (tags, 64-bit enums, floats and global function linkage rewritten)" +
                            (firstError is null ? "" : " after the kernel refused it as is: " + firstError));
                        break;
                    }
                    catch (Exception e) when (e is BpfSyscallException or NotSupportedException)
                    {
                        firstError ??= e.Message;
                    }
                }
                if (btf is null)
                {
                    // libbpf does the same: a kernel that refuses the object's BTF still gets the programs, without it.
                    btfDiagnostic = "the kernel refused the object's BTF (also sanitised), loaded without it: " + firstError;
                }
            }

            // 2-4. The one collection loader: maps (global data written and .rodata frozen before any program is
            // verified against it), CO-RE, relocation and programs, then program arrays and map-in-map slots.
            backend = new KernelBackend(spec, btf, lineInfos, options, diagnostics, pinned);
            var loaded = CollectionLoader.Load(spec, backend, new CollectionLoadOptions
            {
                CoreTarget = () => options.TargetBtf ?? KernelBtf.Get("CO-RE relocations"),
                KernelSymbols = () => KernelBtf.TryGetSymbols(options.TargetBtf),
            });
            foreach (var (name, map) in loaded.Maps) maps[name] = map;
            foreach (var (name, prog) in loaded.Programs) programs[name] = prog;
            foreach (var (name, error) in loaded.Failed) failed[name] = error;
            diagnostics.AddRange(loaded.Diagnostics);

            // 5. Pins, last, so a pinned map is only published once it is complete.
            foreach (var (map, path) in backend.PendingPins)
            {
                map.Pin(path);
                pinned.Add(path);
            }
            return new KernelCollection(spec, maps, programs, btf, btfDiagnostic, diagnostics, pinned, failed);
        }
        catch
        {
            foreach (var p in backend?.CreatedPrograms ?? []) p.Dispose();
            foreach (var m in backend?.CreatedMaps ?? []) m.Dispose();
            btf?.Dispose();
            throw;
        }
    }

    private static void CheckPinnedCompatible(MapSpec m, BpfMap existing, string path)
    {
        if (existing.Type != m.Type || existing.KeySize != m.KeySize || existing.ValueSize != m.ValueSize || existing.MaxEntries != m.MaxEntries)
        {
            throw new InvalidOperationException(
                $"map '{m.Name}': the map pinned at {path} ({existing.Type}, key {existing.KeySize}, value {existing.ValueSize}, max {existing.MaxEntries}) " +
                $"does not match the object's ({m.Type}, key {m.KeySize}, value {m.ValueSize}, max {m.MaxEntries}); unpin it or change the object");
        }
    }

    // Map types whose key/value BTF the kernel does not take (libbpf leaves it out for the same set).
    private static bool TakesBtfTypes(MapType t) => t is not (MapType.PerfEventArray or MapType.CgroupArray or MapType.StackTrace
        or MapType.ArrayOfMaps or MapType.HashOfMaps or MapType.DevMap or MapType.DevMapHash or MapType.CpuMap or MapType.XskMap
        or MapType.SockMap or MapType.SockHash or MapType.Queue or MapType.Stack or MapType.RingBuf or MapType.ProgArray
        or MapType.ReuseportSockArray or MapType.UserRingBuf);

    internal static MapCreateSpec BuildCreateSpec(MapSpec m, MapShape shape, BpfFd? btf, BpfMap? inner)
    {
        var flags = m.Flags;
        if (m.Source == MapSource.GlobalData)
        {
            // Global data is mmapable, as libbpf makes it, so user space can read and write it in place.
            flags |= MapFlags.Mmapable;
            if (m.IsReadOnly) flags |= MapFlags.ReadOnlyProgram;
        }
        uint keyId = 0, valueId = 0;
        if (btf is not null && TakesBtfTypes(m.Type))
        {
            keyId = m.Source == MapSource.GlobalData ? 0 : m.KeyType?.Id ?? 0;
            valueId = m.ValueType?.Id ?? 0;
            if (m.Source != MapSource.GlobalData && (keyId == 0) != (valueId == 0))
            {
                // The kernel wants both or neither for ordinary maps.
                keyId = valueId = 0;
            }
        }
        return new MapCreateSpec
        {
            Type = m.Type,
            KeySize = shape.KeySize,
            ValueSize = shape.ValueSize,
            MaxEntries = shape.MaxEntries,
            Flags = flags,
            Name = m.Name,
            InnerMap = inner,
            Btf = valueId != 0 ? btf : null,
            BtfKeyTypeId = keyId,
            BtfValueTypeId = valueId,
            MapExtra = m.MapExtra,
        };
    }

    private static BpfMap CreateMap(MapSpec m, MapShape shape, BpfFd? btf, KernelCollectionOptions options, List<string> diagnostics)
    {
        if (m.Type == MapType.StructOps)
        {
            throw new BpfNotSupportedException($"struct_ops map '{m.Name}'", null,
                "creating struct_ops maps (binding programs to a kernel ops struct through vmlinux BTF) is not implemented by this loader yet; " +
                "the object reader and `bpfnet inspect` read them (programs: " + string.Join(", ", m.StructOpsPrograms.Select(p => $"{p.Member}={p.Program}")) + ")");
        }
        BpfMap? inner = null;
        try
        {
            if (m.InnerMap is MapSpec innerSpec)
            {
                // The kernel only needs a map of the inner shape while creating the outer one.
                inner = CreateMap(innerSpec, MapShape.For(innerSpec, PossibleCpus.Count), btf, options, diagnostics);
            }
            var request = BuildCreateSpec(m, shape, btf, inner);
            if (options.AdjustMap is not null) request = options.AdjustMap(m, request);
            BpfMap map;
            try
            {
                map = BpfMap.Create(request);
            }
            catch (BpfSyscallException e) when (request.Btf is not null && e.Errno != Interop.Errno.EPERM)
            {
                // As libbpf: a kernel that dislikes the BTF types of a map may still create it without them.
                try
                {
                    map = BpfMap.Create(request with { Btf = null, BtfKeyTypeId = 0, BtfValueTypeId = 0 });
                    diagnostics.Add($"map '{m.Name}' created without BTF key/value types: {e.Message}");
                }
                catch (BpfSyscallException)
                {
                    throw Named(m, e);
                }
            }
            catch (BpfSyscallException e)
            {
                throw Named(m, e);
            }
            map.ObjectName = m.Name;
            if (m.Source == MapSource.GlobalData)
            {
                try
                {
                    Span<byte> key = stackalloc byte[4];
                    key.Clear();
                    map.Update(key, m.Contents);
                    if (m.IsReadOnly) map.Freeze();
                }
                catch
                {
                    map.Dispose();
                    throw;
                }
            }
            return map;
        }
        finally
        {
            inner?.Dispose();
        }
    }

    private static BpfSyscallException Named(MapSpec m, BpfSyscallException e) =>
        new(e.Command, e.Errno, $"map '{m.Name}' ({m.Type}, key {m.KeySize}, value {m.ValueSize}, max_entries {m.MaxEntries}, flags 0x{(uint)m.Flags:x}): {e.Message}", e);

    /// <summary>The kernel as a backend of the one collection loader: BPF_MAP_CREATE (with BTF, pins, global data
    /// written and frozen), fds in lddw, BPF_PROG_LOAD with func/line info, slots written with fds.</summary>
    private sealed class KernelBackend(ObjectSpec spec, BpfFd? btf, Dictionary<ProgramSpec, byte[]> lineInfos, KernelCollectionOptions options,
        List<string> diagnostics, List<string> pinned) : ICollectionBackend<BpfMap, BpfProgram>
    {
        public List<BpfMap> CreatedMaps { get; } = [];

        public List<BpfProgram> CreatedPrograms { get; } = [];

        public List<(BpfMap Map, string Path)> PendingPins { get; } = [];

        public int PossibleCpus => Loader.PossibleCpus.Count;

        public BpfMap CreateMap(MapSpec m, MapShape shape)
        {
            if (m.Pinning == PinType.ByName)
            {
                string path = Path.Combine(options.PinPath, m.Name);
                if (File.Exists(path))
                {
                    var existing = BpfMap.OpenPinned(path);
                    CreatedMaps.Add(existing);
                    existing.ObjectName = m.Name;
                    CheckPinnedCompatible(m, existing, path);
                    pinned.Add(path);
                    return existing;
                }
                var created = KernelCollection.CreateMap(m, shape, btf, options, diagnostics);
                CreatedMaps.Add(created);
                PendingPins.Add((created, path));
                return created;
            }
            var map = KernelCollection.CreateMap(m, shape, btf, options, diagnostics);
            CreatedMaps.Add(map);
            return map;
        }

        private readonly ExternResolver _externs = new(spec, options);

        public BpfMap? CreateKconfigMap(ObjectSpec spec)
        {
            var map = _externs.CreateKconfigMap();
            CreatedMaps.Add(map);
            diagnostics.AddRange(_externs.Kconfig.Notes);
            return map;
        }

        public void ResolveExterns(ProgramSpec program, Instruction[] instructions, BpfMap? kconfigMap)
        {
            var relocations = new List<MapRelocation>();
            _externs.Apply(program, instructions, kconfigMap, relocations);
            BpfProgram.Relocate(instructions, relocations);
        }

        public LddwTarget Encode(InstructionReference reference, BpfMap map) => reference.Kind == ReferenceKind.Map
            ? new LddwTarget(PseudoSource.MapFd, (int)map.Fd.Raw, 0)
            : new LddwTarget(PseudoSource.MapValue, (int)map.Fd.Raw, checked((int)(uint)reference.Offset));

        public BpfProgram LoadProgram(ProgramSpec p, Instruction[] insns)
        {
            uint flags = 0;
            if ((p.Flags & ProgramFlags.Sleepable) != 0) flags |= 16; // BPF_F_SLEEPABLE
            if ((p.Flags & ProgramFlags.XdpFrags) != 0) flags |= 32; // BPF_F_XDP_HAS_FRAGS
            var load = new LoadOptions
            {
                Name = p.Name,
                ExpectedAttachType = p.AttachType,
                KernelVersion = p.KernelVersion,
                ProgramFlags = flags,
                LogLevel = options.LogLevel,
                InitialLogSize = options.InitialLogSize,
                AttachBtfId = (p.Flags & ProgramFlags.AttachBtf) != 0 ? AttachBtfId(p, options) : 0,
                ProgramBtf = btf is not null && (p.FuncInfos.Count > 0 || p.LineInfos.Count > 0)
                    ? new ProgramBtfInfo(btf, BtfEncoder.FuncInfo(p), lineInfos.GetValueOrDefault(p) ?? [])
                    : null,
            };
            BpfProgram prog;
            try
            {
                prog = BpfProgram.Load(p.Type, insns, p.License, load);
            }
            catch (ProgramRejectedException e) when (e.RejectedBy == RejectedBy.Kernel && e.Explanation is null &&
                LoadVerification.Explain(spec, p, options.TargetBtf ?? KernelBtf.TryGet(), LoadVerification.ForThisProcess()) is { } why)
            {
                // The kernel's refusal, with our verifier's account of the same program beside it.
                throw e.WithExplanation(why);
            }
            prog.ObjectName = p.Name;
            CreatedPrograms.Add(prog);
            return prog;
        }

        public void SetSlot(MapSpec m, BpfMap outer, uint index, BpfProgram? program, BpfMap? inner)
        {
            Span<byte> value = stackalloc byte[4];
            var key = new byte[outer.KeySize];
            if (key.Length < 4) throw new InvalidOperationException($"map '{m.Name}' has {key.Length}-byte keys; initial values need 4-byte indices");
            BinaryPrimitives.WriteUInt32LittleEndian(key, index);
            BinaryPrimitives.WriteUInt32LittleEndian(value, program?.Fd.Raw ?? inner!.Fd.Raw);
            try
            {
                outer.Update(key, value);
            }
            catch (BpfSyscallException e)
            {
                throw new BpfSyscallException(e.Command, e.Errno, $"map '{m.Name}': setting initial slot {index} to '{(program is not null ? ((IBpfProgram)program).Name : ((IBpfMap)inner!).Name)}': {e.Message}", e);
            }
        }

        public bool LeaveOut(ProgramSpec p, Exception e)
        {
            if (!(options.SkipFailedPrograms && e is BpfSyscallException or NotSupportedException)) return false;
            diagnostics.Add($"program '{p.Name}' left out: {e.Message}");
            return true;
        }
    }

    private static uint AttachBtfId(ProgramSpec p, KernelCollectionOptions options)
    {
        var kernel = options.TargetBtf ?? KernelBtf.Get($"program '{p.Name}' (attach target '{p.AttachTo}')");
        string target = p.AttachTo ?? throw new NotSupportedException($"program '{p.Name}': section '{p.SectionName}' names no attach target");
        // Where the kernel keeps each kind's attach point in its BTF (the same prefixes libbpf uses).
        var (name, kind) = BtfAttachTargets.KernelName(p.Type, p.AttachType, target);
        return kernel.FindType(name, kind)?.Id
            ?? throw new NotSupportedException($"program '{p.Name}': the kernel's BTF has no {kind} '{name}' to attach to (only vmlinux is searched, not module BTF)");
    }

    /// <summary>Closes every program and map (pinned maps stay in bpffs) and the BTF object.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_memory)
        {
            foreach (var m in _memory.Values) m.Dispose();
            _memory.Clear();
        }
        foreach (var p in _programs.Values) p.Dispose();
        foreach (var m in _maps.Values) m.Dispose();
        _btf?.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"kernel collection '{Spec.Name}': {_programs.Count} programs, {_maps.Count} maps{(HasBtf ? ", with BTF" : ", no BTF")}";
}
