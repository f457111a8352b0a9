using System.Text.Json;

namespace Bpf.Cli;

/// <summary>An entry to put into a map before a run: <c>--map NAME KEY=VALUE</c>, already turned into bytes.</summary>
internal sealed record MapSeed(string Map, byte[] Key, byte[] Value);

/// <summary>
/// Map entries as the user writes and reads them: <c>--map NAME KEY=VALUE</c> parsed against the object's map
/// (BTF-typed or hex, <see cref="BtfValues"/>), and dumped entries decoded through the same BTF types.
/// </summary>
internal static class MapEntries
{
    /// <summary>Parses the flat values of the repeatable <c>--map NAME KEY=VALUE</c> option.</summary>
    /// <exception cref="CliUsageException">An unknown map, a malformed pair, a key or value that does not fit.</exception>
    public static IReadOnlyList<MapSeed> Parse(IReadOnlyList<string> values, ObjectSpec spec, string path)
    {
        if (values.Count % 2 != 0) throw new CliUsageException("--map takes two values: NAME KEY=VALUE");
        var seeds = new List<MapSeed>();
        for (var i = 0; i < values.Count; i += 2)
        {
            var name = values[i];
            var pair = values[i + 1];
            var map = spec.Maps.FirstOrDefault(m => m.Name == name)
                ?? throw new CliUsageException($"--map: {path} has no map '{name}' (maps: {string.Join(", ", spec.Maps.Select(m => m.Name))})");
            if (IsPerCpu(map.Type)) throw new CliUsageException($"--map {name}: seeding per-CPU maps ({map.Type}) is not supported yet");
            var eq = pair.IndexOf('=');
            if (eq < 0) throw new CliUsageException($"--map {name}: '{pair}' is not KEY=VALUE");
            var keyText = pair[..eq];
            var key = map.KeySize == 0 && keyText.Length == 0 ? []
                : IsIndexed(map) && uint.TryParse(keyText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) ? BitConverter.GetBytes(index)
                : BtfValues.Parse(map.KeyType, keyText, (int)map.KeySize, $"--map {name} key");
            var value = BtfValues.Parse(map.ValueType, pair[(eq + 1)..], (int)map.ValueSize, $"--map {name} value");
            seeds.Add(new MapSeed(name, key, value));
        }
        return seeds;
    }

    /// <summary>The key as compact JSON through its BTF type, or null when the map has none that fits.</summary>
    public static string? DecodeKey(MapSpec? map, byte[] key) =>
        map is null ? null
        : IsIndexed(map) && key.Length == 4 ? BitConverter.ToUInt32(key).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : BtfValues.TryFormat(map.KeyType, key);

    /// <summary>An array whose object gives no key type (global data, legacy maps): its key is a u32 index by
    /// definition, written and shown as a decimal number.</summary>
    private static bool IsIndexed(MapSpec map) => map.KeyType is null && map.KeySize == 4 && map.Type is MapType.Array or MapType.PerCpuArray;

    /// <summary>The value as compact JSON through its BTF type (per-CPU maps: an array, one value per CPU), or null.</summary>
    public static string? DecodeValue(MapSpec? map, byte[] value)
    {
        if (map?.ValueType is not { } type) return null;
        if (!IsPerCpu(map.Type)) return BtfValues.TryFormat(type, value);
        var stride = (int)((map.ValueSize + 7) & ~7u);
        if (stride == 0 || value.Length % stride != 0) return null;
        var perCpu = new List<string>();
        for (var offset = 0; offset < value.Length; offset += stride)
        {
            if (BtfValues.TryFormat(type, value.AsSpan(offset, (int)map.ValueSize)) is not { } one) return null;
            perCpu.Add(one);
        }
        return "[" + string.Join(",", perCpu) + "]";
    }

    /// <summary>Writes <c>"key_decoded"</c> / <c>"value_decoded"</c> beside the hex fields when BTF decodes them.</summary>
    public static void WriteDecoded(Utf8JsonWriter w, MapSpec? map, byte[] key, byte[] value)
    {
        if (DecodeKey(map, key) is { } k)
        {
            w.WritePropertyName("key_decoded");
            w.WriteRawValue(k);
        }
        if (DecodeValue(map, value) is { } v)
        {
            w.WritePropertyName("value_decoded");
            w.WriteRawValue(v);
        }
    }

    /// <summary>The text form of an entry: the bytes, then what BTF makes of them.</summary>
    public static string FormatText(MapSpec? map, byte[] key, byte[] value)
    {
        var line = $"{Hex.Format(key)} => {Hex.Format(value)}";
        var k = DecodeKey(map, key);
        var v = DecodeValue(map, value);
        return k is null && v is null ? line : $"{line}  ({k ?? "?"} => {v ?? "?"})";
    }

    private static bool IsPerCpu(MapType type) =>
        type is MapType.PerCpuHash or MapType.PerCpuArray or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage;
}
