using System.Buffers.Binary;
using Bpf.Runtime;
using Bpf.Tests;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Core.Tests.Runtime;

/// <summary>bpf_for_each_map_elem in the managed runtime, on the feature object for_each_map.c (the kernel
/// comparison is in Bpf.Loader.Tests' RuntimeHelperKernelTests).</summary>
public sealed class ForEachMapElemTests
{
    private const long EINVAL = -22;

    private static ManagedCollection Load() =>
        ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject("for_each_map")), new CollectionOptions { CpuCount = 1 });

    private static void Set(ManagedCollection c, string name, ulong value)
    {
        var bytes = c.Variable(name);
        if (bytes.Length == 4) BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
        else BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
    }

    private static (long Visited, uint Calls, ulong Sum, uint[] Order) Walk(ManagedCollection c, string program, int cpu = 0)
    {
        var r = c.Run(program, new XdpContext(new byte[64]), cpu);
        Assert.True(r.Succeeded, r.Fault?.ToString());
        Assert.Equal(2u, r.ReturnValue);
        var calls = BinaryPrimitives.ReadUInt32LittleEndian(c.Variable("calls"));
        var order = c.Variable("order").ToArray();
        return (BinaryPrimitives.ReadInt64LittleEndian(c.Variable("visited")), calls, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("sum")),
            Enumerable.Range(0, (int)Math.Min(calls, 64)).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(order[(i * 4)..])).ToArray());
    }

    private static uint[] Keys(ManagedMap map) => [.. map.Keys().Select(k => BinaryPrimitives.ReadUInt32LittleEndian(k))];

    /// <summary>On a map the callback does not change, every element is visited exactly once, in the order C# iteration
    /// (get_next_key) gives, and the result is the number of elements — also after deletions reused slots.</summary>
    [Property(MaxTest = 60)]
    public void Every_element_is_visited_once_in_iteration_order(uint[] inserts, uint[] deletes)
    {
        var c = Load();
        var table = c.Map("table");
        foreach (var k in inserts.Take(64)) table.Update(k % 200, (ulong)k * 3);
        foreach (var k in deletes.Take(32)) table.Delete(k % 200);
        foreach (var k in inserts.Skip(64).Take(32)) table.Update(k % 200, (ulong)k, MapUpdateFlags.Any);
        var expected = Keys(table);
        var (visited, calls, sum, order) = Walk(c, "walk_table");
        Assert.Equal(expected.Length, visited);
        Assert.Equal((uint)expected.Length, calls);
        Assert.Equal(expected, order);
        Assert.Equal(expected.Aggregate(0UL, (s, k) => { table.TryLookup(k, out ulong v); return s + v; }), sum);
    }

    /// <summary>The first slot a map hands out is the first one it reuses: an element inserted after a deletion can sit
    /// in slot 0 and still come last in the walk.</summary>
    [Fact]
    public void An_element_reusing_the_first_slot_is_visited_last()
    {
        var c = Load();
        var table = c.Map("table");
        foreach (var k in new uint[] { 5, 9, 4 }) table.Update(k, (ulong)k);
        table.Delete(5u);
        table.Update(2u, 2UL);
        Assert.Equal([9u, 4u, 2u], Keys(table));
        var (visited, calls, sum, order) = Walk(c, "walk_table");
        Assert.Equal([9u, 4u, 2u], order);
        Assert.Equal((3L, 3u, 15UL), (visited, calls, sum));
    }

    /// <summary>A walk run on another CPU than 0 gets the same values of a map that is not per-CPU.</summary>
    [Fact]
    public void A_walk_on_another_cpu_sees_the_shared_values()
    {
        var c = ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject("for_each_map")), new CollectionOptions { CpuCount = 4 });
        var table = c.Map("table");
        for (uint k = 1; k <= 10; k++) table.Update(k, (ulong)k * 100);
        var (visited, _, sum, _) = Walk(c, "walk_table", cpu: 3);
        Assert.Equal(10, visited);
        Assert.Equal(5500UL, sum);
    }

    [Fact]
    public void The_walk_stops_at_the_element_whose_callback_returns_1_counting_it()
    {
        var c = Load();
        var table = c.Map("table");
        foreach (var k in new uint[] { 5, 9, 2, 7 }) table.Update(k, 1UL);
        Set(c, "stop_at", 2);
        var (visited, calls, _, order) = Walk(c, "walk_table");
        Assert.Equal(3, visited);
        Assert.Equal(3u, calls);
        Assert.Equal([5u, 9u, 2u], order);
    }

    [Fact]
    public void Flags_other_than_0_are_EINVAL_without_calling_the_callback()
    {
        var c = Load();
        c.Map("table").Update(1u, 1UL);
        Set(c, "call_flags", 1);
        var (visited, calls, _, _) = Walk(c, "walk_table");
        Assert.Equal(EINVAL, visited);
        Assert.Equal(0u, calls);
    }

    [Fact]
    public void An_empty_hash_map_visits_nothing()
    {
        var (visited, calls, _, _) = Walk(Load(), "walk_table");
        Assert.Equal((0L, 0u), (visited, calls));
    }

    [Fact]
    public void The_callback_may_delete_the_element_it_is_given_and_the_walk_goes_on()
    {
        var c = Load();
        var table = c.Map("table");
        for (uint k = 0; k < 40; k++) table.Update(k * 7, (ulong)k);
        var keys = Keys(table);
        Set(c, "mode", 1);
        var (visited, _, _, order) = Walk(c, "walk_table");
        Assert.Equal(40, visited);
        Assert.Equal(keys, order);
        Assert.Empty(table.Keys());
    }

    [Fact]
    public void The_callback_writes_values_through_the_pointer_it_is_given()
    {
        var c = Load();
        var table = c.Map("table");
        for (uint k = 0; k < 10; k++) table.Update(k, (ulong)k * 10);
        Set(c, "mode", 2);
        Walk(c, "walk_table");
        for (uint k = 0; k < 10; k++)
        {
            Assert.True(table.TryLookup(k, out ulong v));
            Assert.Equal(k * 10UL + 1, v);
        }
    }

    [Fact]
    public void Elements_the_callback_inserts_come_last_and_are_visited()
    {
        var c = Load();
        var table = c.Map("table");
        foreach (var k in new uint[] { 3, 1, 2 }) table.Update(k, 0UL);
        Set(c, "mode", 3);
        var (visited, _, _, order) = Walk(c, "walk_table");
        Assert.Equal([3u, 1u, 2u, 1003u, 1001u, 1002u], order);
        Assert.Equal(6, visited);
    }

    [Fact]
    public void An_array_is_walked_by_index_over_every_entry()
    {
        var c = Load();
        var cells = c.Map("cells");
        for (uint i = 0; i < 8; i++) cells.Update(i, (ulong)(i + 1) * 100);
        var (visited, calls, sum, order) = Walk(c, "walk_cells");
        Assert.Equal(8, visited);
        Assert.Equal(8u, calls);
        Assert.Equal([0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u], order);
        Assert.Equal(3600UL, sum);
        Set(c, "stop_at", 4);
        Assert.Equal(5, Walk(c, "walk_cells").Visited);
    }

    [Fact]
    public void A_walk_over_a_map_type_without_for_each_fails_the_run_naming_it()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var q = c.CreateMap(new MapDefinition("q", MapType.Queue, 0, 8, 4));
        var (m1, m2) = Instruction.LoadImm64(Register.R1, q.Handle);
        // lddw r2, callback (BPF_PSEUDO_FUNC, imm relative to the next slot): the callback is at slot 8.
        var (f1, f2) = Instruction.LoadImm64(Register.R2, 5, PseudoSource.Func);
        Instruction[] program =
        [
            m1, m2, f1, f2,
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R3, 0),
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R4, 0),
            Instruction.CallHelper(BpfHelperIds.ForEachMapElem),
            Instruction.ExitInsn(),
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0),
            Instruction.ExitInsn(),
        ];
        var loaded = c.LoadProgram("p", ProgramType.Xdp, program);
        var r = loaded.Run(new XdpContext(new byte[64]));
        Assert.False(r.Succeeded);
        Assert.Contains("bpf_for_each_map_elem over Queue map 'q'", r.Fault!.Message);
    }

    [Fact]
    public void A_callback_the_runtime_cannot_follow_is_refused_at_load()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var program = Bpf.Asm.Assembler.Assemble("r1 = 0\nr2 = r1\nr3 = 0\nr4 = 0\ncall 164\nexit", Bpf.Asm.AsmDialect.Llvm);
        var e = Assert.Throws<NotSupportedException>(() => c.LoadProgram("p", ProgramType.Xdp, program));
        Assert.StartsWith("insn 4: calls bpf_for_each_map_elem (helper 164) with a callback the managed runtime cannot follow", e.Message);
    }

    [Fact]
    public void A_per_cpu_hash_walk_gives_the_running_cpus_values()
    {
        var c = ManagedCollection.Load(ObjectSpec.ReadFile(RepoPaths.FeatureObject("for_each_map")), new CollectionOptions { CpuCount = 2 });
        var map = c.Map("per_cpu");
        for (uint k = 1; k <= 3; k++)
        {
            var value = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(value, k);             // CPU 0
            BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), k * 100); // CPU 1
            map.Update(BitConverter.GetBytes(k), value);
        }
        Set(c, "mode", 2);
        Assert.True(c.Run("walk_per_cpu", new XdpContext(new byte[64]), cpu: 1).Succeeded);
        Assert.Equal(3L, BinaryPrimitives.ReadInt64LittleEndian(c.Variable("visited")));
        Assert.Equal(600UL, BinaryPrimitives.ReadUInt64LittleEndian(c.Variable("sum")));
        var read = new byte[16];
        Assert.Equal(MapError.None, map.TryLookup(BitConverter.GetBytes(2u), read));
        Assert.Equal((2UL, 201UL), (BinaryPrimitives.ReadUInt64LittleEndian(read), BinaryPrimitives.ReadUInt64LittleEndian(read.AsSpan(8))));
    }

    /// <summary>The walk's step over a hash map while elements change under it: a deleted element not yet reached is
    /// skipped; a slot freed and reused by an insert is followed to its new place at the end (as the kernel's
    /// preallocated elements are reused).</summary>
    [Fact]
    public void A_hash_walk_skips_deleted_elements_ahead_and_follows_a_reused_slot()
    {
        var c = new ManagedCollection(new CollectionOptions { CpuCount = 1 });
        var map = (HashMap)c.CreateMap(new MapDefinition("h", MapType.Hash, 4, 8, 16));
        for (uint k = 1; k <= 6; k++) map.Update(k, (ulong)k);
        var cursor = 0UL;
        var key = new byte[4];
        uint Step()
        {
            var value = map.ForEachNext(ref cursor, key, 0);
            return value == 0 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(key);
        }
        Assert.Equal(1u, Step());
        Assert.True(map.Delete(2u));      // the next one, not reached yet: skipped
        Assert.Equal(3u, Step());
        Assert.True(map.Delete(3u));      // the current one: the walk goes on
        Assert.Equal(4u, Step());
        Assert.True(map.Delete(5u));      // the next one, its slot reused at once by an insert (at the end)
        map.Update(9u, 9UL);
        Assert.Equal(9u, Step());
        Assert.Equal(0u, Step());
        Assert.Equal(ManagedMap.ForEachEnd, cursor);
        Assert.Equal(0u, Step());
        // A cursor that names no slot ends the walk instead of reading outside the table.
        cursor = 1000;
        Assert.Equal(0u, Step());
    }
}
