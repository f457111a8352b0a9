using static Bpf.Core.Tests.Vm.VmTestKit;
using static Bpf.Instruction;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

public class InterpreterFaultAndCallTests
{
    private const ulong Frame0Lo = VmLayout.StackTop - 512;

    // ---- bpf-to-bpf calls -------------------------------------------------------------------------

    [Fact]
    public void Local_call_passes_r1_to_r5_preserves_r6_to_r9_and_gives_each_frame_its_own_stack()
    {
        var program = Prog(
            Mov(R.R6, 6), Mov(R.R9, 9), Mov(R.R1, 40), Mov(R.R5, 2),
            StoreImm(MemSize.DW, R.R10, -8, 1000),     // caller's stack slot
            CallLocal(5),                               // -> insn 11
            Load(MemSize.DW, R.R2, R.R10, -8),         // still 1000: the callee wrote its own frame
            Alu64(AluOp.Add, R.R0, R.R2),
            Alu64(AluOp.Add, R.R0, R.R6), Alu64(AluOp.Add, R.R0, R.R9),
            Exit,
            // callee (insn 11)
            Mov(R.R6, 100), Mov(R.R9, 100),
            StoreImm(MemSize.DW, R.R10, -8, 5),
            Mov(R.R0, R.R1), Alu64(AluOp.Add, R.R0, R.R5),
            Exit,
            Exit);
        // 40 + 2 + 1000 + 6 + 9
        var (result, regs) = RunWithRegisters(program, []);
        Assert.True(result.Succeeded, result.Fault?.Message);
        Assert.Equal(1057UL, result.R0);
        Assert.Equal(VmLayout.StackTop, regs[10]);
    }

    [Fact]
    public void Callee_may_use_a_pointer_into_the_callers_stack()
    {
        var program = Prog(
            StoreImm(MemSize.DW, R.R10, -8, 41),
            Mov(R.R1, R.R10), Alu64(AluOp.Add, R.R1, -8),
            CallLocal(1), Exit,
            Load(MemSize.DW, R.R0, R.R1, 0), Alu64(AluOp.Add, R.R0, 1), Exit);
        Assert.Equal(42UL, Run(program).R0);
    }

    [Fact]
    public void A_returned_callee_frame_is_no_longer_addressable()
    {
        var program = Prog(
            CallLocal(2),                                // callee returns its r10 - 8 in r0
            Load(MemSize.DW, R.R0, R.R0, 0),             // insn 1: dead frame -> fault
            Exit,
            Mov(R.R0, R.R10), Alu64(AluOp.Add, R.R0, -8), Exit);
        var result = Run(program);
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Equal(1, result.Fault!.InstructionIndex);
        Assert.Contains("out-of-bounds read of 8 bytes", result.Fault.Message);
        Assert.Contains("stack frame 0", result.Fault.Message);
    }

    [Fact]
    public void Eight_frames_are_allowed_and_the_ninth_faults()
    {
        // A function that recurses while r1 > 0: depth d needs d+1 frames.
        Instruction[] Recursive(int calls) => Prog(
            Mov(R.R1, calls), CallLocal(1), Exit,
            JumpImm(OpClass.Jmp, JumpOp.Jeq, R.R1, 0, 3),  // insn 3
            Alu64(AluOp.Sub, R.R1, 1),
            CallLocal(-3),
            Exit,
            Mov(R.R0, R.R10), Exit);                      // insn 7: deepest frame reports its r10

        var ok = Run(Recursive(6)); // entry + 7 frames = 8
        Assert.True(ok.Succeeded, ok.Fault?.Message);
        Assert.Equal(VmLayout.FramePointer(7), ok.R0);

        var bad = Run(Recursive(7));
        Assert.Equal(VmFaultKind.CallDepthExceeded, bad.Fault?.Kind);
        Assert.Equal(5, bad.Fault!.InstructionIndex);
        Assert.Contains("insn 5: call depth exceeded", bad.Fault.Message);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    [Fact]
    public void Unwind_helper_returns_r1_and_stops_the_program_when_r1_is_zero()
    {
        Assert.Equal(2UL, R0(Mov(R.R1, -1), CallHelper(5), Mov(R.R0, 2), Exit));
        var stopped = Run(Prog(Mov(R.R1, 0), CallHelper(5), Mov(R.R0, 2), Exit));
        Assert.True(stopped.Succeeded);
        Assert.Equal(0UL, stopped.R0);
        Assert.Equal(2, stopped.InstructionsExecuted);
    }

    [Fact]
    public void Unknown_helper_faults_naming_the_id_when_reached()
    {
        var result = Run(Prog(Mov(R.R0, 0), CallHelper(1234), Exit));
        Assert.Equal(VmFaultKind.UnknownHelper, result.Fault?.Kind);
        Assert.Equal("insn 1: call of unknown helper id 1234", result.Fault!.Message);
        // not reached: fine
        Assert.True(Run(Prog(Mov(R.R0, 0), Exit, CallHelper(1234), Exit)).Succeeded);
    }

    [Fact]
    public void Callx_reads_the_helper_id_from_dst_or_from_imm()
    {
        var llvmForm = new Instruction(Opcodes.CallX, R.R2, R.R0, 0, 0);
        var oldForm = new Instruction(Opcodes.CallX, (byte)0, (byte)0, 0, 2);
        Assert.Equal(7UL, R0(Mov(R.R1, 7), Mov(R.R2, 5), llvmForm, Exit));
        Assert.Equal(7UL, R0(Mov(R.R1, 7), Mov(R.R2, 5), oldForm, Exit));
        var bad = Run(Prog(Mov(R.R2, 99), llvmForm, Exit));
        Assert.Equal("insn 1: callx r2 of unknown helper id 99", bad.Fault?.Message);
    }

    [Fact]
    public void Custom_helpers_receive_r1_to_r5_and_access_memory_through_region_checks()
    {
        var registry = new HelperRegistry().Register(42, "sum_bytes", (ref HelperContext ctx, ulong p, ulong len, ulong a, ulong b, ulong c) =>
        {
            if (!ctx.TryGetMemory(p, (int)len, write: true, out var span)) return 0;
            ulong sum = a + b + c;
            foreach (var x in span) sum += x;
            span[0] = 0xEE;
            return sum;
        });
        var options = new InterpreterOptions { Helpers = registry };
        var memory = new byte[] { 1, 2, 3 };
        var program = Prog(Mov(R.R3, 100), Mov(R.R4, 10), Mov(R.R5, 1), CallHelper(42), Exit);
        var ok = new Interpreter(program, options).Run(memory);
        Assert.Equal(117UL, ok.R0);
        Assert.Equal(0xEE, memory[0]);

        var tooLong = Prog(Mov(R.R2, 4), CallHelper(42), Exit);
        var bad = new Interpreter(tooLong, options).Run(memory);
        Assert.Equal(VmFaultKind.HelperFailed, bad.Fault?.Kind);
        Assert.Contains("insn 1: helper 42 'sum_bytes': out-of-bounds write of 4 bytes at 0x100000000", bad.Fault!.Message);
    }

    [Fact]
    public void A_throwing_helper_fails_the_run_instead_of_the_host()
    {
        var registry = new HelperRegistry().Register(1, "boom", (ref HelperContext _, ulong _, ulong _, ulong _, ulong _, ulong _) =>
            throw new InvalidOperationException("kaput"));
        var result = new Interpreter(Prog(CallHelper(1), Exit), new InterpreterOptions { Helpers = registry }).Run([]);
        Assert.Equal(VmFaultKind.HelperFailed, result.Fault?.Kind);
        Assert.Contains("kaput", result.Fault!.Message);
    }

    // ---- budget -----------------------------------------------------------------------------------

    [Fact]
    public void An_infinite_loop_exhausts_the_budget()
    {
        var result = Run(Prog(Mov(R.R0, 0), Alu64(AluOp.Add, R.R0, 1), new Instruction(Opcodes.Ja, (byte)0, (byte)0, -2, 0)),
            options: new InterpreterOptions { InstructionBudget = 1001 });
        Assert.Equal(VmFaultKind.BudgetExhausted, result.Fault?.Kind);
        Assert.Equal(1001, result.InstructionsExecuted);
        Assert.Equal("insn 1: instruction budget exhausted (1001 instructions executed)", result.Fault!.Message);
    }

    [Fact]
    public void Instruction_count_counts_lddw_once() =>
        Assert.Equal(3, Run(Prog(Lddw(R.R0, 1), Mov(R.R1, 1), Exit)).InstructionsExecuted);

    // ---- memory faults ------------------------------------------------------------------------------

    [Fact]
    public void Read_past_the_end_of_input_memory()
    {
        var result = Run(Prog(Load(MemSize.W, R.R0, R.R1, 2), Exit), new byte[5]);
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Equal("insn 0: out-of-bounds read of 4 bytes at 0x100000002 (nearest: input memory: [0x100000000, 0x100000005))", result.Fault!.Message);
    }

    [Fact]
    public void Write_below_the_stack()
    {
        var result = Run(Prog(Mov(R.R0, 0), StoreImm(MemSize.W, R.R10, -514, 1), Exit));
        Assert.Equal(1, result.Fault?.InstructionIndex);
        Assert.Equal($"insn 1: out-of-bounds write of 4 bytes at 0x{VmLayout.StackTop - 514:x} (nearest: stack frame 0: [0x{Frame0Lo:x}, 0x{VmLayout.StackTop:x}))",
            result.Fault!.Message);
    }

    [Fact]
    public void Store_straddling_the_top_of_the_stack()
    {
        var result = Run(Prog(StoreReg(MemSize.DW, R.R10, R.R1, -4), Exit));
        Assert.Contains("out-of-bounds write of 8 bytes", result.Fault?.Message);
        Assert.Contains("stack frame 0", result.Fault!.Message);
    }

    [Fact]
    public void Null_pointer_dereference()
    {
        var result = Run(Prog(Mov(R.R1, 0), Load(MemSize.B, R.R0, R.R1, 0), Exit), new byte[4]);
        Assert.Equal("insn 1: out-of-bounds read of 1 bytes at 0x0 (nearest: input memory: [0x100000000, 0x100000004))", result.Fault?.Message);
    }

    [Fact]
    public void Atomic_outside_memory_is_a_write_fault()
    {
        var result = Run(Prog(Atomic(MemSize.DW, AtomicOp.FetchAdd, R.R1, R.R2, 8), Exit), new byte[8]);
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Contains("out-of-bounds write of 8 bytes at 0x100000008", result.Fault!.Message);
    }

    [Fact]
    public void Extra_regions_are_accessible_and_read_only_ones_reject_writes()
    {
        var table = new MemoryRegion("map 'table' value", VmLayout.ExtraRegionBase, 16, writable: false);
        table.Data[3] = 0x5A;
        var counters = new MemoryRegion("map 'counters' value", VmLayout.ExtraRegionBase + 0x1000, 8);
        var options = new InterpreterOptions();
        options.Regions.Add(table);
        options.Regions.Add(counters);

        var read = new Interpreter(Prog(Lddw(R.R1, table.Address), Load(MemSize.B, R.R0, R.R1, 3),
            Lddw(R.R2, counters.Address), StoreImm(MemSize.W, R.R2, 4, 9), Exit), options).Run([]);
        Assert.Equal(0x5AUL, read.R0);
        Assert.Equal(9, counters.Data[4]);

        var write = new Interpreter(Prog(Lddw(R.R1, table.Address), StoreImm(MemSize.B, R.R1, 0, 1), Exit), options).Run([]);
        Assert.Equal($"insn 2: write of 1 bytes at 0x{table.Address:x} into read-only region (map 'table' value: [0x{table.Address:x}, 0x{table.Address + 16:x}))",
            write.Fault?.Message);
    }

    public static TheoryData<MemSize, AtomicOp> EveryAtomic()
    {
        var data = new TheoryData<MemSize, AtomicOp>();
        foreach (var size in new[] { MemSize.W, MemSize.DW })
        foreach (var op in new[] { AtomicOp.Add, AtomicOp.Or, AtomicOp.And, AtomicOp.Xor, AtomicOp.FetchAdd, AtomicOp.FetchOr,
                     AtomicOp.FetchAnd, AtomicOp.FetchXor, AtomicOp.Xchg, AtomicOp.CmpXchg })
            data.Add(size, op);
        return data;
    }

    /// <summary>An atomic operation writes: on a read-only region every one of them faults and leaves the bytes, where
    /// a writable region of the same kind takes it.</summary>
    [Theory]
    [MemberData(nameof(EveryAtomic))]
    public void Atomics_on_a_read_only_region_fault_as_writes(MemSize size, AtomicOp op)
    {
        var frozen = new MemoryRegion("map '.rodata' value", VmLayout.ExtraRegionBase, 16, writable: false);
        var live = new MemoryRegion("map '.bss' value", VmLayout.ExtraRegionBase + 0x1000, 16);
        frozen.Data[0] = live.Data[0] = 7;
        var options = new InterpreterOptions();
        options.Regions.Add(frozen);
        options.Regions.Add(live);
        int width = size == MemSize.W ? 4 : 8;
        var program = Prog(Lddw(R.R1, frozen.Address), Mov(R.R2, 1), Mov(R.R0, 7), Atomic(size, op, R.R1, R.R2, 0), Exit);
        var result = new Interpreter(program, options).Run([]);
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Equal($"insn 4: write of {width} bytes at 0x{frozen.Address:x} into read-only region (map '.rodata' value: [0x{frozen.Address:x}, 0x{frozen.Address + 16:x}))",
            result.Fault!.Message);
        Assert.Equal(7, frozen.Data[0]);
        var ok = new Interpreter(Prog(Lddw(R.R1, live.Address), Mov(R.R2, 1), Mov(R.R0, 7), Atomic(size, op, R.R1, R.R2, 0), Exit), options).Run([]);
        Assert.True(ok.Succeeded, ok.Fault?.Message);
    }

    /// <summary>Plain stores of every size and form into a read-only region fault as writes and leave it unchanged;
    /// loads of every size and form read it (the slow memory path is asked for write access only by writes).</summary>
    [Fact]
    public void Stores_into_a_read_only_region_fault_and_loads_from_it_do_not()
    {
        var frozen = new MemoryRegion("map '.rodata' value", VmLayout.ExtraRegionBase, 16, writable: false);
        frozen.Data.Fill(0x81);
        var options = new InterpreterOptions();
        options.Regions.Add(frozen);
        foreach (var (size, width) in new[] { (MemSize.B, 1), (MemSize.H, 2), (MemSize.W, 4), (MemSize.DW, 8) })
        {
            foreach (var store in new[] { StoreImm(size, R.R1, 2, 5), StoreReg(size, R.R1, R.R2, 2) })
            {
                var result = new Interpreter(Prog(Lddw(R.R1, frozen.Address), Mov(R.R2, 5), Mov(R.R0, 0), store, Exit), options).Run([]);
                Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
                Assert.StartsWith($"insn 4: write of {width} bytes at 0x{frozen.Address + 2:x} into read-only region", result.Fault!.Message);
                Assert.All(frozen.Data.ToArray(), b => Assert.Equal(0x81, b));
            }
            var load = new Interpreter(Prog(Lddw(R.R1, frozen.Address), Load(size, R.R0, R.R1, 2), Exit), options).Run([]);
            Assert.True(load.Succeeded, load.Fault?.Message);
            Assert.Equal(width == 8 ? 0x8181818181818181UL : ((1UL << (8 * width)) - 1) & 0x8181818181818181UL, load.R0);
            if (size != MemSize.DW)
            {
                var signed = new Interpreter(Prog(Lddw(R.R1, frozen.Address), Load(size, R.R0, R.R1, 2, signExtend: true), Exit), options).Run([]);
                Assert.True(signed.Succeeded, signed.Fault?.Message);
                long expected = size switch { MemSize.B => unchecked((sbyte)0x81), MemSize.H => unchecked((short)0x8181), _ => unchecked((int)0x81818181) };
                Assert.Equal(unchecked((ulong)expected), signed.R0);
            }
        }
    }

    [Fact]
    public void Division_by_zero_never_faults_and_running_off_the_end_does()
    {
        var result = Run(Prog(Mov(R.R0, 1), Mov(R.R1, 0), Alu64(AluOp.Mod, R.R0, R.R1)));
        Assert.Equal(VmFaultKind.FellOffEnd, result.Fault?.Kind);
        Assert.Equal(3, result.Fault!.InstructionIndex);
    }

    // ---- load-time rejection -------------------------------------------------------------------------

    [Fact]
    public void Invalid_slots_are_rejected_with_the_decode_error()
    {
        var ex = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(Mov(R.R0, 0), new Instruction(0xff, (byte)0, (byte)0, 0, 0), Exit)));
        Assert.Equal(1, ex.InstructionIndex);
        Assert.Equal(DecodeErrorKind.UnknownOpcode, ex.DecodeError?.Kind);
        Assert.StartsWith("insn 1:", ex.Message);
    }

    [Fact]
    public void Jumps_out_of_range_or_into_an_lddw_are_rejected()
    {
        var outside = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(new Instruction(Opcodes.Ja, (byte)0, (byte)0, 5, 0), Exit)));
        Assert.Equal(0, outside.InstructionIndex);
        Assert.Contains("outside the program", outside.Message);

        var intoWide = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(new Instruction(Opcodes.Ja, (byte)0, (byte)0, 1, 0), Lddw(R.R0, 1), Exit)));
        Assert.Contains("second slot of the lddw at insn 1", intoWide.Message);

        var call = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(CallLocal(-5), Exit)));
        Assert.Equal(0, call.InstructionIndex);
    }

    [Fact]
    public void Writes_to_r10_are_rejected()
    {
        var ex = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(Mov(R.R0, 0), Mov(R.R10, 0), Exit)));
        Assert.Equal("insn 1: writes the read-only frame pointer r10", ex.Message);
        Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog(Atomic(MemSize.DW, AtomicOp.Xchg, R.R1, R.R10, 0), Exit)));
    }

    /// <summary>Every instruction form that writes a register refuses r10 at load, not only ALU moves: a raw program run
    /// without the verifier (<c>VerifyBeforeRun = false</c>) must not be able to move the frame pointer by loading into it.</summary>
    [Fact]
    public void Every_form_that_writes_a_register_refuses_r10()
    {
        static void Refused(int at, params Instruction[] body)
        {
            var ex = Assert.Throws<ProgramLoadException>(() => new Interpreter(Prog([Mov(R.R0, 0), .. body, Exit])));
            Assert.Equal(at, ex.InstructionIndex);
            Assert.Equal($"insn {at}: writes the read-only frame pointer r10", ex.Message);
        }
        Refused(1, Lddw(R.R10, 0x1234));
        foreach (var size in new[] { MemSize.B, MemSize.H, MemSize.W, MemSize.DW })
        {
            Refused(1, Load(size, R.R10, R.R1, 0));
        }
        foreach (var size in new[] { MemSize.B, MemSize.H, MemSize.W })
        {
            Refused(1, Load(size, R.R10, R.R1, 0, signExtend: true));
        }
        // The fetch forms and xchg write the old value into src; the plain forms write only memory.
        foreach (var op in new[] { AtomicOp.FetchAdd, AtomicOp.FetchOr, AtomicOp.FetchAnd, AtomicOp.FetchXor, AtomicOp.Xchg })
        {
            foreach (var size in new[] { MemSize.W, MemSize.DW })
            {
                Refused(1, Atomic(size, op, R.R1, R.R10, 0));
            }
        }
        foreach (var op in new[] { AtomicOp.Add, AtomicOp.Or, AtomicOp.And, AtomicOp.Xor })
        {
            _ = new Interpreter(Prog(Mov(R.R0, 0), Atomic(MemSize.DW, op, R.R10, R.R1, -8), Exit));
        }
    }

    [Fact]
    public void Pseudo_lddw_needs_a_resolver()
    {
        var program = Prog(Mov(R.R0, 0), LoadImm64(R.R1, 3, PseudoSource.MapFd).First, LoadImm64(R.R1, 3).Second, Exit);
        var ex = Assert.Throws<NotSupportedException>(() => new Interpreter(program));
        Assert.StartsWith("insn 1: lddw with pseudo source MapFd", ex.Message);

        var options = new InterpreterOptions { LoadImm64Resolver = (in PseudoLoad load) => 0xABC0UL + (ulong)load.Imm };
        var (result, regs) = RunWithRegisters(program, [], options);
        Assert.True(result.Succeeded);
        Assert.Equal(0xABC3UL, regs[1]);
    }

    [Fact]
    public void Empty_program_is_rejected() =>
        Assert.Throws<ProgramLoadException>(() => new Interpreter(ReadOnlySpan<Instruction>.Empty));

    // ---- concurrency ---------------------------------------------------------------------------------

    [Fact]
    public void One_interpreter_runs_on_many_threads()
    {
        // sum of bytes of the input, using the stack as scratch
        var program = Prog(
            Mov(R.R0, 0), StoreImm(MemSize.DW, R.R10, -8, 0),
            JumpImm(OpClass.Jmp, JumpOp.Jeq, R.R2, 0, 6),         // insn 2
            Load(MemSize.B, R.R3, R.R1, 0),
            Atomic(MemSize.DW, AtomicOp.Add, R.R10, R.R3, -8),
            Alu64(AluOp.Add, R.R1, 1), Alu64(AluOp.Sub, R.R2, 1),
            new Instruction(Opcodes.Ja, (byte)0, (byte)0, -6, 0),
            Exit,
            Load(MemSize.DW, R.R0, R.R10, -8), Exit);
        var interpreter = new Interpreter(program);
        Parallel.For(0, 64, n =>
        {
            var memory = Enumerable.Range(0, n).Select(b => (byte)b).ToArray();
            for (var k = 0; k < 50; k++)
            {
                var result = interpreter.Run(memory);
                Assert.Equal((ulong)memory.Sum(b => b), result.R0);
            }
        });
    }
}
