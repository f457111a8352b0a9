using System.Buffers.Binary;
using Bpf.Tests;

namespace Bpf.Loader.Tests;

/// <summary>"One API, two engines": the same user code against the kernel and the interpreter, and how the engine is chosen.</summary>
public sealed class EngineTests
{
    private static ObjectSpec Corpus(string name) => ObjectSpec.ReadFile(RepoPaths.CorpusObject(name));

    /// <summary>User code written once against the interfaces; returns what it observed.</summary>
    private static List<string> Scenario(string obj, IBpfCollection c)
    {
        var seen = new List<string>();
        var packet = ProgramTests.MakePacket(64);
        switch (obj)
        {
            case "globals":
                seen.Add("ret " + c.Program("use_globals").Run(packet).ReturnValue);
                seen.Add("ret " + c.Program("use_globals").Run(packet).ReturnValue);
                var data = new byte[c.Map(".data").ValueSize];
                Assert.True(c.Map(".data").TryLookup(new byte[4], data));
                seen.Add("packets_seen " + BinaryPrimitives.ReadUInt64LittleEndian(data));
                seen.Add("last_len " + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(8)));
                break;
            case "prog_array":
                seen.Add("dispatch " + c.Program("dispatch").Run(packet).ReturnValue);
                seen.Add("slots " + string.Join(",", c.Map("jump_table").Keys().Select(k => BinaryPrimitives.ReadUInt32LittleEndian(k))));
                Assert.True(c.Map("jump_table").TryDelete(0u));
                seen.Add("dispatch after delete " + c.Program("dispatch").Run(packet).ReturnValue);
                break;
            case "map_in_map":
            {
                var ctx = new byte[12];
                BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(8), 5);
                seen.Add("empty " + c.Program("lookup_nested").Run(packet, ctx).ReturnValue);
                c.Map("inner_a").Update(5u, 4242u);
                seen.Add("after update " + c.Program("lookup_nested").Run(packet, ctx).ReturnValue);
                seen.Add("inner_a " + c.Map("inner_a").Lookup<uint, uint>(5u));
                break;
            }
            case "legacy_maps":
                c.Map("legacy_array").Update(0u, 77u);
                seen.Add("ret " + c.Program("legacy").Run(packet).ReturnValue);
                seen.Add("hash keys " + c.Map("legacy_hash").Keys().Count);
                // The program counts by skb->protocol: the EtherType as the kernel stores it (network order).
                uint protocol = (uint)(packet[12] | packet[13] << 8);
                c.Map("legacy_hash").Update(protocol, 10ul);
                c.Program("legacy").Run(packet);
                seen.Add("count " + c.Map("legacy_hash").Lookup<uint, ulong>(protocol));
                break;
        }
        return seen;
    }

    [KernelTheory]
    [InlineData("globals")]
    [InlineData("prog_array")]
    [InlineData("map_in_map")]
    [InlineData("legacy_maps")]
    public void SameUserCode_KernelAndInterpreter_ObserveTheSame(string obj)
    {
        Kernel.Require();
        using var kernel = BpfEngine.Open(Corpus(obj), EngineChoice.Kernel);
        using var interp = BpfEngine.Open(Corpus(obj), EngineChoice.Interpreter);
        Assert.Equal(Engine.Kernel, kernel.Engine);
        Assert.Equal(Engine.Interpreter, interp.Engine);
        Assert.IsType<KernelCollection>(kernel);
        Assert.IsType<InterpreterCollection>(interp);
        Assert.Equal(kernel.Maps.Keys.Order(), interp.Maps.Keys.Order());
        Assert.Equal(kernel.Programs.Keys.Order(), interp.Programs.Keys.Order());
        var k = Scenario(obj, kernel);
        // A few observations known from the C source, so both engines agreeing on nonsense would still fail.
        string[] known = obj switch
        {
            "globals" => ["ret 50", "packets_seen 9", "last_len 50"],
            "prog_array" => ["dispatch 2", "slots 0,1,2,3", "dispatch after delete 0"],
            "map_in_map" => ["empty 0", "after update 4242"],
            _ => ["ret 77", "hash keys 0", "count 11"],
        };
        foreach (var o in known) Assert.Contains(o, k);
        Assert.Equal(k, Scenario(obj, interp));
    }

    [KernelFact]
    public void Auto_WhereTheKernelWorks_UsesTheKernelAndSaysSo()
    {
        Kernel.Require();
        using var c = BpfEngine.Open(Corpus("globals"));
        Assert.Equal(Engine.Kernel, c.Engine);
        Assert.Contains("auto", c.EngineReason);
        Assert.Contains("kernel loaded", c.EngineReason);
    }

    [Fact]
    public void Interpreter_Explicit_IsUsedEvenWhereTheKernelWorks()
    {
        using var c = BpfEngine.Open(Corpus("globals"), EngineChoice.Interpreter);
        Assert.Equal(Engine.Interpreter, c.Engine);
        Assert.Contains("asked for", c.EngineReason);
    }

    private static IBpfCollection Refuse(ObjectSpec spec, KernelCollectionOptions? o) =>
        throw new BpfSyscallException("BPF_MAP_CREATE", 1, "BPF_MAP_CREATE failed: EPERM (1)");

    [Fact]
    public void Auto_WithoutPrivileges_FallsBackToTheInterpreter_AndSaysWhy()
    {
        using var c = BpfEngine.OpenWith(Corpus("globals"), EngineChoice.Auto, null, Refuse);
        Assert.Equal(Engine.Interpreter, c.Engine);
        Assert.Contains("EPERM", c.EngineReason);
        Assert.Equal(50u, c.Program("use_globals").Run(ProgramTests.MakePacket(64)).ReturnValue); // 64 - Ethernet header
    }

    [Fact]
    public void Kernel_WithoutPrivileges_NeverFallsBack()
    {
        var ex = Assert.Throws<BpfSyscallException>(() => BpfEngine.OpenWith(Corpus("globals"), EngineChoice.Kernel, null, Refuse));
        Assert.Equal("EPERM", ex.ErrnoName);
    }

    [Fact]
    public void Auto_VerifierRejection_IsAnError_NotAFallback()
    {
        var ex = Assert.Throws<ProgramRejectedException>(() => BpfEngine.OpenWith(Corpus("globals"), EngineChoice.Auto, null,
            (_, _) => throw new ProgramRejectedException(13, "0: (71) r0 = *(u8 *)(r1 +20)\ninvalid access to packet\n", truncated: false, "use_globals")));
        Assert.Equal("use_globals", ex.ProgramName);
    }

    [Fact]
    public void NoKernelOnThisSystem_AutoUsesTheInterpreter_KernelIsRefused()
    {
        using var c = BpfEngine.OpenWith(Corpus("globals"), EngineChoice.Auto, null, null);
        Assert.Equal(Engine.Interpreter, c.Engine);
        Assert.Contains("no kernel engine", c.EngineReason);
        Assert.Throws<PlatformNotSupportedException>(() => BpfEngine.OpenWith(Corpus("globals"), EngineChoice.Kernel, null, null));
    }

    [KernelFact]
    public void TypedAccess_WrongSizes_IsAClearError_OnBothEngines()
    {
        Kernel.Require();
        using var k = BpfEngine.Open(Corpus("legacy_maps"), EngineChoice.Kernel);
        using var i = BpfEngine.Open(Corpus("legacy_maps"), EngineChoice.Interpreter);
        foreach (var c in new[] { k, i })
        {
            var ex = Assert.Throws<ArgumentException>(() => c.Map("legacy_hash").Update(1u, 2u)); // value is 8 bytes
            Assert.Contains("legacy_hash", ex.Message);
        }
    }
}
