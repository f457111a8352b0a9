using Bpf.Objects;
using Bpf.Tests;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>Compiled C programs (the ELF fixtures of Bpf.Core.Tests): our verdict against the kernel's.</summary>
public sealed class ObjectTests(ITestOutputHelper output)
{
    private static IEnumerable<string> Objects() =>
        Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "programs"), "*.o").OrderBy(f => f, StringComparer.Ordinal);

    [Fact]
    public void CompiledPrograms_AgreeWithKernel()
    {
        var kernelAvailable = KernelOracle.Available(output.WriteLine);
        var compared = 0;
        foreach (var file in Objects())
        {
            var obj = ObjectSpec.ReadFile(file);
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
                if (!kernelAvailable) continue;
                var kernel = KernelOracle.Load(insns, options.Maps, options.ProgramType);
                output.WriteLine($"{name}: kernel {(kernel.Accepted ? "accept" : kernel.Message)}");
                if (kernel.SetupFailed) continue;
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
