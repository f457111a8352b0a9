using System.Buffers.Binary;
using Bpf.Asm;
using Bpf.Loader;
using Bpf.Runtime;
using Bpf.Tests;

namespace Bpf.Differential.Tests;

/// <summary>
/// Every conformance file run in the kernel through an XDP wrapper and compared with the managed interpreter and
/// the file's expected result. The wrapper's prologue turns the XDP context into the suite's calling convention
/// (r1 = the memory, r2 = its length) after a bounds check the verifier can use; an epilogue inside the main
/// function stores the full 64-bit r0 in an array map (the test run reports only 32 bits). Files the kernel's
/// verifier refuses are listed with its reason in conformance-kernel-known.txt; the list must match exactly.
/// </summary>
public sealed class ConformanceKernelTests : KernelTest
{
    private const string KnownFile = "conformance-kernel-known.txt";
    private readonly ITestOutputHelper _output;

    public ConformanceKernelTests(ITestOutputHelper output) => _output = output;

    [KernelFact]
    public void Kernel_and_interpreter_agree_on_the_conformance_suite()
    {
        using var results = BpfMap.Create(new Bpf.Loader.MapCreateSpec { Type = Bpf.MapType.Array, KeySize = 4, ValueSize = 8, MaxEntries = 1, Name = "conf_r0" });
        var rejected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var mismatches = new List<string>();
        var agreed = 0;
        foreach (var path in RepoPaths.ConformanceFiles())
        {
            var name = Path.GetFileName(path);
            var file = ConformanceDataFile.Parse(path);
            var program = Assembler.Assemble(file.Asm, AsmDialect.Conformance, file.AsmFirstLine, name);
            if (program.Any(i => i.Opcode == 0x85 && i.SrcRaw == 0 && i.Imm == HelperRegistry.UnwindHelperId))
            {
                rejected[name] = "calls helper 5, the suite's unwind helper; in the kernel id 5 is ktime_get_ns";
                continue;
            }
            var (wrapped, mapSlot) = Wrap(program, file.Memory.Length);
            BpfProgram kernelProgram;
            try
            {
                kernelProgram = BpfProgram.Load(Bpf.ProgramType.Xdp, wrapped, "GPL", new LoadOptions
                {
                    Name = "conformance",
                    MapRelocations = [new MapRelocation(mapSlot, results)],
                });
            }
            catch (ProgramRejectedException e)
            {
                rejected[name] = Reason(e);
                continue;
            }
            using (kernelProgram)
            {
                results.Update(BitConverter.GetBytes(0u), BitConverter.GetBytes(0xDEADBEEFDEADBEEFUL));
                var data = new byte[Math.Max(file.Memory.Length, 14)];
                file.Memory.CopyTo(data, 0);
                var k = kernelProgram.TestRun(data, default, new TestRunOptions { DataOutCapacity = 4096 });
                var value = new byte[8];
                results.Lookup(BitConverter.GetBytes(0u), value);
                var kernelR0 = BinaryPrimitives.ReadUInt64LittleEndian(value);

                var memory = file.Memory.ToArray();
                var m = new Interpreter(program, new InterpreterOptions { Helpers = HelperRegistry.CreateDefault() }).Run(memory);
                if (!m.Succeeded)
                {
                    mismatches.Add($"{name}: the kernel ran it (r0 0x{kernelR0:x}) but the interpreter faulted: {m.Fault}");
                    continue;
                }
                var ok = true;
                if (kernelR0 != m.R0 || k.ReturnValue != (uint)m.R0)
                {
                    mismatches.Add($"{name}: r0 kernel 0x{kernelR0:x} (retval 0x{k.ReturnValue:x}), interpreter 0x{m.R0:x}");
                    ok = false;
                }
                if (file.ExpectedResult is { } expected && expected != kernelR0)
                {
                    mismatches.Add($"{name}: kernel r0 0x{kernelR0:x}, the file expects 0x{expected:x}");
                    ok = false;
                }
                if (!k.Data.AsSpan(0, memory.Length).SequenceEqual(memory))
                {
                    mismatches.Add($"{name}: memory after the run differs: kernel {Convert.ToHexString(k.Data.AsSpan(0, memory.Length))} interpreter {Convert.ToHexString(memory)}");
                    ok = false;
                }
                if (ok) agreed++;
            }
        }

        var knownPath = Path.Combine(AppContext.BaseDirectory, KnownFile);
        var generated = string.Join("\n", rejected.Select(kv => $"{kv.Key}: {kv.Value}")) + "\n";
        if (Environment.GetEnvironmentVariable("BPFNET_WRITE_KNOWN") is { Length: > 0 } target)
        {
            File.WriteAllText(target, generated);
        }
        _output.WriteLine($"conformance in the kernel: {agreed} files agree (kernel = interpreter = expected), {rejected.Count} refused by the kernel (listed in {KnownFile}), {mismatches.Count} mismatches");
        foreach (var mm in mismatches) _output.WriteLine(mm);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(20)));
        var known = File.ReadAllLines(knownPath).Where(l => l.Length > 0).ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 2)..]);
        var unexpected = rejected.Keys.Except(known.Keys).Select(f => $"{f}: newly refused by the kernel: {rejected[f]}");
        var fixedNow = known.Keys.Except(rejected.Keys).Select(f => $"{f}: listed as refused but the kernel now accepts it");
        var drift = unexpected.Concat(fixedNow).ToList();
        Assert.True(drift.Count == 0, string.Join("\n", drift));
    }

    /// <summary>The last meaningful line of the verifier log: the kernel's reason.</summary>
    private static string Reason(ProgramRejectedException e)
    {
        var lines = e.Message.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal) && !l.StartsWith("stack depth", StringComparison.Ordinal)).ToList();
        var first = lines.FirstOrDefault() ?? e.Message;
        return (lines.Count > 1 ? lines[^1] : first).Replace('\n', ' ');
    }

    /// <summary>Builds prologue + program (main-function exits jump to the epilogue) + epilogue; returns the slot of
    /// the epilogue's map lddw.</summary>
    internal static (Instruction[] Program, int MapSlot) Wrap(Instruction[] body, int length)
    {
        var n = body.Length;
        var mainEnd = n;
        for (var i = 0; i < n; i++)
        {
            if (body[i].Opcode == 0x85 && body[i].SrcRaw == 1 && i + 1 + body[i].Imm > 0) mainEnd = Math.Min(mainEnd, i + 1 + body[i].Imm);
        }
        var (mapLo, mapHi) = Instruction.LoadImm64(Register.R1, 0, PseudoSource.MapFd);
        Instruction[] epilogue =
        [
            body[mainEnd - 1],
            Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R0),
            Instruction.StoreImm(MemSize.W, Register.R10, -4, 0),
            mapLo, mapHi,
            Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R2, Register.R10),
            Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R2, -4),
            Instruction.CallHelper(1),
            Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R0, 0, 1),
            Instruction.StoreReg(MemSize.DW, Register.R0, Register.R6, 0),
            Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R0, Register.R6),
            Instruction.ExitInsn(),
            // Bounds-check failure (never taken: the packet holds the memory).
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0x7EADBEEF),
            Instruction.ExitInsn(),
        ];
        var replacements = new Instruction[]?[n];
        replacements[mainEnd - 1] = epilogue;
        var patched = InstructionPatcher.Patch(body, replacements);
        // Where the epilogue landed: right after the (relocated) last main instruction.
        var epilogueStart = LocateEpilogue(patched, epilogue);
        for (var i = 0; i < epilogueStart; i++)
        {
            if (patched[i].Opcode == 0x95) patched[i] = Instruction.JumpImm(OpClass.Jmp, JumpOp.Ja, 0, 0, (short)(epilogueStart - (i + 1)));
        }
        Instruction[] prologue =
        [
            Instruction.Load(MemSize.W, Register.R2, Register.R1, 4),
            Instruction.Load(MemSize.W, Register.R1, Register.R1, 0),
            Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R3, Register.R1),
            Instruction.AluImm(OpClass.Alu64, AluOp.Add, Register.R3, length),
            default, // jgt r3, r2 -> fail (filled below)
            Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R2, length),
        ];
        var fail = prologue.Length + epilogueStart + epilogue.Length - 3;
        prologue[4] = Instruction.JumpReg(OpClass.Jmp, JumpOp.Jgt, Register.R3, Register.R2, (short)(fail - 5));
        return ([.. prologue, .. patched], prologue.Length + epilogueStart + 2);
    }

    private static int LocateEpilogue(Instruction[] patched, Instruction[] epilogue)
    {
        // The epilogue's distinctive store of r6 through r0 comes 8 slots after its start.
        for (var i = 0; i + epilogue.Length - 1 <= patched.Length; i++)
        {
            if (patched[i] == epilogue[1] && patched[i + 1] == epilogue[2] && patched[i + 8] == epilogue[9]) return i;
        }
        throw new InvalidOperationException("epilogue not found");
    }
}
