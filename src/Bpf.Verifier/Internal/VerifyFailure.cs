namespace Bpf.Verifier.Internal;

/// <summary>Unwinds the simulation when a rule is violated; caught in <see cref="Checker.Run"/> only.</summary>
internal sealed class VerifyFailure(VerifierErrorCode code, int insn, string message, int register = -1) : Exception(message)
{
    public VerifierErrorCode Code { get; } = code;
    public int Insn { get; } = insn;
    public int Register { get; } = register;
}
