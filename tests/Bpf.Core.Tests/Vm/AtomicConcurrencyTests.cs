using static Bpf.Core.Tests.Vm.VmTestKit;
using static Bpf.Instruction;
using R = Bpf.Register;

namespace Bpf.Core.Tests.Vm;

/// <summary>
/// Atomic operations are atomic between programs running at once, as between CPUs in the kernel: two threads add to
/// one naturally aligned counter (with an atomic add, and with a compare-and-exchange loop), and no increment is lost.
/// Single-threaded tests cannot tell an atomic add from a plain read-modify-write; these can (a lost update makes the
/// count short). A correct interpreter always gives the exact count, so the test cannot fail spuriously; a
/// non-atomic one fails unless the two runs happen not to overlap at all.
/// </summary>
public sealed class AtomicConcurrencyTests
{
    private const int PerThread = 1_000_000;

    /// <summary>r1 = counter; r3 = 0; loop: lock *(size *)(r1 + 0) += 1; r3 += 1; if r3 &lt; N goto loop.</summary>
    private static Instruction[] AtomicAddLoop(ulong counter, MemSize size) => Prog(
        Lddw(R.R1, counter), Mov(R.R2, 1), Mov(R.R3, 0),
        Atomic(size, AtomicOp.Add, R.R1, R.R2, 0),
        Alu64(AluOp.Add, R.R3, 1),
        JumpImm(OpClass.Jmp, JumpOp.Jlt, R.R3, PerThread, -3),
        Mov(R.R0, 0), Exit);

    /// <summary>loop: r5 = *counter; r0 = r5; r4 = r5 + 1; r0 = cmpxchg(counter, r0, r4); if r0 != r5 retry;
    /// r3 += 1; if r3 &lt; N goto loop.</summary>
    private static Instruction[] CompareExchangeLoop(ulong counter, MemSize size) => Prog(
        Lddw(R.R1, counter), Mov(R.R3, 0),
        Load(size, R.R5, R.R1, 0),
        Mov(R.R0, R.R5),
        Mov(R.R4, R.R5), Alu64(AluOp.Add, R.R4, 1),
        Atomic(size, AtomicOp.CmpXchg, R.R1, R.R4, 0),
        JumpReg(OpClass.Jmp, JumpOp.Jne, R.R0, R.R5, -6),
        Alu64(AluOp.Add, R.R3, 1),
        JumpImm(OpClass.Jmp, JumpOp.Jlt, R.R3, PerThread, -8),
        Mov(R.R0, 0), Exit);

    [Theory]
    [InlineData(MemSize.W, false)]
    [InlineData(MemSize.DW, false)]
    [InlineData(MemSize.W, true)]
    [InlineData(MemSize.DW, true)]
    public void Two_threads_counting_on_one_aligned_word_lose_no_increment(MemSize size, bool compareExchange)
    {
        var region = new MemoryRegion("map 'counters' value", VmLayout.ExtraRegionBase, 16);
        var options = new InterpreterOptions { InstructionBudget = 50L * PerThread };
        options.Regions.Add(region);
        var counter = region.Address + 8; // naturally aligned for both widths
        var interpreter = new Interpreter(compareExchange ? CompareExchangeLoop(counter, size) : AtomicAddLoop(counter, size), options);
        // Several rounds: on a loaded machine two runs may not overlap in one of them.
        for (var round = 0; round < 4; round++)
        {
            region.Data.Clear();
            using var start = new Barrier(2);
            var results = new RunResult[2];
            var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                results[i] = interpreter.Run([]);
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            Assert.All(results, r => Assert.True(r.Succeeded, r.Fault?.Message));
            ulong total = size == MemSize.W ? BitConverter.ToUInt32(region.Data[8..]) : BitConverter.ToUInt64(region.Data[8..]);
            Assert.Equal(2UL * PerThread, total);
        }
    }
}
