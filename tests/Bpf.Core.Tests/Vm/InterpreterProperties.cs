using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Bpf.Core.Tests.Vm.VmTestKit;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

public class InterpreterProperties
{
    private static readonly InstructionForm[] Alu32Forms = InstructionSet.Forms
        .Where(f => f.Class == OpClass.Alu && !(f.Shape == OperandShape.Endian && f.ImmKey == 64))
        .ToArray();

    [Fact]
    public void There_are_alu32_forms_to_test() => Assert.True(Alu32Forms.Length > 30);

    /// <summary>Every 32-bit ALU form leaves the upper half of its destination zero, whatever the operands.</summary>
    [Property(MaxTest = 3000)]
    public Property Alu32_results_are_zero_extended(ulong a, ulong b, int imm, byte pick)
    {
        var form = Alu32Forms[pick % Alu32Forms.Length];
        var insn = new Instruction(form.Opcode, R.R1,
            form.Shape == OperandShape.AluReg ? R.R2 : R.R0,
            form.OffsetKey ?? 0,
            form.ImmKey ?? (form.Shape == OperandShape.AluImm ? imm : 0));
        var result = Run(Prog(Lddw(R.R1, a), Lddw(R.R2, b), insn, Mov(R.R0, R.R1), Exit));
        return (result.Succeeded && result.R0 >> 32 == 0).Label($"{form} a=0x{a:x} b=0x{b:x} imm={imm} -> {result}");
    }

    /// <summary>The 64-bit forms do use the upper half (a sanity check that the property above can fail).</summary>
    [Fact]
    public void Alu64_results_are_not_truncated() =>
        Assert.Equal(0x1_0000_0000UL, R0(Mov(R.R1, -1), Alu64(AluOp.Add, R.R1, 1), Lddw(R.R2, 0x1_0000_0000), Alu64(AluOp.Mov, R.R0, R.R2), Exit));

    private const int Guard = 64;
    private const byte GuardByte = 0xC3;

    /// <summary>
    /// Random decodable programs never touch memory outside their regions (guard bytes around the input and the
    /// stack stay intact), never let a .NET exception escape, always end (exit or fault), and r10 is only ever a
    /// frame pointer: the entry frame's at a normal exit, some live frame's at a fault.
    /// </summary>
    [Property(MaxTest = 10_000)]
    public Property Random_programs_stay_inside_their_regions(int seed, byte lengthPick, byte sizePick)
    {
        var program = RandomPrograms.Build(seed, 1 + sizePick % 40);
        var inputLength = lengthPick % 65;
        var buffer = new byte[Guard + inputLength + Guard];
        buffer.AsSpan().Fill(GuardByte);
        new Random(seed).NextBytes(buffer.AsSpan(Guard, inputLength));

        Interpreter interpreter;
        try
        {
            interpreter = new Interpreter(program, new InterpreterOptions { InstructionBudget = 5_000 });
        }
        catch (Exception ex)
        {
            return false.Label($"seed {seed}: the generator built a program the interpreter refused: {ex.Message}");
        }

        var registers = new ulong[11];
        RunResult result;
        try
        {
            result = interpreter.RunCore(buffer.AsSpan(Guard, inputLength), registers);
        }
        catch (Exception ex)
        {
            return false.Label($"seed {seed}: exception escaped the interpreter: {ex}");
        }

        var guardsIntact = !buffer.AsSpan(0, Guard).ContainsAnyExcept(GuardByte)
            && !buffer.AsSpan(Guard + inputLength).ContainsAnyExcept(GuardByte);
        var stackGuardsIntact = ExecutionState.CachedForThisThread?.GuardsIntact() ?? false;
        var r10Ok = result.Succeeded
            ? registers[10] == VmLayout.StackTop
            : Enumerable.Range(0, VmLayout.MaxFrames).Any(f => registers[10] == VmLayout.FramePointer(f));
        var ended = result.Succeeded || result.Fault is not null;
        var counted = result.InstructionsExecuted is > 0 and <= 5_000;

        return (guardsIntact && stackGuardsIntact && r10Ok && ended && counted)
            .Label($"seed {seed}: input guards {guardsIntact}, stack guards {stackGuardsIntact}, r10=0x{registers[10]:x}, {result}");
    }

    /// <summary>Re-running the same program on the same input gives the same result (the stack starts zeroed,
    /// no state leaks from one run to the next).</summary>
    [Property(MaxTest = 1000)]
    public Property Runs_are_deterministic(int seed)
    {
        var program = RandomPrograms.Build(seed, 20);
        var interpreter = new Interpreter(program, new InterpreterOptions { InstructionBudget = 2_000 });
        var m1 = new byte[16];
        var m2 = new byte[16];
        var first = interpreter.Run(m1);
        // Dirty the stack with another program in between.
        new Interpreter(Prog(Mov(R.R1, -1), Instruction.StoreReg(MemSize.DW, R.R10, R.R1, -8), Instruction.StoreReg(MemSize.DW, R.R10, R.R1, -512), Exit)).Run([]);
        var second = interpreter.Run(m2);
        return (first == second && m1.AsSpan().SequenceEqual(m2)).Label($"seed {seed}: {first} vs {second}");
    }
}

public class RandomProgramCoverageTests
{
    /// <summary>The random-program property is only meaningful if the programs do varied things: exit normally,
    /// fault on memory, call helpers and functions, run out of budget.</summary>
    [Fact]
    public void Random_programs_reach_every_kind_of_ending()
    {
        var kinds = new Dictionary<string, int>();
        for (var seed = 0; seed < 3000; seed++)
        {
            var program = RandomPrograms.Build(seed, 1 + seed % 40);
            var result = new Interpreter(program, new InterpreterOptions { InstructionBudget = 5_000 }).Run(new byte[seed % 65]);
            var key = result.Fault?.Kind.ToString() ?? "Exit";
            kinds[key] = kinds.GetValueOrDefault(key) + 1;
        }
        var summary = string.Join(", ", kinds.Select(k => $"{k.Key}={k.Value}"));
        foreach (var expected in new[] { "Exit", nameof(VmFaultKind.MemoryAccess), nameof(VmFaultKind.BudgetExhausted),
                     nameof(VmFaultKind.UnknownHelper) })
        {
            Assert.True(kinds.GetValueOrDefault(expected) >= 30, $"too few '{expected}' endings: {summary}");
        }
        // Nine nested frames need a random recursion; rare but present.
        Assert.True(kinds.GetValueOrDefault(nameof(VmFaultKind.CallDepthExceeded)) >= 1, $"no call-depth faults: {summary}");
    }
}
