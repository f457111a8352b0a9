using Bpf.Btf;

namespace Bpf.Verifier.Internal;

/// <summary>
/// BTF-typed contexts and kernel objects: the context of tracing programs (fentry, fexit, fmod_ret, tp_btf, iter)
/// and LSM programs is an array of u64 arguments typed by the attach target's prototype in the kernel's BTF (the
/// kernel's btf_ctx_access); a struct pointer argument is a PTR_TO_BTF_ID, read as the kernel's
/// check_ptr_to_btf_access / btf_struct_walk do. Where the kernel's answer depends on tables this verifier does not
/// carry, the result is stricter than the kernel's (a pointer that may be null, a scalar) or not supported — never
/// more permissive.
/// </summary>
internal sealed partial class Checker
{
    /// <summary>The kernel's MAX_BPF_FUNC_ARGS: a tracing context holds at most 12 u64 arguments.</summary>
    private const int MaxFuncArgs = 12;

    private BtfFuncProto? _ctxProto;
    private string _ctxTargetName = "";

    /// <summary>True for the program types whose context is typed by BTF.</summary>
    private bool HasBtfContext => _o.ProgramType is ProgramType.Tracing or ProgramType.Lsm;

    private BtfFuncProto CtxPrototype(int regno)
    {
        // Resolved once: a target without a prototype ends the verification below.
        if (_ctxProto is null && _o.KernelBtf is { } btf && _o.AttachTarget is { Length: > 0 } target)
        {
            _ctxProto = BtfAttachTargets.Prototype(btf, _o.ProgramType, _o.ExpectedAttachType, target);
            _ctxTargetName = _o.ProgramType == ProgramType.Lsm || _o.ExpectedAttachType == AttachType.TraceIter
                ? BtfAttachTargets.KernelName(_o.ProgramType, _o.ExpectedAttachType, target).Name
                : target;
        }
        if (_ctxProto is not null) return _ctxProto;
        if (_o.KernelBtf is null || _o.AttachTarget is null)
        {
            throw Fail(VerifierErrorCode.NotSupported,
                $"the context of a {_o.ProgramType} program is typed by its attach target's prototype in the kernel's BTF: " +
                "pass VerifierOptions.KernelBtf and AttachTarget to judge its reads", regno);
        }
        var (name, kind) = BtfAttachTargets.KernelName(_o.ProgramType, _o.ExpectedAttachType, _o.AttachTarget);
        throw Fail(VerifierErrorCode.NotSupported,
            $"the kernel's BTF has no {kind} '{name}' with a function prototype to attach to (the kernel refuses such a load before verifying)", regno);
    }

    /// <summary>A context read of a tracing or LSM program (tracing_prog_is_valid_access, then btf_ctx_access).</summary>
    private RegState BtfContextAccess(int regno, int off, int size, bool write)
    {
        try
        {
            return BtfContextAccessCore(regno, off, size, write);
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(regno, e);
        }
    }

    /// <summary>Kernel BTF that cannot be followed (a type id out of range, a typedef loop): not a verdict on the program.</summary>
    private VerifyFailure MalformedBtf(int regno, BpfObjectException e) =>
        Fail(VerifierErrorCode.NotSupported, $"the kernel's BTF (VerifierOptions.KernelBtf) cannot be followed here: {e.Message}", regno);

    private RegState BtfContextAccessCore(int regno, int off, int size, bool write)
    {
        if (write || off < 0 || (_o.ProgramType == ProgramType.Tracing && (off >= 8 * MaxFuncArgs || off % size != 0)))
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, $"invalid bpf_context access off={off} size={size}", regno);
        }
        var proto = CtxPrototype(regno);
        var tname = _ctxTargetName;
        if (off % 8 != 0)
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, $"func '{tname}' offset {off} is not multiple of 8", regno);
        }
        var rawTp = _o.ExpectedAttachType == AttachType.TraceRawTp;
        var iter = _o.ExpectedAttachType == AttachType.TraceIter;
        var arg = CtxArgIndex(proto, off);
        var skip = rawTp ? 1 : 0;
        var nrArgs = proto.Parameters.Count - skip;
        if (arg > nrArgs)
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, $"func '{tname}' doesn't have {arg + 1}-th argument", regno);
        }
        BtfType t;
        BtfParameter? param = null;
        var isRetval = false;
        if (arg == nrArgs)
        {
            switch (_o.ExpectedAttachType)
            {
                case AttachType.LsmMac:
                    isRetval = true;
                    t = proto.ReturnType;
                    break;
                case AttachType.LsmCgroup:
                case AttachType.TraceFexit:
                    t = proto.ReturnType;
                    break;
                case AttachType.ModifyReturn:
                    t = BtfSpec.Underlying(proto.ReturnType);
                    if (!IsSmallInt(t))
                    {
                        throw Fail(VerifierErrorCode.InvalidContextAccess, $"ret type {KindName(t)} not allowed for fmod_ret", regno);
                    }
                    break;
                default:
                    throw Fail(VerifierErrorCode.InvalidContextAccess, $"func '{tname}' doesn't have {arg + 1}-th argument", regno);
            }
        }
        else
        {
            param = proto.Parameters[skip + arg];
            t = param.Type;
        }
        t = BtfSpec.Underlying(t);
        if (IsSmallInt(t) || t is BtfEnum || t is BtfComposite)
        {
            // The previous LSM program's return value is within the hook's range (check_ctx_access's is_retval).
            return isRetval && LsmRetvalRange(proto) is var (min, max) ? RegState.OfScalar(S32Range(min, max)) : RegState.Unknown;
        }
        if (t is not BtfPointer ptr)
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess,
                $"func '{tname}' arg{arg} '{t.Name}' has type {KindName(t)}. Only pointer access is allowed", regno);
        }
        if (size != 8)
        {
            throw Fail(VerifierErrorCode.InvalidContextAccess, $"func '{tname}' size {size} must be 8", regno);
        }
        var (pointee, tag) = Pointee(ptr);
        if (pointee is not BtfComposite)
        {
            if (iter)
            {
                // Iterators register buffers (map keys and values) as PTR_TO_BUF in their ctx_arg_info.
                throw Fail(VerifierErrorCode.NotSupported,
                    $"func '{tname}' arg{arg}: an iterator's pointer to {KindName(pointee)} may be a buffer (PTR_TO_BUF), which this verifier does not model", regno);
            }
            // A pointer to anything but a struct is a scalar for the verifier (the kernel's comment: no walking).
            return RegState.Unknown;
        }
        if (rawTp)
        {
            throw Fail(VerifierErrorCode.NotSupported,
                $"func '{tname}' arg{arg}: whether a BTF raw tracepoint's pointer argument may be null or an error pointer is " +
                "the kernel's raw_tp_null_args table, which this verifier does not carry", regno);
        }
        if (tag is "user" or "percpu")
        {
            // MEM_USER / MEM_PERCPU pointers cannot be read directly; a scalar is as strict for reads.
            return RegState.Unknown;
        }
        var p = RegState.Pointer(RegType.BtfPointer);
        p.Range = (int)pointee.Id;
        var trusted = _o.ProgramType == ProgramType.Lsm || (iter && (arg == 0 || TrustedIteratorObjects.Contains(tname)));
        p.Map = trusted ? BtfTrust.Trusted : BtfTrust.Legacy;
        // An iterator's objects (every argument after the meta) are PTR_TO_BTF_ID_OR_NULL in its ctx_arg_info.
        if ((iter && arg > 0) || param?.Name.EndsWith("__nullable", StringComparison.Ordinal) == true)
        {
            p.Type = RegType.BtfPointerOrNull;
            p.Id = NewId();
        }
        return p;
    }

    /// <summary>Iterators whose objects the kernel registers PTR_TRUSTED (their ctx_arg_info, 6.18, measured: a task,
    /// cgroup, map, kmem_cache, tcp or udp iterator's object is trusted; a task_file, task_vma, bpf_prog, bpf_link,
    /// dmabuf, ipv6_route, ksym, netlink or unix iterator's is a plain kernel pointer). The meta argument is always trusted.</summary>
    private static readonly string[] TrustedIteratorObjects = ["bpf_iter_task", "bpf_iter_cgroup", "bpf_iter_bpf_map", "bpf_iter_kmem_cache", "bpf_iter_tcp", "bpf_iter_udp"];

    /// <summary>LSM hooks whose programs return 0 or 1 (the kernel's bool_lsm_hooks, 6.18); the others return 0 or an errno.</summary>
    private static readonly string[] BoolLsmHooks = ["bpf_lsm_xfrm_state_pol_flow_match", "bpf_lsm_audit_rule_known", "bpf_lsm_inode_xattr_skipcap"];

    /// <summary>The kernel's MAX_ERRNO.</summary>
    private const int MaxErrno = 4095;

    /// <summary>What an LSM (BPF_LSM_MAC) program of the hook may return (bpf_lsm_get_retval_range); null for a void hook.</summary>
    private (long Min, long Max)? LsmRetvalRange(BtfFuncProto proto) =>
        proto.ReturnTypeId == 0 ? null : Array.IndexOf(BoolLsmHooks, _ctxTargetName) >= 0 ? (0, 1) : (-MaxErrno, 0);

    /// <summary>An LSM program's return value at exit (check_return_code): BPF_LSM_MAC programs of an int hook return
    /// within its range (checked on the low 32 bits), BPF_LSM_CGROUP programs 0 or 1 (1 for a void hook).</summary>
    private void CheckLsmReturn(in RegState r0)
    {
        BtfFuncProto proto;
        try
        {
            proto = CtxPrototype(0);
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(0, e);
        }
        (long Min, long Max)? range;
        var return32 = false;
        if (_o.ExpectedAttachType == AttachType.LsmCgroup)
        {
            range = proto.ReturnTypeId == 0 ? (1, 1) : (0, 1);
        }
        else
        {
            range = LsmRetvalRange(proto);
            return32 = true;
        }
        if (range is not var (min, max)) return;
        if (!r0.IsScalar)
        {
            throw Fail(VerifierErrorCode.InvalidReturnValue, $"At program exit the register R0 is not a known value ({r0.TypeName})", 0);
        }
        long lo = return32 ? r0.V.S32Min : r0.V.SMin, hi = return32 ? r0.V.S32Max : r0.V.SMax;
        if (lo < min || hi > max)
        {
            throw Fail(VerifierErrorCode.InvalidReturnValue, $"At program exit the register R0 has{ScalarRange(lo, hi)} should have been in [{min}, {max}]", 0);
        }
    }

    /// <summary>An unknown scalar whose 64-bit and 32-bit signed bounds are both [min, max] (__mark_reg_s32_range).</summary>
    private static Scalar S32Range(long min, long max)
    {
        var s = Scalar.Unknown;
        s.SMin = min;
        s.SMax = max;
        s.S32Min = (int)min;
        s.S32Max = (int)max;
        s.Sync();
        return s;
    }

    /// <summary>The kernel's btf_ctx_arg_idx: arguments take 8 bytes, or their size rounded up to 8 (structs by value).</summary>
    private static int CtxArgIndex(BtfFuncProto proto, int off)
    {
        long offset = 0;
        var n = proto.Parameters.Count;
        for (var i = 0; i < n; i++)
        {
            offset += SlotSize(proto.Parameters[i].Type);
            if (off < offset) return i;
        }
        offset += SlotSize(proto.ReturnType);
        return off < offset ? n : n + 1;
    }

    private static long SlotSize(BtfType type)
    {
        var t = BtfSpec.Underlying(type);
        if (t is BtfPointer) return 8;
        long size = t switch
        {
            BtfInt i => i.Size,
            BtfEnum e => e.Size,
            BtfComposite c => c.Size,
            BtfFloat f => f.Size,
            _ => 0,
        };
        return (size + 7) / 8 * 8;
    }

    private static bool IsSmallInt(BtfType t) => t is BtfInt { Size: <= 8 };

    /// <summary>The kernel's btf_type_str (btf_kind_str): void is kind 0, "UNKNOWN".</summary>
    private static string KindName(BtfType t) => t.Kind switch
    {
        BtfKind.Void => "UNKNOWN",
        BtfKind.Pointer => "PTR",
        BtfKind.Forward => "FWD",
        BtfKind.FuncProto => "FUNC_PROTO",
        BtfKind.DeclTag => "DECL_TAG",
        BtfKind.TypeTag => "TYPE_TAG",
        var k => k.ToString().ToUpperInvariant(),
    };

    /// <summary>What a BTF pointer points to, modifiers skipped, and the first type tag on the way (user, percpu, rcu).</summary>
    private static (BtfType Pointee, string? Tag) Pointee(BtfPointer ptr) => PointeeFrom(ptr.Target);

    private static (BtfType Pointee, string? Tag) PointeeFrom(BtfType t)
    {
        string? tag = null;
        for (var depth = 0; depth < BtfSpec.MaxResolveDepth; depth++)
        {
            if (t is BtfTypeTag tt)
            {
                tag ??= tt.Name;
                t = tt.Target;
            }
            else if (t is BtfTypedef or BtfQualifier)
            {
                t = ((BtfReferenceType)t).Target;
            }
            else
            {
                return (t, tag);
            }
        }
        return (BtfVoid.Instance, tag);
    }

    /// <summary>The register a pointer member read through a BTF pointer of trust <paramref name="baseTrust"/> (the
    /// kernel's check_ptr_to_btf_access, 6.18, in a non-sleepable program) or through a map pointer (given as a
    /// <see cref="BtfTrust.Legacy"/> base: always untrusted, check_ptr_to_map_access) yields: a BTF pointer to its struct, or a
    /// scalar when it points to anything else. Through a trusted pointer, the kernel's tables in its own BTF
    /// (<c>STRUCT__safe_trusted</c>, <c>__safe_trusted_or_null</c>, <c>__safe_rcu</c>, <c>__safe_rcu_or_null</c>) keep a
    /// named field trusted or RCU-protected (the _or_null ones, and <c>__rcu</c>-tagged fields, may be null); every
    /// other pointer read through a BTF pointer is untrusted (readable, not passable to helpers), as is one found
    /// through a union of several members.</summary>
    private RegState WalkedPointer(BtfSpec btf, uint pointeeId, int baseTrust, bool throughUnion, string structName, string memberName)
    {
        // A pointer to something other than a struct is untrusted read-only memory of unknown size for the kernel
        // (PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED); a scalar here, which no read may go through.
        var (pointee, tag) = PointeeFrom(btf.TypeById(pointeeId));
        if (pointee is not BtfComposite || tag is "user" or "percpu") return RegState.Unknown;
        var p = RegState.Pointer(RegType.BtfPointer);
        p.Range = (int)pointee.Id;
        p.Map = BtfTrust.Untrusted;
        if (throughUnion || baseTrust is not (BtfTrust.Trusted or BtfTrust.Rcu)) return p;
        var maybeNull = false;
        if (SafeField(btf, structName, "__safe_trusted", memberName, pointee.Name))
        {
            p.Map = BtfTrust.Trusted;
        }
        else if (SafeField(btf, structName, "__safe_trusted_or_null", memberName, pointee.Name))
        {
            p.Map = BtfTrust.Trusted;
            maybeNull = true;
        }
        else if (SafeField(btf, structName, "__safe_rcu", memberName, pointee.Name))
        {
            p.Map = BtfTrust.Rcu;
        }
        else if (tag == "rcu" || SafeField(btf, structName, "__safe_rcu_or_null", memberName, pointee.Name))
        {
            p.Map = BtfTrust.Rcu;
            maybeNull = true;
        }
        if (maybeNull)
        {
            p.Type = RegType.BtfPointerOrNull;
            p.Id = NewId();
        }
        return p;
    }

    /// <summary>Whether the kernel's BTF lists <paramref name="field"/> (a pointer to a struct named
    /// <paramref name="pointeeName"/>) in the struct <c>STRUCT + suffix</c> (the kernel's btf_nested_type_is_trusted).</summary>
    private static bool SafeField(BtfSpec btf, string structName, string suffix, string field, string pointeeName) =>
        btf.FindType(structName + suffix, BtfKind.Struct) is BtfComposite safe
        && safe.Members.Any(m => m.Name == field && BtfSpec.Underlying(m.Type) is BtfPointer ptr && PointeeFrom(ptr.Target).Pointee.Name == pointeeName);

    /// <summary>A load through a BTF pointer (the kernel's check_ptr_to_btf_access and btf_struct_access).</summary>
    private RegState BtfPointerAccess(int regno, in RegState reg, int insnOff, int size, bool write)
    {
        try
        {
            return BtfPointerAccessCore(regno, reg, insnOff, size, write);
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(regno, e);
        }
    }

    private RegState BtfPointerAccessCore(int regno, in RegState reg, int insnOff, int size, bool write)
    {
        var btf = _o.KernelBtf
            ?? throw Fail(VerifierErrorCode.NotSupported, $"R{regno} is a kernel pointer (PTR_TO_BTF_ID): reading through it needs the kernel's BTF (VerifierOptions.KernelBtf)", regno);
        if (reg.Map == BtfTrust.Percpu) throw PercpuAccess(btf, regno, reg, insnOff);
        var type = BtfSpec.Underlying(btf.TypeById((uint)reg.Range));
        if (type is not BtfComposite st)
        {
            throw Fail(VerifierErrorCode.NotSupported, $"R{regno} points to {KindName(type)} '{type.Name}', not a struct: not modelled", regno);
        }
        var tname = st.Name;
        if (!_allowPtrLeaks)
        {
            throw Fail(VerifierErrorCode.PermissionDenied, $"'struct {tname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN", regno);
        }
        if (!_o.GplCompatible)
        {
            throw Fail(VerifierErrorCode.PermissionDenied, $"Cannot access kernel 'struct {tname}' from non-GPL compatible program", regno);
        }
        var off = (long)reg.Off + insnOff;
        if (off < 0)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is ptr_{tname} invalid negative access: off={off}", regno);
        }
        if (!reg.V.IsZero)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is ptr_{tname} invalid variable offset: off={off}, var_off={reg.V.T}", regno);
        }
        if (write)
        {
            throw Fail(VerifierErrorCode.InvalidMemoryAccess, "only read is supported", regno);
        }
        // The kernel's trusted-field tables name a field of the register's struct (nested unions included).
        var (result, message, pointeeId, _, member) = StructWalk(st, (int)off, size, out var throughUnion);
        return result switch
        {
            WalkResult.Scalar => RegState.Unknown,
            WalkResult.Pointer => WalkedPointer(btf, pointeeId, reg.Map, throughUnion, tname, member!),
            _ => throw Fail(VerifierErrorCode.InvalidMemoryAccess, message!, regno),
        };
    }

    /// <summary>A load or store through a per-CPU pointer (MEM_PERCPU): refused after the checks the kernel's
    /// check_ptr_to_btf_access makes first.</summary>
    private VerifyFailure PercpuAccess(BtfSpec btf, int regno, in RegState reg, int insnOff)
    {
        var tname = btf.TypeById((uint)reg.Range).Name;
        if (!_allowPtrLeaks)
        {
            return Fail(VerifierErrorCode.PermissionDenied, $"'struct {tname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN", regno);
        }
        if (!_o.GplCompatible)
        {
            return Fail(VerifierErrorCode.PermissionDenied, $"Cannot access kernel 'struct {tname}' from non-GPL compatible program", regno);
        }
        var off = (long)reg.Off + insnOff;
        if (off < 0) return Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is ptr_{tname} invalid negative access: off={off}", regno);
        if (!reg.V.IsZero)
        {
            return Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is ptr_{tname} invalid variable offset: off={off}, var_off={reg.V.T}", regno);
        }
        return Fail(VerifierErrorCode.InvalidMemoryAccess, $"R{regno} is ptr_{tname} access percpu memory: off={off}", regno);
    }

    /// <summary>A struct argument of a helper (ARG_PTR_TO_BTF_ID): a trusted or plain BTF pointer at offset 0 whose
    /// type is the struct the helper names, or a struct whose first member (at offset 0, recursively) is.</summary>
    private void CheckKernelStructArg(int r, in RegState reg, string structName)
    {
        try
        {
            CheckKernelStructArgCore(r, reg, structName);
        }
        catch (BpfObjectException e)
        {
            throw MalformedBtf(r, e);
        }
    }

    private void CheckKernelStructArgCore(int r, in RegState reg, string structName)
    {
        if (reg.Type != RegType.BtfPointer || reg.Map is BtfTrust.Untrusted or BtfTrust.Percpu)
        {
            throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} type={reg.TypeName} expected=ptr_, trusted_ptr_, rcu_ptr_", r);
        }
        if (reg.Off != 0 || !reg.V.IsZero)
        {
            throw Fail(VerifierErrorCode.NotSupported, $"R{r}: a kernel pointer with an offset passed to a helper (nested struct match) is not modelled", r);
        }
        var btf = _o.KernelBtf!;
        var t = BtfSpec.Underlying(btf.TypeById((uint)reg.Range));
        for (var depth = 0; depth < BtfSpec.MaxResolveDepth && t is BtfComposite c; depth++)
        {
            if (c.Name == structName && !c.IsUnion) return;
            if (c.Members.Count == 0 || c.Members[0].BitOffset != 0 || c.Members[0].BitfieldSize != 0) break;
            t = BtfSpec.Underlying(btf.TypeById(c.Members[0].TypeId));
        }
        var have = BtfSpec.Underlying(btf.TypeById((uint)reg.Range));
        throw Fail(VerifierErrorCode.InvalidHelperArgument, $"R{r} is of type {have.Name} but {structName} is expected", r);
    }
}
