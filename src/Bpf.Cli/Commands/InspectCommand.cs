using System.Text;
using System.Text.Json;
using Bpf.Asm;
using Bpf.Btf;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet inspect OBJECT [--json]</c>: shows the programs (with disassembly and interleaved source lines),
/// maps, global variables and BTF types of a BPF ELF object. The JSON form is documented in docs/inspect-json.md.
/// </summary>
internal static class InspectCommand
{
    /// <summary>The JSON schema version written in the "schemaVersion" property.</summary>
    public const int JsonSchemaVersion = 1;

    /// <summary>Runs the command. Returns 0 on success, 2 when the arguments or the object are unusable.</summary>
    public static int Run(CliArgs a, CliContext cli)
    {
        var path = a.Single("OBJECT");
        var json = a.Has("--json");
        var stdout = cli.Out;
        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.ReadFile(path);
        }
        catch (Exception e) when (e is BpfObjectException or IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        if (json)
        {
            WriteJson(spec, path, stdout);
        }
        else
        {
            WriteText(spec, path, stdout);
        }
        return 0;
    }

    /// <summary>The assembly text (llvm-objdump syntax) of the instruction starting at slot <paramref name="index"/>.</summary>
    internal static string InstructionText(ReadOnlySpan<Instruction> slots, int index) =>
        Disassembler.Format(slots, index, AsmDialect.Llvm);

    private static string TypeName(BtfType? t) => t is null ? "-" : BtfSpec.DisplayName(t);

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static void WriteText(ObjectSpec spec, string path, TextWriter o)
    {
        o.WriteLine($"object: {path}");
        o.WriteLine($"license: {spec.License}");
        if (spec.KernelVersion != 0)
        {
            o.WriteLine($"kernel version: 0x{spec.KernelVersion:x}");
        }
        o.WriteLine();
        o.WriteLine($"programs ({spec.Programs.Count}):");
        foreach (var p in spec.Programs)
        {
            o.Write($"  {p.Name}: section {p.SectionName}, type {p.Type}");
            if (p.AttachType is { } at)
            {
                o.Write($", attach {at}");
            }
            if (p.AttachTo is { } to)
            {
                o.Write($", target {to}");
            }
            if (p.Flags != ProgramFlags.None)
            {
                o.Write($", flags {p.Flags}");
            }
            o.WriteLine($", {p.Instructions.Length} instructions");
            var functionStarts = p.Functions.ToDictionary(f => f.StartIndex, f => f.Name);
            var refs = p.References.ToDictionary(r => r.InstructionIndex);
            BtfLineInfo? lastLine = null;
            for (var i = 0; i < p.Instructions.Length; i++)
            {
                if (functionStarts.TryGetValue(i, out var fn))
                {
                    o.WriteLine($"    {fn}:");
                }
                if (p.LineInfoAt(i) is { Line: > 0 } line && (lastLine is null || line.Line != lastLine.Line || line.FileName != lastLine.FileName))
                {
                    o.WriteLine($"      ; {line.LineText.Trim()}  [{Path.GetFileName(line.FileName)}:{line.Line}:{line.Column}]");
                    lastLine = line;
                }
                var text = InstructionText(p.Instructions, i);
                var note = refs.TryGetValue(i, out var r) ? $"    ; {r.Kind} {r.Name}{(r.Offset != 0 ? $"+{r.Offset}" : string.Empty)}" : string.Empty;
                o.WriteLine($"      {i,5}: {text}{note}");
                i += Disassembler.Width(p.Instructions, i) - 1;
            }
            if (p.CoreRelocations.Count > 0)
            {
                o.WriteLine("    CO-RE relocations (not applied):");
                foreach (var c in p.CoreRelocations)
                {
                    o.WriteLine($"      {c.InstructionIndex,5}: {c.Kind} {TypeName(c.Type)} access {c.AccessString}");
                }
            }
        }
        o.WriteLine();
        o.WriteLine($"maps ({spec.Maps.Count}):");
        foreach (var m in spec.Maps)
        {
            WriteMapText(o, m, "  ");
        }
        o.WriteLine();
        o.WriteLine($"global variables ({spec.Variables.Count}):");
        foreach (var v in spec.Variables)
        {
            o.WriteLine($"  {v.Name}: section {v.SectionName}, offset {v.Offset}, size {v.Size}, type {TypeName(v.Type)}, value {Hex(v.Get())}");
        }
        o.WriteLine();
        if (spec.Btf is { } btf)
        {
            o.WriteLine($"btf types ({btf.Types.Count - 1}):");
            for (var i = 1; i < btf.Types.Count; i++)
            {
                var t = btf.Types[i];
                o.WriteLine($"  [{t.Id}] {t.Kind} '{t.Name}' {Describe(t)}");
            }
        }
        else
        {
            o.WriteLine("btf: none");
        }
    }

    private static void WriteMapText(TextWriter o, MapSpec m, string indent)
    {
        o.Write($"{indent}{m.Name}: type {m.Type}, key {m.KeySize}, value {m.ValueSize}, max entries {m.MaxEntries}, flags 0x{(uint)m.Flags:x}");
        if (m.Pinning != PinType.None)
        {
            o.Write($", pinning {m.Pinning}");
        }
        if (m.KeyType is not null || m.ValueType is not null)
        {
            o.Write($", key type {TypeName(m.KeyType)}, value type {TypeName(m.ValueType)}");
        }
        if (m.MapExtra != 0)
        {
            o.Write($", map_extra 0x{m.MapExtra:x}");
        }
        o.WriteLine($" ({m.Source})");
        foreach (var p in m.StructOpsPrograms)
        {
            o.WriteLine($"{indent}  .{p.Member} (offset {p.Offset}) = {p.Program}");
        }
        foreach (var v in m.InitialValues)
        {
            o.WriteLine($"{indent}  [{v.Index}] = {v.Name}");
        }
        if (m.InnerMap is { } inner)
        {
            WriteMapText(o, inner, indent + "  inner ");
        }
    }

    private static string Describe(BtfType t) => t switch
    {
        BtfInt i => $"size={i.Size} bits={i.Bits} encoding={i.Encoding}",
        BtfFloat f => $"size={f.Size}",
        BtfComposite c => $"size={c.Size} members={c.Members.Count}",
        BtfEnum e => $"size={e.Size} values={e.Values.Count}",
        BtfArray a => $"type={a.ElementTypeId} index={a.IndexTypeId} nelems={a.Count}",
        BtfFuncProto fp => $"return={fp.ReturnTypeId} params={fp.Parameters.Count}",
        BtfFunc f => $"type={f.TargetId} linkage={f.Linkage}",
        BtfVar v => $"type={v.TargetId} linkage={v.Linkage}",
        BtfDataSec d => $"size={d.Size} vars={d.Variables.Count}",
        BtfDeclTag d => $"type={d.TargetId} component={d.ComponentIndex}",
        BtfReferenceType r => $"type={r.TargetId}",
        _ => string.Empty,
    };

    private static void WriteJson(ObjectSpec spec, string path, TextWriter output)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", JsonSchemaVersion);
            w.WriteString("object", path);
            w.WriteString("license", spec.License);
            w.WriteNumber("kernelVersion", spec.KernelVersion);
            w.WriteStartArray("programs");
            foreach (var p in spec.Programs)
            {
                WriteProgramJson(w, p);
            }
            w.WriteEndArray();
            w.WriteStartArray("maps");
            foreach (var m in spec.Maps)
            {
                WriteMapJson(w, m);
            }
            w.WriteEndArray();
            w.WriteStartArray("variables");
            foreach (var v in spec.Variables)
            {
                w.WriteStartObject();
                w.WriteString("name", v.Name);
                w.WriteString("section", v.SectionName);
                w.WriteNumber("offset", v.Offset);
                w.WriteNumber("size", v.Size);
                WriteNullableString(w, "type", v.Type is null ? null : TypeName(v.Type));
                w.WriteString("value", Hex(v.Get()));
                w.WriteBoolean("readOnly", v.Map.IsReadOnly);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (spec.Btf is { } btf)
            {
                w.WriteStartArray("btfTypes");
                for (var i = 1; i < btf.Types.Count; i++)
                {
                    WriteTypeJson(w, btf.Types[i]);
                }
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("btfTypes");
            }
            w.WriteEndObject();
        }
        output.Write(Encoding.UTF8.GetString(stream.ToArray()));
        output.WriteLine();
    }

    private static void WriteNullableString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteProgramJson(Utf8JsonWriter w, ProgramSpec p)
    {
        w.WriteStartObject();
        w.WriteString("name", p.Name);
        w.WriteString("section", p.SectionName);
        w.WriteString("type", p.Type.ToString());
        WriteNullableString(w, "attachType", p.AttachType?.ToString());
        WriteNullableString(w, "attachTo", p.AttachTo);
        w.WriteStartArray("flags");
        foreach (var f in Enum.GetValues<ProgramFlags>())
        {
            if (f != ProgramFlags.None && p.Flags.HasFlag(f))
            {
                w.WriteStringValue(f.ToString());
            }
        }
        w.WriteEndArray();
        w.WriteNumber("instructionCount", p.Instructions.Length);
        w.WriteStartArray("functions");
        foreach (var f in p.Functions)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("section", f.SectionName);
            w.WriteNumber("start", f.StartIndex);
            w.WriteNumber("length", f.Length);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("references");
        foreach (var r in p.References)
        {
            w.WriteStartObject();
            w.WriteNumber("index", r.InstructionIndex);
            w.WriteString("kind", r.Kind.ToString());
            w.WriteString("name", r.Name);
            w.WriteNumber("offset", r.Offset);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("instructions");
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < p.Instructions.Length; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("index", i);
            var wide = Disassembler.Width(p.Instructions, i) == 2;
            InstructionEncoder.Write(p.Instructions.AsSpan(i, wide ? 2 : 1), bytes);
            w.WriteString("bytes", Hex(bytes[..(wide ? 16 : 8)]));
            w.WriteString("text", InstructionText(p.Instructions, i));
            if (p.LineInfoAt(i) is { } line)
            {
                w.WriteStartObject("source");
                w.WriteString("file", line.FileName);
                w.WriteNumber("line", line.Line);
                w.WriteNumber("column", line.Column);
                w.WriteString("text", line.LineText);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (wide)
            {
                i++;
            }
        }
        w.WriteEndArray();
        w.WriteStartArray("coreRelocations");
        foreach (var c in p.CoreRelocations)
        {
            w.WriteStartObject();
            w.WriteNumber("index", c.InstructionIndex);
            w.WriteString("kind", c.Kind.ToString());
            w.WriteNumber("typeId", c.Type.Id);
            w.WriteString("type", TypeName(c.Type));
            w.WriteString("access", c.AccessString);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMapJson(Utf8JsonWriter w, MapSpec m)
    {
        w.WriteStartObject();
        w.WriteString("name", m.Name);
        w.WriteString("source", m.Source.ToString());
        w.WriteString("type", m.Type.ToString());
        w.WriteNumber("keySize", m.KeySize);
        w.WriteNumber("valueSize", m.ValueSize);
        w.WriteNumber("maxEntries", m.MaxEntries);
        w.WriteNumber("flags", (uint)m.Flags);
        w.WriteNumber("mapExtra", m.MapExtra);
        w.WriteString("pinning", m.Pinning.ToString());
        WriteNullableString(w, "keyType", m.KeyType is null ? null : TypeName(m.KeyType));
        WriteNullableString(w, "valueType", m.ValueType is null ? null : TypeName(m.ValueType));
        w.WriteStartArray("initialValues");
        foreach (var v in m.InitialValues)
        {
            w.WriteStartObject();
            w.WriteNumber("index", v.Index);
            w.WriteString("name", v.Name);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("structOps");
        foreach (var p in m.StructOpsPrograms)
        {
            w.WriteStartObject();
            w.WriteString("member", p.Member);
            w.WriteNumber("offset", p.Offset);
            w.WriteString("program", p.Program);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (m.InnerMap is { } inner)
        {
            w.WritePropertyName("innerMap");
            WriteMapJson(w, inner);
        }
        else
        {
            w.WriteNull("innerMap");
        }
        w.WriteEndObject();
    }

    private static void WriteTypeJson(Utf8JsonWriter w, BtfType t)
    {
        w.WriteStartObject();
        w.WriteNumber("id", t.Id);
        w.WriteString("kind", t.Kind.ToString());
        w.WriteString("name", t.Name);
        w.WriteString("display", TypeName(t));
        switch (t)
        {
            case BtfInt i: w.WriteNumber("size", i.Size); w.WriteNumber("bits", i.Bits); w.WriteString("encoding", i.Encoding.ToString()); break;
            case BtfFloat f: w.WriteNumber("size", f.Size); break;
            case BtfEnum e:
                w.WriteNumber("size", e.Size);
                w.WriteBoolean("signed", e.IsSigned);
                w.WriteStartArray("values");
                foreach (var v in e.Values)
                {
                    w.WriteStartObject();
                    w.WriteString("name", v.Name);
                    w.WriteNumber("value", v.Value);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case BtfComposite c:
                w.WriteNumber("size", c.Size);
                w.WriteStartArray("members");
                foreach (var m in c.Members)
                {
                    w.WriteStartObject();
                    w.WriteString("name", m.Name);
                    w.WriteNumber("typeId", m.TypeId);
                    w.WriteNumber("bitOffset", m.BitOffset);
                    w.WriteNumber("bitfieldSize", m.BitfieldSize);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case BtfArray a: w.WriteNumber("typeId", a.ElementTypeId); w.WriteNumber("indexTypeId", a.IndexTypeId); w.WriteNumber("count", a.Count); break;
            case BtfFuncProto fp:
                w.WriteNumber("returnTypeId", fp.ReturnTypeId);
                w.WriteStartArray("params");
                foreach (var p in fp.Parameters)
                {
                    w.WriteStartObject();
                    w.WriteString("name", p.Name);
                    w.WriteNumber("typeId", p.TypeId);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case BtfDataSec d:
                w.WriteNumber("size", d.Size);
                w.WriteStartArray("vars");
                foreach (var v in d.Variables)
                {
                    w.WriteStartObject();
                    w.WriteNumber("typeId", v.TypeId);
                    w.WriteNumber("offset", v.Offset);
                    w.WriteNumber("size", v.Size);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case BtfFunc f: w.WriteNumber("typeId", f.TargetId); w.WriteString("linkage", f.Linkage.ToString()); break;
            case BtfVar v: w.WriteNumber("typeId", v.TargetId); w.WriteString("linkage", v.Linkage.ToString()); break;
            case BtfDeclTag d: w.WriteNumber("typeId", d.TargetId); w.WriteNumber("componentIndex", d.ComponentIndex); break;
            case BtfForward fw: w.WriteBoolean("union", fw.IsUnion); break;
            case BtfReferenceType r: w.WriteNumber("typeId", r.TargetId); break;
        }
        w.WriteEndObject();
    }
}
