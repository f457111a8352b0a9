using Bpf.Btf;

namespace Bpf;

/// <summary>What an extern symbol of an object stands for, from the BTF data section that declares it (as libbpf decides).</summary>
public enum ExternKind
{
    /// <summary>In no <c>.kconfig</c> or <c>.ksyms</c> data section (or the object has no BTF): no loader can resolve it.</summary>
    Unknown,
    /// <summary>A <c>__kconfig</c> variable: <c>CONFIG_*</c> from the kernel's configuration, or a virtual <c>LINUX_*</c> value.</summary>
    Kconfig,
    /// <summary>A <c>__ksym</c> variable: a kernel symbol's address (typeless, from kallsyms) or its BTF id (typed, from kernel BTF).</summary>
    KernelVariable,
    /// <summary>A <c>__ksym</c> function: a kfunc, called with its kernel BTF id.</summary>
    KernelFunction,
}

/// <summary>How a <see cref="ExternKind.Kconfig"/> value is stored, after libbpf's <c>find_kcfg_type</c>.</summary>
public enum KconfigType
{
    /// <summary>A 1-byte <c>_Bool</c>: y = 1, n = 0 (m is an error).</summary>
    Bool,
    /// <summary>A 1-byte <c>char</c>: the letter itself ('y', 'n', 'm'), or a small number.</summary>
    Char,
    /// <summary><c>enum libbpf_tristate</c>: n = 0, y = 1, m = 2.</summary>
    Tristate,
    /// <summary>A 2-, 4- or 8-byte integer, signed or not.</summary>
    Int,
    /// <summary>A char array: a quoted string, NUL-terminated, truncated to fit.</summary>
    CharArray,
}

/// <summary>An extern symbol an object's programs use (<c>__kconfig</c>, <c>__ksym</c> variables, kfuncs), read but not resolved:
/// resolving needs the running kernel (its configuration, BTF, kallsyms), which is the loader's job.</summary>
public sealed class ExternSpec
{
    internal ExternSpec(string name, ExternKind kind, bool isWeak, BtfType? declaration, string? problem)
    {
        Name = name;
        Kind = kind;
        IsWeak = isWeak;
        Declaration = declaration;
        Problem = problem;
        int flavour = name.IndexOf("___", StringComparison.Ordinal);
        EssentialName = flavour > 0 ? name[..flavour] : name;
    }

    /// <summary>The symbol name.</summary>
    public string Name { get; }

    /// <summary>The name without a <c>___flavour</c> suffix: the kernel symbol a ksym or kfunc resolves to.</summary>
    public string EssentialName { get; }

    /// <summary>What it stands for.</summary>
    public ExternKind Kind { get; }

    /// <summary>Declared <c>__weak</c>: unresolved, it is zero (a kfunc call to it is poisoned) instead of an error.</summary>
    public bool IsWeak { get; }

    /// <summary>The BTF VAR (variables) or FUNC (kfuncs) declaring it, or null without BTF.</summary>
    public BtfType? Declaration { get; }

    /// <summary>For variables, the declared type (typedefs kept); for kfuncs, the function prototype; null without BTF.</summary>
    public BtfType? Type => (Declaration as BtfReferenceType)?.Target;

    /// <summary>For <see cref="ExternKind.KernelVariable"/>: false for <c>void</c> (address from kallsyms), true otherwise (kernel BTF id).</summary>
    public bool IsTyped => Kind == ExternKind.KernelVariable && Type is not null && BtfSpec.Underlying(Type) is not BtfVoid;

    /// <summary>For <see cref="ExternKind.Unknown"/>: why the reader could not classify it.</summary>
    public string? Problem { get; }

    /// <summary>For <see cref="ExternKind.Kconfig"/>: how the value is stored, or null when its type is one libbpf does not support (see <see cref="Problem"/>).</summary>
    public KconfigType? ConfigType { get; internal set; }

    /// <summary>For <see cref="ExternKind.Kconfig"/>: true when the integer type is signed.</summary>
    public bool IsSigned { get; internal set; }

    /// <summary>For <see cref="ExternKind.Kconfig"/>: the value's size in bytes.</summary>
    public uint Size { get; internal set; }

    /// <summary>For <see cref="ExternKind.Kconfig"/>: its alignment in the <c>.kconfig</c> map value.</summary>
    public uint Alignment { get; internal set; }

    /// <summary>For <see cref="ExternKind.Kconfig"/>: its byte offset in the <c>.kconfig</c> map value (laid out as libbpf does:
    /// by descending alignment, then ascending size, then name).</summary>
    public uint Offset { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} extern '{Name}'{(IsWeak ? " (weak)" : "")}";

    /// <summary>Classifies a kconfig variable's type as libbpf's <c>find_kcfg_type</c> does; null when unsupported.</summary>
    internal static KconfigType? ClassifyKconfig(BtfType type, out bool isSigned)
    {
        isSigned = false;
        switch (BtfSpec.Underlying(type))
        {
            case BtfInt i when (i.Encoding & BtfIntEncoding.Bool) != 0:
                return i.Size == 1 ? KconfigType.Bool : null;
            case BtfInt i:
                isSigned = (i.Encoding & BtfIntEncoding.Signed) != 0;
                if (i.Size == 1) return KconfigType.Char;
                return i.Size is 2 or 4 or 8 ? KconfigType.Int : null;
            case BtfEnum e when e.Name == "libbpf_tristate" && (e.Size == 4 || (e.Kind == BtfKind.Enum64 && e.Size == 8)):
                return KconfigType.Tristate;
            case BtfArray a when a.Count > 0:
                return ClassifyKconfig(a.ElementType, out _) == KconfigType.Char ? KconfigType.CharArray : null;
            default:
                return null;
        }
    }
}
