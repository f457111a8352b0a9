using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Programs that read or write a map value or a packet through a pointer with a variable offset, with every access
/// size (1, 2, 4, 8), placed so the last byte touched falls just inside, on, or just past the end of the region.
/// Whether each access is in bounds is known by construction (<see cref="Case.InBounds"/>), so the verifier is
/// checked against arithmetic, and against the kernel where there is one. <see cref="ProgramGen"/> makes variable
/// offsets only into the stack; this generator is its complement for the other regions.
/// </summary>
public static class VarOffsetGen
{
    /// <summary>One generated program and what is true of it.</summary>
    /// <param name="Region">"map value", "packet" or "packet (offset after the check)".</param>
    /// <param name="Max">The largest value the variable offset can take (it is proven to be in [0, Max]).</param>
    /// <param name="Offset">The instruction's constant offset.</param>
    /// <param name="Size">The access size in bytes.</param>
    /// <param name="RegionSize">The map value size, or the packet range the program proves.</param>
    /// <param name="InBounds">Every possible access lies inside the region.</param>
    public sealed record Case(string Region, Instruction[] Program, bool Write, bool MaskBound, int Max, int Offset, int Size, int RegionSize, bool InBounds)
    {
        public override string ToString() =>
            $"{Region} {(Write ? "write" : "read")} size {Size} at [0, {Max}] + {Offset} ({(MaskBound ? "mask" : "branch")} bound), region {RegionSize}: " +
            $"last byte {Max + Offset + Size - 1} => {(InBounds ? "in bounds" : "out of bounds")}";
    }

    /// <summary>Map 0: an array whose value size the case chooses (one map definition per value size).</summary>
    public static IReadOnlyList<MapDefinition> Maps(int valueSize) => [new("v", MapType.Array, 4, valueSize, 4)];

    private static readonly int[] AccessSizes = [1, 2, 4, 8];
    private static readonly int[] ValueSizes = [8, 13, 16, 24, 48];
    private static readonly MemSize[] MemSizes = [MemSize.B, MemSize.H, MemSize.W, MemSize.DW];

    private const Register Var = Register.R7;

    public static List<Case> Sample(int seed, int count)
    {
        var rnd = new Random(seed);
        var cases = new List<Case>(count);
        while (cases.Count < count)
        {
            var c = rnd.Next(3) switch
            {
                0 or 1 => MapValue(rnd),
                _ => Packet(rnd),
            };
            if (c is not null) cases.Add(c);
        }
        return cases;
    }

    /// <summary>r0 = map value; r0 += var (var in [0, max]); access size at r0 + off. In bounds iff max + off + size &lt;= value size.</summary>
    private static Case? MapValue(Random rnd)
    {
        var sizeIndex = rnd.Next(AccessSizes.Length);
        var size = AccessSizes[sizeIndex];
        var valueSize = ValueSizes[rnd.Next(ValueSizes.Length)];
        var end = valueSize + rnd.Next(-2, 3); // max + off + size: just inside, on, or past the end
        var maskBound = rnd.Next(2) == 0;
        int max;
        if (maskBound)
        {
            max = (1 << rnd.Next(0, 6)) - 1; // 0, 1, 3, ..., 31
        }
        else
        {
            max = rnd.Next(0, Math.Max(1, end - size + 1));
        }
        var off = end - size - max;
        if (off < 0 || off > 64) return null;
        var write = rnd.Next(3) == 0;
        var p = new List<Instruction>();
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1));
        p.Add(Instruction.CallHelper(7)); // bpf_get_prandom_u32: an unknown u32
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Var, Register.R0));
        var exitJumps = new List<int>();
        Bound(p, exitJumps, maskBound, max);
        p.Add(Instruction.StoreImm(MemSize.W, Register.R10, -4, 0));
        var (lo, hi) = Instruction.LoadImm64(Register.R1, 0, PseudoSource.MapIndex);
        p.Add(lo);
        p.Add(hi);
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10));
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, -4));
        p.Add(Instruction.CallHelper(1));
        exitJumps.Add(p.Count);
        p.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, 0));
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R0, Var));
        Access(p, Register.R0, write, sizeIndex, off);
        return Finish(p, exitJumps, new Case("map value", [], write, maskBound, max, off, size, valueSize, max + off + size <= valueSize));
    }

    /// <summary>
    /// XDP: r2 = data + var; r4 = r2 + range; if r4 &gt; data_end goto out; access size at r2 + off. The range is proven
    /// after the variable offset, so the access is in bounds iff off + size &lt;= range. One case in four adds the
    /// variable offset after the check instead, which loses the proven range: never in bounds, unless the "variable"
    /// is the constant 0 (mask 0), which keeps it.
    /// </summary>
    private static Case? Packet(Random rnd)
    {
        var sizeIndex = rnd.Next(AccessSizes.Length);
        var size = AccessSizes[sizeIndex];
        var range = rnd.Next(1, 40);
        var off = range - size + rnd.Next(-2, 3);
        if (off < 0) return null;
        var maskBound = rnd.Next(2) == 0;
        var max = maskBound ? (1 << rnd.Next(0, 8)) - 1 : rnd.Next(0, 200);
        var after = rnd.Next(4) == 0;
        var write = rnd.Next(3) == 0;
        var p = new List<Instruction>();
        var exitJumps = new List<int>();
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1));
        p.Add(Instruction.CallHelper(7));
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Var, Register.R0));
        Bound(p, exitJumps, maskBound, max);
        p.Add(Instruction.Load(MemSize.W, Register.R2, Register.R6, 0)); // data
        p.Add(Instruction.Load(MemSize.W, Register.R3, Register.R6, 4)); // data_end
        if (!after) p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R2, Var));
        p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R4, Register.R2));
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R4, range));
        exitJumps.Add(p.Count);
        p.Add(Instruction.JumpReg(OpClass.Jmp, JumpOp.Jgt, Register.R4, Register.R3, 0));
        if (after) p.Add(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R2, Var));
        Access(p, Register.R2, write, sizeIndex, off);
        return Finish(p, exitJumps, new Case(after ? "packet (offset after the check)" : "packet", [], write, maskBound, max, off, size, range,
            (!after || max == 0) && off + size <= range));
    }

    /// <summary>Proves var in [0, max]: <c>var &amp;= max</c> (max = 2^k − 1) or <c>if var &gt; max goto out</c>.</summary>
    private static void Bound(List<Instruction> p, List<int> exitJumps, bool mask, int max)
    {
        if (mask)
        {
            p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.And, Var, max));
            return;
        }
        exitJumps.Add(p.Count);
        p.Add(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jgt, Var, max, 0));
    }

    private static void Access(List<Instruction> p, Register ptr, bool write, int sizeIndex, int off)
    {
        var size = MemSizes[sizeIndex];
        p.Add(write
            ? Instruction.StoreReg(size, ptr, Var, (short)off)
            : Instruction.Load(size, Register.R1, ptr, (short)off));
    }

    /// <summary>Appends <c>r0 = 0; exit</c> and points every pending jump there.</summary>
    private static Case Finish(List<Instruction> p, List<int> exitJumps, Case c)
    {
        var exit = p.Count;
        p.Add(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0));
        p.Add(Instruction.ExitInsn());
        foreach (var j in exitJumps) p[j] = p[j].WithOffset((short)(exit - j - 1));
        return c with { Program = p.ToArray() };
    }
}
