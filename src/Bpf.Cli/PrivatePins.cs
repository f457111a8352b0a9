using System.Runtime.Versioning;
using Bpf.Loader;

namespace Bpf.Cli;

/// <summary>
/// Where a one-shot kernel load (<c>run --kernel</c>, <c>load</c> without <c>--pin</c>) pins the maps its object asks
/// to pin by name (<c>LIBBPF_PIN_BY_NAME</c>): a directory of this process in bpffs, removed with everything in it
/// when the command ends — so a run neither leaves pins behind nor picks up a map another run left.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PrivatePins : IDisposable
{
    private PrivatePins(string? directory) => Directory = directory;

    /// <summary>The directory, or null when the object pins nothing by name (then bpffs is not touched).</summary>
    public string? Directory { get; }

    /// <summary>Kernel options pinning by-name maps in <see cref="Directory"/> (the defaults when there is none).</summary>
    public KernelCollectionOptions Options => Directory is null ? new KernelCollectionOptions() : new KernelCollectionOptions { PinPath = Directory };

    public static PrivatePins For(ObjectSpec spec)
    {
        if (!spec.Maps.Any(m => m.Pinning == PinType.ByName)) return new PrivatePins(null);
        BpfFs.EnsureMounted();
        var directory = Path.Combine(BpfFs.DefaultMountPoint, $"bpfnet-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        return new PrivatePins(directory);
    }

    public void Dispose()
    {
        if (Directory is null || !System.IO.Directory.Exists(Directory)) return;
        foreach (var pin in System.IO.Directory.GetFiles(Directory)) File.Delete(pin);
        System.IO.Directory.Delete(Directory);
    }
}
