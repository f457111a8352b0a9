using static Bpf.Core.Tests.Vm.VmTestKit;
using static Bpf.Instruction;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

/// <summary>
/// What a helper sees of program memory through <see cref="HelperContext"/>: the same bounds as the program's own
/// accesses — every live stack frame (the current one and its callers'), the input, nothing one byte past either end —
/// and the run's end when a helper stops or fails it.
/// </summary>
public class HelperMemoryTests
{
    private const int Sum = 1, Fill = 2, Stop = 3, FailThenStop = 4;
    private const ulong Input = VmLayout.InputBase;

    /// <summary>sum(p, len): the bytes' sum; fill(p, len, b): writes b over them; stop(v): ends the run with r0 = v.</summary>
    private static readonly InterpreterOptions Options = new()
    {
        Helpers = new HelperRegistry()
            .Register(Sum, "sum", (ref HelperContext ctx, ulong p, ulong len, ulong _, ulong _, ulong _) =>
            {
                if (!ctx.TryGetMemory(p, (int)len, write: false, out var span)) return ulong.MaxValue;
                ulong sum = 0;
                foreach (var b in span) sum += b;
                return sum;
            })
            .Register(Fill, "fill", (ref HelperContext ctx, ulong p, ulong len, ulong b, ulong _, ulong _) =>
            {
                if (!ctx.TryGetMemory(p, (int)len, write: true, out var span)) return ulong.MaxValue;
                span.Fill((byte)b);
                return 0;
            })
            .Register(Stop, "stop", (ref HelperContext ctx, ulong v, ulong _, ulong _, ulong _, ulong _) =>
            {
                ctx.Stop(v);
                ctx.Stop(v + 1);   // the first stop wins
                return 0;
            })
            .Register(FailThenStop, "fail_then_stop", (ref HelperContext ctx, ulong v, ulong _, ulong _, ulong _, ulong _) =>
            {
                ctx.Fail("on purpose");
                ctx.Stop(v);
                return 0;
            }),
    };

    private static RunResult RunIt(byte[] memory, params object[] parts) => new Interpreter(Prog(parts), Options).Run(memory);

    private static ulong Ok(RunResult result)
    {
        Assert.True(result.Succeeded, result.Fault?.Message);
        return result.R0;
    }

    private static string Fault(RunResult result)
    {
        Assert.Equal(VmFaultKind.HelperFailed, result.Fault?.Kind);
        return result.Fault!.Message;
    }

    /// <summary>r1 = r10 + offset, r2 = length, then the helper.</summary>
    private static Instruction[] OnStack(int helper, int offset, int length) =>
        [Mov(R.R1, R.R10), Alu64(AluOp.Add, R.R1, offset), Mov(R.R2, length), CallHelper(helper)];

    [Fact]
    public void A_helper_reads_and_writes_the_current_frame_to_its_edges()
    {
        // *(u64 *)(r10 - 8) = 0x0807060504030201; sum(r10 - 8, 8) = 36
        Assert.Equal(36UL, Ok(RunIt([], Lddw(R.R3, 0x0807060504030201), StoreReg(MemSize.DW, R.R10, R.R3, -8), OnStack(Sum, -8, 8), Exit)));
        // The whole frame, bottom to top, and the frame's last byte written by a helper then read by the program.
        Assert.Equal(0UL, Ok(RunIt([], OnStack(Sum, -512, 512), Exit)));
        Assert.Equal(0xABUL, Ok(RunIt([], Mov(R.R3, 0xAB), OnStack(Fill, -1, 1), Load(MemSize.B, R.R0, R.R10, -1), Exit)));
        Assert.Equal(2UL * 0x11, Ok(RunIt([], Mov(R.R3, 0x11), OnStack(Fill, -512, 2), Load(MemSize.H, R.R0, R.R10, -512), Alu64(AluOp.Rsh, R.R0, 8),
            Alu64(AluOp.Mul, R.R0, 2), Exit)));

        // One byte past the top, one byte below the bottom, and straddling either end.
        Assert.Contains("out-of-bounds read of 1 bytes", Fault(RunIt([], OnStack(Sum, 0, 1), Exit)));
        Assert.Contains("out-of-bounds read of 8 bytes", Fault(RunIt([], OnStack(Sum, -4, 8), Exit)));
        Assert.Contains("out-of-bounds read of 1 bytes", Fault(RunIt([], OnStack(Sum, -513, 1), Exit)));
        Assert.Contains("out-of-bounds write of 2 bytes", Fault(RunIt([], OnStack(Fill, -513, 2), Exit)));
    }

    [Fact]
    public void A_callee_hands_a_helper_its_callers_frame_and_its_own()
    {
        var program = Prog(
            Lddw(R.R3, 0x0807060504030201), StoreReg(MemSize.DW, R.R10, R.R3, -8),
            Mov(R.R1, R.R10), Alu64(AluOp.Add, R.R1, -8),       // a pointer into frame 0
            CallLocal(1),
            Exit,
            // callee (frame 1): sum over the caller's 8 bytes, plus the sum over its own frame after a fill of 3 bytes
            Mov(R.R6, R.R1), Mov(R.R2, 8), CallHelper(Sum), Mov(R.R7, R.R0),
            Mov(R.R3, 1), OnStack(Fill, -512, 3), OnStack(Sum, -512, 512), Alu64(AluOp.Add, R.R0, R.R7),
            Exit);
        Assert.Equal(36UL + 3, Ok(new Interpreter(program, Options).Run([])));

        // From frame 1, the top of frame 0 is still the end of the stack.
        var straddle = Prog(Mov(R.R1, R.R10), Alu64(AluOp.Add, R.R1, -4), CallLocal(1), Exit, Mov(R.R2, 8), CallHelper(Sum), Exit);
        Assert.Contains("out-of-bounds read of 8 bytes", Fault(new Interpreter(straddle, Options).Run([])));
        // ... and the callee's frame ends at its r10 - 512.
        var below = Prog(CallLocal(1), Exit, OnStack(Sum, -513, 1), Exit);
        Assert.Contains("out-of-bounds read of 1 bytes", Fault(new Interpreter(below, Options).Run([])));
    }

    [Fact]
    public void Returning_from_a_call_restores_the_callers_frame_bounds()
    {
        // After the callee returns, frame 0 spans [r10 - 512, r10) again: r10 + 0 is past the stack, for the program
        // and for helpers.
        var program = Prog(CallLocal(2), Load(MemSize.DW, R.R0, R.R10, 0), Exit, Mov(R.R0, 0), Exit);
        var result = new Interpreter(program, Options).Run([]);
        Assert.Equal(VmFaultKind.MemoryAccess, result.Fault?.Kind);
        Assert.Equal(1, result.Fault!.InstructionIndex);
        var viaHelper = Prog(CallLocal(5), OnStack(Sum, 0, 8), Exit, Mov(R.R0, 0), Exit);
        Assert.Contains("out-of-bounds read of 8 bytes", Fault(new Interpreter(viaHelper, Options).Run([])));
        Assert.Equal(0UL, Ok(new Interpreter(Prog(CallLocal(5), OnStack(Sum, -512, 512), Exit, Mov(R.R0, 0), Exit), Options).Run([])));
    }

    [Fact]
    public void A_helper_reads_and_writes_input_memory_at_any_offset_and_not_past_its_end()
    {
        var memory = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
        Assert.Equal(4UL + 5 + 6 + 7, Ok(RunIt(memory, Lddw(R.R1, Input + 3), Mov(R.R2, 4), CallHelper(Sum), Exit)));
        Assert.Equal(9UL + 10, Ok(RunIt(memory, Lddw(R.R1, Input + 8), Mov(R.R2, 2), CallHelper(Sum), Exit)));
        Assert.Equal(
            $"insn 3: helper {Sum} 'sum': out-of-bounds read of 4 bytes at 0x{Input + 8:x} (nearest: input memory: [0x{Input:x}, 0x{Input + 10:x}))",
            Fault(RunIt(memory, Lddw(R.R1, Input + 8), Mov(R.R2, 4), CallHelper(Sum), Exit)));
        Assert.Contains("out-of-bounds read of 1 bytes", Fault(RunIt(memory, Lddw(R.R1, Input + 10), Mov(R.R2, 1), CallHelper(Sum), Exit)));
        Assert.Contains("out-of-bounds read of 2 bytes", Fault(RunIt(memory, Lddw(R.R1, Input - 1), Mov(R.R2, 2), CallHelper(Sum), Exit)));

        Ok(RunIt(memory, Lddw(R.R1, Input + 2), Mov(R.R2, 3), Mov(R.R3, 0xEE), CallHelper(Fill), Exit));
        Assert.Equal(new byte[] { 1, 2, 0xEE, 0xEE, 0xEE, 6, 7, 8, 9, 10 }, memory);
    }

    [Fact]
    public void Zero_bytes_are_always_there_and_a_negative_length_fails_the_run()
    {
        Assert.Equal(0UL, Ok(RunIt([], Mov(R.R1, 0), Mov(R.R2, 0), CallHelper(Sum), Exit)));
        Assert.Equal($"insn 2: helper {Sum} 'sum' failed: asked for a negative length -1",
            Fault(RunIt([], Mov(R.R1, R.R10), Mov(R.R2, -1), CallHelper(Sum), Exit)));
    }

    [Fact]
    public void A_helper_that_stops_the_run_ends_it_at_once_with_the_first_value()
    {
        // Without the stop, r0 would be 99 after the helper returns.
        var result = RunIt([], Mov(R.R1, 7), CallHelper(Stop), Mov(R.R0, 99), Exit);
        Assert.Equal(7UL, Ok(result));
        Assert.Equal(2, result.InstructionsExecuted);
        // The same from a callee: the whole program ends, not the call.
        var nested = RunIt([], CallLocal(2), Mov(R.R0, 99), Exit, Mov(R.R1, 5), CallHelper(Stop), Exit);
        Assert.Equal(5UL, Ok(nested));
        // A failure recorded first is not turned into success by a later stop.
        Assert.Contains("failed: on purpose", Fault(RunIt([], Mov(R.R1, 7), CallHelper(FailThenStop), Exit)));
    }
}
