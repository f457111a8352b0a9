using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Bpf.Loader.Interop;

namespace Bpf.Loader.Tests;

/// <summary>
/// Compares every attr struct's field offsets and sizes, and the enum values, with the C compiler's view of
/// &lt;linux/bpf.h&gt;. Fields and enumerators newer than the installed header are listed as unchecked.
/// </summary>
public sealed class AttrLayoutTests(ITestOutputHelper output)
{
    // (C# struct, C container expression, member prefix inside it)
    private static readonly (Type Type, string Container, string Prefix)[] Structs =
    [
        (typeof(MapCreateAttr), "union bpf_attr", ""),
        (typeof(MapElemAttr), "union bpf_attr", ""),
        (typeof(MapBatchAttr), "union bpf_attr", "batch."),
        (typeof(ProgLoadAttr), "union bpf_attr", ""),
        (typeof(ObjPinAttr), "union bpf_attr", ""),
        (typeof(ProgAttachAttr), "union bpf_attr", ""),
        (typeof(TestRunAttr), "union bpf_attr", "test."),
        (typeof(LinkCreateAttr), "union bpf_attr", "link_create."),
        (typeof(ObjInfoAttr), "union bpf_attr", "info."),
        (typeof(ObjIdAttr), "union bpf_attr", ""),
        (typeof(EnableStatsAttr), "union bpf_attr", "enable_stats."),
        (typeof(BpfProgInfo), "struct bpf_prog_info", ""),
        (typeof(BpfMapInfo), "struct bpf_map_info", ""),
        (typeof(PerfEventAttr), "struct perf_event_attr", ""),
    ];

    // C# names that differ from the C member they overlay.
    private static readonly Dictionary<(Type, string), string> Renames = new()
    {
        [(typeof(LinkCreateAttr), "expected_revision")] = "tcx.expected_revision",
        [(typeof(PerfEventAttr), "flags")] = "", // a bit-field word: offsetof cannot name it; checked via its neighbours
        [(typeof(BpfProgInfo), "gpl_compatible_word")] = "", // likewise (gpl_compatible:1)
    };

    private static readonly Dictionary<Type, string> Enums = new()
    {
        [typeof(ProgramType)] = "BPF_PROG_TYPE_",
        [typeof(MapType)] = "BPF_MAP_TYPE_",
        [typeof(AttachType)] = "BPF_",
        [typeof(BpfCommand)] = "",
    };

    private static readonly Dictionary<string, string> EnumRenames = new()
    {
        ["ProgramType.Unspecified"] = "BPF_PROG_TYPE_UNSPEC", ["MapType.Unspecified"] = "BPF_MAP_TYPE_UNSPEC",
        ["ProgramType.Extension"] = "BPF_PROG_TYPE_EXT", ["ProgramType.LwtSeg6Local"] = "BPF_PROG_TYPE_LWT_SEG6LOCAL",
        ["ProgramType.LircMode2"] = "BPF_PROG_TYPE_LIRC_MODE2", ["AttachType.LircMode2"] = "BPF_LIRC_MODE2",
        ["MapType.PerCpuHash"] = "BPF_MAP_TYPE_PERCPU_HASH", ["MapType.PerCpuArray"] = "BPF_MAP_TYPE_PERCPU_ARRAY",
        ["MapType.LruPerCpuHash"] = "BPF_MAP_TYPE_LRU_PERCPU_HASH", ["MapType.PerCpuCgroupStorage"] = "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
        ["MapType.DevMap"] = "BPF_MAP_TYPE_DEVMAP", ["MapType.DevMapHash"] = "BPF_MAP_TYPE_DEVMAP_HASH",
        ["MapType.SockMap"] = "BPF_MAP_TYPE_SOCKMAP", ["MapType.SockHash"] = "BPF_MAP_TYPE_SOCKHASH",
        ["MapType.CpuMap"] = "BPF_MAP_TYPE_CPUMAP", ["MapType.XskMap"] = "BPF_MAP_TYPE_XSKMAP",
        ["MapType.ReuseportSockArray"] = "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", ["MapType.RingBuf"] = "BPF_MAP_TYPE_RINGBUF",
        ["MapType.UserRingBuf"] = "BPF_MAP_TYPE_USER_RINGBUF", ["AttachType.XdpDevMap"] = "BPF_XDP_DEVMAP",
        ["AttachType.XdpCpuMap"] = "BPF_XDP_CPUMAP", ["AttachType.TraceRawTp"] = "BPF_TRACE_RAW_TP",
        ["AttachType.CgroupInet4Bind"] = "BPF_CGROUP_INET4_BIND", ["AttachType.CgroupInet6Bind"] = "BPF_CGROUP_INET6_BIND",
        ["AttachType.CgroupInet4Connect"] = "BPF_CGROUP_INET4_CONNECT", ["AttachType.CgroupInet6Connect"] = "BPF_CGROUP_INET6_CONNECT",
        ["AttachType.CgroupInet4PostBind"] = "BPF_CGROUP_INET4_POST_BIND", ["AttachType.CgroupInet6PostBind"] = "BPF_CGROUP_INET6_POST_BIND",
        ["AttachType.CgroupUdp4Sendmsg"] = "BPF_CGROUP_UDP4_SENDMSG", ["AttachType.CgroupUdp6Sendmsg"] = "BPF_CGROUP_UDP6_SENDMSG",
        ["AttachType.CgroupUdp4Recvmsg"] = "BPF_CGROUP_UDP4_RECVMSG", ["AttachType.CgroupUdp6Recvmsg"] = "BPF_CGROUP_UDP6_RECVMSG",
        ["AttachType.CgroupInet4Getpeername"] = "BPF_CGROUP_INET4_GETPEERNAME", ["AttachType.CgroupInet6Getpeername"] = "BPF_CGROUP_INET6_GETPEERNAME",
        ["AttachType.CgroupInet4Getsockname"] = "BPF_CGROUP_INET4_GETSOCKNAME", ["AttachType.CgroupInet6Getsockname"] = "BPF_CGROUP_INET6_GETSOCKNAME",
        ["AttachType.CgroupUnixGetpeername"] = "BPF_CGROUP_UNIX_GETPEERNAME", ["AttachType.CgroupUnixGetsockname"] = "BPF_CGROUP_UNIX_GETSOCKNAME",
    };

    private static string Snake(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])) sb.Append('_');
            else if (i > 0 && char.IsDigit(name[i]) && !char.IsDigit(name[i - 1])) sb.Append("");
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }

    [Fact]
    public void AttrStructsAndEnums_MatchKernelHeader()
    {
        // The kernel's UAPI header and a C compiler: Debian's linux-libc-dev and gcc (installed with clang-14).
        Need.SystemFile("/usr/include/linux/bpf.h");
        var gcc = FindGcc();
        if (gcc is null)
        {
            Need.Tools("gcc"); // skips, or fails under BPFNET_REQUIRE_TOOLS=1, unless gcc is on PATH elsewhere
            gcc = "gcc";
        }

        // One probe per line, so compiler errors name the probes the installed header lacks.
        var probes = new List<(string Key, string CLine, long Expected)>();
        foreach (var (type, container, prefix) in Structs)
        {
            foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (f.Name.StartsWith('_')) continue;
                string member = Renames.TryGetValue((type, f.Name), out var rn) ? rn : prefix + f.Name;
                if (member.Length == 0) continue;
                long off = Marshal.OffsetOf(type, f.Name).ToInt64();
                long size = Marshal.SizeOf(f.FieldType);
                string key = $"{type.Name}.{f.Name}";
                probes.Add((key + " offset", $"printf(\"{key} offset %zu\\n\", offsetof({container}, {member}));", off));
                probes.Add((key + " size", $"printf(\"{key} size %zu\\n\", sizeof((({container}*)0)->{member}));", size));
            }
        }
        foreach (var (type, cPrefix) in Enums)
        {
            foreach (var name in Enum.GetNames(type))
            {
                string cName = EnumRenames.TryGetValue($"{type.Name}.{name}", out var r) ? r
                    : type == typeof(BpfCommand) ? name : cPrefix + Snake(name);
                long value = Convert.ToInt64(Enum.Parse(type, name), System.Globalization.CultureInfo.InvariantCulture);
                probes.Add(($"{type.Name}.{name}", $"printf(\"{type.Name}.{name} %lld\\n\", (long long){cName});", value));
            }
        }

        var dir = Directory.CreateTempSubdirectory("bpfnet-layout");
        try
        {
            var active = Enumerable.Range(0, probes.Count).ToList();
            var missing = new List<string>();
            string? stdout = null;
            for (int round = 0; round < 4 && stdout is null; round++)
            {
                const int Header = 6;
                var src = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\n#include <linux/perf_event.h>\nint main(void) {\n\n");
                foreach (int i in active) src.Append(probes[i].CLine).Append('\n');
                src.Append("return 0; }\n");
                string c = Path.Combine(dir.FullName, "layout.c"), exe = Path.Combine(dir.FullName, "layout");
                File.WriteAllText(c, src.ToString());
                var (rc, _, err) = Run(gcc, $"-w -o {exe} {c}");
                if (rc == 0)
                {
                    stdout = Run(exe, "").Out;
                    break;
                }
                var badLines = new HashSet<int>();
                foreach (var line in err.Split('\n'))
                {
                    var m = System.Text.RegularExpressions.Regex.Match(line, @"layout\.c:(\d+):\d+: error");
                    if (m.Success) badLines.Add(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - Header - 1);
                }
                Assert.True(badLines.Count > 0, "gcc failed without naming a probe line:\n" + err);
                var next = new List<int>();
                for (int k = 0; k < active.Count; k++)
                {
                    if (badLines.Contains(k)) missing.Add(probes[active[k]].Key);
                    else next.Add(active[k]);
                }
                active = next;
            }
            Assert.NotNull(stdout);
            var got = stdout!.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' '))
                .ToDictionary(p => string.Join(' ', p[..^1]), p => long.Parse(p[^1], System.Globalization.CultureInfo.InvariantCulture));
            var mismatches = new List<string>();
            foreach (int i in active)
            {
                var (key, _, expected) = probes[i];
                if (got[key] != expected) mismatches.Add($"{key}: C# {expected}, header {got[key]}");
            }
            output.WriteLine($"checked {active.Count} probes against the header; not in this header (unchecked): {string.Join(", ", missing.Distinct())}");
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
            Assert.True(active.Count > 200, $"only {active.Count} probes compiled");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void StructSizes_EndAtLastField()
    {
        Assert.Equal(72, Unsafe.SizeOf<MapCreateAttr>());
        Assert.Equal(32, Unsafe.SizeOf<MapElemAttr>());
        Assert.Equal(144, Unsafe.SizeOf<ProgLoadAttr>()); // log_true_size at 140 (6.4+)
        Assert.Equal(80, Unsafe.SizeOf<TestRunAttr>());
        Assert.Equal(32, Unsafe.SizeOf<LinkCreateAttr>());
        Assert.Equal(128, Unsafe.SizeOf<PerfEventAttr>());
        Assert.Equal(140, (int)Marshal.OffsetOf<ProgLoadAttr>(nameof(ProgLoadAttr.log_true_size)));
        Assert.Equal(24, (int)Marshal.OffsetOf<LinkCreateAttr>(nameof(LinkCreateAttr.expected_revision)));
    }

    private static string? FindGcc() =>
        new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/usr/bin/cc" }.FirstOrDefault(File.Exists);

    private static (int Rc, string Out, string Err) Run(string exe, string args)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, so.Result, se.Result);
    }
}
