namespace Bpf.Btf;

/// <summary>
/// Where the kernel keeps a BTF-attached program's attach point in its BTF (the names libbpf looks up): an LSM
/// hook <c>X</c> is the function <c>bpf_lsm_X</c>, a BTF raw tracepoint (<c>tp_btf/X</c>) the typedef
/// <c>btf_trace_X</c>, an iterator (<c>iter/X</c>) the function <c>bpf_iter_X</c>, fentry/fexit/fmod_ret the
/// function itself. The loader takes the attach BTF id from it, the verifier the prototype that types the context.
/// </summary>
public static class BtfAttachTargets
{
    /// <summary>The name and kind of the BTF type a program attaching to <paramref name="target"/> is typed by.</summary>
    /// <param name="type">The program type.</param>
    /// <param name="attachType">The expected attach type (from the section name).</param>
    /// <param name="target">The attach target as the section names it (after the '/').</param>
    public static (string Name, BtfKind Kind) KernelName(ProgramType type, AttachType? attachType, string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return type switch
        {
            ProgramType.Lsm => ("bpf_lsm_" + target, BtfKind.Func),
            _ when attachType == AttachType.TraceRawTp => ("btf_trace_" + target, BtfKind.Typedef),
            _ when attachType == AttachType.TraceIter => ("bpf_iter_" + target, BtfKind.Func),
            _ => (target, BtfKind.Func),
        };
    }

    /// <summary>The function prototype that types the context of a program attaching to <paramref name="target"/>
    /// in <paramref name="kernel"/> (for a BTF raw tracepoint, the prototype behind its <c>btf_trace_</c> typedef,
    /// whose first parameter is the tracepoint's <c>void *__data</c>); null when the kernel's BTF has no such type.</summary>
    public static BtfFuncProto? Prototype(BtfSpec kernel, ProgramType type, AttachType? attachType, string target)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var (name, kind) = KernelName(type, attachType, target);
        var found = kernel.FindType(name, kind);
        var t = found switch
        {
            BtfFunc f => f.Target,
            BtfTypedef td when BtfSpec.Underlying(td) is BtfPointer p => p.Target,
            _ => null,
        };
        return t is null ? null : BtfSpec.Underlying(t) as BtfFuncProto;
    }
}
