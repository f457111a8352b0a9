using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Bpf.Loader;

/// <summary>
/// Facts about the running kernel that extern resolution needs, read from where libbpf reads them: its version
/// (<c>LINUX_KERNEL_VERSION</c>), its build configuration (<c>/boot/config-$(uname -r)</c>, then <c>/proc/config.gz</c>)
/// and its symbol addresses (<c>/proc/kallsyms</c>). Each is read once, on first use.
/// </summary>
public static partial class RunningKernel
{
    /// <summary>Where the kernel lists its symbols.</summary>
    public const string KallsymsPath = "/proc/kallsyms";

    /// <summary>The compressed configuration the kernel exposes when built with CONFIG_IKCONFIG_PROC.</summary>
    public const string ProcConfigPath = "/proc/config.gz";

    private static readonly Lazy<string> ReleaseValue = new(() => ReadTrimmed("/proc/sys/kernel/osrelease") ?? "");
    private static readonly Lazy<(string? Source, string[]? Lines, string Why)> ConfigValue = new(ReadConfig);
    private static readonly Lazy<Kallsyms> SymbolsValue = new(ReadKallsyms);

    /// <summary>The kernel release (<c>uname -r</c>), or "" when unknown.</summary>
    public static string Release => ReleaseValue.Value;

    /// <summary>
    /// <c>KERNEL_VERSION(major, minor, patch)</c> of the running kernel as libbpf computes it: Ubuntu's
    /// <c>/proc/version_signature</c>, Debian's version string, else the release; patch capped at 255. 0 when unknown.
    /// </summary>
    public static uint VersionCode
    {
        get
        {
            if (ReadTrimmed("/proc/version_signature") is { } ubuntu && ubuntu.Split(' ') is { Length: 3 } parts && Code(parts[2]) is uint u)
                return u;
            if (ReadTrimmed("/proc/sys/kernel/version") is { } version && version.IndexOf("Debian ", StringComparison.Ordinal) is int d and >= 0
                && Code(version[(d + 7)..]) is uint deb)
                return deb;
            return Code(Release) ?? 0;
        }
    }

    /// <summary>Parses "major.minor.patch..." into KERNEL_VERSION(major, minor, min(patch, 255)); null when it does not start so.</summary>
    internal static uint? Code(string release)
    {
        var m = VersionPattern().Match(release);
        if (!m.Success) return null;
        uint major = uint.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        uint minor = uint.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        uint patch = Math.Min(uint.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), 255);
        return (major << 16) + (minor << 8) + patch;
    }

    [GeneratedRegex(@"^\s*(\d{1,5})\.(\d{1,5})\.(\d{1,9})")]
    private static partial Regex VersionPattern();

    /// <summary>The kernel's build configuration lines and the file they came from; null lines with why when neither file is readable.</summary>
    public static (string? Source, IReadOnlyList<string>? Lines, string Why) Config
    {
        get
        {
            var c = ConfigValue.Value;
            return (c.Source, c.Lines, c.Why);
        }
    }

    private static (string?, string[]?, string) ReadConfig()
    {
        var boot = $"/boot/config-{Release}";
        try
        {
            if (File.Exists(boot)) return (boot, File.ReadAllLines(boot), "");
            if (File.Exists(ProcConfigPath))
            {
                using var file = File.OpenRead(ProcConfigPath);
                using var gz = new GZipStream(file, CompressionMode.Decompress);
                using var reader = new StreamReader(gz);
                var lines = new List<string>();
                while (reader.ReadLine() is { } line) lines.Add(line);
                return (ProcConfigPath, [.. lines], "");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return (null, null, $"reading the kernel configuration failed: {e.Message}");
        }
        return (null, null, $"neither {boot} nor {ProcConfigPath} exists");
    }

    /// <summary>
    /// The address of a kernel symbol from <c>/proc/kallsyms</c> (ignoring a ThinLTO <c>.llvm.</c> suffix on data symbols, as
    /// libbpf does); null when absent. Throws when kallsyms cannot be read, shows only zero addresses (kptr_restrict or
    /// missing privileges), or lists the name at two different addresses.
    /// </summary>
    /// <exception cref="InvalidOperationException">Unreadable, hidden or ambiguous (the message says which).</exception>
    public static ulong? SymbolAddress(string name)
    {
        var k = SymbolsValue.Value;
        if (k.Problem is not null) throw new InvalidOperationException(k.Problem);
        if (k.Ambiguous.TryGetValue(name, out var both))
            throw new InvalidOperationException($"{KallsymsPath} lists '{name}' at two addresses (0x{both.Item1:x} and 0x{both.Item2:x}); the resolution is ambiguous, as libbpf also refuses");
        return k.Addresses.TryGetValue(name, out var a) ? a : null;
    }

    private sealed record Kallsyms(Dictionary<string, ulong> Addresses, Dictionary<string, (ulong, ulong)> Ambiguous, string? Problem);

    private static Kallsyms ReadKallsyms()
    {
        var addresses = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var ambiguous = new Dictionary<string, (ulong, ulong)>(StringComparer.Ordinal);
        bool anyNonZero = false;
        try
        {
            foreach (var line in File.ReadLines(KallsymsPath))
            {
                // "ffffffff81000000 T _stext" or "... t name\t[module]"
                var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3 || !ulong.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var address)) continue;
                anyNonZero |= address != 0;
                var name = parts[2];
                int llvm = name.IndexOf(".llvm.", StringComparison.Ordinal);
                if (llvm > 0 && parts[1] is "d" or "D") name = name[..llvm];
                if (addresses.TryGetValue(name, out var previous))
                {
                    if (previous != address) ambiguous.TryAdd(name, (previous, address));
                }
                else
                {
                    addresses[name] = address;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(addresses, ambiguous, $"reading {KallsymsPath} failed: {e.Message}");
        }
        return anyNonZero || addresses.Count == 0
            ? new(addresses, ambiguous, addresses.Count == 0 ? $"{KallsymsPath} lists no symbols" : null)
            : new(addresses, ambiguous, $"{KallsymsPath} shows every address as 0 (kernel.kptr_restrict, or this process lacks CAP_SYSLOG): typeless __ksym externs cannot be resolved");
    }

    /// <summary>The architecture prefix of syscall entry points (<c>__x64_sys_bpf</c>), as libbpf's <c>arch_specific_syscall_pfx</c>.</summary>
    internal static string? SyscallPrefix => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "__x64_",
        Architecture.X86 => "__ia32_",
        Architecture.Arm64 => "__arm64_",
        Architecture.S390x => "__s390x_",
        Architecture.RiscV64 => "__riscv_",
        Architecture.LoongArch64 => "__loongarch64_",
        _ => null,
    };

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
