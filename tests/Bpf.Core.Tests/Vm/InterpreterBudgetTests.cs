using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Bpf.Core.Tests.Vm.VmTestKit;
using static Bpf.Instruction;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

/// <summary>
/// The run loop charges the instruction budget when control moves (taken jumps, calls, returns) and switches to a
/// check before every instruction only for the last stretch of the budget. These tests pin what users see: the
/// instruction count is exact, and a run stops exactly at its budget, whichever part of the program it is in.
/// </summary>
public class InterpreterBudgetTests
{
    private static Instruction Ja(short offset) => new(Opcodes.Ja, (byte)0, (byte)0, offset, 0);

    /// <summary>slot 0: r0 = 0; slots 1..48: r0 += 1; slot 49: ja back to slot 1. 49 instructions per iteration.</summary>
    private static Instruction[] LongBodyLoop()
    {
        var parts = new List<object> { Mov(R.R0, 0) };
        for (var k = 0; k < 48; k++) parts.Add(Alu64(AluOp.Add, R.R0, 1));
        parts.Add(Ja(-49));
        return Prog([.. parts]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(51)]
    [InlineData(52)]
    [InlineData(53)]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(1_000)]
    [InlineData(10_000)]
    [InlineData(10_001)]
    [InlineData(10_023)]
    [InlineData(123_457)]
    public void An_infinite_loop_stops_exactly_at_the_budget_wherever_it_falls_in_the_loop_body(long budget)
    {
        var (result, regs) = RunWithRegisters(LongBodyLoop(), [], new InterpreterOptions { InstructionBudget = budget });

        Assert.Equal(VmFaultKind.BudgetExhausted, result.Fault?.Kind);
        Assert.Equal(budget, result.InstructionsExecuted);
        // Instruction k (1-based) is slot 0 for k = 1, then slot 1 + (k - 2) % 49. The fault names the first one not run.
        Assert.Equal((int)(1 + (budget - 1) % 49), result.Fault!.InstructionIndex);
        // r0 counts the adds among the first `budget` instructions: every instruction after the first but the jumps.
        var jumps = (budget - 1) / 49;
        Assert.Equal((ulong)(budget - 1 - jumps), regs[0]);
    }

    /// <summary>slot 0: r0 = 0; slot 1: r0 += 1; slot 2: if r0 != 2^30 goto slot 1 — the pre-decoder fuses slots 1 and 2
    /// into one add-and-jump operation, which the budget's last stretch must still count as two instructions.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(10_000)]
    [InlineData(10_001)]
    public void A_fused_add_and_jump_loop_stops_exactly_at_the_budget(long budget)
    {
        foreach (var jump in new[] { JumpOp.Jne, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jsle, JumpOp.Jslt })
        {
            var program = Prog(Mov(R.R0, 0), Alu64(AluOp.Add, R.R0, 1), JumpImm(OpClass.Jmp, jump, R.R0, 1 << 30, -2), Exit);
            var (result, regs) = RunWithRegisters(program, [], new InterpreterOptions { InstructionBudget = budget });
            Assert.Equal(VmFaultKind.BudgetExhausted, result.Fault?.Kind);
            Assert.Equal(budget, result.InstructionsExecuted);
            Assert.Equal((int)(1 + (budget - 1) % 2), result.Fault!.InstructionIndex);
            Assert.Equal((ulong)(budget / 2), regs[0]); // the adds among the first `budget` instructions
        }
    }

    /// <summary>A counted loop with an lddw and a bpf-to-bpf call in its body: run with exactly the budget it needs
    /// it succeeds and reports that count; one instruction less and it faults having executed all the budget.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(2_500)]
    public void A_terminating_loop_runs_with_exactly_its_own_count_and_faults_with_one_less(int iterations)
    {
        var program = Prog(
            Mov(R.R6, iterations),                    // 0
            Mov(R.R7, 0),                             // 1
            Lddw(R.R1, 0x1_0000_0001),                // 2-3   loop:
            CallLocal(5),                             // 4     -> 10
            Alu64(AluOp.Add, R.R7, R.R0),             // 5
            Alu64(AluOp.Sub, R.R6, 1),                // 6
            JumpImm(OpClass.Jmp, JumpOp.Jne, R.R6, 0, -6), // 7 -> 2
            Mov(R.R0, R.R7),                          // 8
            Exit,                                     // 9
            Alu64(AluOp.Rsh, R.R1, 32),               // 10    callee: r0 = r1 >> 32
            Mov(R.R0, R.R1),                          // 11
            Exit);                                    // 12
        // 2 before the loop, 5 in the body (lddw counted once), 3 in the callee per iteration, 2 after.
        var expected = 2 + iterations * (5 + 3) + 2L;

        var enough = Run(program, options: new InterpreterOptions { InstructionBudget = expected });
        Assert.True(enough.Succeeded, enough.Fault?.Message);
        Assert.Equal((ulong)iterations, enough.R0);
        Assert.Equal(expected, enough.InstructionsExecuted);

        var generous = Run(program, options: new InterpreterOptions { InstructionBudget = 100 * expected });
        Assert.Equal(expected, generous.InstructionsExecuted);

        var short1 = Run(program, options: new InterpreterOptions { InstructionBudget = expected - 1 });
        Assert.Equal(VmFaultKind.BudgetExhausted, short1.Fault?.Kind);
        Assert.Equal(expected - 1, short1.InstructionsExecuted);
        Assert.Equal(9, short1.Fault!.InstructionIndex); // the final exit is the one left out
    }

    [Fact]
    public void A_loop_through_a_call_and_its_return_exhausts_the_budget()
    {
        // loop: call f; ja loop; f: exit — no backward conditional jump, only a call, a return and a ja.
        var result = Run(Prog(CallLocal(1), Ja(-2), Exit), options: new InterpreterOptions { InstructionBudget = 100_001 });
        Assert.Equal(VmFaultKind.BudgetExhausted, result.Fault?.Kind);
        Assert.Equal(100_001, result.InstructionsExecuted);
    }

    [Fact]
    public void A_fault_after_a_long_run_counts_the_faulting_instruction_once()
    {
        // 1000 iterations of a 3-instruction loop, then a load from address 0.
        var result = Run(Prog(
            Mov(R.R1, 1000),
            Alu64(AluOp.Sub, R.R1, 1),
            JumpImm(OpClass.Jmp, JumpOp.Jne, R.R1, 0, -2),
            Load(MemSize.DW, R.R0, R.R1, 0),
            Exit));
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Equal(1 + 2 * 1000 + 1, result.InstructionsExecuted);
    }

    /// <summary>For any random program: with a budget at least its count it ends as with a huge budget and reports
    /// the same count; with one less it runs out of budget having executed exactly that budget.</summary>
    [Property(MaxTest = 2000)]
    public Property Budget_boundaries_are_exact_on_random_programs(int seed, byte sizePick)
    {
        var program = RandomPrograms.Build(seed, 1 + sizePick % 40);
        var memory = new byte[32];
        var free = new Interpreter(program, new InterpreterOptions { InstructionBudget = 5_000 }).Run(memory.ToArray());
        if (free.Fault?.Kind == VmFaultKind.BudgetExhausted)
        {
            return (free.InstructionsExecuted == 5_000).Label($"seed {seed}: budget 5000 but {free.InstructionsExecuted} executed");
        }
        var n = free.InstructionsExecuted!.Value; // the interpreter always counts
        var exact = new Interpreter(program, new InterpreterOptions { InstructionBudget = n }).Run(memory.ToArray());
        var same = exact.InstructionsExecuted == n && exact.R0 == free.R0 && exact.Fault?.Kind == free.Fault?.Kind;
        if (n == 1) return same.Label($"seed {seed}: {free} vs {exact}");
        var shorter = new Interpreter(program, new InterpreterOptions { InstructionBudget = n - 1 }).Run(memory.ToArray());
        var stopped = shorter.Fault?.Kind == VmFaultKind.BudgetExhausted && shorter.InstructionsExecuted == n - 1;
        return (same && stopped).Label($"seed {seed}: free {free}, budget {n}: {exact}, budget {n - 1}: {shorter}");
    }
}

/// <summary>The pre-decoder fuses "dst += k" / "dst -= k" with a following 64-bit conditional jump on dst into one
/// operation. Fused or not, a program must compute the same thing and count the same instructions.</summary>
public class SuperinstructionTests
{
    private static readonly JumpOp[] Fusable =
        [JumpOp.Jeq, JumpOp.Jne, JumpOp.Jgt, JumpOp.Jge, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jslt, JumpOp.Jsle, JumpOp.Jset];

    private static Instruction Ja(short offset) => new(Opcodes.Ja, (byte)0, (byte)0, offset, 0);

    /// <summary>r1 = a; r2 = b; r1 op= k; [ja +0;] if r1 OP (c | r2) goto taken; r0 = r1 ^ 1; exit; taken: r0 = r1 ^ 2; exit.</summary>
    private static Instruction[] Program(JumpOp op, bool reg, bool sub, long a, long b, int k, int c, bool separated)
    {
        var parts = new List<object> { Lddw(R.R1, (ulong)a), Lddw(R.R2, (ulong)b), Alu64(sub ? AluOp.Sub : AluOp.Add, R.R1, k) };
        if (separated) parts.Add(Ja(0));
        parts.Add(reg ? JumpReg(OpClass.Jmp, op, R.R1, R.R2, 3) : JumpImm(OpClass.Jmp, op, R.R1, c, 3));
        parts.AddRange([Mov(R.R0, R.R1), Alu64(AluOp.Xor, R.R0, 1), Exit, Mov(R.R0, R.R1), Alu64(AluOp.Xor, R.R0, 2), Exit]);
        return Prog([.. parts]);
    }

    [Property(MaxTest = 3000)]
    public Property A_fused_add_and_jump_computes_and_counts_like_the_two_instructions(byte opPick, bool reg, bool sub, long a, long b, int k, int c)
    {
        var op = Fusable[opPick % Fusable.Length];
        // Values near the comparison make both outcomes common.
        if (opPick % 3 == 0) b = a + (sub ? -(long)k : k);
        if (opPick % 5 == 0) c = (int)(a + (sub ? -(long)k : k));
        var fused = Run(Program(op, reg, sub, a, b, k, c, separated: false));
        var apart = Run(Program(op, reg, sub, a, b, k, c, separated: true));
        return (fused.Succeeded && apart.Succeeded && fused.R0 == apart.R0 && fused.InstructionsExecuted + 1 == apart.InstructionsExecuted)
            .Label($"{op} reg={reg} sub={sub} a={a} b={b} k={k} c={c}: fused {fused}, apart {apart}");
    }

    [Fact]
    public void A_jump_into_the_second_half_runs_the_plain_jump()
    {
        // 0: r1 = 5; 1: ja +1 (to 3); 2: r1 += 100; 3: if r1 == 5 goto 6; 4: r0 = 1; 5: exit; 6: r0 = 2; 7: exit
        var result = Run(Prog(Mov(R.R1, 5), Ja(1), Alu64(AluOp.Add, R.R1, 100), JumpImm(OpClass.Jmp, JumpOp.Jeq, R.R1, 5, 2),
            Mov(R.R0, 1), Exit, Mov(R.R0, 2), Exit));
        Assert.Equal(2UL, result.R0);
        Assert.Equal(5, result.InstructionsExecuted);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(2_000)]
    [InlineData(2_001)]
    public void The_budget_can_run_out_between_the_add_and_its_jump(long budget)
    {
        // 0: r1 = 0; 1: r1 += 1; 2: if r1 != 0 goto 1 — never ends; instruction k >= 2 alternates slots 1 and 2.
        var (result, regs) = RunWithRegisters(Prog(Mov(R.R1, 0), Alu64(AluOp.Add, R.R1, 1), JumpImm(OpClass.Jmp, JumpOp.Jne, R.R1, 0, -2)),
            [], new InterpreterOptions { InstructionBudget = budget });
        Assert.Equal(VmFaultKind.BudgetExhausted, result.Fault?.Kind);
        Assert.Equal(budget, result.InstructionsExecuted);
        Assert.Equal(budget % 2 == 0 ? 2 : 1, result.Fault!.InstructionIndex);
        Assert.Equal((ulong)(budget / 2), regs[1]);
    }
}
