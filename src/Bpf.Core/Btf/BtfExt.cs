using System.Buffers.Binary;
using Bpf.Elf;

namespace Bpf.Btf;

/// <summary>func_info: the BTF function type of the function starting at an instruction.</summary>
/// <param name="InstructionIndex">Instruction (slot) index within the section or program.</param>
/// <param name="Function">The BTF FUNC type.</param>
public sealed record BtfFuncInfo(int InstructionIndex, BtfType Function);

/// <summary>line_info: the source position of the instructions starting at an index.</summary>
/// <param name="InstructionIndex">Instruction (slot) index within the section or program.</param>
/// <param name="FileName">Source file name.</param>
/// <param name="LineText">The source line's text (as recorded by the compiler; may be empty).</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Column">1-based column, 0 if unknown.</param>
public sealed record BtfLineInfo(int InstructionIndex, string FileName, string LineText, int Line, int Column)
{
    /// <summary>Returns a copy that applies at another instruction index (after linking moves code).</summary>
    public BtfLineInfo At(int index) => this with { InstructionIndex = index };
}

/// <summary>CO-RE relocation kinds (enum bpf_core_relo_kind).</summary>
public enum CoreRelocationKind : uint
{
    /// <summary>Field byte offset.</summary>
    FieldByteOffset = 0,
    /// <summary>Field byte size.</summary>
    FieldByteSize = 1,
    /// <summary>Field existence.</summary>
    FieldExists = 2,
    /// <summary>Field signedness.</summary>
    FieldSigned = 3,
    /// <summary>Bitfield left shift.</summary>
    FieldLShiftU64 = 4,
    /// <summary>Bitfield right shift.</summary>
    FieldRShiftU64 = 5,
    /// <summary>Type id in the local BTF.</summary>
    TypeIdLocal = 6,
    /// <summary>Type id in the target BTF.</summary>
    TypeIdTarget = 7,
    /// <summary>Type existence.</summary>
    TypeExists = 8,
    /// <summary>Type size.</summary>
    TypeSize = 9,
    /// <summary>Enum value existence.</summary>
    EnumValueExists = 10,
    /// <summary>Enum value.</summary>
    EnumValue = 11,
    /// <summary>Type matches.</summary>
    TypeMatches = 12,
}

/// <summary>A CO-RE relocation record: the instruction to patch when loading against kernel BTF.</summary>
/// <param name="InstructionIndex">Instruction (slot) index within the section or program.</param>
/// <param name="Type">The local root type.</param>
/// <param name="AccessString">The access spec, e.g. "0:1" (member indices).</param>
/// <param name="Kind">What to compute.</param>
public sealed record CoreRelocation(int InstructionIndex, BtfType Type, string AccessString, CoreRelocationKind Kind)
{
    /// <summary>Returns a copy that applies at another instruction index.</summary>
    public CoreRelocation At(int index) => this with { InstructionIndex = index };
}

/// <summary>
/// A parsed .BTF.ext section: func_info, line_info and CO-RE relocation records, grouped by the ELF section
/// they describe. Instruction offsets are converted from bytes to slot indices.
/// </summary>
public sealed class BtfExt
{
    private const string SectionName = ".BTF.ext";

    private BtfExt(
        Dictionary<string, BtfFuncInfo[]> funcs, Dictionary<string, BtfLineInfo[]> lines, Dictionary<string, CoreRelocation[]> relos)
    {
        FuncInfos = funcs;
        LineInfos = lines;
        CoreRelocations = relos;
    }

    /// <summary>func_info records by ELF section name.</summary>
    public IReadOnlyDictionary<string, BtfFuncInfo[]> FuncInfos { get; }

    /// <summary>line_info records by ELF section name.</summary>
    public IReadOnlyDictionary<string, BtfLineInfo[]> LineInfos { get; }

    /// <summary>CO-RE relocation records by ELF section name.</summary>
    public IReadOnlyDictionary<string, CoreRelocation[]> CoreRelocations { get; }

    /// <summary>Parses .BTF.ext, resolving names and type ids against <paramref name="btf"/>.</summary>
    /// <exception cref="BpfObjectException">The section is malformed or refers to missing strings or types.</exception>
    public static BtfExt Parse(ReadOnlySpan<byte> data, BtfSpec btf, long sectionFileOffset = 0)
    {
        BpfObjectException Error(string message, long offset) => new(message, SectionName, sectionFileOffset + offset);
        if (data.Length < 24)
        {
            throw Error($"{data.Length} bytes is too short for the BTF.ext header", 0);
        }
        var magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != BtfSpec.Magic)
        {
            throw Error($"bad BTF.ext magic 0x{magic:x4}", 0);
        }
        if (data[2] != 1)
        {
            throw Error($"unsupported BTF.ext version {data[2]}", 2);
        }
        var hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (hdrLen < 24 || hdrLen > (uint)data.Length)
        {
            throw Error($"header length {hdrLen} is outside 24..{data.Length}", 4);
        }
        var body = data[(int)hdrLen..];
        ReadOnlySpan<byte> Part(ReadOnlySpan<byte> data, ReadOnlySpan<byte> body, int field, string what)
        {
            var off = BinaryPrimitives.ReadUInt32LittleEndian(data[field..]);
            var len = BinaryPrimitives.ReadUInt32LittleEndian(data[(field + 4)..]);
            if (off > (uint)body.Length || len > (uint)body.Length - off)
            {
                throw Error($"{what} (offset {off}, length {len}) extends past the end of the section", field);
            }
            return body.Slice((int)off, (int)len);
        }
        var funcPart = Part(data, body, 8, "func_info");
        var funcBase = hdrLen + BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var linePart = Part(data, body, 16, "line_info");
        var lineBase = hdrLen + BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        var reloPart = ReadOnlySpan<byte>.Empty;
        long reloBase = 0;
        if (hdrLen >= 32)
        {
            reloPart = Part(data, body, 24, "core_relo");
            reloBase = hdrLen + BinaryPrimitives.ReadUInt32LittleEndian(data[24..]);
        }

        var funcs = ReadRecords(funcPart, btf, 8, "func_info", sectionFileOffset + funcBase, (rec, idx) =>
        {
            var type = TypeOf(btf, BinaryPrimitives.ReadUInt32LittleEndian(rec[4..]), "func_info", sectionFileOffset + funcBase);
            return new BtfFuncInfo(idx, type);
        });
        var lines = ReadRecords(linePart, btf, 16, "line_info", sectionFileOffset + lineBase, (rec, idx) =>
        {
            var lineCol = BinaryPrimitives.ReadUInt32LittleEndian(rec[12..]);
            return new BtfLineInfo(
                idx,
                btf.GetString(BinaryPrimitives.ReadUInt32LittleEndian(rec[4..])),
                btf.GetString(BinaryPrimitives.ReadUInt32LittleEndian(rec[8..])),
                (int)(lineCol >> 10),
                (int)(lineCol & 0x3ff));
        });
        var relos = ReadRecords(reloPart, btf, 16, "core_relo", sectionFileOffset + reloBase, (rec, idx) =>
        {
            var type = TypeOf(btf, BinaryPrimitives.ReadUInt32LittleEndian(rec[4..]), "core_relo", sectionFileOffset + reloBase);
            return new CoreRelocation(idx, type, btf.GetString(BinaryPrimitives.ReadUInt32LittleEndian(rec[8..])),
                (CoreRelocationKind)BinaryPrimitives.ReadUInt32LittleEndian(rec[12..]));
        });
        return new BtfExt(funcs, lines, relos);
    }

    private static BtfType TypeOf(BtfSpec btf, uint id, string part, long at) =>
        id < (uint)btf.Types.Count
            ? btf.Types[(int)id]
            : throw new BpfObjectException($"{part} record refers to type {id}, but there are only {btf.Types.Count} types", SectionName, at);

    private delegate T RecordReader<T>(ReadOnlySpan<byte> record, int instructionIndex);

    private static Dictionary<string, T[]> ReadRecords<T>(
        ReadOnlySpan<byte> part, BtfSpec btf, int minRecordSize, string what, long fileOffset, RecordReader<T> read)
    {
        var result = new Dictionary<string, T[]>(StringComparer.Ordinal);
        if (part.IsEmpty)
        {
            return result;
        }
        if (part.Length < 4)
        {
            throw new BpfObjectException($"{what} is {part.Length} bytes, too short for its record size", SectionName, fileOffset);
        }
        var recSize = BinaryPrimitives.ReadUInt32LittleEndian(part);
        if (recSize < minRecordSize || recSize > 1024 || recSize % 4 != 0)
        {
            throw new BpfObjectException($"{what} record size {recSize} is invalid (expected at least {minRecordSize}, a multiple of 4)", SectionName, fileOffset);
        }
        var pos = 4;
        while (pos < part.Length)
        {
            if (part.Length - pos < 8)
            {
                throw new BpfObjectException($"{what} section header is truncated", SectionName, fileOffset + pos);
            }
            var secName = btf.GetString(BinaryPrimitives.ReadUInt32LittleEndian(part[pos..]));
            var count = BinaryPrimitives.ReadUInt32LittleEndian(part[(pos + 4)..]);
            pos += 8;
            if (count > (uint)(part.Length - pos) / recSize)
            {
                throw new BpfObjectException($"{what} for section '{secName}' claims {count} records of {recSize} bytes, more than remain", SectionName, fileOffset + pos - 4);
            }
            var records = new T[count];
            for (var i = 0; i < records.Length; i++)
            {
                var rec = part.Slice(pos, (int)recSize);
                var insnOff = BinaryPrimitives.ReadUInt32LittleEndian(rec);
                if (insnOff % 8 != 0)
                {
                    throw new BpfObjectException($"{what} record {i} for section '{secName}' has instruction offset {insnOff}, not a multiple of 8", SectionName, fileOffset + pos);
                }
                records[i] = read(rec, (int)(insnOff / 8));
                pos += (int)recSize;
            }
            if (!result.TryAdd(secName, records))
            {
                throw new BpfObjectException($"{what} lists section '{secName}' twice", SectionName, fileOffset + pos);
            }
        }
        return result;
    }
}
