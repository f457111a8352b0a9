using System.Buffers.Binary;
using System.Text;
using Bpf.Btf;

namespace Bpf.Loader;

/// <summary>
/// Writes a parsed <see cref="BtfSpec"/> back into the kernel's raw BTF format, keeping every type id, so the
/// ids the object refers to (map key/value types, func_info) stay valid. The object reader has already fixed up
/// what the compiler leaves for the loader (DATASEC sizes and variable offsets), and those fixed values are what
/// is written. The string table starts with the object's own strings; line_info strings not in it are appended.
/// </summary>
internal sealed class BtfEncoder
{
    private readonly BtfSpec _btf;
    private readonly MemoryStream _strings = new();
    private readonly Dictionary<string, uint> _offsets = new(StringComparer.Ordinal);

    private readonly bool _sanitize;
    private readonly IReadOnlySet<string> _staticFunctions;

    /// <param name="btf">The object's BTF.</param>
    /// <param name="sanitize">Rewrite the kinds older kernels reject into ones they accept, as libbpf does: decl tags
    /// become 1-byte ints, type tags const, 64-bit enums and floats empty unions/structs of the same size, global
    /// functions static. Type ids do not change, so map types and func_info stay valid.</param>
    /// <param name="staticFunctions">Global functions written with static linkage (<see cref="ObjectSpec.HiddenSubprograms"/>).</param>
    internal BtfEncoder(BtfSpec btf, bool sanitize = false, IReadOnlySet<string>? staticFunctions = null)
    {
        _btf = btf;
        _sanitize = sanitize;
        _staticFunctions = staticFunctions ?? new HashSet<string>();
        var raw = btf.Strings;
        _strings.Write(raw);
        if (raw.Length == 0 || raw[0] != 0)
        {
            // The kernel wants the table to start with the empty string.
            _strings.SetLength(0);
            _strings.WriteByte(0);
            _strings.Write(raw);
            if (raw.Length > 0 && raw[^1] != 0) _strings.WriteByte(0);
        }
        _offsets[""] = 0;
        // Index every string the table already holds, so reused names cost nothing.
        var all = _strings.GetBuffer().AsSpan(0, (int)_strings.Length);
        int start = 0;
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i] != 0) continue;
            if (i > start) _offsets.TryAdd(Encoding.UTF8.GetString(all[start..i]), (uint)start);
            start = i + 1;
        }
    }

    /// <summary>The string's offset in the table, appending it if new.</summary>
    internal uint String(string s)
    {
        if (_offsets.TryGetValue(s, out var off)) return off;
        off = (uint)_strings.Length;
        _strings.Write(Encoding.UTF8.GetBytes(s));
        _strings.WriteByte(0);
        _offsets[s] = off;
        return off;
    }

    /// <summary>func_info records for the kernel: {insn_off (in instructions), type_id}.</summary>
    internal static byte[] FuncInfo(ProgramSpec program)
    {
        var bytes = new byte[program.FuncInfos.Count * ProgramBtfInfo.FuncInfoRecordSize];
        for (int i = 0; i < program.FuncInfos.Count; i++)
        {
            var f = program.FuncInfos[i];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8), (uint)f.InstructionIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8 + 4), f.Function.Id);
        }
        return bytes;
    }

    /// <summary>line_info records: {insn_off, file_name_off, line_off, line &lt;&lt; 10 | column}; strings added to the table.</summary>
    internal byte[] LineInfo(ProgramSpec program)
    {
        var bytes = new byte[program.LineInfos.Count * ProgramBtfInfo.LineInfoRecordSize];
        for (int i = 0; i < program.LineInfos.Count; i++)
        {
            var l = program.LineInfos[i];
            var rec = bytes.AsSpan(i * 16, 16);
            BinaryPrimitives.WriteUInt32LittleEndian(rec, (uint)l.InstructionIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(rec[4..], String(l.FileName));
            BinaryPrimitives.WriteUInt32LittleEndian(rec[8..], String(l.LineText));
            BinaryPrimitives.WriteUInt32LittleEndian(rec[12..], ((uint)l.Line << 10) | ((uint)l.Column & 0x3ff));
        }
        return bytes;
    }

    /// <summary>The raw BTF blob (header, types, strings). Call after every <see cref="String"/> needed.</summary>
    internal byte[] Encode()
    {
        var types = new MemoryStream();
        var w = new byte[4];
        void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(w, v);
            types.Write(w, 0, 4);
        }
        void Head(BtfType t, int vlen, bool kindFlag, uint sizeOrType)
        {
            U32(String(t.Name));
            U32(((uint)t.Kind << 24) | (uint)(vlen & 0xffff) | (kindFlag ? 1u << 31 : 0));
            U32(sizeOrType);
        }
        for (int id = 1; id < _btf.Types.Count; id++)
        {
            var t = _btf.Types[id];
            if (t is BtfVar { Linkage: BtfLinkage.Extern } or BtfFunc { Linkage: BtfLinkage.Extern } or BtfDataSec { Name: ".kconfig" or ".ksyms" })
            {
                // Externs (__kconfig, __ksym, kfunc declarations) and their data sections: the kernel refuses extern
                // linkage and the sections have no storage in the object. Nothing the kernel reads refers to them
                // (func_info names the object's own functions; extern values are resolved into the instructions), so
                // each becomes an anonymous empty struct, which keeps every type id in place.
                U32(0);
                U32((uint)BtfKind.Struct << 24);
                U32(0);
                continue;
            }
            if (_sanitize)
            {
                switch (t)
                {
                    case BtfDeclTag:
                        U32(0);
                        U32((uint)BtfKind.Int << 24);
                        U32(1);
                        U32(8); // 8 bits, unsigned
                        continue;
                    case BtfTypeTag tt:
                        U32(0);
                        U32((uint)BtfKind.Const << 24);
                        U32(tt.TargetId);
                        continue;
                    case BtfEnum e when e.Kind == BtfKind.Enum64:
                        U32(String(e.Name));
                        U32((uint)BtfKind.Union << 24);
                        U32(e.Size);
                        continue;
                    case BtfFloat f:
                        U32(String(f.Name));
                        U32((uint)BtfKind.Struct << 24);
                        U32(f.Size);
                        continue;
                    case BtfFunc fn when fn.Linkage == BtfLinkage.Global:
                        U32(String(fn.Name));
                        U32((uint)BtfKind.Func << 24 | (uint)BtfLinkage.Static);
                        U32(fn.TargetId);
                        continue;
                }
            }
            switch (t)
            {
                case BtfInt i:
                    Head(t, 0, false, i.Size);
                    U32(((uint)i.Encoding << 24) | ((uint)i.BitOffset << 16) | i.Bits);
                    break;
                case BtfFloat f:
                    Head(t, 0, false, f.Size);
                    break;
                case BtfFunc fn:
                    Head(t, (int)(fn.Linkage == BtfLinkage.Global && _staticFunctions.Contains(fn.Name) ? BtfLinkage.Static : fn.Linkage), false, fn.TargetId);
                    break;
                case BtfVar v:
                    Head(t, 0, false, v.TargetId);
                    U32((uint)v.Linkage);
                    break;
                case BtfDeclTag d:
                    Head(t, 0, false, d.TargetId);
                    U32((uint)d.ComponentIndex);
                    break;
                case BtfReferenceType r: // pointer, typedef, qualifiers, type tag
                    Head(t, 0, false, r.TargetId);
                    break;
                case BtfForward fw:
                    Head(t, 0, fw.IsUnion, 0);
                    break;
                case BtfArray a:
                    Head(t, 0, false, 0);
                    U32(a.ElementTypeId);
                    U32(a.IndexTypeId);
                    U32(a.Count);
                    break;
                case BtfComposite c:
                {
                    bool bitfields = c.Members.Any(m => m.BitfieldSize != 0);
                    Head(t, c.Members.Count, bitfields, c.Size);
                    foreach (var m in c.Members)
                    {
                        U32(String(m.Name));
                        U32(m.TypeId);
                        U32(bitfields ? ((uint)m.BitfieldSize << 24) | (m.BitOffset & 0xffffff) : m.BitOffset);
                    }
                    break;
                }
                case BtfEnum e when e.Kind == BtfKind.Enum:
                    Head(t, e.Values.Count, e.IsSigned, e.Size);
                    foreach (var v in e.Values)
                    {
                        U32(String(v.Name));
                        U32((uint)v.Value);
                    }
                    break;
                case BtfEnum e:
                    Head(t, e.Values.Count, e.IsSigned, e.Size);
                    foreach (var v in e.Values)
                    {
                        U32(String(v.Name));
                        U32((uint)v.Value);
                        U32((uint)((ulong)v.Value >> 32));
                    }
                    break;
                case BtfFuncProto p:
                    Head(t, p.Parameters.Count, false, p.ReturnTypeId);
                    foreach (var prm in p.Parameters)
                    {
                        U32(String(prm.Name));
                        U32(prm.TypeId);
                    }
                    break;
                case BtfDataSec d:
                    Head(t, d.Variables.Count, false, d.Size);
                    foreach (var v in d.Variables)
                    {
                        U32(v.TypeId);
                        U32(v.Offset);
                        U32(v.Size);
                    }
                    break;
                default:
                    throw new NotSupportedException($"BTF type {id} of kind {t.Kind} cannot be encoded");
            }
        }
        var typeBytes = types.ToArray();
        var strBytes = _strings.ToArray();
        var blob = new byte[24 + typeBytes.Length + strBytes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(blob, BtfSpec.Magic);
        blob[2] = 1; // version
        blob[3] = 0; // flags
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(12), (uint)typeBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(16), (uint)typeBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(20), (uint)strBytes.Length);
        typeBytes.CopyTo(blob, 24);
        strBytes.CopyTo(blob, 24 + typeBytes.Length);
        return blob;
    }
}

/// <summary>The BTF a program is loaded with: the loaded object BTF plus its func_info and line_info records.</summary>
/// <param name="Btf">The BTF object (from BPF_BTF_LOAD) the records' type ids and string offsets refer to.</param>
/// <param name="FuncInfo">func_info records, <see cref="FuncInfoRecordSize"/> bytes each; instruction offsets in slots.</param>
/// <param name="LineInfo">line_info records, <see cref="LineInfoRecordSize"/> bytes each.</param>
public sealed record ProgramBtfInfo(BpfFd Btf, byte[] FuncInfo, byte[] LineInfo)
{
    /// <summary>sizeof(struct bpf_func_info).</summary>
    public const int FuncInfoRecordSize = 8;

    /// <summary>sizeof(struct bpf_line_info).</summary>
    public const int LineInfoRecordSize = 16;
}
