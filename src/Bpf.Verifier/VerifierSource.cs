using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Bpf.Asm;

namespace Bpf;

/// <summary>
/// Assembly text annotated for verification: <c>.type xdp</c> declares the program type and
/// <c>.map NAME TYPE key=K value=V entries=N [flags=F] [btf] [spin_lock=OFF]</c> declares a map (<c>btf</c>: created with value BTF; <c>spin_lock=OFF</c>: its value holds a <c>struct bpf_spin_lock</c> at OFF). In instructions,
/// <c>map:NAME</c> loads the map pointer (<c>lddw %r1, map:NAME</c> / <c>r1 = map:NAME ll</c>) and
/// <c>map_value:NAME+OFF</c> a pointer into an array map's single value. Map references assemble to pseudo
/// source 5/6 (map index into <see cref="Maps"/>), so the program needs no file descriptors.
/// </summary>
public sealed partial class VerifierSource
{
    private VerifierSource(Instruction[] instructions, ProgramType? type, IReadOnlyList<MapDefinition> maps)
    {
        Instructions = instructions;
        ProgramType = type;
        Maps = maps;
    }

    /// <summary>The assembled slots.</summary>
    public Instruction[] Instructions { get; }

    /// <summary>The program type declared with <c>.type</c>, or null.</summary>
    public ProgramType? ProgramType { get; }

    /// <summary>The maps declared with <c>.map</c>, in declaration order (the index used by <c>map:NAME</c>).</summary>
    public IReadOnlyList<MapDefinition> Maps { get; }

    /// <summary>Options for verifying this program: the declared type (else <paramref name="fallbackType"/>) and maps.</summary>
    /// <param name="privilege">The privileges the program is verified for.</param>
    /// <param name="fallbackType">The program type when the source has no <c>.type</c> directive.</param>
    /// <param name="kernelBtf">The kernel's BTF (<see cref="VerifierOptions.KernelBtf"/>), for reads through map pointers.</param>
    public VerifierOptions ToOptions(PrivilegeMode privilege = PrivilegeMode.Privileged, ProgramType fallbackType = Bpf.ProgramType.SocketFilter, Bpf.Btf.BtfSpec? kernelBtf = null) =>
        new() { ProgramType = ProgramType ?? fallbackType, Privilege = privilege, Maps = Maps, KernelBtf = kernelBtf };

    /// <summary>Program type names as the kernel and libbpf spell them.</summary>
    public static bool TryParseProgramType(string name, out ProgramType type)
    {
        type = name.ToLowerInvariant() switch
        {
            "socket_filter" or "socket" => Bpf.ProgramType.SocketFilter,
            "kprobe" => Bpf.ProgramType.Kprobe,
            "sched_cls" or "tc" or "classifier" => Bpf.ProgramType.SchedCls,
            "sched_act" or "action" => Bpf.ProgramType.SchedAct,
            "tracepoint" or "tp" => Bpf.ProgramType.Tracepoint,
            "xdp" => Bpf.ProgramType.Xdp,
            "cgroup_skb" => Bpf.ProgramType.CgroupSkb,
            "memory" or "mem" => VerifierProgramTypes.Memory,
            _ => 0,
        };
        return type != 0;
    }

    /// <summary>Map type names in the kernel's lowercase spelling (hash, array, percpu_hash, lru_hash, lpm_trie, ringbuf, prog_array, ...).</summary>
    public static bool TryParseMapType(string name, out MapType type)
    {
        type = name.ToLowerInvariant() switch
        {
            "hash" => MapType.Hash,
            "array" => MapType.Array,
            "prog_array" => MapType.ProgArray,
            "perf_event_array" => MapType.PerfEventArray,
            "percpu_hash" => MapType.PerCpuHash,
            "percpu_array" => MapType.PerCpuArray,
            "stack_trace" => MapType.StackTrace,
            "cgroup_array" => MapType.CgroupArray,
            "lru_hash" => MapType.LruHash,
            "lru_percpu_hash" => MapType.LruPerCpuHash,
            "lpm_trie" => MapType.LpmTrie,
            "array_of_maps" => MapType.ArrayOfMaps,
            "hash_of_maps" => MapType.HashOfMaps,
            "devmap" => MapType.DevMap,
            "sockmap" => MapType.SockMap,
            "cpumap" => MapType.CpuMap,
            "xskmap" => MapType.XskMap,
            "queue" => MapType.Queue,
            "stack" => MapType.Stack,
            "devmap_hash" => MapType.DevMapHash,
            "ringbuf" => MapType.RingBuf,
            "bloom_filter" => MapType.BloomFilter,
            _ => 0,
        };
        return type != 0;
    }

    /// <summary>Parses directives and assembles the rest.</summary>
    /// <param name="text">The source text.</param>
    /// <param name="dialect">Instruction syntax.</param>
    /// <param name="sourceName">File name for error messages.</param>
    /// <exception cref="AsmException">A bad directive or instruction; names the line and column.</exception>
    public static VerifierSource Parse(string text, AsmDialect dialect = AsmDialect.Conformance, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ProgramType? type = null;
        var maps = new List<MapDefinition>();
        var body = new StringBuilder();
        var lineNo = 0;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            lineNo++;
            var line = raw.ToString();
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith(".type", StringComparison.Ordinal) || trimmed.StartsWith(".map", StringComparison.Ordinal))
            {
                var column = line.Length - trimmed.Length + 1;
                var words = StripComment(trimmed).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (words[0] == ".type")
                {
                    if (words.Length != 2 || !TryParseProgramType(words[1], out var t))
                    {
                        throw new AsmException($"expected '.type NAME' with a known program type", lineNo, column, sourceName);
                    }
                    type = t;
                }
                else if (words[0] == ".map")
                {
                    maps.Add(ParseMap(words, maps, lineNo, column, sourceName));
                }
                else
                {
                    throw new AsmException($"unknown directive '{words[0]}'", lineNo, column, sourceName);
                }
                body.AppendLine();
                continue;
            }
            body.AppendLine(RewriteMapReferences(line, dialect, maps, lineNo, sourceName));
        }
        var insns = Assembler.Assemble(body.ToString(), dialect, 1, sourceName);
        return new VerifierSource(insns, type, maps);
    }

    private static string StripComment(string s)
    {
        var i = s.IndexOfAny(['#', ';']);
        return i >= 0 ? s[..i] : s;
    }

    private static MapDefinition ParseMap(string[] words, List<MapDefinition> maps, int line, int column, string? sourceName)
    {
        if (words.Length < 3) throw new AsmException(".map needs NAME TYPE key=K value=V entries=N [flags=F] [btf] [spin_lock=OFF]", line, column, sourceName);
        var name = words[1];
        if (maps.Any(m => m.Name == name)) throw new AsmException($"map '{name}' is declared twice", line, column, sourceName);
        if (!TryParseMapType(words[2], out var mt)) throw new AsmException($"unknown map type '{words[2]}'", line, column, sourceName);
        int key = 0, value = 0, entries = -1;
        uint flags = 0;
        var btf = false;
        var spinLock = -1;
        foreach (var w in words.Skip(3))
        {
            if (w == "btf")
            {
                btf = true;
                continue;
            }
            var eq = w.IndexOf('=');
            if (eq <= 0) throw new AsmException($"expected KEY=VALUE but found '{w}'", line, column, sourceName);
            var k = w[..eq];
            var v = w[(eq + 1)..];
            var ok = v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? uint.TryParse(v.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var num)
                : uint.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out num);
            if (!ok || num > int.MaxValue) throw new AsmException($"'{v}' is not a valid number for {k}", line, column, sourceName);
            switch (k)
            {
                case "key": key = (int)num; break;
                case "value": value = (int)num; break;
                case "entries": entries = (int)num; break;
                case "flags": flags = num; break;
                case "spin_lock": spinLock = (int)num; btf = true; break;
                default: throw new AsmException($"unknown map attribute '{k}' (key, value, entries, flags, btf, spin_lock)", line, column, sourceName);
            }
        }
        if (entries < 0) throw new AsmException($"map '{name}' needs entries=N", line, column, sourceName);
        if (spinLock >= 0 && (spinLock % 4 != 0 || spinLock + MapDefinition.SpinLockSize > value))
        {
            throw new AsmException($"map '{name}': spin_lock={spinLock} must be 4-byte aligned and inside the {value}-byte value", line, column, sourceName);
        }
        return new MapDefinition(name, mt, key, value, entries, (MapFlags)flags) { HasBtf = btf, SpinLockOffset = spinLock };
    }

    [GeneratedRegex(@"\bmap(_value)?:([A-Za-z_][A-Za-z0-9_.]*)(?:\s*\+\s*(\d+))?")]
    private static partial Regex MapReference();

    private static string RewriteMapReferences(string line, AsmDialect dialect, List<MapDefinition> maps, int lineNo, string? sourceName) =>
        MapReference().Replace(line, m =>
        {
            var name = m.Groups[2].Value;
            var index = maps.FindIndex(x => x.Name == name);
            if (index < 0)
            {
                throw new AsmException($"map '{name}' is not declared (add '.map {name} TYPE key=K value=V entries=N')", lineNo, m.Index + 1, sourceName);
            }
            var isValue = m.Groups[1].Success;
            var off = m.Groups[3].Success ? m.Groups[3].Value : "0";
            if (!isValue && m.Groups[3].Success)
            {
                throw new AsmException("an offset applies only to map_value:NAME+OFF", lineNo, m.Index + 1, sourceName);
            }
            return isValue ? $"map_idx_value {index}, {off}" : $"map_idx {index}";
        });
}
