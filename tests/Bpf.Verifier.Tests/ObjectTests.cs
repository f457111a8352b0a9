using Bpf.Loader;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Compiled C programs (the ELF fixtures of Bpf.Core.Tests): our verdict against the kernel's.</summary>
public sealed class ObjectTests(ITestOutputHelper output)
{
    private static IEnumerable<string> Objects() =>
        new[] { RepoPaths.CorpusDir, Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Runtime", "programs"), Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "programs") }
            .SelectMany(d => Directory.EnumerateFiles(d, "*.o")).OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal);

    /// <summary>Objects the kernel cannot load on purpose (they exercise the ELF reader), and why. Their programs are
    /// compared through a loadable twin instead (rt_xdp_filter.o for xdp_filter.o).</summary>
    private static readonly Dictionary<string, string> UnloadableObjects = new(StringComparer.Ordinal)
    {
        ["xdp_filter.o"] = "map 'blocked' is an LRU hash with BPF_F_NO_PREALLOC, which the kernel refuses (ENOTSUPP) and the managed runtime refuses likewise",
    };

    /// <summary>Every program of the loadable committed objects (13 loadable objects, 28 programs when this was written):
    /// the test fails when fewer are compared, so a program dropped from the comparison cannot go unnoticed.</summary>
    private const int MinimumCompared = 28;

    /// <summary>Programs where we and the kernel differ for a stated reason. Anything else that differs — including
    /// "not modelled" (NotSupported) on our side, which is not a verdict — fails.</summary>
    private static readonly Dictionary<string, string> KnownDisagreements = new(StringComparer.Ordinal)
    {
    };

    [Fact]
    public void CompiledPrograms_AgreeWithKernel()
    {
        Need.Kernel();
        var compared = 0;
        var known = 0;
        var unexplained = new List<string>();
        foreach (var file in Objects())
        {
            var obj = ObjectSpec.ReadFile(file);
            if (UnloadableObjects.TryGetValue(Path.GetFileName(file), out var unloadable))
            {
                var refused = Assert.Throws<BpfSyscallException>(() => KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true }).Dispose());
                Assert.Equal("BPF_MAP_CREATE", refused.Command);
                output.WriteLine($"{Path.GetFileName(file)}: not compared, refused by the kernel as expected ({unloadable}): {refused.Message}");
                continue;
            }
            // The loader loads the object as an application would (its BTF and func_info, inner maps for
            // map-in-map, map flags as the kernel takes them), keeping going past programs the kernel rejects.
            using var kernel = Need.PermittedOrSkip($"loading {Path.GetFileName(file)}",
                () => KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true }));
            foreach (var program in obj.Programs)
            {
                var name = $"{Path.GetFileName(file)}:{program.Name}";
                string ours;
                bool oursAccepted, notModelled;
                if (!ObjectVerifier.TryPrepare(obj, program, PrivilegeMode.Privileged, KernelBtf.TryGet(), out var insns, out var options, out var error))
                {
                    (ours, oursAccepted, notModelled) = ("not modelled: " + error!.Message, false, true);
                }
                else
                {
                    var r = BpfVerifier.Verify(insns, options);
                    (ours, oursAccepted, notModelled) = (r.ToString(), r.IsAccepted, r.Error?.Code == VerifierErrorCode.NotSupported);
                }
                var kernelAccepted = kernel.Programs.ContainsKey(program.Name);
                var theirs = kernelAccepted ? "accept"
                    : kernel.FailedPrograms.TryGetValue(program.Name, out var why) ? why.Message.Split('\n')[0] : "not loaded (no reason given)";
                output.WriteLine($"{name}: ours {ours}; kernel {theirs}");
                compared++;
                if (oursAccepted == kernelAccepted && !notModelled) continue;
                var line = $"{name}: ours [{ours}] kernel [{theirs}]";
                if (KnownDisagreements.TryGetValue(name, out var reason))
                {
                    known++;
                    output.WriteLine($"KNOWN {line}: {reason}");
                }
                else
                {
                    unexplained.Add(line);
                }
            }
        }
        output.WriteLine($"{compared} compiled programs compared with the kernel, {known} known disagreements, {unexplained.Count} unexplained");
        Assert.True(compared >= MinimumCompared, $"only {compared} compiled programs compared with the kernel; at least {MinimumCompared} expected");
        Assert.True(unexplained.Count == 0, "disagreements with the kernel (\"not modelled\" counts as one):\n" + string.Join("\n", unexplained));
    }

    [Fact]
    public void CallbackScans_Verified_AndTheKernelLoadsThem()
    {
        var file = Objects().Single(f => f.EndsWith("loop_scan.o", StringComparison.Ordinal));
        var obj = ObjectSpec.ReadFile(file);
        Assert.True(ObjectVerifier.TryPrepare(obj, obj.Program("loop_scan")!, PrivilegeMode.Privileged, out var insns, out var options, out var error), error?.Message);
        var ours = BpfVerifier.Verify(insns, options);
        output.WriteLine($"ours: {ours}");
        Assert.True(ours.IsAccepted, ours.ToString());
        // Without func_info (a raw load) the kernel refuses the callback, and so do we.
        var raw = BpfVerifier.Verify(insns, new VerifierOptions { ProgramType = options.ProgramType, Maps = options.Maps });
        Assert.Equal("missing btf func_info", raw.Error?.Message);
        // The callback's return value must be 0 or 1: break it and the verdict must say so.
        var callbackExit = Array.FindLastIndex(insns, i => i.Opcode == Opcodes.Exit); // the callback follows the program
        var broken = insns.ToArray();
        broken[callbackExit - 1] = new Instruction(0xb7, (byte)0, (byte)0, 0, 2); // r0 = 2 before the callback's exit
        var r = BpfVerifier.Verify(broken, options);
        Assert.False(r.IsAccepted);
        Assert.Contains("At callback return the register R0", r.Error!.Message);
        Assert.True(ObjectVerifier.TryPrepare(obj, obj.Program("for_each_scan")!, PrivilegeMode.Privileged, out var each, out var eachOptions, out error), error?.Message);
        var eachResult = BpfVerifier.Verify(each, eachOptions);
        Assert.True(eachResult.IsAccepted, eachResult.ToString());
        Assert.True(ObjectVerifier.TryPrepare(obj, obj.Program("for_each_writes_key")!, PrivilegeMode.Privileged, out var writes, out var writesOptions, out error), error?.Message);
        Assert.Equal("write to change key R2 not allowed", BpfVerifier.Verify(writes, writesOptions).Error?.Message);
        Need.Kernel();
        using var c = Need.PermittedOrSkip("loading loop_scan.o", () => KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true }));
        Assert.False(c.FailedPrograms.ContainsKey("loop_scan"), c.FailedPrograms.GetValueOrDefault("loop_scan")?.Message);
        Assert.False(c.FailedPrograms.ContainsKey("for_each_scan"), c.FailedPrograms.GetValueOrDefault("for_each_scan")?.Message);
        Assert.True(c.FailedPrograms.ContainsKey("for_each_writes_key"));
        output.WriteLine("the kernel loads loop_scan and for_each_scan, and refuses for_each_writes_key");
    }

    [Fact]
    public void Rejection_NamesTheSourceLine()
    {
        var file = Objects().First(f => f.EndsWith("socket_filter.o", StringComparison.Ordinal));
        var obj = ObjectSpec.ReadFile(file);
        var program = obj.Programs[0];
        Assert.True(ObjectVerifier.TryPrepare(obj, program, PrivilegeMode.Privileged, out var insns, out var options, out _));
        // Break the program: make its last instruction read an uninitialised register before exit.
        insns[^1] = Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R0, Register.R9);
        var withExit = insns.Append(Instruction.ExitInsn()).ToArray();
        var r = BpfVerifier.Verify(withExit, options);
        Assert.False(r.IsAccepted);
        output.WriteLine($"{r.Error} at {r.Error!.Source?.File}:{r.Error.Source?.Line}");
        Assert.NotNull(r.Error.Source);
        Assert.EndsWith(".c", r.Error.Source!.File);
    }
}
