using Microsoft.CodeAnalysis;

namespace Bpf.Generators;

/// <summary>The generator's diagnostics. Ids are stable: never renumber, only add. Help: docs/generators.md.</summary>
internal static class GeneratorDiagnostics
{
    private const string Category = "Bpf.Generators";
    // The repository has no public URL yet: the help link names the document (docs/generators.md) and its anchor.
    private const string Help = "docs/generators.md#";

    /// <summary>BPFGEN0001: the object file named as an AdditionalFile cannot be read.</summary>
    public static readonly DiagnosticDescriptor ObjectNotFound = new(
        "BPFGEN0001", "BPF object not found",
        "BPF object '{0}' cannot be read: {1}",
        Category, DiagnosticSeverity.Error, true,
        "The file listed as a BPF object (an AdditionalFile ending in .o) does not exist or cannot be read. Build it with clang -target bpf -O2 -g -c x.c -o x.o, or list the .o that is committed.",
        Help + "bpfgen0001");

    /// <summary>BPFGEN0002: the file is not a BPF ELF object (or is malformed).</summary>
    public static readonly DiagnosticDescriptor NotBpfObject = new(
        "BPFGEN0002", "Not a BPF object",
        "'{0}' is not a usable BPF object: {1}",
        Category, DiagnosticSeverity.Error, true,
        "BPF objects are little-endian ELF64 relocatable files for EM_BPF, as clang -target bpf -c produces. The message names the section and file offset of the problem.",
        Help + "bpfgen0002");

    /// <summary>BPFGEN0003: the object has no .BTF section.</summary>
    public static readonly DiagnosticDescriptor NoBtf = new(
        "BPFGEN0003", "BPF object has no BTF",
        "'{0}' has no .BTF section, so its types are unknown: compile it with -g (clang -target bpf -O2 -g -c {1}.c -o {1}.o)",
        Category, DiagnosticSeverity.Error, true,
        "C# types are generated from the object's BTF, which clang emits only with debug information (-g).",
        Help + "bpfgen0003");

    /// <summary>BPFGEN0004: a BTF type or member that has no faithful C# representation.</summary>
    public static readonly DiagnosticDescriptor Unrepresentable = new(
        "BPFGEN0004", "BTF type cannot be represented in C#",
        "'{0}': {1} cannot be represented in C# ({2}); {3}",
        Category, DiagnosticSeverity.Warning, true,
        "The generated type keeps its size and the offsets of every other member; the bytes of this member stay reachable through the struct's memory.",
        Help + "bpfgen0004");

    /// <summary>BPFGEN0005: two C names map to the same C# name (or to a name the generator reserves).</summary>
    public static readonly DiagnosticDescriptor NameClash = new(
        "BPFGEN0005", "Generated names clash",
        "'{0}': C name '{1}' becomes '{2}', which is already taken by {3}; it is generated as '{4}'",
        Category, DiagnosticSeverity.Warning, true,
        "C names are converted to .NET names (packet_counts -> PacketCounts). When two convert to the same name, or to the enclosing type's name or a reserved member (Layout), the later one gets a suffix. Rename one in C to choose the name.",
        Help + "bpfgen0005");

    /// <summary>BPFGEN0006: a name given by the project (ClassName, Namespace) is a C# keyword or not an identifier.</summary>
    public static readonly DiagnosticDescriptor BadIdentifier = new(
        "BPFGEN0006", "Name is a C# keyword or not an identifier",
        "'{0}': {1} '{2}' is {3}; it is generated as '{4}'",
        Category, DiagnosticSeverity.Warning, true,
        "Set BpfClassName / BpfNamespace (or the ClassName / Namespace metadata of the BpfProgram item) to a valid C# identifier.",
        Help + "bpfgen0006");

    /// <summary>BPFGEN0007: fixed-size arrays need InlineArray (C# 12 / .NET 8), which the consuming project lacks.</summary>
    public static readonly DiagnosticDescriptor NoInlineArray = new(
        "BPFGEN0007", "Fixed-size arrays need InlineArray",
        "'{0}': the project's target lacks System.Runtime.CompilerServices.InlineArrayAttribute or C# 12, so {1} arrays are generated as opaque byte blocks of the right size",
        Category, DiagnosticSeverity.Warning, true,
        "Target .NET 8 or later with LangVersion 12 or later to get indexable fixed-size arrays.",
        Help + "bpfgen0007");

    /// <summary>BPFGEN0008: the project does not reference the BpfNet library a part of the generated class needs.</summary>
    public static readonly DiagnosticDescriptor MissingReference = new(
        "BPFGEN0008", "BpfNet library not referenced",
        "'{0}': the project does not reference {1}, so {2} is not generated",
        Category, DiagnosticSeverity.Warning, true,
        "The typed collection class uses Bpf.Core's IBpfCollection and typed map views; its Open methods use Bpf.Loader's BpfEngine. Reference the BpfNet packages (or projects) the class needs.",
        Help + "bpfgen0008");

    /// <summary>All descriptors, by id.</summary>
    public static readonly DiagnosticDescriptor[] All =
        [ObjectNotFound, NotBpfObject, NoBtf, Unrepresentable, NameClash, BadIdentifier, NoInlineArray, MissingReference];
}
