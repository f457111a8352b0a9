using Bpf.Helpers;
using Bpf.Loader;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>
/// Which helpers a program may call, against the kernel: every program type, with no expected attach type and with
/// each attach type the kernel knows, calling each helper of our table (<c>call N; r0 = 0; exit</c>), in both
/// privilege modes. The kernel decides availability before it reads an argument ("program of this type cannot use
/// helper ..." or "unknown func ..."); any other verdict means the helper is offered. Pairs the kernel refuses before
/// verifying (a type that needs a BTF target, an attach type the type does not take, a capability the mode lacks) and
/// helpers our table does not model (NotSupported) are not compared.
/// <para>
/// Found (2026-12-05): seq_printf and seq_write offered to a kprobe loaded with the iterator attach type (the kernel
/// offers them to iterator programs only) — more permissive than the kernel; and helpers the kernel offers that we
/// refused: bpf_get_task_stack to every type with CAP_PERFMON, perf_event_output, skb_load_bytes, csum_diff,
/// skb_pull_data, skb_store_bytes, the checksum helpers and redirect to the lightweight-tunnel, sk_skb, sk_msg,
/// sock_ops, cgroup and flow-dissector types, get_attach_cookie to raw tracepoints.
/// </para>
/// </summary>
public sealed class HelperAvailabilityDifferentialTests(ITestOutputHelper output)
{
    private static bool Unavailable(string log) =>
        log.Contains("cannot use helper", StringComparison.Ordinal) || log.Contains("unknown func", StringComparison.Ordinal)
        || log.Contains("invalid func", StringComparison.Ordinal);

    /// <summary>The kernel's answer: null when it refused before verifying, else whether it refused the helper itself
    /// (with its log).</summary>
    private static (bool Unavailable, string Log)? Kernel(ProgramType type, AttachType? attach, Instruction[] program)
    {
        try
        {
            using var p = BpfProgram.Load(type, program, "GPL", new LoadOptions { ExpectedAttachType = attach });
            return (false, "");
        }
        catch (ProgramRejectedException e) when (e.Log.Contains("processed ", StringComparison.Ordinal) && !e.Log.Contains("processed 0 insns", StringComparison.Ordinal))
        {
            return (Unavailable(e.Log), e.Log);
        }
        catch (BpfException)
        {
            return null;
        }
    }

    private static Instruction[] Calling(int helper) =>
        [Instruction.CallHelper(helper), Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0), Instruction.ExitInsn()];

    [KernelTheory]
    [InlineData(PrivilegeMode.Privileged, 70_000)]
    [InlineData(PrivilegeMode.CapBpfOnly, 50_000)]
    public void Helper_availability_agrees_with_the_kernel(PrivilegeMode mode, int minimum)
    {
        Need.Kernel();
        var helpers = Enumerable.Range(1, 230).ToArray();
        var (compared, disagreements) = KernelOracle.Under(mode, () =>
        {
            var compared = 0;
            var disagreements = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (var type in Enum.GetValues<ProgramType>())
            {
                for (var a = -1; a <= (int)AttachType.TraceUprobeSession; a++)
                {
                    AttachType? attach = a < 0 ? null : (AttachType)a;
                    // Does the kernel verify this type with this attach type at all (map_lookup_elem is offered to all)?
                    if (Kernel(type, attach, Calling(1)) is null) continue;
                    foreach (var h in helpers)
                    {
                        var program = Calling(h);
                        var ours = BpfVerifier.Verify(program, new VerifierOptions { ProgramType = type, ExpectedAttachType = attach, Privilege = mode });
                        if (ours.Error?.Code == VerifierErrorCode.NotSupported) continue;
                        if (Kernel(type, attach, program) is not { } kernel) continue;
                        compared++;
                        var oursUnavailable = ours.Error?.Code == VerifierErrorCode.UnknownHelper;
                        string? what = null;
                        if (kernel.Unavailable && !oursUnavailable) what = "the kernel refuses, ours offers";
                        else if (!kernel.Unavailable && oursUnavailable) what = "the kernel offers, ours refuses";
                        else if (kernel.Unavailable && !kernel.Log.Contains(ours.Error!.Message, StringComparison.Ordinal)) what = "worded differently";
                        if (what is null) continue;
                        // Grouped by helper: the program types.
                        var key = $"{what}: {HelperPrototypes.Find(h)?.Name ?? "#" + h}";
                        if (!disagreements.TryGetValue(key, out var set)) disagreements[key] = set = new SortedSet<string>(StringComparer.Ordinal);
                        set.Add(type.ToString());
                    }
                }
            }
            return (compared, disagreements);
        });
        output.WriteLine($"{mode}: {compared} calls compared");
        foreach (var (key, set) in disagreements) output.WriteLine($"  {key}: {string.Join(", ", set.Take(12))}{(set.Count > 12 ? $" (+{set.Count - 12})" : "")}");
        // Measured on 6.18: 83,160 (root) and 61,920 (CAP_BPF only); the floors leave room for another patch level.
        Assert.True(compared >= minimum, $"only {compared} helper calls reached the kernel's verifier");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements.Select(d => $"{d.Key}: {string.Join(", ", d.Value.Take(12))}")));
    }
}
