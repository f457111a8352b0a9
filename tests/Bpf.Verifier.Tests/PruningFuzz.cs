using System.Diagnostics;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// A random program generator aimed at state pruning, and the soundness campaign that runs it: every program
/// the verifier accepts is run in the interpreter on many boundary inputs, and any fault is a soundness bug.
/// Shapes: values loaded from memory, register-register and register-immediate compares (64- and 32-bit,
/// signed and unsigned), diamonds whose one side is padded with <c>ja +0</c> so a state is stored at the join,
/// accesses bounded by those values (directly or through another register), stack spills and fills (full and narrow,
/// of registers, of the base pointer and of immediates, so the two sides of a join differ in the stack), stores
/// into memory (the pointer itself included, so it comes back as a scalar), pointer-versus-register compares
/// and bpf-to-bpf calls. <see cref="Target.Kernel"/> programs are socket filters over a 64-byte array-map value
/// (the same shapes, for the kernel differential); <see cref="Target.Xdp"/> programs do the same over the packet. Program <c>i</c> of master seed <c>s</c> is built from
/// <see cref="ProgramSeed"/>(s, i), so any finding is reproduced from the printed pair.
/// Shared by the CI tests (PruningFuzzTests) and the long-campaign console (tests/Bpf.Verifier.Fuzz).
/// </summary>
public static class PruningFuzz
{
    public enum Target
    {
        /// <summary>The interpreter's memory type: R1 = <see cref="MemorySize"/> bytes.</summary>
        Memory,
        /// <summary>A socket filter reading and writing a 64-byte array-map value.</summary>
        Kernel,
        /// <summary>An XDP program over the packet: data checked against data_end for 64 bytes, variable
        /// offsets re-checked before each access (r7 holds data_end, r5 is scratch; no calls).</summary>
        Xdp,
    }

    public const int MemorySize = 64;

    public static readonly IReadOnlyList<MapDefinition> KernelMaps = [new("v", MapType.Array, 4, MemorySize, 1)];

    private static readonly Register Base = Register.R9;
    private static readonly Register[] Work = [Register.R0, Register.R2, Register.R3, Register.R4, Register.R5, Register.R6, Register.R7, Register.R8];
    private static readonly Register[] XdpWork = [Register.R0, Register.R2, Register.R3, Register.R4, Register.R6, Register.R8];
    private static readonly Register[] Kept = [Register.R0, Register.R6, Register.R7, Register.R8]; // survive a call
    private static readonly Register DataEnd = Register.R7;
    private static readonly Register Scratch = Register.R5;

    private static readonly JumpOp[] Unsigned = [JumpOp.Jgt, JumpOp.Jge, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jeq, JumpOp.Jne];
    private static readonly JumpOp[] AllCond =
        [JumpOp.Jeq, JumpOp.Jne, JumpOp.Jgt, JumpOp.Jge, JumpOp.Jlt, JumpOp.Jle, JumpOp.Jset, JumpOp.Jsgt, JumpOp.Jsge, JumpOp.Jslt, JumpOp.Jsle];
    private static readonly MemSize[] Sizes = [MemSize.B, MemSize.H, MemSize.W, MemSize.DW];
    private static readonly int[] Boundary = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 48, 56, 60, 62, 63, 64, 65, 100, 1000, -1, -8, int.MaxValue, int.MinValue];

    /// <summary>The seed of program <paramref name="index"/> (SplitMix64; the same in every process, unlike HashCode).</summary>
    public static int ProgramSeed(int masterSeed, long index)
    {
        var z = ((ulong)(uint)masterSeed << 32 ^ (ulong)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>Verifier options for a fuzz program (a lower processed-instruction limit keeps the rate up).</summary>
    public static VerifierOptions Options(Target target, PrivilegeMode mode) => target switch
    {
        Target.Memory => new VerifierOptions { ProgramType = VerifierProgramTypes.Memory, MemorySize = MemorySize, Privilege = mode, MaxProcessedInstructions = 200_000 },
        Target.Xdp => new VerifierOptions { ProgramType = ProgramType.Xdp, Privilege = mode },
        _ => new VerifierOptions { ProgramType = ProgramType.SocketFilter, Privilege = mode, Maps = KernelMaps },
    };

    /// <summary>The kernel program type and maps of a kernel-target program.</summary>
    public static (ProgramType Type, IReadOnlyList<MapDefinition> Maps) KernelSetup(Target target) =>
        target == Target.Xdp ? (ProgramType.Xdp, []) : (ProgramType.SocketFilter, KernelMaps);

    private sealed class Builder(Random rnd, Target target)
    {
        public readonly Random R = rnd;
        public readonly Target T = target;
        public readonly List<Instruction> P = [];
        private readonly List<(int Slot, int Label)> _fix = [];
        private readonly List<int> _labels = [];
        public int SubLabel = -1;

        public int Label()
        {
            _labels.Add(-1);
            return _labels.Count - 1;
        }

        public void Mark(int label) => _labels[label] = P.Count;

        public void Emit(Instruction i) => P.Add(i);

        public void JumpTo(Instruction jump, int label)
        {
            _fix.Add((P.Count, label));
            P.Add(jump);
        }

        public Instruction[] Finish()
        {
            foreach (var (slot, label) in _fix)
            {
                var target = _labels[label];
                var insn = P[slot];
                P[slot] = insn.Opcode == Opcodes.Call ? Instruction.CallLocal(target - slot - 1) : insn.WithOffset((short)(target - slot - 1));
            }
            return P.ToArray();
        }

        public readonly Register[] Regs = target == Target.Xdp ? XdpWork : Work;

        public Register W() => Regs[R.Next(Regs.Length)];

        public int Const() => R.Next(4) == 0 ? R.Next(-3, 80) : Boundary[R.Next(Boundary.Length)];

        public MemSize Size() => Sizes[R.Next(Sizes.Length)];

        /// <summary>An offset for a <paramref name="size"/>-byte access, mostly in range, sometimes just past it.</summary>
        public short Offset(MemSize size, int limit = MemorySize)
        {
            var bytes = Opcodes.Bytes(size);
            return (short)(R.Next(8) == 0 ? limit - bytes + R.Next(1, 3) * bytes : R.Next(0, limit / bytes) * bytes);
        }
    }

    public static Instruction[] Build(Random rnd, Target target)
    {
        var b = new Builder(rnd, target);
        if (target == Target.Memory)
        {
            b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Base, Register.R1));
        }
        else if (target == Target.Xdp)
        {
            b.Emit(Instruction.Load(MemSize.W, Base, Register.R1, 0));
            b.Emit(Instruction.Load(MemSize.W, DataEnd, Register.R1, 4));
            b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Scratch, Base));
            b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Scratch, MemorySize));
            b.Emit(Instruction.JumpReg(OpClass.Jmp, JumpOp.Jle, Scratch, DataEnd, 2));
            b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 2));
            b.Emit(Instruction.ExitInsn());
        }
        else
        {
            b.Emit(Instruction.StoreImm(MemSize.W, Register.R10, -4, 0));
            var (lo, hi) = Instruction.LoadImm64(Register.R1, 0, PseudoSource.MapIndex);
            b.Emit(lo);
            b.Emit(hi);
            b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10));
            b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, -4));
            b.Emit(Instruction.CallHelper(1));
            b.Emit(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jne, Register.R0, 0, 2));
            b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0));
            b.Emit(Instruction.ExitInsn());
            b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Base, Register.R0));
        }
        foreach (var r in b.Regs) b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, r, b.Const()));
        for (var i = rnd.Next(1, 4); i > 0; i--) LoadValue(b, b.W());

        var items = rnd.Next(2, target == Target.Memory ? 11 : 9);
        for (var i = 0; i < items; i++) Item(b, depth: 0);

        b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0));
        b.Emit(Instruction.ExitInsn());
        if (b.SubLabel >= 0) Subprogram(b);
        return b.Finish();
    }

    private static void LoadValue(Builder b, Register dst)
    {
        var size = b.Size();
        b.Emit(Instruction.Load(size, dst, Base, (short)(b.R.Next(0, MemorySize / Opcodes.Bytes(size)) * Opcodes.Bytes(size))));
    }

    private static Instruction Cond(Builder b, Register dst, bool regReg, JumpOp? op = null)
    {
        var cls = b.R.Next(5) == 0 ? OpClass.Jmp32 : OpClass.Jmp;
        var jop = op ?? AllCond[b.R.Next(AllCond.Length)];
        return regReg ? Instruction.JumpReg(cls, jop, dst, b.W(), 0) : Instruction.JumpImm(cls, jop, dst, b.Const(), 0);
    }

    private static void Item(Builder b, int depth)
    {
        var r = b.R;
        switch (r.Next(depth > 0 ? 9 : 16))
        {
            case 0: case 1: // assignments that differ between paths
                Assign(b);
                break;
            case 2: case 3: // guarded access: if x > K (or x >= y) skip; p = base + x; access
            {
                var x = b.W();
                var skip = b.Label();
                var size = b.Size();
                var bytes = Opcodes.Bytes(size);
                if (r.Next(2) == 0)
                {
                    var k = MemorySize - bytes + r.Next(-2, 2);
                    b.JumpTo(Instruction.JumpImm(r.Next(5) == 0 ? OpClass.Jmp32 : OpClass.Jmp, r.Next(2) == 0 ? JumpOp.Jgt : JumpOp.Jsgt, x, k, 0), skip);
                    if (r.Next(3) == 0) b.JumpTo(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jslt, x, 0, 0), skip);
                }
                else
                {
                    b.JumpTo(Instruction.JumpReg(r.Next(6) == 0 ? OpClass.Jmp32 : OpClass.Jmp, r.Next(2) == 0 ? JumpOp.Jge : JumpOp.Jgt, x, b.W(), 0), skip);
                }
                Access(b, x, size);
                b.Mark(skip);
                break;
            }
            case 4: // diamond with a padded side, so a state is stored at the join
            {
                var other = b.Label();
                var join = b.Label();
                var x = b.W();
                b.JumpTo(Cond(b, x, r.Next(3) == 0), other);
                for (var i = r.Next(0, 3); i > 0; i--) Assign(b);
                for (var i = r.Next(0, 10); i > 0; i--) b.Emit(Instruction.JumpImm(OpClass.Jmp, JumpOp.Ja, Register.R0, 0, 0));
                b.JumpTo(Instruction.JumpImm(OpClass.Jmp, JumpOp.Ja, Register.R0, 0, 0), join);
                b.Mark(other);
                for (var i = r.Next(0, 3); i > 0; i--) Assign(b);
                b.Mark(join);
                break;
            }
            case 5: // a compare skipping what follows
            {
                var skip = b.Label();
                b.JumpTo(Cond(b, b.W(), r.Next(2) == 0), skip);
                Item(b, depth + 1);
                b.Mark(skip);
                break;
            }
            case 6: // unguarded access through a register bounded (or not) earlier, or a fixed in-range one
                if (r.Next(2) == 0)
                {
                    Access(b, b.W(), b.Size());
                }
                else
                {
                    var size = b.Size();
                    b.Emit(Instruction.Load(size, b.W(), Base, b.Offset(size)));
                }
                break;
            case 7: // ALU
            {
                var cls = r.Next(4) == 0 ? OpClass.Alu : OpClass.Alu64;
                var op = (AluOp[])[AluOp.Add, AluOp.Sub, AluOp.And, AluOp.Or, AluOp.Lsh, AluOp.Rsh, AluOp.Arsh, AluOp.Mul, AluOp.Xor, AluOp.Mov];
                var aop = op[r.Next(op.Length)];
                var imm = aop is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh ? r.Next(0, cls == OpClass.Alu ? 32 : 64) : b.Const();
                b.Emit(r.Next(3) == 0 ? Instruction.AluReg(cls, aop, b.W(), b.W()) : Instruction.AluImm(cls, aop, b.W(), imm));
                break;
            }
            case 8: // spill or fill
                StackItem(b);
                break;
            case 9: // store into memory (sometimes the pointer itself)
            {
                var size = r.Next(3) == 0 ? MemSize.DW : b.Size();
                var src = r.Next(6) == 0 ? Base : b.W();
                if (src == Base) size = MemSize.DW;
                b.Emit(Instruction.StoreReg(size, Base, src, b.Offset(size)));
                break;
            }
            case 10: case 11: // pointer compared with a register; the equal edge dereferences the register (or the pointer)
            {
                var x = b.W();
                var skip = b.Label();
                b.JumpTo(r.Next(2) == 0 ? Instruction.JumpReg(OpClass.Jmp, JumpOp.Jne, Base, x, 0) : Instruction.JumpReg(OpClass.Jmp, JumpOp.Jne, x, Base, 0), skip);
                b.Emit(Instruction.Load(MemSize.B, Register.R1, r.Next(4) == 0 ? x : Base, (short)r.Next(0, MemorySize)));
                b.Mark(skip);
                break;
            }
            case 12 or 13 when b.T == Target.Xdp:
                Assign(b);
                break;
            case 12: case 13: // bpf-to-bpf call with the base and a value
            {
                if (b.SubLabel < 0) b.SubLabel = b.Label();
                var x = b.W();
                b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, x));
                b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Base));
                b.JumpTo(Instruction.CallLocal(0), b.SubLabel);
                if (r.Next(2) == 0) b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Kept[r.Next(Kept.Length)], Register.R0));
                for (var reg = 2; reg <= 5; reg++) b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, (Register)reg, b.Const()));
                break;
            }
            default: // a value from memory
                LoadValue(b, b.W());
                break;
        }
    }

    private static void Assign(Builder b)
    {
        var r = b.R;
        var x = b.W();
        switch (r.Next(7))
        {
            case 0: case 1: b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, x, b.Const())); break;
            case 2: b.Emit(Instruction.AluReg(r.Next(4) == 0 ? OpClass.Alu : OpClass.Alu64, AluOp.Mov, x, b.W())); break;
            case 3: LoadValue(b, x); break;
            case 4: b.Emit(Instruction.AluImm(OpClass.Alu64, r.Next(2) == 0 ? AluOp.And : AluOp.Add, x, b.Const())); break;
            case 5: b.Emit(Instruction.StoreReg(MemSize.DW, Register.R10, x, (short)(-8 * r.Next(1, 5)))); break;
            default: StackItem(b); break;
        }
    }

    /// <summary>
    /// One stack access among the four slots fp-8..fp-32, of the kinds whose differences between two paths a join
    /// must compare: a full spill (of a work register or of the base pointer), a narrow store of a register, an
    /// immediate store (zero or not), a full or narrow fill at any aligned offset of the slot.
    /// </summary>
    private static void StackItem(Builder b)
    {
        var r = b.R;
        var slot = -8 * r.Next(1, 5);
        switch (r.Next(6))
        {
            case 0:
                b.Emit(Instruction.StoreReg(MemSize.DW, Register.R10, r.Next(5) == 0 ? Base : b.W(), (short)slot));
                break;
            case 1:
            {
                var size = Sizes[r.Next(3)];
                b.Emit(Instruction.StoreReg(size, Register.R10, b.W(), (short)(slot + Opcodes.Bytes(size) * r.Next(0, 8 / Opcodes.Bytes(size)))));
                break;
            }
            case 2:
            {
                var size = b.Size();
                b.Emit(Instruction.StoreImm(size, Register.R10, (short)(slot + Opcodes.Bytes(size) * r.Next(0, 8 / Opcodes.Bytes(size))), r.Next(2) == 0 ? 0 : b.Const()));
                break;
            }
            case 3:
            {
                var size = b.Size();
                b.Emit(Instruction.Load(size, b.W(), Register.R10, (short)(slot + Opcodes.Bytes(size) * r.Next(0, 8 / Opcodes.Bytes(size)))));
                break;
            }
            default:
                b.Emit(Instruction.Load(MemSize.DW, b.W(), Register.R10, (short)slot));
                break;
        }
    }

    /// <summary>p = base + x; load or store at p + off.</summary>
    private static void Access(Builder b, Register x, MemSize size)
    {
        b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R1, Base));
        b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R1, x));
        var off = (short)(b.R.Next(4) == 0 ? b.R.Next(0, 4) * Opcodes.Bytes(size) : 0);
        var skip = -1;
        if (b.T == Target.Xdp && b.R.Next(6) != 0)
        {
            // A moved packet pointer has no range until it is compared with data_end again.
            skip = b.Label();
            b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Scratch, Register.R1));
            b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Add, Scratch, off + Opcodes.Bytes(size) - (b.R.Next(8) == 0 ? 1 : 0)));
            b.JumpTo(Instruction.JumpReg(OpClass.Jmp, b.R.Next(2) == 0 ? JumpOp.Jgt : JumpOp.Jge, Scratch, DataEnd, 0), skip);
        }
        if (b.R.Next(3) == 0) b.Emit(Instruction.StoreReg(size, Register.R1, b.W(), off));
        else b.Emit(Instruction.Load(size, b.W(), Register.R1, off));
        if (skip >= 0) b.Mark(skip);
    }

    /// <summary>sub(p, x): a bounded (or not) access at p + x, through a diamond of its own.</summary>
    private static void Subprogram(Builder b)
    {
        var r = b.R;
        b.Mark(b.SubLabel);
        var skip = b.Label();
        var join = b.Label();
        b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R3, r.Next(0, 70)));
        b.JumpTo(Instruction.JumpImm(OpClass.Jmp, JumpOp.Jgt, Register.R2, r.Next(0, 100), 0), join);
        b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R3, r.Next(0, 70)));
        for (var i = r.Next(0, 9); i > 0; i--) b.Emit(Instruction.JumpImm(OpClass.Jmp, JumpOp.Ja, Register.R0, 0, 0));
        b.Mark(join);
        b.Emit(Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0));
        b.JumpTo(Instruction.JumpReg(OpClass.Jmp, r.Next(2) == 0 ? JumpOp.Jge : JumpOp.Jgt, Register.R2, Register.R3, 0), skip);
        b.Emit(Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R1, Register.R2));
        b.Emit(Instruction.Load(MemSize.B, Register.R0, Register.R1, 0));
        b.Mark(skip);
        b.Emit(Instruction.ExitInsn());
    }

    // ---- inputs ---------------------------------------------------------------------------------------

    private static readonly ulong[] Words =
    [
        0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 48, 56, 60, 62, 63, 64, 65, 99, 100, 101, 127, 128, 255, 256, 1000,
        0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_003f, long.MaxValue, 0x8000_0000_0000_0000,
        ulong.MaxValue, ulong.MaxValue - 1, unchecked((ulong)-64), unchecked((ulong)-65),
    ];

    /// <summary>Fills <paramref name="memory"/> with input number <paramref name="run"/>: all zeros, all ones,
    /// then 8-byte words (or single bytes) drawn from boundary values.</summary>
    public static void Input(Span<byte> memory, int run, Random rnd)
    {
        switch (run)
        {
            case 0: memory.Clear(); return;
            case 1: memory.Fill(0xff); return;
        }
        for (var w = 0; w + 8 <= memory.Length; w += 8)
        {
            var v = rnd.Next(8) == 0 ? (ulong)rnd.NextInt64() : Words[rnd.Next(Words.Length)];
            if (rnd.Next(6) == 0) v = (ulong)rnd.Next(0, 256) << (8 * rnd.Next(0, 8)); // one nonzero byte
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(memory[w..], v);
        }
    }

    // ---- the campaign ---------------------------------------------------------------------------------

    public sealed record Finding(int MasterSeed, long Index, PrivilegeMode Mode, string Fault, string ProgramHex, string MemoryHex)
    {
        public override string ToString() =>
            $"seed {MasterSeed} index {Index} ({Mode}): {Fault}\n  prog={ProgramHex}\n  mem={MemoryHex}";
    }

    public sealed class Stats
    {
        public long Programs;
        public long Accepted;
        public long Runs;
        public readonly List<Finding> Faults = [];
        public readonly Dictionary<string, long> Rejections = [];
        public TimeSpan Elapsed;

        public double PerSecond => Elapsed.TotalSeconds > 0 ? Programs / Elapsed.TotalSeconds : 0;

        public override string ToString() =>
            $"{Programs} programs, {Accepted} accepted ({(Programs == 0 ? 0 : 100.0 * Accepted / Programs):F1}%), {Runs} interpreter runs, " +
            $"{Faults.Count} faults, {Elapsed.TotalSeconds:F1} s, {PerSecond:F0} programs/s";
    }

    public const int RunsPerProgram = 12;

    /// <summary>Generates, verifies and (when accepted) runs programs <paramref name="start"/>, start+stride, ... of
    /// <paramref name="masterSeed"/> until <paramref name="budget"/> elapses; even indices are verified privileged,
    /// odd ones CAP_BPF-only. <paramref name="progress"/> is called about every <paramref name="progressEvery"/>.</summary>
    public static Stats Campaign(int masterSeed, TimeSpan budget, long start = 0, long stride = 1, Action<Stats>? progress = null, TimeSpan? progressEvery = null)
    {
        var stats = new Stats();
        var clock = Stopwatch.StartNew();
        var nextReport = progressEvery ?? TimeSpan.MaxValue;
        var memory = new byte[MemorySize];
        var input = new byte[MemorySize];
        var privileged = Options(Target.Memory, PrivilegeMode.Privileged);
        var capBpf = Options(Target.Memory, PrivilegeMode.CapBpfOnly);
        for (var index = start; clock.Elapsed < budget; index += stride)
        {
            var rnd = new Random(ProgramSeed(masterSeed, index));
            var program = Build(rnd, Target.Memory);
            var mode = index % 2 == 0 ? PrivilegeMode.Privileged : PrivilegeMode.CapBpfOnly;
            var result = BpfVerifier.Verify(program, mode == PrivilegeMode.Privileged ? privileged : capBpf);
            stats.Programs++;
            if (!result.IsAccepted)
            {
                var key = result.Error!.Code.ToString();
                stats.Rejections[key] = stats.Rejections.GetValueOrDefault(key) + 1;
            }
            else
            {
                stats.Accepted++;
                var vm = new Interpreter(program, new InterpreterOptions { InstructionBudget = 1_000_000 });
                for (var run = 0; run < RunsPerProgram; run++)
                {
                    Input(input, run, rnd);
                    input.CopyTo(memory, 0);
                    var outcome = vm.Run(memory);
                    stats.Runs++;
                    if (!outcome.Succeeded)
                    {
                        stats.Faults.Add(new Finding(masterSeed, index, mode, outcome.Fault?.ToString() ?? "fault",
                            string.Join(" ", program.Select(x => x.ToRaw().ToString("x16"))), Convert.ToHexString(input)));
                        break;
                    }
                }
            }
            if (clock.Elapsed >= nextReport)
            {
                stats.Elapsed = clock.Elapsed;
                progress?.Invoke(stats);
                nextReport += progressEvery!.Value;
            }
        }
        stats.Elapsed = clock.Elapsed;
        return stats;
    }
}
