using System.Globalization;
using Bpf.Btf;

namespace Bpf;

/// <summary>
/// Applies CO-RE relocations (BTF.ext core_relo records) against the kernel's BTF, the way libbpf does for the
/// field and type kinds: the access string is replayed on the local type, members matched by name in the
/// kernel's type of the same name (ignoring a <c>___flavour</c> suffix, looking through anonymous members), and the
/// instruction patched with the kernel's value. One routine for every engine: the kernel loader, the interpreter
/// and the verifier all see the same relocated instructions.
/// </summary>
/// <remarks>
/// A relocation that cannot be resolved against the target (the type or field does not exist there) poisons
/// its instruction as libbpf does: it becomes <c>call 0xbad2310</c> (both slots of an lddw), so only a program
/// that actually reaches it is rejected ("invalid func unknown#195896080"), and the rest of the object loads.
/// Kinds not implemented raise <see cref="NotSupportedException"/> naming the relocation.
/// </remarks>
internal static class CoreRelocator
{
    /// <summary>The helper number libbpf writes into a poisoned instruction (0xbad2310).</summary>
    public const int PoisonHelper = 0xbad2310;

    /// <summary>
    /// Applies every CO-RE relocation of <paramref name="program"/> to <paramref name="insns"/> (a copy of its
    /// instructions) against <paramref name="target"/>; returns a description of each relocation it poisoned.
    /// </summary>
    /// <exception cref="NotSupportedException">A relocation kind or instruction shape this routine does not implement.</exception>
    /// <exception cref="InvalidOperationException">A malformed relocation (access string, instruction index, value range).</exception>
    public static IReadOnlyList<string> Apply(ProgramSpec program, Instruction[] insns, BtfSpec target)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(insns);
        ArgumentNullException.ThrowIfNull(target);
        List<string>? poisoned = null;
        foreach (var relo in program.CoreRelocations)
        {
            if (Compute(program, relo, target, out string? why) is ulong value)
            {
                Patch(program, insns, relo, value);
            }
            else
            {
                Poison(program, insns, relo);
                (poisoned ??= []).Add($"{Describe(program, relo)}: {why}; instruction poisoned (call 0x{PoisonHelper:x})");
            }
        }
        return poisoned ?? (IReadOnlyList<string>)[];
    }

    private static void Poison(ProgramSpec program, Instruction[] insns, CoreRelocation relo)
    {
        int i = relo.InstructionIndex;
        if ((uint)i >= (uint)insns.Length) throw new InvalidOperationException($"{Describe(program, relo)}: instruction index outside the program");
        bool wide = insns[i].IsWide && i + 1 < insns.Length;
        insns[i] = Instruction.CallHelper(PoisonHelper);
        if (wide) insns[i + 1] = Instruction.CallHelper(PoisonHelper);
    }

    private static string Describe(ProgramSpec p, CoreRelocation r) =>
        $"program '{p.Name}': CO-RE relocation {r.Kind} on '{BtfSpec.DisplayName(r.Type)}' access \"{r.AccessString}\" at instruction {r.InstructionIndex}";

    private static string EssentialName(string name)
    {
        int i = name.IndexOf("___", StringComparison.Ordinal);
        return i > 0 ? name[..i] : name;
    }

    private static ulong? Compute(ProgramSpec program, CoreRelocation relo, BtfSpec target, out string? unresolved)
    {
        unresolved = null;
        var local = BtfSpec.Underlying(relo.Type);
        var access = relo.AccessString.Split(':').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var candidates = target.TypesByName(EssentialName(local.Name)).Where(t => SameKind(t, local)).ToList();
        switch (relo.Kind)
        {
            case CoreRelocationKind.TypeIdLocal:
                return relo.Type.Id;
            case CoreRelocationKind.TypeIdTarget:
                if (candidates.Count > 0) return candidates[0].Id;
                unresolved = "the target has no such type";
                return null;
            case CoreRelocationKind.TypeExists:
                return candidates.Count > 0 ? 1u : 0u;
            case CoreRelocationKind.TypeSize:
                if (candidates.Count > 0) return BtfSpec.SizeOf(candidates[0]);
                unresolved = "the target has no such type";
                return null;
            case CoreRelocationKind.EnumValueExists or CoreRelocationKind.EnumValue:
            {
                if (local is not BtfEnum le || access.Length != 1 || (uint)access[0] >= (uint)le.Values.Count)
                    throw new InvalidOperationException($"{Describe(program, relo)}: not an enum value access");
                string name = le.Values[access[0]].Name;
                foreach (var c in candidates)
                {
                    foreach (var v in ((BtfEnum)c).Values)
                    {
                        if (v.Name == name) return relo.Kind == CoreRelocationKind.EnumValueExists ? 1 : (ulong)v.Value;
                    }
                }
                if (relo.Kind == CoreRelocationKind.EnumValueExists) return 0;
                unresolved = $"the target's enum has no value '{name}'";
                return null;
            }
            case CoreRelocationKind.FieldByteOffset or CoreRelocationKind.FieldByteSize or CoreRelocationKind.FieldExists or CoreRelocationKind.FieldSigned:
            {
                foreach (var c in candidates)
                {
                    if (Resolve(local, c, access) is not (ulong bits, BtfType field)) continue;
                    return relo.Kind switch
                    {
                        CoreRelocationKind.FieldExists => 1,
                        CoreRelocationKind.FieldByteOffset => bits % 8 == 0 ? bits / 8
                            : throw new NotSupportedException($"{Describe(program, relo)}: bitfield offsets are not supported"),
                        CoreRelocationKind.FieldByteSize => BtfSpec.SizeOf(field),
                        _ => BtfSpec.Underlying(field) switch
                        {
                            BtfInt i => (i.Encoding & BtfIntEncoding.Signed) != 0 ? 1u : 0u,
                            BtfEnum e => e.IsSigned ? 1u : 0u,
                            _ => 0u,
                        },
                    };
                }
                if (relo.Kind == CoreRelocationKind.FieldExists) return 0;
                unresolved = $"no type in the target BTF matches (candidates named '{EssentialName(local.Name)}': {candidates.Count})";
                return null;
            }
            default:
                throw new NotSupportedException($"{Describe(program, relo)}: this relocation kind is not implemented by the loader");
        }
    }

    /// <summary>
    /// libbpf's <c>bpf_core_types_are_compat</c>, used to check a typed <c>__ksym</c> variable or a kfunc prototype
    /// against the kernel's: after typedefs and qualifiers, the same kind (any two enums match); structs, unions,
    /// enums and forwards match by kind alone; integers unless one is a bitfield-like integer; pointers and arrays
    /// by their targets; function prototypes by parameter count, each parameter and the return type.
    /// </summary>
    public static bool TypesAreCompatible(BtfType local, BtfType target)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(target);
        return Compatible(local, target, 2);
    }

    private static bool Compatible(BtfType local, BtfType target, int level)
    {
        for (int depth = 0; depth < BtfSpec.MaxResolveDepth; depth++)
        {
            local = BtfSpec.Underlying(local);
            target = BtfSpec.Underlying(target);
            if (local.Kind != target.Kind && !(local is BtfEnum && target is BtfEnum)) return false;
            switch (local)
            {
                case BtfVoid or BtfComposite or BtfEnum or BtfForward:
                    return true;
                case BtfInt li:
                    return li.BitOffset == 0 && ((BtfInt)target).BitOffset == 0;
                case BtfPointer lp:
                    local = lp.Target;
                    target = ((BtfPointer)target).Target;
                    continue;
                case BtfArray la:
                    local = la.ElementType;
                    target = ((BtfArray)target).ElementType;
                    continue;
                case BtfFuncProto lf:
                {
                    var tf = (BtfFuncProto)target;
                    if (lf.Parameters.Count != tf.Parameters.Count) return false;
                    for (int i = 0; i < lf.Parameters.Count; i++)
                    {
                        if (level <= 0 || !Compatible(lf.Parameters[i].Type, tf.Parameters[i].Type, level - 1)) return false;
                    }
                    local = lf.ReturnType;
                    target = tf.ReturnType;
                    continue;
                }
                default:
                    return false;
            }
        }
        return false;
    }

    private static bool SameKind(BtfType kernel, BtfType local)
    {
        var k = BtfSpec.Underlying(kernel);
        return (k, local) switch
        {
            (BtfComposite a, BtfComposite b) => a.IsUnion == b.IsUnion,
            (BtfEnum, BtfEnum) => true,
            _ => k.Kind == local.Kind,
        };
    }

    /// <summary>Replays <paramref name="access"/> on the local type and the kernel type together; the kernel field's bit offset and type, or null.</summary>
    private static (ulong Bits, BtfType Field)? Resolve(BtfType local, BtfType kernel, int[] access)
    {
        ulong bits = (ulong)access[0] * BtfSpec.SizeOf(kernel) * 8;
        BtfType l = local, k = kernel;
        for (int i = 1; i < access.Length; i++)
        {
            l = BtfSpec.Underlying(l);
            k = BtfSpec.Underlying(k);
            switch (l)
            {
                case BtfComposite lc when k is BtfComposite kc:
                {
                    if ((uint)access[i] >= (uint)lc.Members.Count) return null;
                    var lm = lc.Members[access[i]];
                    if (lm.Name.Length == 0)
                    {
                        // An anonymous local member: match it by position, as the kernel type must have the same shape there.
                        if ((uint)access[i] >= (uint)kc.Members.Count) return null;
                        var km0 = kc.Members[access[i]];
                        bits += km0.BitOffset;
                        l = lm.Type;
                        k = km0.Type;
                        break;
                    }
                    if (FindMember(kc, lm.Name, 0) is not (ulong off, BtfMember km)) return null;
                    bits += off;
                    l = lm.Type;
                    k = km.Type;
                    break;
                }
                case BtfArray la when k is BtfArray ka:
                    if (ka.Count != 0 && (uint)access[i] >= ka.Count && la.Count != 0) return null;
                    bits += (ulong)access[i] * BtfSpec.SizeOf(ka.ElementType) * 8;
                    l = la.ElementType;
                    k = ka.ElementType;
                    break;
                default:
                    return null;
            }
        }
        return (bits, k);
    }

    private static (ulong Bits, BtfMember Member)? FindMember(BtfComposite c, string name, int depth)
    {
        if (depth > 8) return null;
        foreach (var m in c.Members)
        {
            if (m.Name == name) return (m.BitOffset, m);
            if (m.Name.Length == 0 && BtfSpec.Underlying(m.Type) is BtfComposite inner && FindMember(inner, name, depth + 1) is (ulong off, BtfMember found))
                return (m.BitOffset + off, found);
        }
        return null;
    }

    private static void Patch(ProgramSpec program, Instruction[] insns, CoreRelocation relo, ulong value)
    {
        int i = relo.InstructionIndex;
        if ((uint)i >= (uint)insns.Length) throw new InvalidOperationException($"{Describe(program, relo)}: instruction index outside the program");
        var insn = insns[i];
        switch (insn.Class)
        {
            case OpClass.Alu or OpClass.Alu64 when insn.Source == Source.Imm:
                if (value > int.MaxValue) throw new InvalidOperationException($"{Describe(program, relo)}: value {value} does not fit a 32-bit immediate");
                insns[i] = insn.WithImm((int)value);
                break;
            case OpClass.Ldx or OpClass.St or OpClass.Stx when relo.Kind == CoreRelocationKind.FieldByteOffset:
                if (value > (ulong)short.MaxValue) throw new InvalidOperationException($"{Describe(program, relo)}: offset {value} does not fit a 16-bit instruction offset");
                insns[i] = insn.WithOffset((short)value);
                break;
            case OpClass.Ld when insn.IsWide && i + 1 < insns.Length:
                insns[i] = insn.WithImm((int)(uint)value);
                insns[i + 1] = insns[i + 1].WithImm((int)(uint)(value >> 32));
                break;
            default:
                throw new NotSupportedException($"{Describe(program, relo)}: patching a {insn.Class} instruction for this kind is not implemented");
        }
    }
}
