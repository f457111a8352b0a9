using Bpf.Btf;
using Bpf.Helpers;

namespace Bpf.Verifier.Internal;

/// <summary>
/// Calls to kernel functions (kfuncs: <c>call</c> with src=2, imm the FUNC's id in the kernel's BTF), as the
/// kernel's check_kfunc_call and check_kfunc_args judge them: the prototype comes from the kernel's BTF, the flags
/// and the program types allowed from <see cref="KfuncTable"/>. Argument kinds the kernel gives special meaning to
/// (dynptrs, iterators, graph nodes, callbacks, constant strings, ...) are reported as not supported.
/// </summary>
internal sealed partial class Checker
{
    /// <summary>The kernel's MAX_BPF_FUNC_REG_ARGS.</summary>
    private const int MaxKfuncArgs = 5;

    private void DoKfuncCall(int pc, Instruction insn)
    {
        if (_cur.HoldsLock)
        {
            // do_check: no kfunc this verifier knows is allowed under a bpf_spin_lock.
            throw Fail(VerifierErrorCode.InvalidHelperArgument, "function calls are not allowed while holding a lock");
        }
        if (insn.Imm == 0)
        {
            throw Fail(VerifierErrorCode.InvalidCallTarget, "invalid kernel function call not eliminated in verifier pass");
        }
        try
        {
            DoKfuncCallCore(pc, insn);
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(0, e);
        }
    }

    private void DoKfuncCallCore(int pc, Instruction insn)
    {
        // Structure.Build checked that the id names a FUNC with a prototype (add_kfunc_call).
        var btf = _o.KernelBtf!;
        var func = (BtfFunc)btf.TypeById((uint)insn.Imm);
        var proto = (BtfFuncProto)func.Target;
        var name = func.Name;
        var k = KfuncTable.Find(name)
            ?? throw Fail(VerifierErrorCode.NotSupported,
                $"kernel function {name} is not in this verifier's kfunc table (its flags and the program types that may call it are not in the kernel's BTF)");
        if (!KfuncTable.Allowed(k, _o.ProgramType))
        {
            throw Fail(VerifierErrorCode.UnknownHelper, $"calling kernel function {name} is not allowed");
        }
        if (k.Has(KfuncFlags.Destructive) || k.Has(KfuncFlags.Sleepable))
        {
            throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} is sleepable or destructive: not modelled");
        }

        var release = k.Has(KfuncFlags.Release);
        // The running 6.18 kernel treats every kfunc's pointer arguments as KF_TRUSTED_ARGS (measured: a pointer passed to
        // bpf_skb_ct_lookup, which is not flagged so, must be referenced or trusted), as upstream's "KF_TRUSTED_ARGS
        // the default" does; KF_RCU kfuncs also take RCU pointers.
        var rcuArgs = k.Has(KfuncFlags.Rcu);
        var nargs = proto.Parameters.Count;
        if (nargs > MaxKfuncArgs)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"Function {name} has {nargs} > {MaxKfuncArgs} args");
        }
        var releaseRegno = 0;
        var refObj = 0;
        var constantFound = false;
        for (var i = 0; i < nargs; i++)
        {
            var param = proto.Parameters[i];
            var r = i + 1;
            var reg = F.Regs[r];
            var t = BtfSpec.Underlying(param.Type);
            var suffix = ParamSuffix(param.Name);
            if (suffix == "ign") continue;
            if (t is BtfInt or BtfEnum)
            {
                if (!reg.IsScalar) throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} is not a scalar", r);
                if (suffix == "k")
                {
                    if (constantFound) throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} takes two constant arguments", r);
                    if (!reg.V.IsConst) throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} must be a known constant", r);
                    constantFound = true;
                }
                else if (suffix is not (null or "sz") || param.Name is "rdonly_buf_size" or "rdwr_buf_size")
                {
                    throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} argument '{param.Name}': this verifier does not model its kind", r);
                }
                continue;
            }
            if (t is not BtfPointer ptr)
            {
                throw Fail(VerifierErrorCode.InvalidHelperArgument, $"Unrecognized arg#{i} type {KindName(t)}", r);
            }
            if (suffix is not (null or "nullable"))
            {
                throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} argument '{param.Name}': this verifier does not model its kind", r);
            }
            var nullable = suffix == "nullable";
            if ((reg.IsZero() || reg.IsNullable) && !nullable)
            {
                throw Fail(VerifierErrorCode.InvalidHelperArgument, $"Possibly NULL pointer passed to trusted arg{i}", r);
            }
            if (reg.RefId != 0)
            {
                if (release && refObj != 0)
                {
                    throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} is passed two referenced pointers", r);
                }
                refObj = reg.RefId;
                if (release) releaseRegno = r;
            }
            var (pointee, _) = PointeeFrom(ptr.Target);
            if (i + 1 < nargs && ParamSuffix(proto.Parameters[i + 1].Name) == "szk")
            {
                throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} argument '{proto.Parameters[i + 1].Name}' (a constant memory size): not modelled", r + 1);
            }
            var memSize = i + 1 < nargs && IsMemSizeParam(proto.Parameters[i + 1], F.Regs[r + 1]);
            var kind = KfuncArgKind(name, i, pointee, reg, nullable, memSize);
            if (kind == KfuncArg.Null) continue;
            if (kind == KfuncArg.BtfId && !IsTrustedBtf(reg) && !(rcuArgs && reg is { Type: RegType.BtfPointer, Map: BtfTrust.Rcu }))
            {
                // A KF_RCU kfunc also takes an RCU-protected pointer (MEM_RCU: a __safe_rcu field read through a trusted one).
                throw Fail(VerifierErrorCode.InvalidHelperArgument, rcuArgs ? $"R{r} must be a rcu pointer" : $"R{r} must be referenced or trusted", r);
            }
            CheckKfuncArgOffset(r, reg, releasing: release && reg.RefId != 0);
            switch (kind)
            {
                case KfuncArg.Ctx:
                    if (reg.Type != RegType.Ctx)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"arg#{i} expected pointer to ctx, but got {reg.TypeName}", r);
                    }
                    break;
                case KfuncArg.BtfId:
                    if (reg.Map is BtfTrust.Untrusted or BtfTrust.Percpu)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"arg#{i} is {reg.TypeName} expected ptr_ or socket", r);
                    }
                    CheckKfuncStructArg(name, i, reg, pointee, strict: release && reg.RefId != 0);
                    break;
                case KfuncArg.Mem:
                {
                    ulong size;
                    try
                    {
                        size = BtfSpec.SizeOf(pointee);
                    }
                    catch (BpfObjectException)
                    {
                        throw Fail(VerifierErrorCode.InvalidHelperArgument,
                            $"arg#{i} reference type('{KindName(pointee)} {pointee.Name}') size cannot be determined: -22", r);
                    }
                    if (reg.IsZero()) break;
                    CheckHelperMemory(r, reg, (long)Math.Min(size, MaxVarOff), write: false);
                    CheckHelperMemory(r, reg, (long)Math.Min(size, MaxVarOff), write: true);
                    break;
                }
                case KfuncArg.MemSize:
                {
                    var sizeReg = F.Regs[r + 1];
                    try
                    {
                        CheckSizeArg(r + 1, sizeReg, zeroAllowed: true);
                        var size = (long)sizeReg.V.UMax;
                        CheckHelperMemory(r, reg, size, write: false, sizeIsConst: sizeReg.V.IsConst);
                        CheckHelperMemory(r, reg, size, write: true, sizeIsConst: sizeReg.V.IsConst);
                    }
                    catch (VerifyFailure f)
                    {
                        throw Fail(f.Code, $"{f.Message}\narg#{i} arg#{i + 1} memory, len pair leads to invalid memory access", f.Register);
                    }
                    i++;
                    break;
                }
            }
        }
        if (release && releaseRegno == 0)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"release kernel function {name} expects refcounted PTR_TO_BTF_ID");
        }
        // The kernel's active_rcu_lock. No pointer is RCU-protected (MEM_RCU) in this model, so leaving the section
        // changes no register; nothing this table holds is sleepable.
        if (name == "bpf_rcu_read_lock")
        {
            if (_cur.RcuLock) throw Fail(VerifierErrorCode.InvalidHelperArgument, $"nested rcu read lock (kernel function {name})");
            _cur.RcuLock = true;
        }
        else if (name == "bpf_rcu_read_unlock")
        {
            if (!_cur.RcuLock) throw Fail(VerifierErrorCode.InvalidHelperArgument, $"unmatched rcu read unlock (kernel function {name})");
            _cur.RcuLock = false;
        }
        if (releaseRegno != 0) ReleaseReference(F.Regs[releaseRegno].RefId);
        for (var r = 1; r <= 5; r++) F.Regs[r] = default;
        F.Regs[0] = KfuncReturn(pc, name, k, proto, refObj);
    }

    private enum KfuncArg
    {
        Ctx,
        Null,
        BtfId,
        Mem,
        MemSize,
    }

    /// <summary>The kernel's get_kfunc_ptr_arg_type, for the kinds this verifier models.</summary>
    private KfuncArg KfuncArgKind(string func, int i, BtfType pointee, in RegState reg, bool nullable, bool memSize)
    {
        if (pointee is BtfComposite { IsUnion: false } c && c.Name.Length > 0 && c.Name == ProgramContextStruct(_o.ProgramType)) return KfuncArg.Ctx;
        if (nullable && reg.IsZero() && !memSize) return KfuncArg.Null;
        if (reg.Type is RegType.BtfPointer or RegType.BtfPointerOrNull)
        {
            if (pointee is not BtfComposite)
            {
                throw Fail(VerifierErrorCode.InvalidHelperArgument,
                    $"kernel function {func} args#{i} pointer type {KindName(pointee)} {pointee.Name} is not supported", i + 1);
            }
            return KfuncArg.BtfId;
        }
        if (reg.Type is RegType.SockCommonOrNull)
        {
            throw Fail(VerifierErrorCode.NotSupported, $"a socket pointer passed to kernel function {func} is not modelled", i + 1);
        }
        // Measured on the running kernel: a struct of scalars without a size argument is judged as a kernel object
        // (a stack pointer to bpf_sock_tuple "must be referenced or trusted").
        if (pointee is BtfComposite && !memSize && IsScalarStruct(pointee, 0)) return KfuncArg.BtfId;
        if (pointee is not (BtfInt or BtfEnum) && !IsScalarStruct(pointee, 0) && (!memSize || pointee is not BtfVoid))
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument,
                $"arg#{i} pointer type {KindName(pointee)} {pointee.Name} must point to {(memSize ? "void, " : "")}scalar, or struct with scalar", i + 1);
        }
        return memSize ? KfuncArg.MemSize : KfuncArg.Mem;
    }

    /// <summary>The kernel's __btf_type_is_scalar_struct: a struct (or union) whose members are scalars, non-empty
    /// arrays of scalars, or such structs nested at most three deep.</summary>
    private static bool IsScalarStruct(BtfType t, int depth)
    {
        if (t is not BtfComposite c) return false;
        foreach (var m in c.Members)
        {
            var mt = BtfSpec.Underlying(m.Type);
            if (mt is BtfComposite)
            {
                if (depth >= 3 || !IsScalarStruct(mt, depth + 1)) return false;
                continue;
            }
            if (mt is BtfArray a)
            {
                if (a.Count == 0 || BtfSpec.Underlying(a.ElementType) is not (BtfInt or BtfEnum)) return false;
                continue;
            }
            if (mt is not (BtfInt or BtfEnum)) return false;
        }
        return true;
    }

    /// <summary>is_kfunc_arg_mem_size: a scalar parameter named <c>*__sz</c> holding a scalar.</summary>
    private static bool IsMemSizeParam(BtfParameter p, in RegState reg) =>
        reg.IsScalar && BtfSpec.Underlying(p.Type) is BtfInt or BtfEnum && ParamSuffix(p.Name) == "sz";

    /// <summary>The annotation suffix of a kfunc parameter name (<c>tuple__sz</c> → <c>sz</c>), or null.</summary>
    private static string? ParamSuffix(string name)
    {
        var at = name.LastIndexOf("__", StringComparison.Ordinal);
        return at > 0 && at + 2 < name.Length ? name[(at + 2)..] : null;
    }

    /// <summary>is_trusted_reg: a referenced or trusted BTF pointer.</summary>
    private static bool IsTrustedBtf(in RegState reg) =>
        reg.Type == RegType.BtfPointer && (reg.RefId != 0 || reg.Map == BtfTrust.Trusted);

    /// <summary>check_func_arg_reg_off for a kfunc argument.</summary>
    private void CheckKfuncArgOffset(int r, in RegState reg, bool releasing)
    {
        if (releasing && reg.Off != 0)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} must have zero offset when passed to release func or trusted arg to kfunc", r);
        }
        var fixedOffOk = !releasing && reg.Type == RegType.BtfPointer && reg.Map is not (BtfTrust.Untrusted or BtfTrust.Percpu);
        switch (reg.Type)
        {
            case RegType.Stack or RegType.Packet or RegType.PacketMeta or RegType.MapKey or RegType.MapValue or RegType.Mem or RegType.RdonlyMem or RegType.Scalar:
                if (!releasing) return;
                break;
        }
        if (!fixedOffOk && reg.Off != 0)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"dereference of modified {reg.TypeName} ptr R{r} off={reg.Off} disallowed", r);
        }
        if (reg.Off < 0)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"negative offset {reg.TypeName} ptr R{r} off={reg.Off} disallowed", r);
        }
        if (!reg.V.IsZero)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"variable {reg.TypeName} access var_off={reg.V.T} disallowed", r);
        }
    }

    /// <summary>process_kf_arg_ptr_to_btf_id / btf_struct_ids_match: the register's struct is the argument's, or
    /// (unless the match must be strict: a released reference, or two flavours of one name such as nf_conn and
    /// nf_conn___init) has it as its first member, recursively.</summary>
    private void CheckKfuncStructArg(string func, int i, in RegState reg, BtfType want, bool strict)
    {
        var btf = _o.KernelBtf!;
        var have = BtfSpec.Underlying(btf.TypeById((uint)reg.Range));
        if (reg.Off != 0)
        {
            throw Fail(VerifierErrorCode.NotSupported, $"R{i + 1}: a kernel pointer with an offset passed to kernel function {func} (nested struct match) is not modelled", i + 1);
        }
        if (!strict && have is BtfComposite hc && want is BtfComposite wc && EssentialName(hc.Name) == EssentialName(wc.Name)) strict = true;
        var t = have;
        for (var depth = 0; depth < BtfSpec.MaxResolveDepth; depth++)
        {
            if (t.Id == want.Id) return;
            if (strict || t is not BtfComposite c || c.Members.Count == 0 || c.Members[0].BitOffset != 0 || c.Members[0].BitfieldSize != 0) break;
            t = BtfSpec.Underlying(c.Members[0].Type);
        }
        throw Fail(VerifierErrorCode.InvalidHelperArgument,
            $"kernel function {func} args#{i} expected pointer to {KindName(want)} {want.Name} but R{i + 1} has a pointer to {KindName(have)} {have.Name}", i + 1);
    }

    /// <summary>bpf_core_essential_name_len: a name without its <c>___flavour</c> suffix.</summary>
    private static string EssentialName(string name)
    {
        var at = name.LastIndexOf("___", StringComparison.Ordinal);
        return at > 0 ? name[..at] : name;
    }

    /// <summary>What R0 holds after the call: a scalar, nothing, a BTF pointer to the returned struct (maybe null
    /// with KF_RET_NULL; a new reference with KF_ACQUIRE) or read-only memory of the pointee's size.</summary>
    private RegState KfuncReturn(int pc, string name, KfuncEntry k, BtfFuncProto proto, int refObj)
    {
        var t = BtfSpec.Underlying(proto.ReturnType);
        var structPtr = t is BtfPointer rp && PointeeFrom(rp.Target).Pointee is BtfComposite { IsUnion: false };
        if (k.Has(KfuncFlags.Acquire) && !structPtr)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, "acquire kernel function does not return PTR_TO_BTF_ID");
        }
        if (t is BtfInt or BtfEnum) return RegState.Unknown;
        if (t is not BtfPointer ptr) return default;
        var (pointee, _) = PointeeFrom(ptr.Target);
        RegState r0;
        if (structPtr)
        {
            r0 = RegState.Pointer(RegType.BtfPointer);
            r0.Range = (int)pointee.Id;
            r0.Map = k.Has(KfuncFlags.Acquire) ? BtfTrust.Trusted : BtfTrust.Legacy;
        }
        else
        {
            ulong size;
            try
            {
                size = BtfSpec.SizeOf(pointee);
            }
            catch (BpfObjectException)
            {
                size = 0;
            }
            if (size == 0)
            {
                throw Fail(VerifierErrorCode.InvalidHelperArgument, $"kernel function {name} returns pointer type {KindName(pointee)} {pointee.Name} is not supported");
            }
            if (k.Has(KfuncFlags.RetNull))
            {
                throw Fail(VerifierErrorCode.NotSupported, $"kernel function {name} returns memory that may be null: not modelled");
            }
            r0 = RegState.Pointer(RegType.RdonlyMem);
            r0.Range = (int)Math.Min(size, int.MaxValue);
            r0.RefId = refObj;
        }
        if (k.Has(KfuncFlags.RetNull))
        {
            r0.Type = RegType.BtfPointerOrNull;
            r0.Id = NewId();
        }
        if (k.Has(KfuncFlags.Acquire))
        {
            var id = NewId();
            (_cur.Refs ??= []).Add((id, pc));
            if (k.Has(KfuncFlags.RetNull)) r0.Id = id;
            r0.RefId = id;
        }
        return r0;
    }

    /// <summary>The name of the program type's context struct (the kernel's bpf_types.h prog_ctx_type), which a
    /// kfunc's ctx argument names; null for types whose context is untyped (void *) or a scalar.</summary>
    private static string? ProgramContextStruct(ProgramType type) => type switch
    {
        ProgramType.SocketFilter or ProgramType.SchedCls or ProgramType.SchedAct or ProgramType.CgroupSkb or ProgramType.LwtIn
            or ProgramType.LwtOut or ProgramType.LwtXmit or ProgramType.LwtSeg6Local or ProgramType.SkSkb or ProgramType.FlowDissector => "__sk_buff",
        ProgramType.Xdp => "xdp_md",
        ProgramType.CgroupSock => "bpf_sock",
        ProgramType.CgroupSockAddr => "bpf_sock_addr",
        ProgramType.SockOps => "bpf_sock_ops",
        ProgramType.SkMsg => "sk_msg_md",
        ProgramType.PerfEvent => "bpf_perf_event_data",
        ProgramType.RawTracepoint or ProgramType.RawTracepointWritable => "bpf_raw_tracepoint_args",
        ProgramType.CgroupSysctl => "bpf_sysctl",
        ProgramType.CgroupSockopt => "bpf_sockopt",
        ProgramType.SkReuseport => "sk_reuseport_md",
        ProgramType.SkLookup => "bpf_sk_lookup",
        ProgramType.Netfilter => "bpf_nf_ctx",
        _ => null,
    };
}
