using System.Buffers.Binary;
using Bpf.Objects;
using Bpf.Tests;

namespace Bpf.Loader.Tests;

public sealed class KernelCollectionTests : KernelTest
{
    /// <summary>Every object of the corpus directory (so a new corpus file is tested without editing this list).</summary>
    public static TheoryData<string> CorpusObjects()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(RepoPaths.CorpusDir, "*.o").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileNameWithoutExtension(f));
        return data;
    }

    /// <summary>Objects the kernel legitimately refuses as written, with the reason (checked by the test, never skipped).</summary>
    private static readonly Dictionary<string, string> Refused = new()
    {
        // LRU hash maps are always preallocated; the kernel answers BPF_F_NO_PREALLOC with ENOTSUPP (htab_map_alloc_check).
        ["xdp_filter"] = "blocked",
    };

    [KernelTheory]
    [MemberData(nameof(CorpusObjects))]
    public void CorpusObject_LoadsInTheKernel(string name)
    {
        var spec = ObjectSpec.ReadFile(RepoPaths.CorpusObject(name));
        string pins = PinDir();
        try
        {
            var options = new KernelCollectionOptions { PinPath = pins };
            if (Refused.TryGetValue(name, out var badMap))
            {
                var ex = Assert.Throws<BpfSyscallException>(() => KernelCollection.Load(spec, options));
                Assert.Contains($"map '{badMap}'", ex.Message);
                Assert.Equal("ENOTSUPP", ex.ErrnoName);
                // Without the refused flag everything else in the object loads.
                options = options with { AdjustMap = (m, req) => m.Name == badMap ? req with { Flags = req.Flags & ~MapFlags.NoPrealloc } : req };
            }
            using var c = KernelCollection.Load(spec, options);
            Assert.True(c.HasBtf, c.BtfDiagnostic);
            Assert.Empty(c.Diagnostics);
            Assert.Equal(spec.Programs.Select(p => p.Name).Order(), c.Programs.Keys.Order());
            foreach (var p in c.Programs.Values) Assert.False(p.Fd.IsClosed);
            var expectedMaps = spec.Maps.Where(m => m.Source != MapSource.InnerMap && !(m.Source == MapSource.GlobalData && m.ValueSize == 0)).Select(m => m.Name);
            Assert.Equal(expectedMaps.Order(), c.Maps.Keys.Order());
        }
        finally
        {
            DeletePinDir(pins);
        }
    }

    internal static string PinDir()
    {
        BpfFs.EnsureMounted();
        string dir = Path.Combine(BpfFs.DefaultMountPoint, "bpfnet-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    internal static void DeletePinDir(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}
