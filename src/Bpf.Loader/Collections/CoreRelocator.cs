using System.Globalization;
using Bpf.Btf;
using Bpf.Objects;

namespace Bpf.Loader;

/// <summary>
/// The running kernel's own BTF (<c>/sys/kernel/btf/vmlinux</c>), parsed once on first use: the target of CO-RE
/// relocations and the place to find attach targets of BTF-attached programs.
/// </summary>
public static class KernelBtf
{
    /// <summary>Where the kernel exposes its BTF.</summary>
    public const string VmlinuxPath = "/sys/kernel/btf/vmlinux";

    private static readonly Lazy<BtfSpec?> Vmlinux = new(() =>
        File.Exists(VmlinuxPath) ? BtfSpec.Parse(File.ReadAllBytes(VmlinuxPath)) : null);

    /// <summary>The kernel's BTF, or null when the kernel was built without it (CONFIG_DEBUG_INFO_BTF).</summary>
    public static BtfSpec? TryGet() => Vmlinux.Value;

    /// <summary>The kernel's BTF; <see cref="NotSupportedException"/> naming <paramref name="needFor"/> when absent.</summary>
    public static BtfSpec Get(string needFor) => TryGet() ??
        throw new NotSupportedException($"{needFor} needs the kernel's BTF at {VmlinuxPath}, which this kernel does not provide (CONFIG_DEBUG_INFO_BTF)");
}

/// <summary>
/// Applies CO-RE relocations (BTF.ext core_relo records) against the kernel's BTF, the way libbpf does for the
/// field and type kinds: the access string is replayed on the local type, members matched by name in the
/// kernel's type of the same name (ignoring a <c>___flavour</c> suffix, looking through anonymous members), and the
/// instruction patched with the kernel's value. Kinds not implemented raise <see cref="NotSupportedException"/>
/// naming the relocation.
/// </summary>
internal static class CoreRelocator
{
    internal static void Apply(ProgramSpec program, Instruction[] insns, BtfSpec target)
    {
        foreach (var relo in program.CoreRelocations)
        {
            ulong value = Compute(program, relo, target);
            Patch(program, insns, relo, value);
        }
    }

    private static string Describe(ProgramSpec p, CoreRelocation r) =>
        $"program '{p.Name}': CO-RE relocation {r.Kind} on '{BtfSpec.DisplayName(r.Type)}' access \"{r.AccessString}\" at instruction {r.InstructionIndex}";

    private static string EssentialName(string name)
    {
        int i = name.IndexOf("___", StringComparison.Ordinal);
        return i > 0 ? name[..i] : name;
    }

    private static ulong Compute(ProgramSpec program, CoreRelocation relo, BtfSpec target)
    {
        var local = BtfSpec.Underlying(relo.Type);
        var access = relo.AccessString.Split(':').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var candidates = target.TypesByName(EssentialName(local.Name)).Where(t => SameKind(t, local)).ToList();
        switch (relo.Kind)
        {
            case CoreRelocationKind.TypeIdLocal:
                return relo.Type.Id;
            case CoreRelocationKind.TypeIdTarget:
                return candidates.Count > 0 ? candidates[0].Id : 0;
            case CoreRelocationKind.TypeExists:
                return candidates.Count > 0 ? 1u : 0u;
            case CoreRelocationKind.TypeSize:
                return candidates.Count > 0 ? BtfSpec.SizeOf(candidates[0])
                    : throw new InvalidOperationException($"{Describe(program, relo)}: the kernel has no such type");
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
                throw new InvalidOperationException($"{Describe(program, relo)}: the kernel's enum has no value '{name}'");
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
                throw new InvalidOperationException(
                    $"{Describe(program, relo)}: no type in the kernel's BTF matches (candidates named '{EssentialName(local.Name)}': {candidates.Count})");
            }
            default:
                throw new NotSupportedException($"{Describe(program, relo)}: this relocation kind is not implemented by the loader");
        }
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
