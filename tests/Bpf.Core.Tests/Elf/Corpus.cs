using System.Diagnostics;

namespace Bpf.Tests.Elf;

/// <summary>The committed BPF object corpus (copied to the test output directory) and the LLVM tools.</summary>
internal static class Corpus
{
    public static readonly string[] Names =
    [
        "bpf2bpf", "globals", "legacy_maps", "map_in_map", "prog_array", "socket_filter", "tc_classifier",
        "tracepoint", "xdp_filter",
    ];

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "programs");

    public static string ObjectPath(string name) => Path.Combine(Dir, name + ".o");

    public static byte[] Bytes(string name) => File.ReadAllBytes(ObjectPath(name));

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var n in Names) data.Add(n);
        return data;
    }

    /// <summary>Runs a tool if it is on PATH; null when it is absent.</summary>
    public static string? TryRun(string tool, string arguments, string? workingDirectory = null)
    {
        if (!OnPath(tool)) return null;
        var psi = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Dir,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{tool} {arguments} did not finish");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {arguments} failed: {stderr.Result}");
        return stdout.Result;
    }

    public static bool OnPath(string tool) => Need.OnPath(tool);

    /// <summary>llvm-readelf output: live when the tool exists, else the committed expectation file.</summary>
    public static (string Text, bool Live) ReadElfView(string name)
    {
        var live = TryRun("llvm-readelf-14", $"-S -s -r --wide {name}.o");
        return live is not null ? (live, true) : (File.ReadAllText(Path.Combine(Dir, "expected", name + ".readelf.txt")), false);
    }

    /// <summary>llvm-objdump -d -r output: live when the tool exists, else the committed expectation file.</summary>
    public static (string Text, bool Live) ObjdumpView(string name)
    {
        var live = TryRun("llvm-objdump-14", $"-d -r {name}.o");
        return live is not null ? (live, true) : (File.ReadAllText(Path.Combine(Dir, "expected", name + ".objdump.txt")), false);
    }
}
