using System.Buffers.Binary;
using Bpf.Btf;
using Bpf.Elf;

namespace Bpf;

/// <summary>What an lddw or call instruction refers to, to be filled in at load time.</summary>
public enum ReferenceKind
{
    /// <summary>lddw of a map pointer (src = BPF_PSEUDO_MAP_FD): the loader puts the map fd in imm.</summary>
    Map,
    /// <summary>lddw of an address inside a map value (src = BPF_PSEUDO_MAP_VALUE): fd in imm, <see cref="InstructionReference.Offset"/> already in the second imm.</summary>
    MapValue,
    /// <summary>call of an extern kernel function (src = BPF_PSEUDO_KFUNC_CALL): needs the kernel BTF id.</summary>
    KernelFunction,
    /// <summary>lddw of an extern variable (__ksym / __kconfig): needs kernel BTF or config; not resolved here.</summary>
    ExternVariable,
}

/// <summary>A relocation recorded on a linked program instruction.</summary>
/// <param name="InstructionIndex">Slot index in <see cref="ProgramSpec.Instructions"/>.</param>
/// <param name="Kind">What is referenced.</param>
/// <param name="Name">The map name (for Map/MapValue) or the extern symbol name.</param>
/// <param name="Offset">For MapValue: byte offset inside the value; otherwise 0.</param>
public sealed record InstructionReference(int InstructionIndex, ReferenceKind Kind, string Name, long Offset);

/// <summary>A function placed in a linked program: the program's own body or an appended subprogram.</summary>
/// <param name="Name">Function name.</param>
/// <param name="SectionName">The section it came from.</param>
/// <param name="StartIndex">First slot in the linked program.</param>
/// <param name="Length">Slot count.</param>
public sealed record LinkedFunction(string Name, string SectionName, int StartIndex, int Length);

/// <summary>One program of an object: linked instructions (subprograms appended), what it references, and debug info.</summary>
public sealed class ProgramSpec
{
    internal ProgramSpec(
        string name, string sectionName, ProgramSectionInfo? info, string license, uint kernelVersion,
        Instruction[] instructions, InstructionReference[] references, LinkedFunction[] functions,
        BtfFuncInfo[] funcInfos, BtfLineInfo[] lineInfos, CoreRelocation[] coreRelocations)
    {
        Name = name;
        SectionName = sectionName;
        Type = info?.Type ?? ProgramType.Unspecified;
        AttachType = info?.AttachType;
        AttachTo = info?.AttachTo;
        Flags = info?.Flags ?? ProgramFlags.None;
        License = license;
        KernelVersion = kernelVersion;
        Instructions = instructions;
        References = references;
        Functions = functions;
        FuncInfos = funcInfos;
        LineInfos = lineInfos;
        CoreRelocations = coreRelocations;
    }

    /// <summary>The program (function symbol) name.</summary>
    public string Name { get; }

    /// <summary>The ELF section it was in.</summary>
    public string SectionName { get; }

    /// <summary>Program type inferred from the section name (Unspecified when no convention matches).</summary>
    public ProgramType Type { get; }

    /// <summary>Expected attach type, or null.</summary>
    public AttachType? AttachType { get; }

    /// <summary>Attach target from the section name (e.g. "syscalls/sys_enter_execve"), or null.</summary>
    public string? AttachTo { get; }

    /// <summary>Sleepable / frags / BTF-attach / return-probe.</summary>
    public ProgramFlags Flags { get; }

    /// <summary>The object's license string.</summary>
    public string License { get; }

    /// <summary>The object's "version" section value (0 when absent).</summary>
    public uint KernelVersion { get; }

    /// <summary>
    /// The linked instructions: the program's body followed by each subprogram it calls (directly or
    /// transitively). bpf-to-bpf call and function-pointer immediates are already relative to this array;
    /// map references carry src = MAP_FD / MAP_VALUE with imm 0, listed in <see cref="References"/>.
    /// </summary>
    public Instruction[] Instructions { get; }

    /// <summary>Map, map-value and extern references, by instruction index.</summary>
    public IReadOnlyList<InstructionReference> References { get; }

    /// <summary>The functions making up <see cref="Instructions"/> (index 0 is the program itself).</summary>
    public IReadOnlyList<LinkedFunction> Functions { get; }

    /// <summary>func_info for the linked program (one per function, indices relative to <see cref="Instructions"/>).</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfos { get; }

    /// <summary>line_info for the linked program, sorted by instruction index.</summary>
    public IReadOnlyList<BtfLineInfo> LineInfos { get; }

    /// <summary>
    /// CO-RE relocation records for the linked program. They are parsed and kept, not applied: applying them
    /// needs the running kernel's BTF, which is the loader's job.
    /// </summary>
    public IReadOnlyList<CoreRelocation> CoreRelocations { get; }

    /// <summary>The line info that starts exactly at this instruction, or null.</summary>
    public BtfLineInfo? LineInfoAt(int index)
    {
        var lo = 0;
        var hi = LineInfos.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var at = LineInfos[mid].InstructionIndex;
            if (at == index)
            {
                return LineInfos[mid];
            }
            if (at < index)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return null;
    }
}

/// <summary>What a slot of a map-in-map or program array is initialised with.</summary>
/// <param name="Index">The key (array index).</param>
/// <param name="Name">The name of the inner map (map-in-map) or program (program array).</param>
public sealed record MapInitialValue(uint Index, string Name);

/// <summary>Where a map definition came from.</summary>
public enum MapSource
{
    /// <summary>A BTF-defined map in ".maps".</summary>
    BtfMaps,
    /// <summary>A legacy struct bpf_map_def in "maps".</summary>
    LegacyMaps,
    /// <summary>A global data section (.data, .rodata, .bss, .data.*, .rodata.*) as a one-element array.</summary>
    GlobalData,
    /// <summary>The inner-map template of a map-in-map.</summary>
    InnerMap,
    /// <summary>A struct_ops map: a variable of ".struct_ops" or ".struct_ops.link" (a kernel ops struct).</summary>
    StructOps,
    /// <summary>Described in code (<see cref="MapSpec(string, MapType, uint, uint, uint, MapFlags, MapSpec?)"/>).</summary>
    Code,
}

/// <summary>A function-pointer member of a struct_ops map bound to a program of the object.</summary>
/// <param name="Member">The member of the ops struct (e.g. <c>enqueue</c>).</param>
/// <param name="Offset">Its byte offset in the struct.</param>
/// <param name="Program">The program (function) name it points to.</param>
public sealed record StructOpsProgram(string Member, uint Offset, string Program);

/// <summary>The one description of a map, engine-neutral: what an object file defines (read by <see cref="ObjectSpec"/>)
/// or what code describes with the public constructor. Both engines create maps from it (the managed runtime's
/// <c>ManagedCollection.CreateMap</c>, the kernel loader's <c>BpfMap.Create</c>).</summary>
public sealed class MapSpec
{
    private byte[]? _data;
    private readonly int _dataSize;

    /// <summary>Describes a map in code.</summary>
    /// <param name="name">The map's name (the kernel keeps its first 15 characters).</param>
    /// <param name="type">The map type.</param>
    /// <param name="keySize">Key size in bytes (0 for types without keys: queue, stack, ring buffer).</param>
    /// <param name="valueSize">Value size in bytes (0 for a ring buffer).</param>
    /// <param name="maxEntries">Maximum number of entries (for a ring buffer: its size in bytes, a power of two
    /// multiple of the page size).</param>
    /// <param name="flags">map_flags.</param>
    /// <param name="innerMap">For array/hash of maps: the inner map template.</param>
    public MapSpec(string name, MapType type, uint keySize, uint valueSize, uint maxEntries, MapFlags flags = MapFlags.None, MapSpec? innerMap = null)
        : this(name, MapSource.Code, type, keySize, valueSize, maxEntries, flags)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        InnerMap = innerMap;
    }

    internal MapSpec(string name, MapSource source, MapType type, uint keySize, uint valueSize, uint maxEntries, MapFlags flags)
    {
        Name = name;
        Source = source;
        Type = type;
        KeySize = keySize;
        ValueSize = valueSize;
        MaxEntries = maxEntries;
        Flags = flags;
    }

    internal MapSpec(string name, byte[]? initial, int size, bool readOnly, BtfType? valueType)
        : this(name, MapSource.GlobalData, MapType.Array, 4, (uint)size, 1, readOnly ? MapFlags.ReadOnlyProgram : MapFlags.None)
    {
        _data = initial;
        _dataSize = size;
        ValueType = valueType;
        IsReadOnly = readOnly;
        KeyType = null;
    }

    /// <summary>Map name (the symbol name, or the section name for global data).</summary>
    public string Name { get; }

    /// <summary>Where the definition came from.</summary>
    public MapSource Source { get; }

    /// <summary>Map type.</summary>
    public MapType Type { get; internal set; }

    /// <summary>Key size in bytes.</summary>
    public uint KeySize { get; internal set; }

    /// <summary>Value size in bytes.</summary>
    public uint ValueSize { get; internal set; }

    /// <summary>Maximum number of entries.</summary>
    public uint MaxEntries { get; internal set; }

    /// <summary>map_flags.</summary>
    public MapFlags Flags { get; internal set; }

    /// <summary>Pinning.</summary>
    public PinType Pinning { get; internal set; }

    /// <summary>NUMA node (BTF maps only; 0 when unset).</summary>
    public uint NumaNode { get; internal set; }

    /// <summary>map_extra (bloom filter hashes etc.).</summary>
    public ulong MapExtra { get; internal set; }

    /// <summary>BTF key type, when BTF-defined.</summary>
    public BtfType? KeyType { get; internal set; }

    /// <summary>BTF value type (for global data: the DATASEC), when known.</summary>
    public BtfType? ValueType { get; internal set; }

    /// <summary>For map-in-map: the inner map template.</summary>
    public MapSpec? InnerMap { get; internal set; }

    /// <summary>Initial slots of a program array or map-in-map (from <c>.values</c>).</summary>
    public IReadOnlyList<MapInitialValue> InitialValues { get; internal set; } = [];

    /// <summary>For struct_ops maps: the function-pointer members and the programs they point to.</summary>
    public IReadOnlyList<StructOpsProgram> StructOpsPrograms { get; internal set; } = [];

    internal void SetStructOpsData(byte[] data) => _data = data;

    /// <summary>For .rodata maps: programs cannot write it and the loader freezes it after filling.</summary>
    public bool IsReadOnly { get; }

    /// <summary>
    /// For global data maps: the value the loader writes into element 0 before loading (the section bytes,
    /// zeros for .bss, updated by <see cref="VariableSpec.Set(ReadOnlySpan{byte})"/>); for struct_ops maps the
    /// struct's bytes as compiled (function pointers zero). Empty for other maps.
    /// Allocated on first use, so a huge .bss costs nothing until someone asks.
    /// </summary>
    public Span<byte> Contents => Source switch
    {
        MapSource.GlobalData => _data ??= new byte[_dataSize],
        MapSource.StructOps => _data,
        _ => Span<byte>.Empty,
    };
}

/// <summary>A global variable inside a data-section map; set it before loading to change the program's constants.</summary>
public sealed class VariableSpec
{
    internal VariableSpec(string name, MapSpec map, uint offset, uint size, BtfType? type, bool isStatic)
    {
        Name = name;
        Map = map;
        Offset = offset;
        Size = size;
        Type = type;
        IsStatic = isStatic;
    }

    /// <summary>Variable name.</summary>
    public string Name { get; }

    /// <summary>The data map (section) holding it.</summary>
    public MapSpec Map { get; }

    /// <summary>Section name (= map name).</summary>
    public string SectionName => Map.Name;

    /// <summary>Byte offset in the section.</summary>
    public uint Offset { get; }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>The BTF type of the variable (through the VAR), or null without BTF.</summary>
    public BtfType? Type { get; }

    /// <summary>True for static (file-local) variables.</summary>
    public bool IsStatic { get; }

    /// <summary>The current bytes of the variable.</summary>
    public ReadOnlySpan<byte> Get() => Map.Contents.Slice((int)Offset, (int)Size);

    /// <summary>Replaces the variable's bytes.</summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="Size"/>.</exception>
    public void Set(ReadOnlySpan<byte> value)
    {
        if (value.Length != Size)
        {
            throw new ArgumentException($"variable '{Name}' is {Size} bytes; got {value.Length}", nameof(value));
        }
        value.CopyTo(Map.Contents.Slice((int)Offset, (int)Size));
    }

    /// <summary>Sets a little-endian unsigned integer of the variable's size (1, 2, 4 or 8 bytes).</summary>
    /// <exception cref="ArgumentException">The variable is not 1, 2, 4 or 8 bytes, or the value does not fit.</exception>
    public void SetUInt64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        if (Size is not (1 or 2 or 4 or 8) || (Size < 8 && value >> (int)(Size * 8) != 0))
        {
            throw new ArgumentException($"value {value} does not fit variable '{Name}' of {Size} bytes", nameof(value));
        }
        Set(b[..(int)Size]);
    }

    /// <summary>Reads the variable as a little-endian unsigned integer (1, 2, 4 or 8 bytes).</summary>
    public ulong GetUInt64()
    {
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        if (Size is not (1 or 2 or 4 or 8))
        {
            throw new InvalidOperationException($"variable '{Name}' is {Size} bytes, not an integer");
        }
        Get().CopyTo(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }
}

/// <summary>
/// Everything in one BPF object file, parsed and linked but not loaded (like cilium/ebpf's CollectionSpec):
/// programs, maps, global variables, BTF and BTF.ext. Build it with <see cref="Read(byte[], string?)"/>.
/// </summary>
public sealed class ObjectSpec
{
    internal ObjectSpec(
        string? name, string license, uint kernelVersion, ProgramSpec[] programs, MapSpec[] maps,
        VariableSpec[] variables, BtfSpec? btf, BtfExt? btfExt, ElfFile elf, ExternSpec[] externs, uint kconfigSize,
        IReadOnlySet<string> hiddenSubprograms)
    {
        HiddenSubprograms = hiddenSubprograms;
        Externs = externs;
        KconfigSize = kconfigSize;
        Name = name;
        License = license;
        KernelVersion = kernelVersion;
        Programs = programs;
        Maps = maps;
        Variables = variables;
        Btf = btf;
        BtfExt = btfExt;
        Elf = elf;
    }

    /// <summary>The object's name (file name without extension), if given.</summary>
    public string? Name { get; }

    /// <summary>The "license" section string ("" when absent).</summary>
    public string License { get; }

    /// <summary>The "version" section value (0 when absent).</summary>
    public uint KernelVersion { get; }

    /// <summary>Programs in section order.</summary>
    public IReadOnlyList<ProgramSpec> Programs { get; }

    /// <summary>Maps: BTF-defined, legacy and global-data maps.</summary>
    public IReadOnlyList<MapSpec> Maps { get; }

    /// <summary>Global variables of the data sections.</summary>
    public IReadOnlyList<VariableSpec> Variables { get; }

    /// <summary>The name libbpf gives the map holding the <c>__kconfig</c> values (an array of one element, read-only for programs).</summary>
    public const string KconfigMapName = ".kconfig";

    /// <summary>The extern symbols the programs use (<c>__kconfig</c>, <c>__ksym</c> variables, kfuncs), in symbol-table order.</summary>
    public IReadOnlyList<ExternSpec> Externs { get; }

    /// <summary>The size of the <see cref="KconfigMapName"/> value holding every <see cref="ExternKind.Kconfig"/> extern (0 when none).</summary>
    public uint KconfigSize { get; }

    /// <summary>The extern with this name, or null.</summary>
    public ExternSpec? Extern(string name) => Externs.FirstOrDefault(e => e.Name == name);

    /// <summary>The object's BTF, or null.</summary>
    public BtfSpec? Btf { get; }

    /// <summary>Subprograms (not entry programs) that are global or weak symbols with hidden or internal visibility
    /// (<c>__hidden</c>, as in libbpf's <c>usdt.bpf.h</c>). As libbpf does, the loader gives their BTF functions static
    /// linkage, so the kernel verifies them inside their callers instead of alone from their BTF prototype.</summary>
    public IReadOnlySet<string> HiddenSubprograms { get; }

    /// <summary>The object's BTF.ext, or null.</summary>
    public BtfExt? BtfExt { get; }

    /// <summary>The underlying ELF file.</summary>
    internal ElfFile Elf { get; }

    /// <summary>The program with this name, or null.</summary>
    public ProgramSpec? Program(string name) => Programs.FirstOrDefault(p => p.Name == name);

    /// <summary>The map with this name, or null.</summary>
    public MapSpec? Map(string name) => Maps.FirstOrDefault(m => m.Name == name);

    /// <summary>The global variable with this name, or null.</summary>
    public VariableSpec? Variable(string name) => Variables.FirstOrDefault(v => v.Name == name);

    /// <summary>Parses and links an object held in memory. The array is kept; do not modify it afterwards.</summary>
    /// <exception cref="BpfObjectException">The object is malformed or uses something unsupported.</exception>
    public static ObjectSpec Read(byte[] data, string? name = null) => ObjectReader.Read(data, name);

    /// <summary>Reads a file and parses it.</summary>
    /// <exception cref="BpfObjectException">The object is malformed or uses something unsupported.</exception>
    public static ObjectSpec ReadFile(string path) =>
        ObjectReader.Read(File.ReadAllBytes(path), Path.GetFileNameWithoutExtension(path));
}
