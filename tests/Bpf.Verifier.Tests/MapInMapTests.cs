using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>A lookup in a map of maps yields the inner map (typed by its template) or null, as in the kernel.</summary>
public sealed class MapInMapTests
{
    private static ObjectSpec Read() => ObjectSpec.ReadFile(RepoPaths.CorpusObject("map_in_map"));

    [Fact]
    public void NullCheckedInnerMap_CanBeLookedUp()
    {
        var r = ObjectVerifier.Verify(Read(), "lookup_nested");
        Assert.True(r.IsAccepted, r.ToString());
    }

    /// <summary>An inner template the program's maps do not include: the lookup cannot be typed as that map, so its
    /// result stays the outer map's value (an inner map's id), no map pointer — and never another map of the program.</summary>
    [Fact]
    public void InnerTemplate_NotAmongTheMaps_IsNoMapPointer()
    {
        var src = VerifierSource.Parse("""
            .map outer array_of_maps key=4 value=4 entries=1
            .map other array key=4 value=64 entries=1
            *(u32 *)(r10 - 4) = 0
            r1 = map:outer ll
            r2 = r10
            r2 += -4
            call 1
            if r0 == 0 goto out
            r1 = r0
            r2 = r10
            r2 += -4
            call 1
            out:
            r0 = 0
            exit
            """, Bpf.Asm.AsmDialect.Llvm);
        var maps = src.Maps.ToList();
        maps[0] = maps[0] with { InnerMap = new MapDefinition("inner", MapType.Array, 4, 4, 1) };
        var r = BpfVerifier.Verify(src.Instructions, new VerifierOptions { Maps = maps });
        Assert.False(r.IsAccepted, r.ToString());
        Assert.Equal("R1 type=map_value expected=map_ptr", r.Error!.Message);
    }

    [Fact]
    public void InnerMap_WithoutTheNullCheck_IsRefused()
    {
        var spec = Read();
        Assert.True(ObjectVerifier.TryPrepare(spec, spec.Program("lookup_nested")!, PrivilegeMode.Privileged, out var insns, out var options, out var error), error?.Message);
        // The first "if rX == 0" after the outer lookup is the null check: make it fall through.
        var firstCall = Array.FindIndex(insns, i => i.Opcode == Opcodes.Call);
        var check = Array.FindIndex(insns, firstCall, i => i.Opcode == 0x15 && i.Imm == 0);
        Assert.True(check > firstCall, "no null check found after the outer lookup");
        insns[check] = new Instruction(0x05, (byte)0, (byte)0, 0, 0); // goto +0
        var r = BpfVerifier.Verify(insns, options);
        Assert.False(r.IsAccepted);
        Assert.Equal(VerifierErrorCode.InvalidHelperArgument, r.Error!.Code);
        Assert.Contains("map_value_or_null", r.Error.Message);
    }

    /// <summary>A map of maps is passed only to map_lookup_elem (the kernel's check_map_func_compatibility, map side):
    /// update and delete from a program are refused — ours and the kernel's verdict and words, with real maps.</summary>
    [Theory]
    [InlineData(1, null)]
    [InlineData(2, "cannot pass map_type 12 into func bpf_map_update_elem#2")]
    [InlineData(3, "cannot pass map_type 12 into func bpf_map_delete_elem#3")]
    public void Outer_maps_take_only_lookups(int helper, string? expected)
    {
        Need.Kernel();
        var text = ".map o array_of_maps key=4 value=4 entries=2\n*(u64 *)(r10 - 8) = 0\n*(u64 *)(r10 - 16) = 0\nr1 = map:o ll\nr2 = r10\nr2 += -8\n"
            + (helper == 2 ? "r3 = r10\nr3 += -16\nr4 = 0\n" : "") + $"call {helper}\nr0 = 0\nexit";
        var src = VerifierSource.Parse(text, Bpf.Asm.AsmDialect.Llvm);
        var insns = src.Instructions;
        var ours = BpfVerifier.Verify(insns, new VerifierOptions
        {
            Maps = [src.Maps[0] with { InnerMap = new MapDefinition("i", MapType.Array, 4, 8, 1) }],
        });
        using var inner = Bpf.Loader.BpfMap.Create(new Bpf.Loader.MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1 });
        using var outer = Bpf.Loader.BpfMap.Create(new Bpf.Loader.MapCreateSpec { Type = MapType.ArrayOfMaps, KeySize = 4, ValueSize = 4, MaxEntries = 2, InnerMap = inner });
        var lddw = Array.FindIndex(insns, x => x.IsWide);
        string? kernel = null;
        try
        {
            using var p = Bpf.Loader.BpfProgram.Load(ProgramType.SocketFilter, insns, "GPL", new Bpf.Loader.LoadOptions { MapRelocations = [new Bpf.Loader.MapRelocation(lddw, outer, false, 0)] });
        }
        catch (ProgramRejectedException e)
        {
            kernel = e.Log;
        }
        if (expected is null)
        {
            Assert.True(ours.IsAccepted, ours.ToString());
            Assert.Null(kernel);
        }
        else
        {
            Assert.Equal(expected, ours.Error?.Message);
            Assert.Contains(expected + "\n", kernel ?? "(the kernel accepted)", StringComparison.Ordinal);
        }
    }
}
