namespace Bpf.Btf;

/// <summary>BTF type kinds (BTF_KIND_*).</summary>
public enum BtfKind : byte
{
    /// <summary>The void type (id 0); never encoded.</summary>
    Void = 0,
    /// <summary>An integer.</summary>
    Int = 1,
    /// <summary>A pointer.</summary>
    Pointer = 2,
    /// <summary>An array.</summary>
    Array = 3,
    /// <summary>A struct.</summary>
    Struct = 4,
    /// <summary>A union.</summary>
    Union = 5,
    /// <summary>An enum with 32-bit values.</summary>
    Enum = 6,
    /// <summary>A forward declaration.</summary>
    Forward = 7,
    /// <summary>A typedef.</summary>
    Typedef = 8,
    /// <summary>volatile.</summary>
    Volatile = 9,
    /// <summary>const.</summary>
    Const = 10,
    /// <summary>restrict.</summary>
    Restrict = 11,
    /// <summary>A function (name + prototype).</summary>
    Func = 12,
    /// <summary>A function prototype.</summary>
    FuncProto = 13,
    /// <summary>A variable.</summary>
    Var = 14,
    /// <summary>A data section and the variables in it.</summary>
    DataSec = 15,
    /// <summary>A floating-point type.</summary>
    Float = 16,
    /// <summary>A declaration tag (btf_decl_tag attribute).</summary>
    DeclTag = 17,
    /// <summary>A type tag (btf_type_tag attribute).</summary>
    TypeTag = 18,
    /// <summary>An enum with 64-bit values.</summary>
    Enum64 = 19,
}

/// <summary>Linkage of a BTF function or variable.</summary>
public enum BtfLinkage : uint
{
    /// <summary>static.</summary>
    Static = 0,
    /// <summary>Global.</summary>
    Global = 1,
    /// <summary>extern.</summary>
    Extern = 2,
}

/// <summary>A BTF type. Concrete kinds derive from this; references to other types are resolved objects.</summary>
public abstract class BtfType
{
    private protected BtfType(uint id, string name)
    {
        Id = id;
        Name = name;
    }

    /// <summary>The type id (index in the type section; 0 is void).</summary>
    public uint Id { get; }

    /// <summary>The name, empty for anonymous types.</summary>
    public string Name { get; }

    /// <summary>The kind.</summary>
    public abstract BtfKind Kind { get; }

    /// <inheritdoc/>
    public override string ToString() => BtfSpec.DisplayName(this);
}

/// <summary>A BTF type that refers to exactly one other type (pointer, typedef, qualifiers, type tag, func, var, decl tag).</summary>
public abstract class BtfReferenceType : BtfType
{
    private protected BtfReferenceType(uint id, string name, uint targetId)
        : base(id, name) => TargetId = targetId;

    /// <summary>The id of the referenced type.</summary>
    public uint TargetId { get; }

    /// <summary>The referenced type.</summary>
    public BtfType Target { get; internal set; } = BtfVoid.Instance;
}

/// <summary>void (type id 0).</summary>
public sealed class BtfVoid : BtfType
{
    /// <summary>The one void type.</summary>
    public static readonly BtfVoid Instance = new();

    private BtfVoid()
        : base(0, string.Empty)
    {
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Void;
}

/// <summary>BTF_INT_* encoding bits.</summary>
[Flags]
public enum BtfIntEncoding : byte
{
    /// <summary>Unsigned, not char or bool.</summary>
    None = 0,
    /// <summary>Signed.</summary>
    Signed = 1,
    /// <summary>A character type.</summary>
    Char = 2,
    /// <summary>A boolean.</summary>
    Bool = 4,
}

/// <summary>An integer type.</summary>
public sealed class BtfInt : BtfType
{
    internal BtfInt(uint id, string name, uint size, BtfIntEncoding encoding, byte bitOffset, byte bits)
        : base(id, name)
    {
        Size = size;
        Encoding = encoding;
        BitOffset = bitOffset;
        Bits = bits;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Int;

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>Signedness, char, bool.</summary>
    public BtfIntEncoding Encoding { get; }

    /// <summary>Bit offset of the value inside the storage (legacy bitfield encoding).</summary>
    public byte BitOffset { get; }

    /// <summary>Number of value bits.</summary>
    public byte Bits { get; }
}

/// <summary>A floating-point type.</summary>
public sealed class BtfFloat : BtfType
{
    internal BtfFloat(uint id, string name, uint size)
        : base(id, name) => Size = size;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Float;

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }
}

/// <summary>A pointer.</summary>
public sealed class BtfPointer : BtfReferenceType
{
    internal BtfPointer(uint id, string name, uint targetId)
        : base(id, name, targetId)
    {
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Pointer;
}

/// <summary>A typedef.</summary>
public sealed class BtfTypedef : BtfReferenceType
{
    internal BtfTypedef(uint id, string name, uint targetId)
        : base(id, name, targetId)
    {
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Typedef;
}

/// <summary>const, volatile or restrict.</summary>
public sealed class BtfQualifier : BtfReferenceType
{
    private readonly BtfKind _kind;

    internal BtfQualifier(uint id, string name, uint targetId, BtfKind kind)
        : base(id, name, targetId) => _kind = kind;

    /// <inheritdoc/>
    public override BtfKind Kind => _kind;
}

/// <summary>A type tag: <see cref="BtfType.Name"/> is the tag value.</summary>
public sealed class BtfTypeTag : BtfReferenceType
{
    internal BtfTypeTag(uint id, string name, uint targetId, bool isAttribute = false)
        : base(id, name, targetId) => IsAttribute = isAttribute;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.TypeTag;

    /// <summary>True when the tag is an arbitrary attribute (<c>__attribute__((NAME))</c>, the kind flag set), false
    /// for a <c>btf_type_tag("NAME")</c>.</summary>
    public bool IsAttribute { get; }
}

/// <summary>A declaration tag on a type, or on one of its members/parameters.</summary>
public sealed class BtfDeclTag : BtfReferenceType
{
    internal BtfDeclTag(uint id, string name, uint targetId, int componentIndex)
        : base(id, name, targetId) => ComponentIndex = componentIndex;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.DeclTag;

    /// <summary>-1 when the tag is on the type itself, else the member or parameter index.</summary>
    public int ComponentIndex { get; }
}

/// <summary>A function: its name, linkage and prototype (<see cref="BtfReferenceType.Target"/>).</summary>
public sealed class BtfFunc : BtfReferenceType
{
    internal BtfFunc(uint id, string name, uint targetId, BtfLinkage linkage)
        : base(id, name, targetId) => Linkage = linkage;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Func;

    /// <summary>static, global or extern.</summary>
    public BtfLinkage Linkage { get; }
}

/// <summary>A variable (inside a <see cref="BtfDataSec"/>).</summary>
public sealed class BtfVar : BtfReferenceType
{
    internal BtfVar(uint id, string name, uint targetId, BtfLinkage linkage)
        : base(id, name, targetId) => Linkage = linkage;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Var;

    /// <summary>static, global or extern.</summary>
    public BtfLinkage Linkage { get; }
}

/// <summary>An array.</summary>
public sealed class BtfArray : BtfType
{
    internal BtfArray(uint id, string name, uint elementId, uint indexId, uint count)
        : base(id, name)
    {
        ElementTypeId = elementId;
        IndexTypeId = indexId;
        Count = count;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Array;

    /// <summary>Element type id.</summary>
    public uint ElementTypeId { get; }

    /// <summary>Index type id.</summary>
    public uint IndexTypeId { get; }

    /// <summary>The element type.</summary>
    public BtfType ElementType { get; internal set; } = BtfVoid.Instance;

    /// <summary>The index type.</summary>
    public BtfType IndexType { get; internal set; } = BtfVoid.Instance;

    /// <summary>Number of elements.</summary>
    public uint Count { get; }
}

/// <summary>A struct or union member.</summary>
public sealed class BtfMember
{
    internal BtfMember(string name, uint typeId, uint bitOffset, byte bitfieldSize)
    {
        Name = name;
        TypeId = typeId;
        BitOffset = bitOffset;
        BitfieldSize = bitfieldSize;
    }

    /// <summary>Member name (empty for anonymous members).</summary>
    public string Name { get; }

    /// <summary>Member type id.</summary>
    public uint TypeId { get; }

    /// <summary>Member type.</summary>
    public BtfType Type { get; internal set; } = BtfVoid.Instance;

    /// <summary>Offset from the start of the struct, in bits.</summary>
    public uint BitOffset { get; }

    /// <summary>Bitfield width in bits, 0 when the member is not a bitfield.</summary>
    public byte BitfieldSize { get; }

    /// <summary>Byte offset (bit offset / 8).</summary>
    public uint ByteOffset => BitOffset / 8;
}

/// <summary>A struct or union.</summary>
public sealed class BtfComposite : BtfType
{
    internal BtfComposite(uint id, string name, bool isUnion, uint size, BtfMember[] members)
        : base(id, name)
    {
        IsUnion = isUnion;
        Size = size;
        Members = members;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => IsUnion ? BtfKind.Union : BtfKind.Struct;

    /// <summary>True for a union.</summary>
    public bool IsUnion { get; }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>The members in declaration order.</summary>
    public IReadOnlyList<BtfMember> Members { get; }

    /// <summary>The member with this name, or null.</summary>
    public BtfMember? FindMember(string name)
    {
        foreach (var m in Members)
        {
            if (m.Name == name)
            {
                return m;
            }
        }
        return null;
    }
}

/// <summary>One enumerator.</summary>
/// <param name="Name">The name.</param>
/// <param name="Value">The value (sign-extended when the enum is signed).</param>
public readonly record struct BtfEnumValue(string Name, long Value);

/// <summary>An enum (32-bit <see cref="BtfKind.Enum"/> or <see cref="BtfKind.Enum64"/>).</summary>
public sealed class BtfEnum : BtfType
{
    private readonly bool _is64;

    internal BtfEnum(uint id, string name, uint size, bool signed, bool is64, BtfEnumValue[] values)
        : base(id, name)
    {
        Size = size;
        IsSigned = signed;
        _is64 = is64;
        Values = values;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => _is64 ? BtfKind.Enum64 : BtfKind.Enum;

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }

    /// <summary>True when values are signed.</summary>
    public bool IsSigned { get; }

    /// <summary>The enumerators.</summary>
    public IReadOnlyList<BtfEnumValue> Values { get; }
}

/// <summary>A forward declaration of a struct or union.</summary>
public sealed class BtfForward : BtfType
{
    internal BtfForward(uint id, string name, bool isUnion)
        : base(id, name) => IsUnion = isUnion;

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.Forward;

    /// <summary>True for <c>union x;</c>, false for <c>struct x;</c>.</summary>
    public bool IsUnion { get; }
}

/// <summary>A function parameter.</summary>
public sealed class BtfParameter
{
    internal BtfParameter(string name, uint typeId)
    {
        Name = name;
        TypeId = typeId;
    }

    /// <summary>Name (may be empty).</summary>
    public string Name { get; }

    /// <summary>Type id (0 with an empty name marks a variadic tail).</summary>
    public uint TypeId { get; }

    /// <summary>Type.</summary>
    public BtfType Type { get; internal set; } = BtfVoid.Instance;
}

/// <summary>A function prototype.</summary>
public sealed class BtfFuncProto : BtfType
{
    internal BtfFuncProto(uint id, string name, uint returnId, BtfParameter[] parameters)
        : base(id, name)
    {
        ReturnTypeId = returnId;
        Parameters = parameters;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.FuncProto;

    /// <summary>Return type id.</summary>
    public uint ReturnTypeId { get; }

    /// <summary>Return type.</summary>
    public BtfType ReturnType { get; internal set; } = BtfVoid.Instance;

    /// <summary>Parameters.</summary>
    public IReadOnlyList<BtfParameter> Parameters { get; }
}

/// <summary>A variable's place in a data section.</summary>
public sealed class BtfVarSecInfo
{
    internal BtfVarSecInfo(uint typeId, uint offset, uint size)
    {
        TypeId = typeId;
        Offset = offset;
        Size = size;
    }

    /// <summary>The VAR (or FUNC for externs) type id.</summary>
    public uint TypeId { get; }

    /// <summary>The variable type (normally <see cref="BtfVar"/>).</summary>
    public BtfType Type { get; internal set; } = BtfVoid.Instance;

    /// <summary>Byte offset in the section (in objects, filled in from the ELF symbol table, as libbpf does).</summary>
    public uint Offset { get; internal set; }

    /// <summary>Size in bytes.</summary>
    public uint Size { get; }
}

/// <summary>A data section (.data, .bss, .rodata, .maps, ...) and the variables in it.</summary>
public sealed class BtfDataSec : BtfType
{
    internal BtfDataSec(uint id, string name, uint size, BtfVarSecInfo[] vars)
        : base(id, name)
    {
        Size = size;
        Variables = vars;
    }

    /// <inheritdoc/>
    public override BtfKind Kind => BtfKind.DataSec;

    /// <summary>Section size (in objects the compiler writes 0; the object reader fills in the ELF section size).</summary>
    public uint Size { get; internal set; }

    /// <summary>The variables, by offset.</summary>
    public IReadOnlyList<BtfVarSecInfo> Variables { get; }
}
