using Bpf.Loader;
using Bpf.Runtime;

namespace Bpf.Loader.Tests;

/// <summary>
/// The managed runtime refuses exactly the map sizes the kernel refuses, with the same errno (issue 10). Every row
/// is either refused by the kernel before it allocates anything, or accepted with max_entries 1 (or lazily), so
/// the test never asks the kernel for much memory.
/// </summary>
public sealed class MapLimitAgreementTests : KernelTest
{
    [KernelTheory]
    [InlineData(MapType.Hash, 4u, 4194252u, 1u, 0u)]
    [InlineData(MapType.Hash, 4u, 4194251u, 1u, 0u)]
    [InlineData(MapType.Hash, 4u, 4u, 0x10000001u, 1u)]
    [InlineData(MapType.Hash, 0u, 4u, 1u, 0u)]
    [InlineData(MapType.LruHash, 4u, 4u, 0x10000001u, 0u)]
    [InlineData(MapType.PerCpuHash, 4u, 32769u, 1u, 0u)]
    [InlineData(MapType.PerCpuHash, 4u, 32768u, 1u, 0u)]
    [InlineData(MapType.PerCpuArray, 4u, 32769u, 1u, 0u)]
    [InlineData(MapType.Array, 4u, 4u, 0u, 0u)]
    [InlineData(MapType.Array, 8u, 4u, 1u, 0u)]
    [InlineData(MapType.LpmTrie, 8u, 4194025u, 1u, 1u)]
    [InlineData(MapType.LpmTrie, 8u, 4194024u, 1u, 1u)]
    [InlineData(MapType.LpmTrie, 261u, 4u, 1u, 1u)]
    [InlineData(MapType.LpmTrie, 4u, 4u, 1u, 1u)]
    [InlineData(MapType.Queue, 0u, 4194305u, 1u, 0u)]
    [InlineData(MapType.Queue, 0u, 4194304u, 1u, 0u)]
    [InlineData(MapType.Stack, 4u, 4u, 1u, 0u)]
    [InlineData(MapType.RingBuf, 0u, 0u, 4097u, 0u)]
    [InlineData(MapType.RingBuf, 0u, 0u, 2048u, 0u)]
    [InlineData(MapType.ProgArray, 4u, 8u, 1u, 0u)]
    [InlineData(MapType.PerfEventArray, 4u, 8u, 1u, 0u)]
    public void Managed_map_creation_refuses_what_the_kernel_refuses_with_its_errno(MapType type, uint key, uint value, uint max, uint flags)
    {
        int kernel;
        try
        {
            using var map = BpfMap.Create(new MapCreateSpec { Type = type, KeySize = key, ValueSize = value, MaxEntries = max, Flags = (MapFlags)flags, Name = "limits" });
            kernel = 0;
        }
        catch (BpfSyscallException e)
        {
            kernel = e.Errno;
        }

        int managed;
        try
        {
            new ManagedCollection(new CollectionOptions { CpuCount = 2 }).CreateMap(new MapSpec("limits", type, key, value, max, (MapFlags)flags));
            managed = 0;
        }
        catch (MapException e)
        {
            managed = (int)e.Error;
        }
        Assert.Equal(kernel, managed);
    }
}
