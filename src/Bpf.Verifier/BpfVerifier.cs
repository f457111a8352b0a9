using Bpf.Verifier.Internal;

namespace Bpf;

/// <summary>
/// A userspace eBPF safety verifier that follows the Linux kernel's rules (Documentation/bpf/verifier.rst):
/// a structural pass (size, encoding, jumps, reachability, loops when unprivileged, call targets) followed by
/// a path-by-path abstract interpretation with state pruning (tnum + signed/unsigned 32/64-bit bounds for
/// scalars; typed pointers for context, stack, map values, packets and memory regions; helper prototypes).
/// </summary>
public static class BpfVerifier
{
    /// <summary>Verifies a program given as slots (an lddw takes two).</summary>
    /// <param name="program">The instruction slots.</param>
    /// <param name="options">Program type, privilege mode, maps and limits.</param>
    /// <returns>The verdict with statistics, and on rejection the first error found.</returns>
    public static VerificationResult Verify(ReadOnlySpan<Instruction> program, VerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Checker.Verify(program.ToArray(), options);
    }

    /// <summary>Verifies a program with the default options (privileged socket filter, no maps).</summary>
    public static VerificationResult Verify(ReadOnlySpan<Instruction> program) => Verify(program, VerifierOptions.Default);
}
