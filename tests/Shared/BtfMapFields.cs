using System.Buffers.Binary;

namespace Bpf.Tests;

/// <summary>A u32 field of an object's BTF that defines a map: a <c>__uint</c> value or the size of a key/value type.</summary>
/// <param name="Label">E.g. <c>packet_counts.max_entries</c>, <c>outer.values(inner).key size</c>.</param>
/// <param name="FileOffset">Where the u32 is in the object file.</param>
internal sealed record MapField(string Label, int FileOffset);

/// <summary>Locates the BTF fields that define an object's maps, so tests can build well-formed but extreme
/// mutants (huge max_entries, key and value sizes, nested inner maps) by patching one u32.</summary>
internal static class BtfMapFields
{
    /// <summary>Finds the map-defining fields: DATASEC ".maps" → VAR → STRUCT members → PTR → ARRAY (a
    /// <c>__uint</c>: its nelems) or a key/value type (its size), and recursively the inner map struct of
    /// <c>__array(values, ...)</c>.</summary>
    public static MapField[] Find(byte[] bytes)
    {
        if (ObjectSpec.Read(bytes).Btf is not { } spec) return [];
        var btf = (int)spec.FileOffset;
        var span = bytes.AsSpan(btf);
        var hdrLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
        var typeOff = btf + hdrLen + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        var typeLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        var strOff = btf + hdrLen + (int)BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
        var types = new List<int> { -1 }; // type id → file offset of its btf_type
        for (var at = typeOff; at < typeOff + typeLen;)
        {
            types.Add(at);
            var info = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4));
            var kind = (int)((info >> 24) & 0x1f);
            var vlen = (int)(info & 0xffff);
            at += 12 + kind switch
            {
                1 or 14 or 17 => 4,
                3 => 12,
                4 or 5 or 15 or 19 => vlen * 12,
                6 or 13 => vlen * 8,
                _ => 0,
            };
        }
        uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
        int Kind(int id) => (int)((U32(types[id] + 4) >> 24) & 0x1f);
        int Vlen(int id) => (int)(U32(types[id] + 4) & 0xffff);
        string Name(int id)
        {
            var start = strOff + (int)U32(types[id]);
            var end = Array.IndexOf(bytes, (byte)0, start);
            return System.Text.Encoding.ASCII.GetString(bytes, start, end - start);
        }
        int Skip(int id)
        {
            // typedef, volatile, const, restrict, type tag
            for (var guard = 0; guard < 32 && id > 0 && id < types.Count && Kind(id) is 8 or 9 or 10 or 11 or 18; guard++) id = (int)U32(types[id] + 8);
            return id;
        }

        var fields = new List<MapField>();
        void Definition(int structId, string map, int depth = 0)
        {
            if (depth > 4) return; // a map of maps of maps...: deep enough
            for (var m = 0; m < Vlen(structId); m++)
            {
                var member = types[structId] + 12 + m * 12;
                var memberName = System.Text.Encoding.ASCII.GetString(bytes, strOff + (int)U32(member), Array.IndexOf(bytes, (byte)0, strOff + (int)U32(member)) - strOff - (int)U32(member));
                var t = Skip((int)U32(member + 4));
                if (t <= 0 || t >= types.Count) continue;
                if (Kind(t) == 3 && memberName == "values")
                {
                    // __array(values, struct inner): an array of pointers to the inner map's definition.
                    var element = Skip((int)U32(types[t] + 12));
                    if (element > 0 && Kind(element) == 2 && Skip((int)U32(types[element] + 8)) is var inner && inner > 0 && Kind(inner) == 4)
                    {
                        Definition(inner, $"{map}.values(inner)", depth + 1);
                    }
                    continue;
                }
                if (Kind(t) != 2) continue;
                var pointee = Skip((int)U32(types[t] + 8));
                if (pointee <= 0) continue;
                switch (Kind(pointee))
                {
                    case 3: // __uint(name, value): int (*name)[value]
                        fields.Add(new MapField($"{map}.{memberName}", types[pointee] + 12 + 8));
                        break;
                    case 1 or 4 or 5: // __type(key, T): the size of T
                        fields.Add(new MapField($"{map}.{memberName} size", types[pointee] + 8));
                        break;
                }
            }
        }
        for (var id = 1; id < types.Count; id++)
        {
            if (Kind(id) != 15 || Name(id) != ".maps") continue;
            for (var v = 0; v < Vlen(id); v++)
            {
                var variable = (int)U32(types[id] + 12 + v * 12);
                if (variable <= 0 || variable >= types.Count || Kind(variable) != 14) continue;
                var def = Skip((int)U32(types[variable] + 8));
                if (def > 0 && Kind(def) == 4) Definition(def, Name(variable));
            }
        }
        return fields.ToArray();
    }


    /// <summary>The object with the field labelled <paramref name="label"/> set to <paramref name="value"/>.</summary>
    public static byte[] With(byte[] bytes, string label, uint value)
    {
        var field = Find(bytes).FirstOrDefault(f => f.Label == label) ?? throw new ArgumentException($"no BTF map field '{label}'");
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(field.FileOffset), value);
        return copy;
    }
}
