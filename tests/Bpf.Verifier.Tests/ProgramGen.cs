using Bpf.Verifier;
using FsCheck;
using FsCheck.Fluent;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Random programs that are mostly well-formed, so they reach the interesting rules: register
/// initialisation, scalar bounds through ALU ops and branches, stack and context/memory accesses with
/// in- and out-of-range offsets, variable offsets, map lookups, helper calls that clobber R1-R5, bounded
/// loops. Each program is built from one seed, so a failing case is reproduced from the printed master seed.
/// </summary>
public static class ProgramGen
{
    public enum Flavor
    {
        /// <summary>Socket filter with a hash map and an array map, for the kernel differential.</summary>
        Kernel,
        /// <summary>The interpreter's memory type: R1 = 64 bytes of memory, no helpers.</summary>
        Memory,
    }

    public const int MemorySize = 64;

    public static readonly IReadOnlyList<MapDefinition> KernelMaps =
    [
        new("h", MapType.Hash, 4, 16, 8),
        new("a", MapType.Array, 4, 16, 4),
    ];

    public static Gen<Instruction[]> Programs(Flavor flavor) =>
        Gen.Choose(0, int.MaxValue).Select(seed => Build(new Random(seed), flavor));

    public static IReadOnlyList<Instruction[]> Sample(Flavor flavor, int masterSeed, int count) =>
        Gen.Sample(Programs(flavor), count, new Rnd((ulong)masterSeed, 0x9E3779B97F4A7C15UL), 30);

    private static readonly AluOp[] AluOps =
    [
        AluOp.Add, AluOp.Sub, AluOp.Mul, AluOp.Div, AluOp.Or, AluOp.And, AluOp.Lsh, AluOp.Rsh, AluOp.Mod, AluOp.Xor, AluOp.Arsh, AluOp.Mov,
    ];

    private static readonly JumpOp[] CondOps =
    [
        JumpOp.Jeq, JumpOp.Jgt, JumpOp.Jge, JumpOp.Jset, JumpOp.Jne, JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jslt, JumpOp.Jsle,
    ];

    private static readonly MemSize[] Sizes = [MemSize.B, MemSize.H, MemSize.W, MemSize.DW];

    /// <summary>Scalar registers the body works on; r6 holds the context / memory pointer, r7 a stack pointer.</summary>
    private static readonly Register[] Work = [Register.R0, Register.R2, Register.R3, Register.R4, Register.R5, Register.R8, Register.R9];

    public static Instruction[] Build(Random rnd, Flavor flavor)
    {
        var p = new List<Instruction>();
        // Pending forward jumps: (slot index, target op index).
        var fixups = new List<(int Slot, int TargetOp)>();
        var opStarts = new List<int>();

        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1));
        foreach (var r in Work)
        {
            if (rnd.Next(20) == 0) continue; // sometimes left uninitialised
            p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, r, SmallImm(rnd)));
        }
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R7, Register.R10));
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R7, -8 * rnd.Next(1, 9)));

        var bodyOps = rnd.Next(3, 28);
        var loopStart = -1;
        for (var op = 0; op < bodyOps; op++)
        {
            opStarts.Add(p.Count);
            var dst = Work[rnd.Next(Work.Length)];
            var src = Work[rnd.Next(Work.Length)];
            var size = Sizes[rnd.Next(Sizes.Length)];
            var bytes = Opcodes.Bytes(size);
            switch (rnd.Next(22))
            {
                case 0: case 1: case 2:
                {
                    var aop = AluOps[rnd.Next(AluOps.Length)];
                    var cls = rnd.Next(3) == 0 ? OpClass.Alu : OpClass.Alu64;
                    var imm = aop is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh ? rnd.Next(0, cls == OpClass.Alu ? 34 : 66) : SmallImm(rnd);
                    if (aop is AluOp.Div or AluOp.Mod && rnd.Next(6) != 0 && imm == 0) imm = 3;
                    p.Add(Instruction.AluImm(cls, aop, dst, imm));
                    break;
                }
                case 3: case 4:
                {
                    var aop = AluOps[rnd.Next(AluOps.Length)];
                    var cls = rnd.Next(3) == 0 ? OpClass.Alu : OpClass.Alu64;
                    p.Add(Instruction.AluReg(cls, aop, dst, src));
                    break;
                }
                case 5: case 6:
                {
                    // Context / memory load at a (mostly valid) constant offset.
                    var limit = flavor == Flavor.Memory ? MemorySize : 64;
                    var off = rnd.Next(4) == 0 ? rnd.Next(-4, limit + 8) : rnd.Next(0, limit / bytes) * bytes;
                    if (flavor == Flavor.Kernel && rnd.Next(4) != 0)
                    {
                        // Mostly the u32 __sk_buff fields a socket filter may read (len .. cb[4]).
                        size = MemSize.W;
                        off = 4 * rnd.Next(0, 17);
                    }
                    p.Add(Instruction.Load(size, dst, Register.R6, (short)off));
                    break;
                }
                case 7:
                    if (flavor == Flavor.Memory)
                    {
                        var off = rnd.Next(0, MemorySize / bytes) * bytes + (rnd.Next(5) == 0 ? 4 : 0);
                        p.Add(Instruction.StoreReg(size, Register.R6, src, (short)off));
                    }
                    else
                    {
                        // cb[] is writable in a socket filter.
                        p.Add(Instruction.StoreReg(MemSize.W, Register.R6, src, (short)(48 + 4 * rnd.Next(0, 6))));
                    }
                    break;
                case 8: case 9:
                {
                    var off = -bytes * rnd.Next(1, 66 / bytes * 8 + 2);
                    if (off < -512 && rnd.Next(3) != 0) off = -8;
                    p.Add(Instruction.StoreReg(size, Register.R10, src, (short)off));
                    break;
                }
                case 10:
                    p.Add(Instruction.StoreImm(size, Register.R7, (short)(-bytes * rnd.Next(0, 4)), SmallImm(rnd)));
                    break;
                case 11: case 12:
                {
                    var off = -bytes * rnd.Next(1, 9);
                    p.Add(Instruction.Load(size, dst, Register.R10, (short)off));
                    break;
                }
                case 13: case 14: case 15:
                {
                    var cls = rnd.Next(4) == 0 ? OpClass.Jmp32 : OpClass.Jmp;
                    var jop = CondOps[rnd.Next(CondOps.Length)];
                    var slot = p.Count;
                    p.Add(rnd.Next(3) == 0
                        ? Instruction.JumpReg(cls, jop, dst, src, 0)
                        : Instruction.JumpImm(cls, jop, dst, SmallImm(rnd), 0));
                    fixups.Add((slot, op + 1 + rnd.Next(1, 5)));
                    break;
                }
                case 16:
                    // Variable offset into memory / stack, masked so it may or may not be in range.
                    p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.And, dst, rnd.Next(2) == 0 ? 0x1f : 0x3f));
                    if (flavor == Flavor.Memory && rnd.Next(2) == 0)
                    {
                        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Register.R6));
                    }
                    else
                    {
                        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Register.R10));
                        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R1, -64));
                    }
                    p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R1, dst));
                    p.Add(Instruction.Load(size, src, Register.R1, (short)(bytes * rnd.Next(0, 4))));
                    break;
                case 17:
                    if (flavor == Flavor.Kernel)
                    {
                        p.Add(Instruction.CallHelper(rnd.Next(2) == 0 ? 7 : 5));
                    }
                    else
                    {
                        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, dst, rnd.Next(0, 100)));
                    }
                    break;
                case 18:
                    if (flavor == Flavor.Kernel) MapLookup(p, rnd, dst);
                    else p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, dst, Register.R6));
                    break;
                case 19:
                    // A counted loop around the next few ops: i = 0 ... i += 1; if i < N goto head.
                    if (loopStart < 0 && rnd.Next(2) == 0)
                    {
                        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R9, 0));
                        loopStart = p.Count;
                    }
                    else if (loopStart >= 0)
                    {
                        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R9, rnd.Next(1, 3)));
                        var back = loopStart - (p.Count + 1);
                        p.Add(Instruction.JumpImm(OpClass.Jmp, rnd.Next(8) == 0 ? JumpOp.Jne : JumpOp.Jlt, Register.R9, rnd.Next(2, 12), (short)back));
                        loopStart = -1;
                    }
                    break;
                case 20:
                    p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, dst, Register.R7));
                    p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, dst, -8 * rnd.Next(0, 3)));
                    break;
                default:
                    p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, dst, SmallImm(rnd)));
                    break;
            }
        }
        opStarts.Add(p.Count);
        if (rnd.Next(10) != 0) p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.And, Register.R0, 0xff));
        p.Add(Instruction.ExitInsn());
        foreach (var (slot, targetOp) in fixups)
        {
            var target = opStarts[Math.Min(targetOp, opStarts.Count - 1)];
            p[slot] = p[slot].WithOffset((short)(target - slot - 1));
        }
        return p.ToArray();
    }

    private static void MapLookup(List<Instruction> p, Random rnd, Register dst)
    {
        var map = rnd.Next(2);
        p.Add(Instruction.StoreImm(MemSize.W, Register.R10, -4, rnd.Next(0, 6)));
        var (lo, hi) = Instruction.LoadImm64(Register.R1, (ulong)map, PseudoSource.MapIndex);
        p.Add(lo);
        p.Add(hi);
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10));
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, -4));
        p.Add(Instruction.CallHelper(1));
        if (rnd.Next(5) != 0)
        {
            p.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, 1));
        }
        p.Add(Instruction.Load(Sizes[rnd.Next(4)], dst == Register.R0 ? Register.R3 : dst, Register.R0, (short)(rnd.Next(0, 5) * 4)));
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0));
    }

    private static int SmallImm(Random rnd) => rnd.Next(6) switch
    {
        0 => rnd.Next(-5, 5),
        1 => rnd.Next(0, 64),
        2 => rnd.Next(int.MinValue, int.MaxValue),
        3 => 1 << rnd.Next(0, 31),
        _ => rnd.Next(0, 20),
    };
}
