using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Bpf;

/// <summary>A configuration text (<c>.config</c> format: <c>CONFIG_X=value</c> lines) and where it came from, for messages.</summary>
/// <param name="Source">Where the lines came from ("/proc/config.gz", "KernelCollectionOptions.Kconfig").</param>
/// <param name="Lines">Its lines.</param>
public sealed record KconfigSource(string Source, IEnumerable<string> Lines);

/// <summary>
/// The value of an object's <c>.kconfig</c> map: every <see cref="ExternKind.Kconfig"/> extern set the way libbpf sets it
/// (<c>bpf_object__process_kconfig_line</c>): y/n/m into bool, tristate and char; quoted strings into char arrays
/// (truncated, NUL-terminated); numbers (decimal, 0x hex, 0 octal) into integers that hold them; the first source
/// that sets a name wins; virtual <c>LINUX_*</c> values from the caller. Pure: the caller reads the kernel's files.
/// </summary>
public sealed class KconfigValues
{
    private KconfigValues(byte[] data, Dictionary<string, string> unresolved, List<string> notes)
    {
        Data = data;
        Unresolved = unresolved;
        Notes = notes;
    }

    /// <summary>The map value (<see cref="ObjectSpec.KconfigSize"/> bytes).</summary>
    public byte[] Data { get; }

    /// <summary>Externs a program must not use, with why: a strong one no source sets, or a value its type cannot hold.</summary>
    public IReadOnlyDictionary<string, string> Unresolved { get; }

    /// <summary>What was done silently by libbpf (weak externs left zero, strings truncated), one line each.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Fills the <c>.kconfig</c> value of <paramref name="spec"/>.</summary>
    /// <param name="spec">The object.</param>
    /// <param name="sources">Configuration texts in priority order (user-given first, then the kernel's).</param>
    /// <param name="virtuals">The virtual <c>LINUX_*</c> externs the caller knows (<c>LINUX_KERNEL_VERSION</c>, ...).</param>
    /// <param name="missingConfig">When no kernel configuration could be read, why (named in the errors of strong <c>CONFIG_*</c> externs).</param>
    public static KconfigValues Build(ObjectSpec spec, IEnumerable<KconfigSource> sources, IReadOnlyDictionary<string, ulong> virtuals, string? missingConfig = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(virtuals);
        var data = new byte[spec.KconfigSize];
        var unresolved = new Dictionary<string, string>(StringComparer.Ordinal);
        var notes = new List<string>();
        var pending = new Dictionary<string, ExternSpec>(StringComparer.Ordinal);
        foreach (var e in spec.Externs)
        {
            if (e.Kind != ExternKind.Kconfig) continue;
            if (e.Name.StartsWith("CONFIG_", StringComparison.Ordinal))
            {
                pending[e.Name] = e;
            }
            else if (virtuals.TryGetValue(e.Name, out var v))
            {
                if (SetNumber(e, data, v) is string why) unresolved[e.Name] = why;
            }
            else if (e.IsWeak && e.Name.StartsWith("LINUX_", StringComparison.Ordinal))
            {
                notes.Add($"kconfig extern '{e.Name}' (weak): an unknown virtual LINUX_ value, left 0");
            }
            else
            {
                unresolved[e.Name] = $"kconfig extern '{e.Name}' is neither CONFIG_* nor a virtual LINUX_* value this loader knows ({string.Join(", ", virtuals.Keys.Order(StringComparer.Ordinal))})";
            }
        }
        var consulted = new List<string>();
        foreach (var source in sources)
        {
            if (pending.Count == 0) break;
            consulted.Add(source.Source);
            foreach (var raw in source.Lines)
            {
                var line = raw.TrimEnd('\n', '\r');
                if (!line.StartsWith("CONFIG_", StringComparison.Ordinal)) continue;
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0 || eq == line.Length - 1) continue; // libbpf fails the whole file here; a malformed line sets nothing
                var name = line[..eq];
                if (!pending.Remove(name, out var e)) continue;
                if (Set(e, data, line[(eq + 1)..], notes) is string why) unresolved[name] = $"{why} (from {source.Source})";
            }
        }
        foreach (var e in pending.Values)
        {
            string where = consulted.Count > 0 ? "not set in " + string.Join(" or ", consulted) : "no kernel configuration could be read" + (missingConfig is null ? "" : $" ({missingConfig})");
            if (e.IsWeak) notes.Add($"kconfig extern '{e.Name}' (weak): {where}, left 0");
            else unresolved[e.Name] = $"kconfig extern '{e.Name}' (strong): {where}";
        }
        return new KconfigValues(data, unresolved, notes);
    }

    private static string? Set(ExternSpec e, byte[] data, string value, List<string> notes)
    {
        switch (value[0])
        {
            case 'y' or 'n' or 'm':
                return SetTristate(e, data, value[0]);
            case '"':
                if (e.ConfigType != KconfigType.CharArray) return $"kconfig extern '{e.Name}': value {value} implies a char array";
                if (value.Length < 2 || value[^1] != '"') return $"kconfig extern '{e.Name}': invalid string {value}";
                var text = Encoding.UTF8.GetBytes(value[1..^1]);
                int length = text.Length;
                if (length >= e.Size)
                {
                    notes.Add($"kconfig extern '{e.Name}': string {value} truncated to {e.Size - 1} bytes");
                    length = (int)e.Size - 1;
                }
                text.AsSpan(0, length).CopyTo(data.AsSpan((int)e.Offset));
                data[e.Offset + length] = 0;
                return null;
            default:
                if (ParseNumber(value) is not ulong number) return $"kconfig extern '{e.Name}': value '{value}' is not a valid integer";
                if (e.ConfigType is not (KconfigType.Int or KconfigType.Char)) return $"kconfig extern '{e.Name}': value '{value}' implies an integer type, it is {e.ConfigType}";
                return SetNumber(e, data, number);
        }
    }

    private static string? SetTristate(ExternSpec e, byte[] data, char value)
    {
        var at = data.AsSpan((int)e.Offset);
        switch (e.ConfigType)
        {
            case KconfigType.Bool:
                if (value == 'm') return $"kconfig extern '{e.Name}': value 'm' implies a tristate or char, it is a bool";
                at[0] = value == 'y' ? (byte)1 : (byte)0;
                return null;
            case KconfigType.Tristate:
                uint tri = value switch { 'y' => 1u, 'm' => 2u, _ => 0u };
                if (e.Size == 8) BinaryPrimitives.WriteUInt64LittleEndian(at, tri);
                else BinaryPrimitives.WriteUInt32LittleEndian(at, tri);
                return null;
            case KconfigType.Char:
                at[0] = (byte)value;
                return null;
            default:
                return $"kconfig extern '{e.Name}': value '{value}' implies a bool, tristate or char, it is {e.ConfigType}";
        }
    }

    private static string? SetNumber(ExternSpec e, byte[] data, ulong value)
    {
        if (e.ConfigType is not (KconfigType.Int or KconfigType.Char or KconfigType.Bool))
            return $"kconfig extern '{e.Name}': value {value} implies an integer, char or bool, it is {e.ConfigType}";
        if (e.ConfigType == KconfigType.Bool && value > 1) return $"kconfig extern '{e.Name}': value {value} is not a bool";
        if (e.Size < 8)
        {
            int bits = (int)e.Size * 8;
            bool fits = e.IsSigned ? value + (1UL << (bits - 1)) < 1UL << bits : value >> bits == 0;
            if (!fits) return $"kconfig extern '{e.Name}': value {value} does not fit in {e.Size} bytes";
        }
        var at = data.AsSpan((int)e.Offset);
        switch (e.Size)
        {
            case 1: at[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(at, value); break;
            default: return $"kconfig extern '{e.Name}': a {e.Size}-byte integer";
        }
        return null;
    }

    /// <summary>strtoull(value, &amp;end, 0) that must consume everything: decimal, 0x hex, leading-0 octal, a leading '-' wraps.</summary>
    private static ulong? ParseNumber(string value)
    {
        var s = value.Trim();
        bool negative = false;
        if (s.StartsWith('-') || s.StartsWith('+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        ulong result;
        try
        {
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                if (!ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out result) || s.Length == 2) return null;
            }
            else if (s.Length > 1 && s[0] == '0')
            {
                result = 0;
                foreach (var c in s.AsSpan(1))
                {
                    if (c is < '0' or > '7') return null;
                    result = checked(result * 8 + (ulong)(c - '0'));
                }
            }
            else if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out result))
            {
                return null;
            }
        }
        catch (OverflowException)
        {
            return null;
        }
        return negative ? unchecked(0 - result) : result;
    }
}
