using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Bpf.Btf;

namespace Bpf.Cli;

/// <summary>
/// Map keys and values through their BTF types, both ways: bytes to a JSON value (integers as numbers, enums
/// by name, structs and data sections as objects, arrays as arrays, char arrays as strings) and the same JSON form
/// (or a bare word for an enum name or a char array) back to bytes. Hostile BTF cannot make it loop or explode:
/// depth and node count are bounded, every read is checked against the bytes given, and a struct whose member
/// names repeat is not decoded (its JSON would have duplicate keys).
/// </summary>
internal static class BtfValues
{
    private const int MaxDepth = 32;
    private const int MaxNodes = 1 << 16;

    /// <summary>The value as compact JSON, or null when the type does not describe these bytes.</summary>
    public static string? TryFormat(BtfType? type, ReadOnlySpan<byte> data)
    {
        if (type is null) return null;
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                var nodes = 0;
                if (SizeOf(type) != (ulong)data.Length) return null;
                Write(w, type, data, 0, ref nodes);
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (Exception e) when (e is FormatException or BpfObjectException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Bytes of exactly <paramref name="size"/> from <paramref name="text"/>: <c>hex:…</c> is raw bytes; without BTF
    /// the text is hex; with BTF it is the JSON form <see cref="TryFormat"/> prints (a number may also be
    /// <c>0x…</c>; a bare word is taken as a string: an enum's name, a char array's text).
    /// </summary>
    /// <exception cref="CliUsageException">The text does not fit the type; the message names <paramref name="what"/>.</exception>
    public static byte[] Parse(BtfType? type, string text, int size, string what)
    {
        if (text.StartsWith("hex:", StringComparison.Ordinal) || type is null)
        {
            var raw = Hex.ParseBytes(text.StartsWith("hex:", StringComparison.Ordinal) ? text[4..] : text, what);
            if (raw.Length != size) throw new CliUsageException($"{what}: {raw.Length} bytes of hex given; the map's field is {size} bytes{(type is null ? " (no BTF type: give hex)" : "")}");
            return raw;
        }
        try
        {
            if (SizeOf(type) != (ulong)size) throw new FormatException($"BTF type {BtfSpec.DisplayName(type)} is {SizeOf(type)} bytes but the map's field is {size}; give hex:…");
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowDuplicateProperties = false });
            }
            catch (JsonException)
            {
                doc = JsonDocument.Parse(JsonSerializer.Serialize(text)); // a bare word: an enum name, a char array's text
            }
            using (doc)
            {
                var bytes = new byte[size];
                var nodes = 0;
                Encode(doc.RootElement, type, bytes, 0, ref nodes);
                return bytes;
            }
        }
        catch (Exception e) when (e is FormatException or BpfObjectException or InvalidOperationException or OverflowException)
        {
            throw new CliUsageException($"{what}: '{text}' is not a {(type is null ? "hex string" : BtfSpec.DisplayName(type))}: {e.Message}");
        }
    }

    private static ulong SizeOf(BtfType type) => BtfSpec.SizeOf(type);

    private static void Enter(int depth, ref int nodes)
    {
        if (depth > MaxDepth) throw new FormatException($"types nested deeper than {MaxDepth}");
        if (++nodes > MaxNodes) throw new FormatException($"more than {MaxNodes} values");
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, ulong offset, ulong size) =>
        offset > (ulong)data.Length || size > (ulong)data.Length - offset
            ? throw new FormatException($"bytes {offset}..{offset + size} are outside the {data.Length}-byte value")
            : data.Slice((int)offset, (int)size);

    /// <summary>The kernel's network-order typedefs (<c>__be16</c>, <c>__be32</c>, <c>__be64</c>): their numbers are
    /// shown and read in network byte order, so that 10.0.0.1 as a <c>__be32</c> is 0x0a000001.</summary>
    private static bool IsBigEndian(BtfType type)
    {
        for (var depth = 0; depth < BtfSpec.MaxResolveDepth && type is BtfTypedef or BtfQualifier or BtfTypeTag; depth++)
        {
            if (type is BtfTypedef { Name: "__be16" or "__be32" or "__be64" }) return true;
            type = ((BtfReferenceType)type).Target;
        }
        return false;
    }

    private static void Write(Utf8JsonWriter w, BtfType type, ReadOnlySpan<byte> data, int depth, ref int nodes)
    {
        Enter(depth, ref nodes);
        if (IsBigEndian(type) && BtfSpec.Underlying(type) is BtfInt { Size: 2 or 4 or 8 } be && be.Bits == be.Size * 8)
        {
            var swapped = Slice(data, 0, be.Size).ToArray();
            Array.Reverse(swapped);
            WriteInt(w, be, swapped, 0, be.Bits);
            return;
        }
        switch (BtfSpec.Underlying(type))
        {
            case BtfInt i:
                WriteInt(w, i, data, i.BitOffset, i.Bits);
                break;
            case BtfEnum e:
            {
                var value = ReadInteger(Slice(data, 0, e.Size), 0, (int)e.Size * 8, e.IsSigned);
                var name = e.Values.FirstOrDefault(v => v.Value == value).Name;
                if (name is not null) w.WriteStringValue(name);
                else if (e.IsSigned) w.WriteNumberValue(value);
                else w.WriteNumberValue((ulong)value);
                break;
            }
            case BtfFloat f:
            {
                double value = f.Size switch
                {
                    4 => BinaryPrimitives.ReadSingleLittleEndian(Slice(data, 0, 4)),
                    8 => BinaryPrimitives.ReadDoubleLittleEndian(Slice(data, 0, 8)),
                    _ => double.NaN,
                };
                if (double.IsFinite(value)) w.WriteNumberValue(value);
                else w.WriteStringValue(f.Size is 4 or 8 ? value.ToString(CultureInfo.InvariantCulture) : HexNumber(Slice(data, 0, f.Size)));
                break;
            }
            case BtfPointer:
                w.WriteStringValue(HexNumber(Slice(data, 0, 8)));
                break;
            case BtfArray a:
            {
                var element = BtfSpec.Underlying(a.ElementType);
                var elementSize = SizeOf(element);
                var all = Slice(data, 0, checked(elementSize * a.Count));
                if (IsChar(element) && AsText(all) is { } text)
                {
                    w.WriteStringValue(text);
                    break;
                }
                w.WriteStartArray();
                for (ulong k = 0; k < a.Count; k++) Write(w, element, Slice(all, k * elementSize, elementSize), depth + 1, ref nodes);
                w.WriteEndArray();
                break;
            }
            case BtfComposite c:
            {
                w.WriteStartObject();
                WriteMembers(w, c, Slice(data, 0, c.Size), new HashSet<string>(StringComparer.Ordinal), depth, ref nodes);
                w.WriteEndObject();
                break;
            }
            case BtfDataSec d:
            {
                w.WriteStartObject();
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var v in d.Variables)
                {
                    if (v.Type is not BtfVar variable) continue;
                    if (!names.Add(variable.Name)) throw new FormatException($"variable '{variable.Name}' appears twice");
                    w.WritePropertyName(variable.Name);
                    Write(w, variable.Target, Slice(data, v.Offset, v.Size), depth + 1, ref nodes);
                }
                w.WriteEndObject();
                break;
            }
            case var other:
                throw new FormatException($"type {other.Id} ({other.Kind}) has no value");
        }
    }

    /// <summary>Members by name; an anonymous struct or union's members are the parent's (as in C).</summary>
    private static void WriteMembers(Utf8JsonWriter w, BtfComposite c, ReadOnlySpan<byte> data, HashSet<string> names, int depth, ref int nodes)
    {
        Enter(depth, ref nodes);
        foreach (var m in c.Members)
        {
            var memberType = BtfSpec.Underlying(m.Type);
            if (m.Name.Length == 0 && memberType is BtfComposite inner)
            {
                WriteMembers(w, inner, Slice(data, m.ByteOffset, inner.Size), names, depth + 1, ref nodes);
                continue;
            }
            if (m.Name.Length == 0) continue; // padding
            if (!names.Add(m.Name)) throw new FormatException($"member '{m.Name}' appears twice");
            w.WritePropertyName(m.Name);
            if (m.BitfieldSize > 0)
            {
                Enter(depth + 1, ref nodes);
                var signed = memberType is BtfInt { Encoding: var enc } && (enc & BtfIntEncoding.Signed) != 0 || memberType is BtfEnum { IsSigned: true };
                var value = ReadInteger(data, m.BitOffset, m.BitfieldSize, signed);
                if (signed) w.WriteNumberValue(value);
                else w.WriteNumberValue((ulong)value);
            }
            else
            {
                Write(w, memberType, Slice(data, m.ByteOffset, SizeOf(memberType)), depth + 1, ref nodes);
            }
        }
    }

    private static void WriteInt(Utf8JsonWriter w, BtfInt i, ReadOnlySpan<byte> data, int bitOffset, int bits)
    {
        var bytes = Slice(data, 0, i.Size);
        if (bits > 64)
        {
            w.WriteStringValue(HexNumber(bytes));
            return;
        }
        var signed = (i.Encoding & BtfIntEncoding.Signed) != 0;
        var value = ReadInteger(bytes, (uint)bitOffset, bits, signed);
        if ((i.Encoding & BtfIntEncoding.Bool) != 0) w.WriteBooleanValue(value != 0);
        else if (signed) w.WriteNumberValue(value);
        else w.WriteNumberValue((ulong)value);
    }

    private static bool IsChar(BtfType t) => t is BtfInt { Size: 1 } i && ((i.Encoding & BtfIntEncoding.Char) != 0 || i.Name is "char" or "signed char" or "unsigned char");

    /// <summary>Printable ASCII up to a NUL and only NULs after it (a C string in its buffer); else null.</summary>
    private static string? AsText(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        var text = end < 0 ? bytes : bytes[..end];
        if (end < 0 || text.Length == 0 || bytes[end..].ContainsAnyExcept((byte)0)) return null;
        foreach (var b in text)
        {
            if (b is < 0x20 or > 0x7e) return null;
        }
        return Encoding.ASCII.GetString(text);
    }

    private static string HexNumber(ReadOnlySpan<byte> littleEndian)
    {
        var big = littleEndian.ToArray();
        Array.Reverse(big);
        return "0x" + Convert.ToHexStringLower(big);
    }

    private static long ReadInteger(ReadOnlySpan<byte> data, uint bitOffset, int bits, bool signed)
    {
        if (bits is <= 0 or > 64) throw new FormatException($"a {bits}-bit integer");
        if (bitOffset + (ulong)bits > (ulong)data.Length * 8) throw new FormatException($"bits {bitOffset}..{bitOffset + bits} are outside the {data.Length}-byte value");
        ulong value = 0;
        for (var k = 0; k < bits; k++)
        {
            var bit = bitOffset + (uint)k;
            if ((data[(int)(bit / 8)] >> (int)(bit % 8) & 1) != 0) value |= 1UL << k;
        }
        if (signed && bits < 64 && (value >> (bits - 1) & 1) != 0) value |= ulong.MaxValue << bits;
        return (long)value;
    }

    private static void WriteInteger(Span<byte> data, uint bitOffset, int bits, ulong value)
    {
        if (bits is <= 0 or > 64) throw new FormatException($"a {bits}-bit integer");
        if (bitOffset + (ulong)bits > (ulong)data.Length * 8) throw new FormatException($"bits {bitOffset}..{bitOffset + bits} are outside the {data.Length}-byte value");
        for (var k = 0; k < bits; k++)
        {
            var bit = bitOffset + (uint)k;
            ref var b = ref data[(int)(bit / 8)];
            if ((value >> k & 1) != 0) b |= (byte)(1 << (int)(bit % 8));
            else b &= (byte)~(1 << (int)(bit % 8));
        }
    }

    private static Span<byte> SliceOut(Span<byte> data, ulong offset, ulong size) =>
        offset > (ulong)data.Length || size > (ulong)data.Length - offset
            ? throw new FormatException($"bytes {offset}..{offset + size} are outside the {data.Length}-byte value")
            : data.Slice((int)offset, (int)size);

    private static void Encode(JsonElement e, BtfType type, Span<byte> data, int depth, ref int nodes)
    {
        Enter(depth, ref nodes);
        if (IsBigEndian(type) && BtfSpec.Underlying(type) is BtfInt { Size: 2 or 4 or 8 } be && be.Bits == be.Size * 8)
        {
            var field = SliceOut(data, 0, be.Size);
            EncodeInteger(e, field, 0, be.Bits, (be.Encoding & BtfIntEncoding.Signed) != 0, null);
            field.Reverse();
            return;
        }
        switch (BtfSpec.Underlying(type))
        {
            case BtfInt i:
                if (i.Bits > 64) throw new FormatException("integers wider than 64 bits take hex:…");
                EncodeInteger(e, SliceOut(data, 0, i.Size), i.BitOffset, i.Bits, (i.Encoding & BtfIntEncoding.Signed) != 0, null);
                break;
            case BtfEnum en:
                EncodeInteger(e, SliceOut(data, 0, en.Size), 0, (int)en.Size * 8, en.IsSigned, en);
                break;
            case BtfFloat f when f.Size is 4 or 8 && e.ValueKind == JsonValueKind.Number:
                if (f.Size == 4) BinaryPrimitives.WriteSingleLittleEndian(SliceOut(data, 0, 4), e.GetSingle());
                else BinaryPrimitives.WriteDoubleLittleEndian(SliceOut(data, 0, 8), e.GetDouble());
                break;
            case BtfPointer:
                EncodeInteger(e, SliceOut(data, 0, 8), 0, 64, false, null);
                break;
            case BtfArray a:
            {
                var element = BtfSpec.Underlying(a.ElementType);
                var elementSize = SizeOf(element);
                var all = SliceOut(data, 0, checked(elementSize * a.Count));
                if (IsChar(element) && e.ValueKind == JsonValueKind.String)
                {
                    var text = Encoding.UTF8.GetBytes(e.GetString()!);
                    if ((ulong)text.Length >= a.Count) throw new FormatException($"'{e.GetString()}' needs {text.Length + 1} bytes with its NUL; the array has {a.Count}");
                    all.Clear();
                    text.CopyTo(all);
                    break;
                }
                if (e.ValueKind != JsonValueKind.Array) throw new FormatException($"{BtfSpec.DisplayName(a)} takes a JSON array");
                if ((ulong)e.GetArrayLength() > a.Count) throw new FormatException($"{e.GetArrayLength()} elements for {BtfSpec.DisplayName(a)}");
                ulong k = 0;
                foreach (var item in e.EnumerateArray()) Encode(item, element, SliceOut(all, k++ * elementSize, elementSize), depth + 1, ref nodes);
                break;
            }
            case BtfComposite c:
                if (e.ValueKind != JsonValueKind.Object) throw new FormatException($"{BtfSpec.DisplayName(c)} takes a JSON object of its members");
                foreach (var property in e.EnumerateObject())
                {
                    if (!EncodeMember(property, c, SliceOut(data, 0, c.Size), depth + 1, ref nodes))
                    {
                        throw new FormatException($"{BtfSpec.DisplayName(c)} has no member '{property.Name}' (members: {string.Join(", ", MemberNames(c))})");
                    }
                }
                break;
            case BtfDataSec d:
                if (e.ValueKind != JsonValueKind.Object) throw new FormatException($"section {d.Name} takes a JSON object of its variables");
                foreach (var property in e.EnumerateObject())
                {
                    var v = d.Variables.FirstOrDefault(x => x.Type is BtfVar var && var.Name == property.Name)
                        ?? throw new FormatException($"section {d.Name} has no variable '{property.Name}'");
                    Encode(property.Value, ((BtfVar)v.Type).Target, SliceOut(data, v.Offset, v.Size), depth + 1, ref nodes);
                }
                break;
            case var other:
                throw new FormatException($"a {other.Kind} value cannot be written as {e.ValueKind}");
        }
    }

    private static IEnumerable<string> MemberNames(BtfComposite c) => c.Members.SelectMany(m =>
        m.Name.Length == 0 && BtfSpec.Underlying(m.Type) is BtfComposite inner ? MemberNames(inner) : [m.Name]).Where(n => n.Length > 0);

    private static bool EncodeMember(JsonProperty property, BtfComposite c, Span<byte> data, int depth, ref int nodes)
    {
        Enter(depth, ref nodes);
        foreach (var m in c.Members)
        {
            var memberType = BtfSpec.Underlying(m.Type);
            if (m.Name.Length == 0 && memberType is BtfComposite inner)
            {
                if (EncodeMember(property, inner, SliceOut(data, m.ByteOffset, inner.Size), depth + 1, ref nodes)) return true;
                continue;
            }
            if (m.Name != property.Name) continue;
            if (m.BitfieldSize > 0)
            {
                var signed = memberType is BtfInt { Encoding: var enc } && (enc & BtfIntEncoding.Signed) != 0 || memberType is BtfEnum { IsSigned: true };
                EncodeInteger(property.Value, data, m.BitOffset, m.BitfieldSize, signed, memberType as BtfEnum);
            }
            else
            {
                Encode(property.Value, memberType, SliceOut(data, m.ByteOffset, SizeOf(memberType)), depth + 1, ref nodes);
            }
            return true;
        }
        return false;
    }

    private static void EncodeInteger(JsonElement e, Span<byte> data, uint bitOffset, int bits, bool signed, BtfEnum? names)
    {
        ulong value;
        switch (e.ValueKind)
        {
            case JsonValueKind.True or JsonValueKind.False:
                value = e.ValueKind == JsonValueKind.True ? 1UL : 0UL;
                break;
            case JsonValueKind.Number when e.TryGetInt64(out var l):
                value = (ulong)l;
                if (l < 0 && !signed) throw new FormatException($"{l} is negative; the type is unsigned");
                break;
            case JsonValueKind.Number when e.TryGetUInt64(out var u):
                value = u;
                break;
            case JsonValueKind.String when e.GetString() is { } s:
                if (names?.Values.FirstOrDefault(v => v.Name == s) is { Name: not null } named) value = (ulong)named.Value;
                else if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h)) value = h;
                else if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d)) value = (ulong)d;
                else throw new FormatException(names is null ? $"'{s}' is not a number" : $"'{s}' is not a number nor one of {string.Join(", ", names.Values.Select(v => v.Name))}");
                break;
            default:
                throw new FormatException($"a number was expected, not {e.ValueKind}");
        }
        if (bits < 64)
        {
            var fits = signed
                ? (long)value >= -(1L << (bits - 1)) && (long)value < 1L << (bits - 1) || value < 1UL << bits
                : value < 1UL << bits;
            if (!fits) throw new FormatException($"{(signed ? (long)value : value)} does not fit in {bits} bits");
        }
        WriteInteger(data, bitOffset, bits, value);
    }
}
