using System.Buffers.Binary;
using System.Text;
using Bpf.Elf;

namespace Bpf.Btf;

/// <summary>
/// A parsed .BTF section: the string table and every type, with references between types resolved to objects.
/// Parsing checks every length, offset and type id against the section; problems raise <see cref="BpfObjectException"/>.
/// </summary>
public sealed partial class BtfSpec
{
    /// <summary>BTF_MAGIC.</summary>
    public const ushort Magic = 0xeB9F;

    /// <summary>Resolution depth beyond which a chain of typedefs/qualifiers is treated as a loop (as the kernel does).</summary>
    public const int MaxResolveDepth = 32;

    private const string SectionName = ".BTF";
    private readonly BtfType[] _types;
    private readonly byte[] _strings;
    private Dictionary<string, List<BtfType>>? _byName;

    private BtfSpec(BtfType[] types, byte[] strings)
    {
        _types = types;
        _strings = strings;
    }

    /// <summary>Where the <c>.BTF</c> section begins in its file (the offset given to <see cref="Parse"/>; 0 for BTF
    /// parsed from bare bytes). Error messages and the file offsets of types are relative to the file.</summary>
    public long FileOffset { get; private init; }

    /// <summary>All types, indexed by id; element 0 is <see cref="BtfVoid"/>.</summary>
    public IReadOnlyList<BtfType> Types => _types;

    /// <summary>The raw string section (used to resolve names in .BTF.ext).</summary>
    public ReadOnlySpan<byte> Strings => _strings;

    /// <summary>The type with this id.</summary>
    /// <exception cref="BpfObjectException">No such type id.</exception>
    public BtfType TypeById(uint id) =>
        id < (uint)_types.Length ? _types[id] : throw new BpfObjectException($"type id {id} does not exist (there are {_types.Length} types)", SectionName);

    /// <summary>All types with this name.</summary>
    public IReadOnlyList<BtfType> TypesByName(string name)
    {
        if (_byName is null)
        {
            var map = new Dictionary<string, List<BtfType>>(StringComparer.Ordinal);
            foreach (var t in _types)
            {
                if (t.Name.Length > 0)
                {
                    if (!map.TryGetValue(t.Name, out var list))
                    {
                        map[t.Name] = list = [];
                    }
                    list.Add(t);
                }
            }
            _byName = map;
        }
        return _byName.TryGetValue(name, out var found) ? found : [];
    }

    /// <summary>The first type with this name and kind, or null.</summary>
    public BtfType? FindType(string name, BtfKind kind)
    {
        foreach (var t in TypesByName(name))
        {
            if (t.Kind == kind)
            {
                return t;
            }
        }
        return null;
    }

    /// <summary>A string from the BTF string table.</summary>
    /// <exception cref="BpfObjectException">The offset is outside the table or the string is unterminated.</exception>
    public string GetString(uint offset) => ElfFile.ReadString(_strings, offset, SectionName, 0);

    /// <summary>Strips typedefs, qualifiers and type tags.</summary>
    /// <exception cref="BpfObjectException">The chain is longer than <see cref="MaxResolveDepth"/> (a loop).</exception>
    public static BtfType Underlying(BtfType type)
    {
        for (var depth = 0; depth < MaxResolveDepth; depth++)
        {
            if (type is BtfTypedef or BtfQualifier or BtfTypeTag)
            {
                type = ((BtfReferenceType)type).Target;
            }
            else
            {
                return type;
            }
        }
        throw new BpfObjectException($"type {type.Id}: typedef/qualifier chain longer than {MaxResolveDepth} (a loop?)", SectionName);
    }

    /// <summary>The size in bytes of a type, following typedefs, qualifiers and arrays.</summary>
    /// <exception cref="BpfObjectException">The type has no size (void, function, forward) or the size overflows.</exception>
    public static ulong SizeOf(BtfType type)
    {
        ulong multiplier = 1;
        for (var depth = 0; depth < MaxResolveDepth; depth++)
        {
            type = Underlying(type);
            ulong size;
            switch (type)
            {
                case BtfArray a:
                    multiplier = checked(multiplier * a.Count);
                    type = a.ElementType;
                    continue;
                case BtfInt i: size = i.Size; break;
                case BtfFloat f: size = f.Size; break;
                case BtfPointer: size = 8; break;
                case BtfComposite c: size = c.Size; break;
                case BtfEnum e: size = e.Size; break;
                case BtfDataSec d: size = d.Size; break;
                case BtfVar v: type = v.Target; continue;
                default:
                    throw new BpfObjectException($"type {type.Id} ({type.Kind}) has no size", SectionName);
            }
            try
            {
                return checked(multiplier * size);
            }
            catch (OverflowException)
            {
                throw new BpfObjectException($"size of type {type.Id} overflows 64 bits", SectionName);
            }
        }
        throw new BpfObjectException($"type {type.Id}: array nesting deeper than {MaxResolveDepth}", SectionName);
    }

    /// <summary>A C-like display name: "__u32", "struct iphdr", "u8 *", "int[4]", "func mix".</summary>
    public static string DisplayName(BtfType type)
    {
        var sb = new StringBuilder();
        AppendName(sb, type, 0);
        return sb.ToString();
    }

    private static void AppendName(StringBuilder sb, BtfType type, int depth)
    {
        if (depth > 8)
        {
            sb.Append("...");
            return;
        }
        switch (type)
        {
            case BtfVoid: sb.Append("void"); break;
            case BtfComposite c: sb.Append(c.IsUnion ? "union " : "struct ").Append(c.Name.Length > 0 ? c.Name : "(anon)"); break;
            case BtfEnum e: sb.Append("enum ").Append(e.Name.Length > 0 ? e.Name : "(anon)"); break;
            case BtfForward f: sb.Append(f.IsUnion ? "union " : "struct ").Append(f.Name); break;
            case BtfPointer p: AppendName(sb, p.Target, depth + 1); sb.Append(" *"); break;
            case BtfQualifier q:
                sb.Append(q.Kind switch { BtfKind.Const => "const ", BtfKind.Volatile => "volatile ", _ => "restrict " });
                AppendName(sb, q.Target, depth + 1);
                break;
            case BtfTypeTag t: AppendName(sb, t.Target, depth + 1); sb.Append(" __tag(").Append(t.Name).Append(')'); break;
            case BtfArray a: AppendName(sb, a.ElementType, depth + 1); sb.Append('[').Append(a.Count).Append(']'); break;
            case BtfFuncProto fp:
                AppendName(sb, fp.ReturnType, depth + 1);
                sb.Append(" (");
                for (var i = 0; i < fp.Parameters.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }
                    var p = fp.Parameters[i];
                    if (p.TypeId == 0 && p.Name.Length == 0)
                    {
                        sb.Append("...");
                    }
                    else
                    {
                        AppendName(sb, p.Type, depth + 1);
                    }
                }
                sb.Append(')');
                break;
            case BtfFunc f: sb.Append("func ").Append(f.Name); break;
            case BtfVar v: sb.Append("var ").Append(v.Name); break;
            case BtfDataSec d: sb.Append("datasec ").Append(d.Name); break;
            case BtfDeclTag d: sb.Append("decl_tag ").Append(d.Name); break;
            default: sb.Append(type.Name); break;
        }
    }

    /// <summary>Parses a .BTF section.</summary>
    /// <param name="data">The section contents.</param>
    /// <param name="sectionFileOffset">The section's offset in the file, for error messages.</param>
    /// <exception cref="BpfObjectException">The section is malformed.</exception>
    public static BtfSpec Parse(ReadOnlySpan<byte> data, long sectionFileOffset = 0)
    {
        var r = new BtfParser(data, sectionFileOffset);
        return r.Parse();
    }

    private ref struct BtfParser
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly long _base;
        private ReadOnlySpan<byte> _strings;

        public BtfParser(ReadOnlySpan<byte> data, long fileOffset)
        {
            _data = data;
            _base = fileOffset;
        }

        private readonly BpfObjectException Error(string message, long offset) =>
            new(message, SectionName, _base + offset);

        public BtfSpec Parse()
        {
            if (_data.Length < 24)
            {
                throw Error($"{_data.Length} bytes is too short for the 24-byte BTF header", 0);
            }
            var magic = BinaryPrimitives.ReadUInt16LittleEndian(_data);
            if (magic != Magic)
            {
                throw Error(magic == 0x9FEB ? "big-endian BTF is not supported" : $"bad BTF magic 0x{magic:x4}", 0);
            }
            if (_data[2] != 1)
            {
                throw Error($"unsupported BTF version {_data[2]}", 2);
            }
            var hdrLen = BinaryPrimitives.ReadUInt32LittleEndian(_data[4..]);
            var typeOff = BinaryPrimitives.ReadUInt32LittleEndian(_data[8..]);
            var typeLen = BinaryPrimitives.ReadUInt32LittleEndian(_data[12..]);
            var strOff = BinaryPrimitives.ReadUInt32LittleEndian(_data[16..]);
            var strLen = BinaryPrimitives.ReadUInt32LittleEndian(_data[20..]);
            if (hdrLen < 24 || hdrLen > (uint)_data.Length)
            {
                throw Error($"header length {hdrLen} is outside 24..{_data.Length}", 4);
            }
            var body = _data[(int)hdrLen..];
            var types = Slice(body, typeOff, typeLen, "type section", 8, hdrLen);
            _strings = Slice(body, strOff, strLen, "string section", 16, hdrLen);
            if (_strings.Length > 0 && _strings[^1] != 0)
            {
                throw Error("string section does not end with NUL", hdrLen + strOff + strLen - 1);
            }
            var list = new List<BtfType>(Math.Min(types.Length / 12, 1 << 16) + 1) { BtfVoid.Instance };
            var pos = 0;
            var fileBase = hdrLen + typeOff;
            while (pos < types.Length)
            {
                var at = pos;
                if (types.Length - pos < 12)
                {
                    throw Error($"type {list.Count} header is truncated", fileBase + at);
                }
                var nameOff = BinaryPrimitives.ReadUInt32LittleEndian(types[pos..]);
                var info = BinaryPrimitives.ReadUInt32LittleEndian(types[(pos + 4)..]);
                var sizeOrType = BinaryPrimitives.ReadUInt32LittleEndian(types[(pos + 8)..]);
                pos += 12;
                var vlen = (int)(info & 0xffff);
                var kind = (BtfKind)((info >> 24) & 0x1f);
                var kindFlag = (info >> 31) != 0;
                var id = (uint)list.Count;
                var name = Name(nameOff, fileBase + at);
                BtfType t;
                switch (kind)
                {
                    case BtfKind.Int:
                    {
                        var extra = Need(types, ref pos, 4, id, fileBase);
                        var v = BinaryPrimitives.ReadUInt32LittleEndian(extra);
                        t = new BtfInt(id, name, sizeOrType, (BtfIntEncoding)((v >> 24) & 0xf), (byte)((v >> 16) & 0xff), (byte)(v & 0xff));
                        break;
                    }
                    case BtfKind.Pointer: t = new BtfPointer(id, name, sizeOrType); break;
                    case BtfKind.Typedef: t = new BtfTypedef(id, name, sizeOrType); break;
                    case BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict: t = new BtfQualifier(id, name, sizeOrType, kind); break;
                    case BtfKind.TypeTag: t = new BtfTypeTag(id, name, sizeOrType, kindFlag); break;
                    case BtfKind.Func: t = new BtfFunc(id, name, sizeOrType, (BtfLinkage)vlen); break;
                    case BtfKind.Float: t = new BtfFloat(id, name, sizeOrType); break;
                    case BtfKind.Forward: t = new BtfForward(id, name, kindFlag); break;
                    case BtfKind.Var:
                    {
                        var extra = Need(types, ref pos, 4, id, fileBase);
                        t = new BtfVar(id, name, sizeOrType, (BtfLinkage)BinaryPrimitives.ReadUInt32LittleEndian(extra));
                        break;
                    }
                    case BtfKind.DeclTag:
                    {
                        var extra = Need(types, ref pos, 4, id, fileBase);
                        t = new BtfDeclTag(id, name, sizeOrType, BinaryPrimitives.ReadInt32LittleEndian(extra));
                        break;
                    }
                    case BtfKind.Array:
                    {
                        var extra = Need(types, ref pos, 12, id, fileBase);
                        t = new BtfArray(id, name, BinaryPrimitives.ReadUInt32LittleEndian(extra),
                            BinaryPrimitives.ReadUInt32LittleEndian(extra[4..]), BinaryPrimitives.ReadUInt32LittleEndian(extra[8..]));
                        break;
                    }
                    case BtfKind.Struct or BtfKind.Union:
                    {
                        var extra = Need(types, ref pos, vlen * 12, id, fileBase);
                        var members = new BtfMember[vlen];
                        for (var i = 0; i < vlen; i++)
                        {
                            var m = extra.Slice(i * 12, 12);
                            var off = BinaryPrimitives.ReadUInt32LittleEndian(m[8..]);
                            members[i] = kindFlag
                                ? new BtfMember(Name(BinaryPrimitives.ReadUInt32LittleEndian(m), fileBase + at), BinaryPrimitives.ReadUInt32LittleEndian(m[4..]), off & 0xffffff, (byte)(off >> 24))
                                : new BtfMember(Name(BinaryPrimitives.ReadUInt32LittleEndian(m), fileBase + at), BinaryPrimitives.ReadUInt32LittleEndian(m[4..]), off, 0);
                        }
                        t = new BtfComposite(id, name, kind == BtfKind.Union, sizeOrType, members);
                        break;
                    }
                    case BtfKind.Enum:
                    {
                        var extra = Need(types, ref pos, vlen * 8, id, fileBase);
                        var values = new BtfEnumValue[vlen];
                        for (var i = 0; i < vlen; i++)
                        {
                            var raw = BinaryPrimitives.ReadInt32LittleEndian(extra[(i * 8 + 4)..]);
                            values[i] = new BtfEnumValue(Name(BinaryPrimitives.ReadUInt32LittleEndian(extra[(i * 8)..]), fileBase + at), kindFlag ? raw : (uint)raw);
                        }
                        t = new BtfEnum(id, name, sizeOrType, kindFlag, false, values);
                        break;
                    }
                    case BtfKind.Enum64:
                    {
                        var extra = Need(types, ref pos, vlen * 12, id, fileBase);
                        var values = new BtfEnumValue[vlen];
                        for (var i = 0; i < vlen; i++)
                        {
                            var e = extra.Slice(i * 12, 12);
                            var v = (long)(BinaryPrimitives.ReadUInt32LittleEndian(e[4..]) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(e[8..]) << 32));
                            values[i] = new BtfEnumValue(Name(BinaryPrimitives.ReadUInt32LittleEndian(e), fileBase + at), v);
                        }
                        t = new BtfEnum(id, name, sizeOrType, kindFlag, true, values);
                        break;
                    }
                    case BtfKind.FuncProto:
                    {
                        var extra = Need(types, ref pos, vlen * 8, id, fileBase);
                        var ps = new BtfParameter[vlen];
                        for (var i = 0; i < vlen; i++)
                        {
                            ps[i] = new BtfParameter(Name(BinaryPrimitives.ReadUInt32LittleEndian(extra[(i * 8)..]), fileBase + at), BinaryPrimitives.ReadUInt32LittleEndian(extra[(i * 8 + 4)..]));
                        }
                        t = new BtfFuncProto(id, name, sizeOrType, ps);
                        break;
                    }
                    case BtfKind.DataSec:
                    {
                        var extra = Need(types, ref pos, vlen * 12, id, fileBase);
                        var vars = new BtfVarSecInfo[vlen];
                        for (var i = 0; i < vlen; i++)
                        {
                            var e = extra.Slice(i * 12, 12);
                            vars[i] = new BtfVarSecInfo(BinaryPrimitives.ReadUInt32LittleEndian(e), BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]));
                        }
                        t = new BtfDataSec(id, name, sizeOrType, vars);
                        break;
                    }
                    default:
                        throw Error($"type {id} has unknown kind {(int)kind}", fileBase + at + 4);
                }
                list.Add(t);
            }
            var all = list.ToArray();
            Link(all, fileBase);
            return new BtfSpec(all, _strings.ToArray()) { FileOffset = _base };
        }

        private readonly void Link(BtfType[] all, long fileBase)
        {
            var at = _base + fileBase;
            BtfType Get(uint id, BtfType from)
            {
                if (id >= (uint)all.Length)
                {
                    throw new BpfObjectException($"type {from.Id} ({from.Kind}) refers to type {id}, but there are only {all.Length} types", SectionName, at);
                }
                return all[id];
            }
            foreach (var t in all)
            {
                switch (t)
                {
                    case BtfReferenceType r: r.Target = Get(r.TargetId, t); break;
                    case BtfArray a: a.ElementType = Get(a.ElementTypeId, t); a.IndexType = Get(a.IndexTypeId, t); break;
                    case BtfComposite c:
                        foreach (var m in c.Members)
                        {
                            m.Type = Get(m.TypeId, t);
                        }
                        break;
                    case BtfFuncProto fp:
                        fp.ReturnType = Get(fp.ReturnTypeId, t);
                        foreach (var p in fp.Parameters)
                        {
                            p.Type = Get(p.TypeId, t);
                        }
                        break;
                    case BtfDataSec d:
                        foreach (var v in d.Variables)
                        {
                            v.Type = Get(v.TypeId, t);
                        }
                        break;
                }
            }
        }

        private readonly string Name(uint offset, long at)
        {
            if (offset >= (uint)_strings.Length)
            {
                if (offset == 0)
                {
                    return string.Empty;
                }
                throw Error($"name offset {offset} is outside the {_strings.Length}-byte string section", at);
            }
            var rest = _strings[(int)offset..];
            var end = rest.IndexOf((byte)0);
            return end <= 0 ? string.Empty : Encoding.UTF8.GetString(rest[..end]);
        }

        private readonly ReadOnlySpan<byte> Need(ReadOnlySpan<byte> types, ref int pos, int count, uint id, long fileBase)
        {
            if (count < 0 || count > types.Length - pos)
            {
                throw Error($"type {id} needs {count} more bytes, only {types.Length - pos} remain", fileBase + pos);
            }
            var s = types.Slice(pos, count);
            pos += count;
            return s;
        }

        private readonly ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> body, uint off, uint len, string what, int field, uint hdrLen)
        {
            if (off > (uint)body.Length || len > (uint)body.Length - off)
            {
                throw Error($"{what} (offset {off}, length {len}) extends past the end of the {body.Length + hdrLen}-byte section", field);
            }
            return body.Slice((int)off, (int)len);
        }
    }
}
