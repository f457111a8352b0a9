using System.Buffers.Binary;
using System.Text;
using Bpf.Btf;
using Bpf.Elf;

namespace Bpf;

/// <summary>Turns a parsed ELF file into an <see cref="ObjectSpec"/>: maps, global data, programs, linking.</summary>
internal sealed class ObjectReader
{
    /// <summary>The most slots all linked programs of one object may add up to (the kernel's 1M-instruction limit).</summary>
    internal const int MaxLinkedInstructions = 1_000_000;

    /// <summary>The largest global data section accepted (the kernel caps array values well below this).</summary>
    internal const long MaxDataSectionSize = 1L << 26;

    /// <summary>The largest <c>.kconfig</c> value accepted (every extern together); real objects use a few hundred bytes.</summary>
    internal const uint MaxKconfigSize = 1 << 20;

    private const string BtfMapsSection = ".maps";
    private const string LegacyMapsSection = "maps";

    private readonly ElfFile _elf;
    private readonly BtfSpec? _btf;
    private readonly BtfExt? _ext;
    private readonly List<MapSpec> _maps = [];
    private readonly List<VariableSpec> _variables = [];
    // Map definitions by (section index, byte offset) so relocations against section symbols resolve too.
    private readonly Dictionary<(int Section, ulong Offset), MapSpec> _mapsByLocation = [];
    private readonly Dictionary<int, MapSpec> _dataMaps = [];
    private readonly Dictionary<int, Instruction[]> _code = [];
    private readonly Dictionary<int, Dictionary<int, ElfRelocation>> _relocations = [];
    private readonly Dictionary<int, List<FunctionUnit>> _functions = [];
    private int _linkedTotal;

    private ObjectReader(ElfFile elf)
    {
        _elf = elf;
        var btfSection = elf.FindSection(".BTF");
        if (btfSection is not null)
        {
            _btf = BtfSpec.Parse(elf.GetContents(btfSection), btfSection.Offset);
            var extSection = elf.FindSection(".BTF.ext");
            if (extSection is not null)
            {
                _ext = BtfExt.Parse(elf.GetContents(extSection), _btf, extSection.Offset);
            }
            FixDataSections(elf, _btf);
        }
    }

    /// <summary>
    /// clang leaves DATASEC sizes and variable offsets to be filled in from the ELF file (.rel.BTF holds
    /// NODYLD32 relocations for them). Like libbpf, take the section size and each variable's symbol value.
    /// </summary>
    private static void FixDataSections(ElfFile elf, BtfSpec btf)
    {
        foreach (var type in btf.Types)
        {
            if (type is not BtfDataSec datasec || elf.FindSection(datasec.Name) is not { } section)
            {
                continue;
            }
            if (section.Size > uint.MaxValue)
            {
                throw new BpfObjectException($"section is {section.Size} bytes, too large for a BTF data section", section.Name, section.Offset);
            }
            datasec.Size = (uint)section.Size;
            foreach (var v in datasec.Variables)
            {
                if (v.Type is not BtfVar var)
                {
                    continue;
                }
                foreach (var sym in elf.Symbols)
                {
                    if (sym.SectionIndex == section.Index && sym.Type == ElfSymbolType.Object && sym.Name == var.Name)
                    {
                        if (sym.Value > uint.MaxValue)
                        {
                            throw new BpfObjectException($"symbol '{sym.Name}' value {sym.Value} is beyond the section", section.Name, section.Offset);
                        }
                        v.Offset = (uint)sym.Value;
                        break;
                    }
                }
            }
        }
    }

    public static ObjectSpec Read(byte[] data, string? name)
    {
        var elf = ElfFile.Parse(data);
        RejectUnsupported(elf);
        var reader = new ObjectReader(elf);
        var license = reader.ReadLicense();
        var version = reader.ReadVersion();
        reader.ReadLegacyMaps();
        reader.ReadBtfMaps();
        reader.ReadDataSections();
        reader.ReadStructOps();
        reader.ReadCode();
        var programs = reader.LinkPrograms(license, version);
        var externs = reader.CollectExterns(out var kconfigSize);
        // A global or weak function with hidden (or internal) visibility, e.g. libbpf's usdt.bpf.h helpers: libbpf gives
        // its BTF FUNC static linkage when it is a subprogram, so the kernel verifies it with its caller's context.
        var hidden = elf.Symbols
            .Where(s => s.Type == ElfSymbolType.Func && s.Binding is ElfSymbolBinding.Global or ElfSymbolBinding.Weak && s.Visibility is 1 or 2 && !s.IsUndefined)
            .Select(s => s.Name)
            .Where(n => !programs.Any(p => p.Name == n))
            .ToHashSet(StringComparer.Ordinal);
        return new ObjectSpec(name, license, version, programs, [.. reader._maps], [.. reader._variables], reader._btf, reader._ext, elf, externs, kconfigSize, hidden);
    }

    /// <summary>Sections whose meaning this reader does not implement: refuse them rather than silently drop them.</summary>
    private static void RejectUnsupported(ElfFile elf)
    {
        foreach (var s in elf.Sections)
        {
            if (s.Name.StartsWith(".addr_space.", StringComparison.Ordinal))
            {
                throw new BpfObjectException("BPF arena (address space) sections are not supported by this reader yet", s.Name, s.Offset);
            }
        }
    }

    private string ReadLicense()
    {
        var s = _elf.FindSection("license");
        if (s is null)
        {
            return string.Empty;
        }
        var bytes = _elf.GetContents(s);
        var end = bytes.IndexOf((byte)0);
        if (end < 0)
        {
            throw new BpfObjectException("license string is not NUL-terminated", s.Name, s.Offset);
        }
        return Encoding.UTF8.GetString(bytes[..end]);
    }

    private uint ReadVersion()
    {
        var s = _elf.FindSection("version");
        if (s is null)
        {
            return 0;
        }
        var bytes = _elf.GetContents(s);
        if (bytes.Length != 4)
        {
            throw new BpfObjectException($"kernel version section is {bytes.Length} bytes, expected 4", s.Name, s.Offset);
        }
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private void AddMap(MapSpec map, ElfSection section, ulong offset)
    {
        if (_maps.Any(m => m.Name == map.Name))
        {
            throw new BpfObjectException($"two maps are named '{map.Name}'", section.Name, section.Offset + (long)Math.Min(offset, (ulong)section.Size));
        }
        _maps.Add(map);
        _mapsByLocation[(section.Index, offset)] = map;
    }

    private void ReadLegacyMaps()
    {
        var section = _elf.FindSection(LegacyMapsSection);
        if (section is null)
        {
            return;
        }
        var bytes = _elf.GetContents(section);
        var symbols = _elf.Symbols.Where(s => s.SectionIndex == section.Index && s.Type is ElfSymbolType.Object or ElfSymbolType.NoType && s.Name.Length > 0).ToList();
        foreach (var sym in symbols)
        {
            // Old objects leave st_size 0; then every definition is assumed to be the same size.
            var size = sym.Size != 0 ? sym.Size : (ulong)bytes.Length / (ulong)symbols.Count;
            if (size < 16 || sym.Value > (ulong)bytes.Length || size > (ulong)bytes.Length - sym.Value)
            {
                throw new BpfObjectException(
                    $"legacy map '{sym.Name}' at offset {sym.Value} with size {size} does not fit a 16..20-byte bpf_map_def inside the {bytes.Length}-byte section",
                    section.Name, section.Offset);
            }
            var def = bytes.Slice((int)sym.Value, (int)size);
            var map = new MapSpec(
                sym.Name, MapSource.LegacyMaps,
                (MapType)BinaryPrimitives.ReadUInt32LittleEndian(def),
                BinaryPrimitives.ReadUInt32LittleEndian(def[4..]),
                BinaryPrimitives.ReadUInt32LittleEndian(def[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(def[12..]),
                def.Length >= 20 ? (MapFlags)BinaryPrimitives.ReadUInt32LittleEndian(def[16..]) : MapFlags.None);
            AddMap(map, section, sym.Value);
        }
    }

    private void ReadBtfMaps()
    {
        var section = _elf.FindSection(BtfMapsSection);
        if (section is null)
        {
            return;
        }
        if (_btf is null)
        {
            throw new BpfObjectException("BTF-defined maps need a .BTF section, and there is none", section.Name, section.Offset);
        }
        if (_btf.FindType(BtfMapsSection, BtfKind.DataSec) is not BtfDataSec datasec)
        {
            throw new BpfObjectException("no BTF DATASEC describes the .maps section", section.Name, section.Offset);
        }
        var pending = new List<(MapSpec Map, BtfComposite Def, BtfVarSecInfo Var)>();
        foreach (var v in datasec.Variables)
        {
            if (v.Type is not BtfVar var)
            {
                throw new BpfObjectException($".maps entry at offset {v.Offset} is a {v.Type.Kind}, not a variable", section.Name, section.Offset);
            }
            if (v.Offset > (ulong)section.Size || v.Size > (ulong)section.Size - v.Offset)
            {
                throw new BpfObjectException($"map '{var.Name}' (offset {v.Offset}, size {v.Size}) lies outside the {section.Size}-byte section", section.Name, section.Offset);
            }
            if (BtfSpec.Underlying(var.Target) is not BtfComposite def || def.IsUnion)
            {
                throw new BpfObjectException($"map '{var.Name}' is not defined by a struct", section.Name, section.Offset + v.Offset);
            }
            var map = ParseBtfMapDefinition(var.Name, def, MapSource.BtfMaps, section, v.Offset, 0);
            AddMap(map, section, v.Offset);
            pending.Add((map, def, v));
        }
        ApplyMapInitialValues(section, pending);
    }

    private MapSpec ParseBtfMapDefinition(string name, BtfComposite def, MapSource source, ElfSection section, ulong offset, int depth)
    {
        var map = new MapSpec(name, source, MapType.Unspecified, 0, 0, 0, MapFlags.None);
        BpfObjectException Bad(string message) => new($"map '{name}': {message}", section.Name, section.Offset + (long)Math.Min(offset, (ulong)section.Size));
        foreach (var m in def.Members)
        {
            switch (m.Name)
            {
                case "type": map.Type = (MapType)IntMember(m); break;
                case "max_entries": map.MaxEntries = IntMember(m); break;
                case "map_flags": map.Flags = (MapFlags)IntMember(m); break;
                case "numa_node": map.NumaNode = IntMember(m); break;
                case "key_size": CheckSize(map.KeySize, IntMember(m), "key"); map.KeySize = IntMember(m); break;
                case "value_size": CheckSize(map.ValueSize, IntMember(m), "value"); map.ValueSize = IntMember(m); break;
                case "map_extra": map.MapExtra = LongMember(m); break;
                case "pinning":
                    var pin = IntMember(m);
                    if (pin > (uint)PinType.ByName)
                    {
                        throw Bad($"unknown pinning {pin}");
                    }
                    map.Pinning = (PinType)pin;
                    break;
                case "key":
                    map.KeyType = PointerTarget(m);
                    var ks = SizeOfType(map.KeyType, "key");
                    CheckSize(map.KeySize, ks, "key");
                    map.KeySize = ks;
                    break;
                case "value":
                    map.ValueType = PointerTarget(m);
                    var vs = SizeOfType(map.ValueType, "value");
                    CheckSize(map.ValueSize, vs, "value");
                    map.ValueSize = vs;
                    break;
                case "values":
                    if (BtfSpec.Underlying(m.Type) is not BtfArray arr || BtfSpec.Underlying(arr.ElementType) is not BtfPointer p)
                    {
                        throw Bad("'values' must be an array of pointers");
                    }
                    if (arr.Count != 0)
                    {
                        throw Bad("'values' must be a flexible array (no size)");
                    }
                    var target = BtfSpec.Underlying(p.Target);
                    if (target is BtfComposite inner && !inner.IsUnion)
                    {
                        if (depth > 0)
                        {
                            throw Bad("an inner map cannot itself hold maps");
                        }
                        map.InnerMap = ParseBtfMapDefinition(name + ".inner", inner, MapSource.InnerMap, section, offset, depth + 1);
                    }
                    else if (target is not BtfFuncProto)
                    {
                        throw Bad($"'values' points to {target.Kind}; expected a map definition struct or a function prototype");
                    }
                    map.ValueSize = 4;
                    break;
                default:
                    throw Bad($"unknown map attribute '{m.Name}'");
            }
        }
        if (map.InnerMap is not null && map.Type is not (MapType.ArrayOfMaps or MapType.HashOfMaps))
        {
            throw Bad($"has an inner map but type {map.Type} is not a map-in-map type");
        }
        if (map.Type is MapType.ArrayOfMaps or MapType.HashOfMaps && map.InnerMap is null)
        {
            throw Bad($"type {map.Type} needs an inner map definition in 'values'");
        }
        return map;

        uint IntMember(BtfMember member)
        {
            // __uint(name, N) is "int (*name)[N]": the value is the array's element count.
            if (BtfSpec.Underlying(member.Type) is BtfPointer ptr && BtfSpec.Underlying(ptr.Target) is BtfArray a)
            {
                return a.Count;
            }
            throw Bad($"attribute '{member.Name}' is not encoded as __uint (pointer to array)");
        }

        // __ulong(name, N) is "enum { __unique_value = N } name" (64-bit values: arena's map_extra); __uint works too.
        ulong LongMember(BtfMember member)
        {
            if (BtfSpec.Underlying(member.Type) is BtfEnum e)
            {
                return e.Values.Count == 1
                    ? unchecked((ulong)e.Values[0].Value)
                    : throw Bad($"attribute '{member.Name}' is an enum with {e.Values.Count} values; __ulong encodes exactly one");
            }
            if (BtfSpec.Underlying(member.Type) is BtfPointer ptr && BtfSpec.Underlying(ptr.Target) is BtfArray a)
            {
                return a.Count;
            }
            throw Bad($"attribute '{member.Name}' is not encoded as __uint (pointer to array) or __ulong (one-value enum)");
        }

        BtfType PointerTarget(BtfMember member) =>
            BtfSpec.Underlying(member.Type) is BtfPointer ptr
                ? ptr.Target
                : throw Bad($"attribute '{member.Name}' is not encoded as __type (pointer)");

        uint SizeOfType(BtfType t, string what)
        {
            var size = BtfSpec.SizeOf(t);
            return size <= uint.MaxValue ? (uint)size : throw Bad($"{what} type is {size} bytes");
        }

        void CheckSize(uint existing, uint size, string what)
        {
            if (existing != 0 && existing != size)
            {
                throw Bad($"{what} size {existing} conflicts with {what} type size {size}");
            }
        }
    }

    private void ApplyMapInitialValues(ElfSection section, List<(MapSpec Map, BtfComposite Def, BtfVarSecInfo Var)> maps)
    {
        var values = new Dictionary<MapSpec, List<MapInitialValue>>();
        foreach (var relSection in _elf.RelocationSectionsFor(section))
        {
            foreach (var rel in _elf.ReadRelocations(relSection))
            {
                var owner = maps.FirstOrDefault(x => rel.Offset >= x.Var.Offset && rel.Offset < (ulong)x.Var.Offset + x.Var.Size);
                BpfObjectException Bad(string message) => new(message, relSection.Name, section.Offset + (long)Math.Min(rel.Offset, (ulong)section.Size));
                if (owner.Map is null)
                {
                    throw Bad($"relocation at offset {rel.Offset} does not fall inside any map definition");
                }
                var member = owner.Def.FindMember("values") ?? throw Bad($"map '{owner.Map.Name}' has a relocation but no 'values' member");
                var start = (ulong)owner.Var.Offset + member.ByteOffset;
                if (rel.Offset < start || (rel.Offset - start) % 8 != 0)
                {
                    throw Bad($"relocation at offset {rel.Offset} is not a slot of map '{owner.Map.Name}' values");
                }
                var index = (rel.Offset - start) / 8;
                if (index >= owner.Map.MaxEntries)
                {
                    throw Bad($"map '{owner.Map.Name}' initial value {index} is beyond max_entries {owner.Map.MaxEntries}");
                }
                var sym = _elf.Symbols[rel.SymbolIndex];
                string target;
                if (owner.Map.Type == MapType.ProgArray)
                {
                    if (sym.Type != ElfSymbolType.Func || sym.IsUndefined)
                    {
                        throw Bad($"program array '{owner.Map.Name}' slot {index} refers to '{sym.Name}', which is not a program");
                    }
                    target = sym.Name;
                }
                else if (owner.Map.InnerMap is not null)
                {
                    if (sym.SectionIndex != section.Index || !_mapsByLocation.TryGetValue((section.Index, sym.Value), out var inner))
                    {
                        throw Bad($"map-in-map '{owner.Map.Name}' slot {index} refers to '{sym.Name}', which is not a map in .maps");
                    }
                    target = inner.Name;
                }
                else
                {
                    throw Bad($"map '{owner.Map.Name}' of type {owner.Map.Type} cannot have initial values");
                }
                if (!values.TryGetValue(owner.Map, out var list))
                {
                    values[owner.Map] = list = [];
                }
                list.Add(new MapInitialValue((uint)index, target));
            }
        }
        foreach (var (map, list) in values)
        {
            map.InitialValues = [.. list.OrderBy(v => v.Index)];
        }
    }

    internal static bool IsDataSection(string name) =>
        name is ".data" or ".rodata" or ".bss"
        || name.StartsWith(".data.", StringComparison.Ordinal)
        || name.StartsWith(".rodata.", StringComparison.Ordinal);

    /// <summary>BPF_F_LINK: a struct_ops map from ".struct_ops.link", attached through a link.</summary>

    /// <summary>
    /// struct_ops maps: each variable of ".struct_ops" / ".struct_ops.link" is a map of type StructOps whose value
    /// is the variable's struct (e.g. <c>struct sched_ext_ops</c>), with its bytes as the initial value and its
    /// function-pointer members bound to programs by the section's relocations.
    /// </summary>
    private void ReadStructOps()
    {
        foreach (var section in _elf.Sections)
        {
            if (section.Name is not (".struct_ops" or ".struct_ops.link"))
            {
                continue;
            }
            if (_btf?.FindType(section.Name, BtfKind.DataSec) is not BtfDataSec datasec)
            {
                throw new BpfObjectException("struct_ops maps need BTF: no DATASEC describes this section (compile with -g)", section.Name, section.Offset);
            }
            var bytes = section.Type == ElfSectionType.NoBits ? new byte[section.Size] : _elf.GetContents(section).ToArray();
            var found = new List<(MapSpec Map, BtfComposite Struct, BtfVarSecInfo Var)>();
            foreach (var v in datasec.Variables)
            {
                if (v.Type is not BtfVar var)
                {
                    throw new BpfObjectException($"entry at offset {v.Offset} is a {v.Type.Kind}, not a variable", section.Name, section.Offset);
                }
                if (v.Offset > (ulong)bytes.Length || v.Size > (ulong)bytes.Length - v.Offset)
                {
                    throw new BpfObjectException($"struct_ops '{var.Name}' (offset {v.Offset}, size {v.Size}) lies outside the {bytes.Length}-byte section", section.Name, section.Offset);
                }
                if (BtfSpec.Underlying(var.Target) is not BtfComposite st || st.IsUnion)
                {
                    throw new BpfObjectException($"struct_ops '{var.Name}' is not a struct", section.Name, section.Offset + v.Offset);
                }
                var map = new MapSpec(var.Name, MapSource.StructOps, MapType.StructOps, 4, v.Size, 1, section.Name == ".struct_ops.link" ? MapFlags.Link : MapFlags.None)
                {
                    ValueType = var.Target,
                };
                map.SetStructOpsData(bytes.AsSpan((int)v.Offset, (int)v.Size).ToArray());
                AddMap(map, section, v.Offset);
                found.Add((map, st, v));
            }
            var bound = found.ToDictionary(f => f.Map, _ => new List<StructOpsProgram>());
            foreach (var relSection in _elf.RelocationSectionsFor(section))
            {
                foreach (var rel in _elf.ReadRelocations(relSection))
                {
                    BpfObjectException Bad(string message) => new(message, relSection.Name, section.Offset + (long)Math.Min(rel.Offset, (ulong)section.Size));
                    var owner = found.FirstOrDefault(f => rel.Offset >= f.Var.Offset && rel.Offset < (ulong)f.Var.Offset + f.Var.Size);
                    if (owner.Map is null)
                    {
                        throw Bad($"relocation at offset {rel.Offset} does not fall inside any struct_ops variable");
                    }
                    if (rel.SymbolIndex < 0 || rel.SymbolIndex >= _elf.Symbols.Count)
                    {
                        throw Bad($"relocation at offset {rel.Offset} names symbol {rel.SymbolIndex}, beyond the symbol table");
                    }
                    var inStruct = rel.Offset - owner.Var.Offset;
                    var member = owner.Struct.Members.FirstOrDefault(m => m.ByteOffset == inStruct)
                        ?? throw Bad($"struct_ops '{owner.Map.Name}': relocation at byte {inStruct} is not the start of a member of {owner.Struct.Name}");
                    if (BtfSpec.Underlying(member.Type) is not BtfPointer ptr || BtfSpec.Underlying(ptr.Target) is not BtfFuncProto)
                    {
                        throw Bad($"struct_ops '{owner.Map.Name}': member '{member.Name}' is not a function pointer");
                    }
                    var sym = _elf.Symbols[rel.SymbolIndex];
                    if (sym.Type != ElfSymbolType.Func || sym.IsUndefined)
                    {
                        throw Bad($"struct_ops '{owner.Map.Name}': member '{member.Name}' refers to '{sym.Name}', which is not a program");
                    }
                    bound[owner.Map].Add(new StructOpsProgram(member.Name, (uint)inStruct, sym.Name));
                }
            }
            foreach (var (map, programs) in bound)
            {
                map.StructOpsPrograms = programs;
            }
        }
    }

    private void ReadDataSections()
    {
        foreach (var section in _elf.Sections)
        {
            if (!IsDataSection(section.Name) || section.Type is not (ElfSectionType.ProgBits or ElfSectionType.NoBits))
            {
                continue;
            }
            if (section.Size > MaxDataSectionSize)
            {
                throw new BpfObjectException($"data section is {section.Size} bytes, more than the {MaxDataSectionSize} supported", section.Name, section.Offset);
            }
            var readOnly = section.Name.StartsWith(".rodata", StringComparison.Ordinal);
            var datasec = _btf?.FindType(section.Name, BtfKind.DataSec) as BtfDataSec;
            var initial = section.Type == ElfSectionType.NoBits ? null : _elf.GetContents(section).ToArray();
            foreach (var rel in _elf.RelocationSectionsFor(section))
            {
                // A pointer stored in global data would need the kernel to patch map-value addresses: not a thing.
                throw new BpfObjectException($"relocations against global data ('{section.Name}') are not supported", rel.Name, rel.Offset);
            }
            var map = new MapSpec(section.Name, initial, (int)section.Size, readOnly, datasec);
            AddMap(map, section, 0);
            _dataMaps[section.Index] = map;
            if (datasec is not null)
            {
                foreach (var v in datasec.Variables)
                {
                    if (v.Type is not BtfVar var)
                    {
                        continue; // extern functions in a datasec carry no storage
                    }
                    if (v.Offset > (ulong)section.Size || v.Size > (ulong)section.Size - v.Offset)
                    {
                        throw new BpfObjectException($"variable '{var.Name}' (offset {v.Offset}, size {v.Size}) lies outside the {section.Size}-byte section", section.Name, section.Offset);
                    }
                    _variables.Add(new VariableSpec(var.Name, map, v.Offset, v.Size, var.Target, var.Linkage == BtfLinkage.Static));
                }
            }
            else
            {
                // Without BTF the symbol table still names the variables (but not their types).
                foreach (var sym in _elf.Symbols)
                {
                    if (sym.SectionIndex != section.Index || sym.Type != ElfSymbolType.Object || sym.Name.Length == 0)
                    {
                        continue;
                    }
                    if (sym.Value > (ulong)section.Size || sym.Size > (ulong)section.Size - sym.Value)
                    {
                        throw new BpfObjectException($"symbol '{sym.Name}' (offset {sym.Value}, size {sym.Size}) lies outside the section", section.Name, section.Offset);
                    }
                    _variables.Add(new VariableSpec(sym.Name, map, (uint)sym.Value, (uint)sym.Size, null, sym.Binding == ElfSymbolBinding.Local));
                }
            }
        }
    }

    /// <summary>
    /// The extern symbols (undefined, global or weak, no type: libbpf's <c>sym_is_extern</c>), classified by the BTF data
    /// section declaring them (<c>.kconfig</c> or <c>.ksyms</c>), with the <c>.kconfig</c> values laid out as libbpf lays
    /// them out. An extern the reader cannot classify is kept as <see cref="ExternKind.Unknown"/> with the reason, so the
    /// object can still be inspected and only loading it fails.
    /// </summary>
    private ExternSpec[] CollectExterns(out uint kconfigSize)
    {
        kconfigSize = 0;
        var externs = new List<ExternSpec>();
        var sectionOf = new Dictionary<uint, string>();
        var declarations = new Dictionary<string, BtfType>(StringComparer.Ordinal);
        if (_btf is not null)
        {
            foreach (var t in _btf.Types)
            {
                if (t is BtfVar or BtfFunc)
                {
                    declarations.TryAdd(t.Name, t); // the first, as libbpf's find_extern_btf_id
                }
                if (t is BtfDataSec d && d.Name is ".kconfig" or ".ksyms")
                {
                    foreach (var v in d.Variables)
                    {
                        sectionOf[v.TypeId] = d.Name;
                    }
                }
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sym in _elf.Symbols)
        {
            if (!sym.IsUndefined || sym.Type != ElfSymbolType.NoType || sym.Name.Length == 0
                || sym.Binding is not (ElfSymbolBinding.Global or ElfSymbolBinding.Weak) || !seen.Add(sym.Name))
            {
                continue;
            }
            var weak = sym.Binding == ElfSymbolBinding.Weak;
            var decl = declarations.GetValueOrDefault(sym.Name);
            if (decl is null)
            {
                externs.Add(new ExternSpec(sym.Name, ExternKind.Unknown, weak, null,
                    _btf is null ? "the object has no BTF to say what it is" : "no BTF VAR or FUNC declares it"));
                continue;
            }
            if ((decl is BtfVar v && v.Linkage != BtfLinkage.Extern) || (decl is BtfFunc f && f.Linkage != BtfLinkage.Extern))
            {
                externs.Add(new ExternSpec(sym.Name, ExternKind.Unknown, weak, decl, $"its BTF {decl.Kind} is not declared extern"));
                continue;
            }
            switch (sectionOf.GetValueOrDefault(decl.Id))
            {
                case ".kconfig" when decl is BtfFunc:
                    externs.Add(new ExternSpec(sym.Name, ExternKind.Unknown, weak, decl, "an extern function cannot be __kconfig"));
                    break;
                case ".kconfig":
                {
                    var e = new ExternSpec(sym.Name, ExternKind.Kconfig, weak, decl, null);
                    e.ConfigType = ExternSpec.ClassifyKconfig(e.Type!, out var signed);
                    e.IsSigned = signed;
                    if (e.ConfigType is null)
                    {
                        externs.Add(new ExternSpec(sym.Name, ExternKind.Unknown, weak, decl,
                            $"__kconfig type {BtfSpec.DisplayName(e.Type!)} is not one libbpf supports (bool, char, enum libbpf_tristate, 2/4/8-byte integer, char array)"));
                        break;
                    }
                    var size = BtfSpec.SizeOf(e.Type!);
                    if (size > MaxKconfigSize)
                    {
                        throw new BpfObjectException($"__kconfig extern '{sym.Name}' is {size} bytes, more than the {MaxKconfigSize} supported", ".BTF");
                    }
                    e.Size = (uint)size;
                    e.Alignment = e.ConfigType == KconfigType.CharArray ? 1 : e.Size;
                    externs.Add(e);
                    break;
                }
                case ".ksyms":
                    externs.Add(new ExternSpec(sym.Name, decl is BtfFunc ? ExternKind.KernelFunction : ExternKind.KernelVariable, weak, decl, null));
                    break;
                default:
                    externs.Add(new ExternSpec(sym.Name, ExternKind.Unknown, weak, decl, "it is in neither the .kconfig nor the .ksyms section (not __kconfig or __ksym)"));
                    break;
            }
        }
        // libbpf's layout of the .kconfig map: descending alignment, ascending size, then name.
        uint offset = 0;
        foreach (var e in externs.Where(e => e.Kind == ExternKind.Kconfig)
            .OrderByDescending(e => e.Alignment).ThenBy(e => e.Size).ThenBy(e => e.Name, StringComparer.Ordinal))
        {
            offset = (offset + e.Alignment - 1) / e.Alignment * e.Alignment;
            e.Offset = offset;
            offset += e.Size;
            if (offset > MaxKconfigSize)
            {
                throw new BpfObjectException($"the __kconfig externs need more than the {MaxKconfigSize} bytes supported", ".BTF");
            }
        }
        kconfigSize = offset;
        return [.. externs];
    }

    private void ReadCode()
    {
        foreach (var section in _elf.Sections)
        {
            if (!section.IsExecutable)
            {
                continue;
            }
            if (section.Size % 8 != 0)
            {
                throw new BpfObjectException($"code section size {section.Size} is not a multiple of 8", section.Name, section.Offset);
            }
            var code = InstructionDecoder.ReadSlots(_elf.GetContents(section));
            _code[section.Index] = code;
            var relocations = new Dictionary<int, ElfRelocation>();
            foreach (var relSection in _elf.RelocationSectionsFor(section))
            {
                foreach (var rel in _elf.ReadRelocations(relSection))
                {
                    if (rel.Offset % 8 != 0 || rel.Offset / 8 >= (ulong)code.Length)
                    {
                        throw new BpfObjectException($"relocation offset {rel.Offset} is not an instruction of the {code.Length}-slot section", relSection.Name, relSection.Offset);
                    }
                    if (!relocations.TryAdd((int)(rel.Offset / 8), rel))
                    {
                        throw new BpfObjectException($"two relocations at offset {rel.Offset}", relSection.Name, relSection.Offset);
                    }
                }
            }
            _relocations[section.Index] = relocations;
            _functions[section.Index] = FindFunctions(section, code.Length);
        }
    }

    private List<FunctionUnit> FindFunctions(ElfSection section, int slots)
    {
        var starts = new SortedDictionary<int, ElfSymbol>();
        foreach (var sym in _elf.Symbols)
        {
            if (sym.SectionIndex != section.Index || sym.Type != ElfSymbolType.Func)
            {
                continue;
            }
            if (sym.Value % 8 != 0 || sym.Value / 8 >= (ulong)Math.Max(slots, 1) || (slots == 0))
            {
                throw new BpfObjectException($"function '{sym.Name}' starts at offset {sym.Value}, not an instruction of the section", section.Name, section.Offset);
            }
            if (!starts.TryAdd((int)(sym.Value / 8), sym))
            {
                throw new BpfObjectException($"functions '{starts[(int)(sym.Value / 8)].Name}' and '{sym.Name}' start at the same offset {sym.Value}", section.Name, section.Offset);
            }
        }
        var units = new List<FunctionUnit>(starts.Count);
        if (starts.Count == 0 && slots > 0)
        {
            // Hand-written assembly may have no function symbols: the whole section is one function.
            units.Add(new FunctionUnit(section, section.Name, 0, slots, false));
            return units;
        }
        var list = starts.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var (start, sym) = list[i];
            var limit = i + 1 < list.Count ? list[i + 1].Key : slots;
            var length = limit - start;
            if (sym.Size != 0)
            {
                if (sym.Size % 8 != 0 || sym.Size / 8 > (ulong)length)
                {
                    throw new BpfObjectException($"function '{sym.Name}' size {sym.Size} overlaps the next function or the section end", section.Name, section.Offset + (long)sym.Value);
                }
                length = (int)(sym.Size / 8);
            }
            units.Add(new FunctionUnit(section, sym.Name, start, length, sym.Binding == ElfSymbolBinding.Local));
        }
        return units;
    }

    private ProgramSpec[] LinkPrograms(string license, uint version)
    {
        var programs = new List<ProgramSpec>();
        HashSet<FunctionUnit>? called = null;
        foreach (var section in _elf.Sections)
        {
            if (!section.IsExecutable || section.Name == ".text")
            {
                continue;
            }
            var info = ProgramSections.Resolve(section.Name);
            foreach (var unit in _functions[section.Index])
            {
                if (unit.IsStatic && _functions[section.Index].Count > 1)
                {
                    continue; // static helpers placed in a program section are subprograms, not programs
                }
                if (info is null && (called ??= CalledFunctions()).Contains(unit))
                {
                    // A function in a section of its own that names no program type ("static", "other", ".text.x"),
                    // called by a program: a subprogram, as libbpf and cilium/ebpf link it, not a program of unknown type.
                    continue;
                }
                programs.Add(Link(unit, info, license, version));
            }
        }
        return [.. programs];
    }

    /// <summary>Every function another function calls or takes the address of.</summary>
    private HashSet<FunctionUnit> CalledFunctions()
    {
        var called = new HashSet<FunctionUnit>();
        foreach (var units in _functions.Values)
        {
            foreach (var unit in units)
            {
                for (var i = 0; i < unit.Length; i++)
                {
                    try
                    {
                        if (CodeTarget(unit, i, out _) is { } t && t.Unit != unit)
                        {
                            called.Add(t.Unit);
                        }
                    }
                    catch (BpfObjectException)
                    {
                        // A malformed reference is reported by linking the program that contains it.
                    }
                }
            }
        }
        return called;
    }

    private ProgramSpec Link(FunctionUnit root, ProgramSectionInfo? info, string license, uint version)
    {
        var layout = new List<FunctionUnit> { root };
        var placed = new Dictionary<FunctionUnit, int> { [root] = 0 };
        var total = root.Length;
        // Place every function reachable from the root, in first-reference order.
        for (var u = 0; u < layout.Count; u++)
        {
            var unit = layout[u];
            for (var i = 0; i < unit.Length; i++)
            {
                var target = CodeTarget(unit, i, out _);
                if (target is { } t && !placed.ContainsKey(t.Unit))
                {
                    placed[t.Unit] = total;
                    layout.Add(t.Unit);
                    total += t.Unit.Length;
                }
            }
        }
        _linkedTotal += total;
        if (_linkedTotal > MaxLinkedInstructions)
        {
            throw new BpfObjectException($"linked programs exceed {MaxLinkedInstructions} instructions", root.Section.Name, root.Section.Offset);
        }

        var insns = new Instruction[total];
        var references = new List<InstructionReference>();
        var functions = new List<LinkedFunction>();
        var funcInfos = new List<BtfFuncInfo>();
        var lineInfos = new List<BtfLineInfo>();
        var coreRelos = new List<CoreRelocation>();
        foreach (var unit in layout)
        {
            var baseIndex = placed[unit];
            var code = _code[unit.Section.Index];
            Array.Copy(code, unit.Start, insns, baseIndex, unit.Length);
            functions.Add(new LinkedFunction(unit.Name, unit.Section.Name, baseIndex, unit.Length));
            for (var i = 0; i < unit.Length; i++)
            {
                var at = baseIndex + i;
                var target = CodeTarget(unit, i, out var relocation);
                if (target is { } t)
                {
                    var rel = placed[t.Unit] - (at + 1);
                    insns[at] = insns[at].WithImm(rel).WithSrc(t.IsCall ? (byte)CallKind.Local : (byte)PseudoSource.Func);
                    if (!t.IsCall)
                    {
                        insns[at + 1] = insns[at + 1].WithImm(0);
                    }
                }
                else if (relocation is { } r)
                {
                    ApplyDataRelocation(unit, i, r, insns, at, references);
                }
            }
            CopyExtInfo(unit, baseIndex, funcInfos, lineInfos, coreRelos);
        }
        lineInfos.Sort((a, b) => a.InstructionIndex.CompareTo(b.InstructionIndex));
        return new ProgramSpec(
            root.Name, root.Section.Name, info, license, version, insns, [.. references], [.. functions],
            [.. funcInfos], [.. lineInfos], [.. coreRelos]);
    }

    private void CopyExtInfo(FunctionUnit unit, int baseIndex, List<BtfFuncInfo> funcs, List<BtfLineInfo> lines, List<CoreRelocation> relos)
    {
        if (_ext is null)
        {
            return;
        }
        var end = unit.Start + unit.Length;
        if (_ext.FuncInfos.TryGetValue(unit.Section.Name, out var fi))
        {
            foreach (var f in fi)
            {
                if (f.InstructionIndex >= unit.Start && f.InstructionIndex < end)
                {
                    funcs.Add(f with { InstructionIndex = baseIndex + f.InstructionIndex - unit.Start });
                }
            }
        }
        if (_ext.LineInfos.TryGetValue(unit.Section.Name, out var li))
        {
            foreach (var l in li)
            {
                if (l.InstructionIndex >= unit.Start && l.InstructionIndex < end)
                {
                    lines.Add(l.At(baseIndex + l.InstructionIndex - unit.Start));
                }
            }
        }
        if (_ext.CoreRelocations.TryGetValue(unit.Section.Name, out var cr))
        {
            foreach (var c in cr)
            {
                if (c.InstructionIndex >= unit.Start && c.InstructionIndex < end)
                {
                    relos.Add(c.At(baseIndex + c.InstructionIndex - unit.Start));
                }
            }
        }
    }

    private readonly record struct CodeReference(FunctionUnit Unit, bool IsCall);

    /// <summary>
    /// If slot <paramref name="i"/> of <paramref name="unit"/> is a bpf-to-bpf call or a function-pointer lddw,
    /// the function it targets. Otherwise null, with the slot's relocation (if any) in <paramref name="relocation"/>.
    /// </summary>
    private CodeReference? CodeTarget(FunctionUnit unit, int i, out ElfRelocation? relocation)
    {
        var code = _code[unit.Section.Index];
        var index = unit.Start + i;
        var insn = code[index];
        relocation = _relocations[unit.Section.Index].TryGetValue(index, out var r) ? r : null;
        var isCall = insn.Opcode == Opcodes.Call;
        long targetIndex;
        ElfSection targetSection;
        if (relocation is { } rel)
        {
            var sym = _elf.Symbols[rel.SymbolIndex];
            if (sym.IsUndefined || sym.SectionIndex >= _elf.Sections.Count || !_elf.Sections[sym.SectionIndex].IsExecutable)
            {
                return null;
            }
            targetSection = _elf.Sections[sym.SectionIndex];
            if (isCall)
            {
                if (rel.Type != BpfRelocationType.R64_32)
                {
                    throw Error(unit, i, $"call relocation has type {rel.Type}, expected R_BPF_64_32");
                }
                // R_BPF_64_32 on a call: the target slot is symbol slot + imm + 1.
                if (sym.Value % 8 != 0)
                {
                    throw Error(unit, i, $"call target symbol '{sym.Name}' is not instruction-aligned");
                }
                targetIndex = (long)(sym.Value / 8) + insn.Imm + 1;
            }
            else if (insn.Opcode == Opcodes.LdDw)
            {
                // R_BPF_64_64 on an lddw of a code symbol: a function pointer, byte offset = value + imm.
                var bytes = (long)sym.Value + insn.Imm;
                if (bytes % 8 != 0)
                {
                    throw Error(unit, i, $"function pointer to '{sym.Name}' + {insn.Imm} is not instruction-aligned");
                }
                if (index + 1 >= code.Length)
                {
                    throw Error(unit, i, "lddw is the last slot of the section");
                }
                targetIndex = bytes / 8;
            }
            else
            {
                throw Error(unit, i, $"relocation against code symbol '{sym.Name}' on an instruction that is neither call nor lddw (opcode 0x{insn.Opcode:x2})");
            }
        }
        else if (isCall && insn.SrcRaw == (byte)CallKind.Local)
        {
            targetSection = unit.Section;
            targetIndex = (long)index + insn.Imm + 1;
        }
        else
        {
            return null;
        }
        var targetUnits = _functions[targetSection.Index];
        var code2 = _code[targetSection.Index];
        if (targetIndex < 0 || targetIndex >= code2.Length)
        {
            throw Error(unit, i, $"call or function pointer targets slot {targetIndex} of '{targetSection.Name}', outside its {code2.Length} slots");
        }
        foreach (var candidate in targetUnits)
        {
            if (candidate.Start == targetIndex)
            {
                return new CodeReference(candidate, isCall);
            }
        }
        throw Error(unit, i, $"call or function pointer targets slot {targetIndex} of '{targetSection.Name}', which is not the start of a function");
    }

    private void ApplyDataRelocation(FunctionUnit unit, int i, ElfRelocation rel, Instruction[] insns, int at, List<InstructionReference> references)
    {
        var sym = _elf.Symbols[rel.SymbolIndex];
        var insn = insns[at];
        if (insn.Opcode == Opcodes.Call)
        {
            if (!sym.IsUndefined)
            {
                throw Error(unit, i, $"call relocation against '{sym.Name}', which is not code");
            }
            insns[at] = insn.WithSrc((byte)CallKind.Kfunc).WithImm(0);
            references.Add(new InstructionReference(at, ReferenceKind.KernelFunction, sym.Name, 0));
            return;
        }
        if (insn.Opcode != Opcodes.LdDw || at + 1 >= insns.Length || unit.Start + i + 1 >= unit.Start + unit.Length)
        {
            throw Error(unit, i, $"relocation against '{_elf.SymbolDisplayName(sym)}' on opcode 0x{insn.Opcode:x2}; only lddw and call can be relocated");
        }
        if (rel.Type != BpfRelocationType.R64_64)
        {
            throw Error(unit, i, $"lddw relocation has type {rel.Type}, expected R_BPF_64_64");
        }
        if (sym.IsUndefined)
        {
            references.Add(new InstructionReference(at, ReferenceKind.ExternVariable, sym.Name, 0));
            return;
        }
        if (sym.SectionIndex >= _elf.Sections.Count)
        {
            throw Error(unit, i, $"lddw refers to '{sym.Name}' in special section 0x{sym.SectionIndex:x}");
        }
        var target = _elf.Sections[sym.SectionIndex];
        if (_dataMaps.TryGetValue(target.Index, out var data))
        {
            var offset = (long)sym.Value + insn.Imm;
            if (offset < 0 || offset > target.Size)
            {
                throw Error(unit, i, $"reference to '{_elf.SymbolDisplayName(sym)}' + {insn.Imm} is outside the {target.Size}-byte section '{target.Name}'");
            }
            insns[at] = insn.WithSrc((byte)PseudoSource.MapValue).WithImm(0);
            insns[at + 1] = insns[at + 1].WithImm((int)offset);
            references.Add(new InstructionReference(at, ReferenceKind.MapValue, data.Name, offset));
            return;
        }
        var location = sym.Type == ElfSymbolType.Section ? sym.Value + (ulong)(long)insn.Imm : sym.Value;
        if (_mapsByLocation.TryGetValue((target.Index, location), out var map) && map.Source is MapSource.BtfMaps or MapSource.LegacyMaps)
        {
            insns[at] = insn.WithSrc((byte)PseudoSource.MapFd).WithImm(0);
            insns[at + 1] = insns[at + 1].WithImm(0);
            references.Add(new InstructionReference(at, ReferenceKind.Map, map.Name, 0));
            return;
        }
        throw Error(unit, i, $"lddw refers to '{_elf.SymbolDisplayName(sym)}' in section '{target.Name}', which is neither a map nor global data");
    }

    private static BpfObjectException Error(FunctionUnit unit, int i, string message) =>
        new($"{unit.Name}, instruction {i}: {message}", unit.Section.Name, unit.Section.Offset + ((long)(unit.Start + i) * 8));

    private sealed record FunctionUnit(ElfSection Section, string Name, int Start, int Length, bool IsStatic);
}
