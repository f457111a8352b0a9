using Bpf.Loader;
using Bpf.Objects;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Compiled C programs (the ELF fixtures of Bpf.Core.Tests): our verdict against the kernel's.</summary>
public sealed class ObjectTests(ITestOutputHelper output)
{
    private static IEnumerable<string> Objects() =>
        Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "programs"), "*.o")
            .Concat(Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests", "Bpf.Verifier.Tests", "programs"), "*.o"))
            .OrderBy(f => f, StringComparer.Ordinal);

    /// <summary>The kernel's verdict on every program of an object, loaded as the loader loads it (with its BTF, so
    /// subprograms and callbacks carry func_info); null when the object cannot be set up here (maps).</summary>
    private static Dictionary<string, KernelVerdict>? KernelVerdicts(ObjectSpec obj, Action<string> print)
    {
        try
        {
            using var c = KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true });
            return obj.Programs.ToDictionary(p => p.Name, p => c.FailedPrograms.TryGetValue(p.Name, out var e)
                ? new KernelVerdict(false, e is VerifierException v ? v.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => !l.StartsWith("processed ", StringComparison.Ordinal) && !l.StartsWith("verification time", StringComparison.Ordinal) && !l.StartsWith("stack depth", StringComparison.Ordinal)) ?? e.Message : e.Message, 0)
                : new KernelVerdict(true, "", 0));
        }
        catch (Exception e) when (e is BpfSyscallException or NotSupportedException or InvalidOperationException)
        {
            print($"object not loadable here: {e.Message}");
            return null;
        }
    }

    [Fact]
    public void CompiledPrograms_AgreeWithKernel()
    {
        var kernelAvailable = KernelOracle.Available(output.WriteLine);
        var compared = 0;
        foreach (var file in Objects())
        {
            var obj = ObjectSpec.ReadFile(file);
            var kernelVerdicts = kernelAvailable && obj.Maps.All(m => m.InnerMap is null) ? KernelVerdicts(obj, output.WriteLine) : null;
            foreach (var program in obj.Programs)
            {
                var name = $"{Path.GetFileName(file)}:{program.Name}";
                if (obj.Maps.Any(m => m.InnerMap is not null))
                {
                    output.WriteLine($"{name}: skipped (map-in-map needs inner map fds in the oracle)");
                    continue;
                }
                if (!ObjectVerifier.TryPrepare(obj, program, PrivilegeMode.Privileged, out var insns, out var options, out var error))
                {
                    output.WriteLine($"{name}: not modelled: {error!.Message}");
                    continue;
                }
                var ours = BpfVerifier.Verify(insns, options);
                var line = options.SourceLocator!(0);
                output.WriteLine($"{name}: ours {ours} (insn 0 at {line?.File}:{line?.Line})");
                if (kernelVerdicts is null) continue;
                var kernel = kernelVerdicts[program.Name];
                output.WriteLine($"{name}: kernel {(kernel.Accepted ? "accept" : kernel.Message)}");
                compared++;
                if (ours.IsAccepted == kernel.Accepted) continue;
                // "Not modelled" is an honest "cannot tell", not a verdict; anything else must agree.
                Assert.True(!ours.IsAccepted && ours.Error!.Code == VerifierErrorCode.NotSupported,
                    $"{name}: ours {ours}, kernel {(kernel.Accepted ? "accept" : kernel.Message)}");
            }
        }
        output.WriteLine($"{compared} compiled programs compared with the kernel");
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
        if (!KernelOracle.Available(output.WriteLine)) Assert.Skip("kernel unavailable: " + KernelOracle.UnavailableReason);
        using var c = KernelCollection.Load(obj, new KernelCollectionOptions { SkipFailedPrograms = true });
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
