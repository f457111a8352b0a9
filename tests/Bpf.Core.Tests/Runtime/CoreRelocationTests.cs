using Bpf.Runtime;

namespace Bpf.Tests.Runtime;

/// <summary>
/// CO-RE in the interpreter, against a target BTF the test supplies (no kernel needed): core_config.c reads
/// struct config's threshold, which each target places differently (programs/features/core_*.c).
/// </summary>
public class CoreRelocationTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.ReadFile(RepoPaths.FeatureObject(name));

    private static uint RunWithTarget(Btf.BtfSpec? target, out ManagedCollection c)
    {
        c = ManagedCollection.Load(Read("core_config"), new CollectionOptions { TargetBtf = target });
        var words = new uint[8];
        for (uint i = 0; i < 8; i++) words[i] = 100 + i; // the value at byte 4*i is 100+i
        var bytes = new byte[32];
        Buffer.BlockCopy(words, 0, bytes, 0, 32);
        c.Map("settings").Update(new byte[4], bytes);
        return c.Run("read_threshold", new XdpContext(new byte[64])).ReturnValue;
    }

    [Fact]
    public void The_field_offset_comes_from_the_target()
    {
        Assert.Equal(101u, RunWithTarget(Read("core_config").Btf, out _)); // its own layout: threshold at 4
        Assert.Equal(103u, RunWithTarget(Read("core_target_moved").Btf, out var moved)); // moved to 12
        Assert.Empty(moved.Diagnostics);
    }

    [Fact]
    public void Without_a_target_the_program_is_left_out_with_the_reason_never_run_unrelocated()
    {
        var c = ManagedCollection.Load(Read("core_config"));
        var reason = Assert.Contains("read_threshold", c.UnsupportedPrograms);
        Assert.Contains("CO-RE", reason);
        Assert.Contains("TargetBtf", reason);
    }

    [Fact]
    public void An_unresolvable_relocation_poisons_the_instruction_as_libbpf_does()
    {
        var spec = Read("core_config");
        var program = spec.Program("read_threshold")!;
        var insns = (Instruction[])program.Instructions.Clone();
        var poisoned = CoreRelocator.Apply(program, insns, Read("core_target_missing").Btf!);
        var relo = Assert.Single(program.CoreRelocations);
        Assert.Contains("FieldByteOffset", Assert.Single(poisoned));
        Assert.Equal(Instruction.CallHelper(CoreRelocator.PoisonHelper), insns[relo.InstructionIndex]);
        // Everything else is untouched.
        for (int i = 0; i < insns.Length; i++)
            if (i != relo.InstructionIndex) Assert.Equal(program.Instructions[i], insns[i]);
    }
}
