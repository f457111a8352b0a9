using System.Globalization;
using System.Text;
using Bpf.Btf;
using Bpf.Elf;
using Microsoft.CodeAnalysis;

namespace Bpf.Generators;

/// <summary>What the generator was asked for: one BPF object and the names to give it.</summary>
/// <param name="Path">The object file (an AdditionalFile).</param>
/// <param name="Namespace">The namespace of the generated class ("" for none).</param>
/// <param name="ClassName">The generated class's name.</param>
/// <param name="InlineArrays">True when the consuming compilation has InlineArrayAttribute and C# 12.</param>
/// <param name="ResourceName">The manifest resource the build embedded the object as, or null.</param>
/// <param name="Fingerprint">The object file's length and modification time: a changed object makes a different request,
/// so a long-lived driver (the IDE) rereads it rather than serving the cached output of the old bytes.</param>
/// <param name="Engines">Which of BpfNet's libraries the consuming compilation references: the typed collection class
/// needs Bpf.Core (IBpfCollection, the typed map views), its Open methods Bpf.Loader (BpfEngine).</param>
internal sealed record ObjectRequest(string Path, string Namespace, string ClassName, bool InlineArrays, string? ResourceName = null, string Fingerprint = "",
    EngineReferences Engines = EngineReferences.CoreAndLoader);

/// <summary>BpfNet libraries the consuming compilation references.</summary>
internal enum EngineReferences
{
    /// <summary>Neither: only the types and names are generated.</summary>
    None,
    /// <summary>Bpf.Core: the typed collection class, made from an IBpfCollection.</summary>
    Core,
    /// <summary>Bpf.Core and Bpf.Loader: the class opens itself too.</summary>
    CoreAndLoader,
}

/// <summary>
/// Turns one BPF object's BTF into C#: a partial class named after the object holding one type per named
/// struct/union/enum and per anonymous type used by a map key/value or a global variable, with exact explicit
/// layouts, plus the names of its maps, global variables and programs.
/// </summary>
internal sealed class ObjectEmitter
{
    private const string Indent = "    ";
    private readonly ObjectRequest _request;
    private readonly string _fileName;
    private readonly List<DiagnosticData> _diagnostics = [];
    private readonly Dictionary<BtfType, TypeDecl> _decls = [];
    private readonly List<TypeDecl> _topLevel = [];
    private readonly Dictionary<string, ArrayDecl> _arrays = new(StringComparer.Ordinal);
    private readonly List<ArrayDecl> _arrayOrder = [];
    private readonly HashSet<string> _classScope = new(StringComparer.Ordinal);
    private readonly List<(string CName, string Doc)> _maps = [];
    private readonly List<(string CName, string Doc)> _variables = [];
    private readonly List<(string CName, string Doc)> _programs = [];
    private readonly List<MapInfo> _mapInfos = [];
    private readonly List<VariableInfo> _variableInfos = [];
    private bool _reportedNoInlineArray;

    /// <summary>The members of the typed collection class the generator itself declares (maps, programs and globals
    /// that would take one of these names get a suffix).</summary>
    private static readonly string[] Reserved = ["ObjectFileName", "ResourceName", "ReadObject", "Open", "Collection", "Dispose", "Constants"];

    private ObjectEmitter(ObjectRequest request)
    {
        _request = request;
        _fileName = System.IO.Path.GetFileName(request.Path);
    }

    /// <summary>Generates the source for one object, or only diagnostics when it cannot.</summary>
    public static GenerationResult Emit(ObjectRequest request, byte[]? bytes, string? readError)
    {
        var e = new ObjectEmitter(request);
        string? source = null;
        if (bytes is null)
        {
            e.Report(GeneratorDiagnostics.ObjectNotFound, request.Path, readError ?? "no such file");
        }
        else
        {
            source = e.Run(bytes);
        }
        return new GenerationResult(
            HintName(request), source, new EquatableArray<DiagnosticData>([.. e._diagnostics]));
    }

    private static string HintName(ObjectRequest r) =>
        ((r.Namespace.Length > 0 ? r.Namespace + "." : string.Empty) + r.ClassName).Replace("@", string.Empty) + ".g.cs";

    private void Report(DiagnosticDescriptor descriptor, params string[] args) =>
        _diagnostics.Add(new DiagnosticData(descriptor.Id, _request.Path, new EquatableArray<string>(args)));

    private string? Run(byte[] bytes)
    {
        ElfFile elf;
        BtfSpec btf;
        try
        {
            elf = ElfFile.Parse(bytes);
            var section = elf.FindSection(".BTF");
            if (section is null)
            {
                Report(GeneratorDiagnostics.NoBtf, _fileName, System.IO.Path.GetFileNameWithoutExtension(_fileName));
                return null;
            }
            btf = BtfSpec.Parse(elf.GetContents(section), section.Offset);
        }
        catch (BpfObjectException ex)
        {
            Report(GeneratorDiagnostics.NotBpfObject, _fileName, ex.Message);
            return null;
        }
        try
        {
            Collect(elf, btf);
            return Write();
        }
        catch (BpfObjectException ex)
        {
            Report(GeneratorDiagnostics.NotBpfObject, _fileName, ex.Message);
            return null;
        }
    }

    // ---- collecting the types to generate ----

    private void Collect(ElfFile elf, BtfSpec btf)
    {
        _classScope.Add(_request.ClassName.TrimStart('@'));
        _classScope.Add("Maps");
        _classScope.Add("Variables");
        _classScope.Add("Programs");
        foreach (var r in Reserved)
        {
            _classScope.Add(r);
        }
        // Every named struct, union and enum, in BTF order; then anonymous ones named by a typedef.
        foreach (var t in btf.Types)
        {
            if (t is BtfComposite or BtfEnum && t.Name.Length > 0)
            {
                Register(t, t.Name, DisplayKind(t) + " " + t.Name, null);
            }
        }
        foreach (var t in btf.Types)
        {
            if (t is BtfTypedef td && BtfSpec.Underlying(td) is BtfType u && u is BtfComposite or BtfEnum && u.Name.Length == 0)
            {
                Register(u, td.Name, "typedef " + DisplayKind(u) + " { ... } " + td.Name, null);
            }
        }
        foreach (var t in btf.Types)
        {
            if (t is not BtfDataSec sec)
            {
                continue;
            }
            if (sec.Name == ".maps")
            {
                CollectMaps(sec);
            }
            else if (IsDataSection(sec.Name))
            {
                foreach (var v in sec.Variables)
                {
                    if (v.Type is BtfVar var)
                    {
                        var under = StripArrays(var.Target);
                        if (under is BtfComposite or BtfEnum && under.Name.Length == 0)
                        {
                            Register(under, var.Name + "_type", DisplayKind(under) + " (anonymous), type of global '" + var.Name + "'", null);
                        }
                        _variables.Add((var.Name, "C: <c>" + Naming.Xml(CDeclaration(var.Target, var.Name)) + "</c> in <c>" + Naming.Xml(sec.Name) + "</c>."));
                        _variableInfos.Add(new VariableInfo(var.Name, sec.Name, var.Target, CDeclaration(var.Target, var.Name)));
                    }
                }
            }
        }
        foreach (var sym in elf.Symbols)
        {
            if (sym.Type == ElfSymbolType.Func && sym.Binding == ElfSymbolBinding.Global && !sym.IsUndefined
                && sym.SectionIndex < elf.Sections.Count && elf.Sections[sym.SectionIndex] is { IsExecutable: true } s && s.Name != ".text")
            {
                _programs.Add((sym.Name, "C: program <c>" + Naming.Xml(sym.Name) + "</c> in section <c>" + Naming.Xml(s.Name) + "</c>."));
            }
        }
    }

    private void CollectMaps(BtfDataSec sec)
    {
        foreach (var v in sec.Variables)
        {
            if (v.Type is not BtfVar var || BtfSpec.Underlying(var.Target) is not BtfComposite def)
            {
                continue;
            }
            string type = "?", key = "", value = "";
            uint max = 0;
            MapType? mapType = null;
            BtfType? keyType = null, valueType = null;
            foreach (var m in def.Members)
            {
                var mt = BtfSpec.Underlying(m.Type);
                var pointee = mt is BtfPointer p ? p.Target : null;
                var count = pointee is not null && BtfSpec.Underlying(pointee) is BtfArray a ? a.Count : (uint?)null;
                switch (m.Name)
                {
                    case "type" when count is { } c:
                        mapType = (MapType)c;
                        type = mapType.Value.ToString();
                        break;
                    case "max_entries" when count is { } c: max = c; break;
                    case "key" when pointee is not null:
                        key = BtfSpec.DisplayName(pointee);
                        keyType = pointee;
                        RegisterAnonymous(pointee, var.Name + "_key", "key of map '" + var.Name + "'");
                        break;
                    case "value" when pointee is not null:
                        value = BtfSpec.DisplayName(pointee);
                        valueType = pointee;
                        RegisterAnonymous(pointee, var.Name + "_value", "value of map '" + var.Name + "'");
                        break;
                }
            }
            var doc = "C: map <c>" + Naming.Xml(var.Name) + "</c>: " + type + ", " + max.ToString(CultureInfo.InvariantCulture) + " entries"
                + (key.Length > 0 ? ", key <c>" + Naming.Xml(key) + "</c>" : string.Empty)
                + (value.Length > 0 ? ", value <c>" + Naming.Xml(value) + "</c>" : string.Empty) + ".";
            _maps.Add((var.Name, doc));
            _mapInfos.Add(new MapInfo(var.Name, mapType, keyType, valueType, doc));
        }
    }

    private void RegisterAnonymous(BtfType type, string cName, string what)
    {
        var under = StripArrays(type);
        if (under is BtfComposite or BtfEnum && under.Name.Length == 0)
        {
            Register(under, cName, DisplayKind(under) + " (anonymous), " + what, null);
        }
    }

    private static BtfType StripArrays(BtfType t)
    {
        for (var i = 0; i < BtfSpec.MaxResolveDepth; i++)
        {
            t = BtfSpec.Underlying(t);
            if (t is not BtfArray a)
            {
                return t;
            }
            t = a.ElementType;
        }
        return t;
    }

    private static bool IsDataSection(string name) =>
        name is ".data" or ".rodata" or ".bss"
        || name.StartsWith(".data.", StringComparison.Ordinal)
        || name.StartsWith(".rodata.", StringComparison.Ordinal);

    private static string DisplayKind(BtfType t) => t switch
    {
        BtfComposite { IsUnion: true } => "union",
        BtfComposite => "struct",
        _ => "enum",
    };

    private TypeDecl Register(BtfType type, string cName, string cDisplay, TypeDecl? parent)
    {
        if (_decls.TryGetValue(type, out var existing))
        {
            return existing;
        }
        var scope = parent is null ? _classScope : parent.MemberNames;
        var owner = parent is null ? _request.ClassName.TrimStart('@') : parent.QualifiedName;
        var name = Unique(scope, Naming.Pascal(cName), cName, owner, "type");
        var decl = new TypeDecl(type, name, cDisplay, parent);
        _decls[type] = decl;
        if (parent is null)
        {
            _topLevel.Add(decl);
        }
        else
        {
            parent.Nested.Add(decl);
        }
        return decl;
    }

    /// <summary>Claims <paramref name="wanted"/> in <paramref name="scope"/>, or a suffixed variant with a BPFGEN0005.</summary>
    private string Unique(HashSet<string> scope, string wanted, string cName, string owner, string what)
    {
        if (wanted.Length == 0)
        {
            wanted = "_" + what;
        }
        if (scope.Add(wanted))
        {
            return wanted;
        }
        for (var i = 2; ; i++)
        {
            var candidate = wanted + "_" + i.ToString(CultureInfo.InvariantCulture);
            if (scope.Add(candidate))
            {
                Report(GeneratorDiagnostics.NameClash, owner, cName, wanted, "another member of " + owner, candidate);
                return candidate;
            }
        }
    }

    // ---- writing ----

    private string Write()
    {
        var sb = new StringBuilder();
        sb.Append("// <auto-generated>\n// Generated by Bpf.Generators from ").Append(_fileName).Append(" (its BTF). Do not edit.\n// </auto-generated>\n");
        sb.Append("#nullable enable\n#pragma warning disable CS1591\n\n");
        var ns = _request.Namespace;
        var indent = string.Empty;
        if (ns.Length > 0)
        {
            sb.Append("namespace ").Append(ns).Append("\n{\n");
            indent = Indent;
        }
        // Bodies first (they register nested types and arrays), then the class around them.
        var body = new StringBuilder();
        var inner = indent + Indent;
        for (var i = 0; i < _topLevel.Count; i++)
        {
            WriteDecl(body, _topLevel[i], inner);
        }
        var collection = _request.Engines == EngineReferences.None ? null : CollectionMembers(inner);
        if (_request.Engines != EngineReferences.CoreAndLoader)
        {
            Report(GeneratorDiagnostics.MissingReference, _fileName,
                _request.Engines == EngineReferences.None ? "Bpf.Core" : "Bpf.Loader",
                _request.Engines == EngineReferences.None
                    ? "the typed collection class (map, program and global properties, Open)"
                    : "Open (BpfEngine lives in Bpf.Loader); make the class from a loaded IBpfCollection with new " + _request.ClassName.TrimStart('@') + "(collection)");
        }
        WriteNames(body, inner, "Maps", "The maps of the object, by their C names.", _maps);
        WriteNames(body, inner, "Variables", "The global variables of the object's data sections, by their C names.", _variables);
        WriteNames(body, inner, "Programs", "The programs of the object, by their C names.", _programs);
        for (var i = 0; i < _arrayOrder.Count; i++)
        {
            WriteArray(body, _arrayOrder[i], inner);
        }
        sb.Append(indent).Append("/// <summary>Types and names generated from the BTF of the BPF object <c>").Append(Naming.Xml(_fileName)).Append("</c>.</summary>\n");
        sb.Append(indent).Append("public sealed partial class ").Append(_request.ClassName)
            .Append(collection is null ? string.Empty : " : global::System.IDisposable").Append("\n").Append(indent).Append("{\n");
        sb.Append(indent).Append(Indent).Append("/// <summary>The object file the types were generated from.</summary>\n");
        sb.Append(indent).Append(Indent).Append("public const string ObjectFileName = \"").Append(_fileName.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append("\";\n");
        if (_request.ResourceName is { } resource)
        {
            var quoted = "\"" + resource.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
            var i2 = indent + Indent;
            sb.Append(i2).Append("/// <summary>The manifest resource the build embedded the object as.</summary>\n");
            sb.Append(i2).Append("public const string ResourceName = ").Append(quoted).Append(";\n\n");
            sb.Append(i2).Append("/// <summary>The object's bytes, from the resource embedded in this assembly.</summary>\n");
            sb.Append(i2).Append("/// <exception cref=\"global::System.InvalidOperationException\">The resource is missing (the object was not embedded).</exception>\n");
            sb.Append(i2).Append("public static byte[] ReadObject()\n").Append(i2).Append("{\n");
            sb.Append(i2).Append(Indent).Append("using var stream = typeof(").Append(_request.ClassName).Append(").Assembly.GetManifestResourceStream(ResourceName)\n");
            sb.Append(i2).Append(Indent).Append(Indent).Append("?? throw new global::System.InvalidOperationException(\"resource '\" + ResourceName + \"' is not embedded in \" + typeof(").Append(_request.ClassName).Append(").Assembly.GetName().Name);\n");
            sb.Append(i2).Append(Indent).Append("using var copy = new global::System.IO.MemoryStream();\n");
            sb.Append(i2).Append(Indent).Append("stream.CopyTo(copy);\n");
            sb.Append(i2).Append(Indent).Append("return copy.ToArray();\n");
            sb.Append(i2).Append("}\n");
        }
        sb.Append(collection);
        sb.Append(body);
        sb.Append(indent).Append("}\n");
        if (ns.Length > 0)
        {
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    /// <summary>The typed collection class's members: Open, the collection, one property per map, program and global,
    /// and the <c>Constants</c> class for <c>.rodata</c>. Resolves the C# types now (before the arrays are written).</summary>
    private string CollectionMembers(string indent)
    {
        var cls = _request.ClassName;
        var i2 = indent + Indent;
        var sb = new StringBuilder();
        var fields = new StringBuilder();
        var props = new StringBuilder();
        var constants = new StringBuilder();
        var hasRodata = false;

        foreach (var m in _mapInfos)
        {
            var (type, make, note) = MapView(m);
            var name = MemberName(m.CName, "Map");
            var field = FieldName(name);
            fields.Append(indent).Append("private ").Append(type).Append("? ").Append(field).Append(";\n");
            props.Append(props.Length > 0 ? "\n" : string.Empty).Append(indent).Append("/// <summary>").Append(m.Doc).Append(note).Append("</summary>\n");
            var lookup = "Collection.Map(\"" + m.CName + "\")";
            props.Append(indent).Append("public ").Append(type).Append(' ').Append(name).Append(" => ").Append(field)
                .Append(" ??= ").Append(make.Length == 0 ? lookup : "global::Bpf.BpfMapViews." + make + "(" + lookup + ")").Append(";\n");
        }
        foreach (var (cName, doc) in _programs)
        {
            var name = MemberName(cName, "Program");
            var field = FieldName(name);
            fields.Append(indent).Append("private global::Bpf.IBpfProgram? ").Append(field).Append(";\n");
            props.Append(props.Length > 0 ? "\n" : string.Empty).Append(indent).Append("/// <summary>").Append(doc).Append("</summary>\n");
            props.Append(indent).Append("public global::Bpf.IBpfProgram ").Append(name).Append(" => ").Append(field)
                .Append(" ??= Collection.Program(\"").Append(cName).Append("\");\n");
        }
        var constantScope = new HashSet<string>(StringComparer.Ordinal) { "Constants" };
        foreach (var v in _variableInfos)
        {
            var type = MemberType(v.Type, v.CName, null, out var why);
            if (type is null)
            {
                Report(GeneratorDiagnostics.Unrepresentable, _request.ClassName.TrimStart('@'), v.CName, why!, "it has no typed property (read it with Collection.ReadVariable)");
                continue;
            }
            var readOnly = v.Section == ".rodata" || v.Section.StartsWith(".rodata.", StringComparison.Ordinal);
            var name = MemberName(v.CName, "Variable");
            var doc = "C: <c>" + Naming.Xml(v.CDeclaration) + "</c> in <c>" + Naming.Xml(v.Section) + "</c>";
            props.Append(props.Length > 0 ? "\n" : string.Empty).Append(indent).Append("/// <summary>").Append(doc).Append(readOnly
                ? ": read-only once loaded (set it before loading through <see cref=\"Constants\"/>).</summary>\n"
                : ": the programs' global, read and written in the loaded collection.</summary>\n");
            props.Append(indent).Append("public ").Append(type).Append(' ').Append(name);
            if (readOnly)
            {
                props.Append(" => global::Bpf.BpfCollectionExtensions.GetVariable<").Append(type).Append(">(Collection, \"").Append(v.CName).Append("\");\n");
                hasRodata = true;
                var cname = Unique(constantScope, Naming.Pascal(v.CName), v.CName, cls.TrimStart('@') + ".Constants", "variable");
                constants.Append(constants.Length > 0 ? "\n" : string.Empty).Append(i2).Append("/// <summary>").Append(doc).Append(".</summary>\n");
                constants.Append(i2).Append("public ").Append(type).Append(' ').Append(cname)
                    .Append("\n").Append(i2).Append("{\n")
                    .Append(i2).Append(Indent).Append("get => global::System.Runtime.InteropServices.MemoryMarshal.Read<").Append(type).Append(">(Variable(\"").Append(v.CName).Append("\").Get());\n")
                    .Append(i2).Append(Indent).Append("set => Variable(\"").Append(v.CName).Append("\").Set(global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(global::System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref value, 1)));\n")
                    .Append(i2).Append("}\n");
            }
            else
            {
                props.Append("\n").Append(indent).Append("{\n")
                    .Append(i2).Append("get => global::Bpf.BpfCollectionExtensions.GetVariable<").Append(type).Append(">(Collection, \"").Append(v.CName).Append("\");\n")
                    .Append(i2).Append("set => global::Bpf.BpfCollectionExtensions.SetVariable(Collection, \"").Append(v.CName).Append("\", in value);\n")
                    .Append(indent).Append("}\n");
            }
        }

        var configure = hasRodata ? ", global::System.Action<Constants>? configure = null" : string.Empty;
        var configureDoc = hasRodata ? indent + "/// <param name=\"configure\">Sets the object's constants (<c>.rodata</c>) before it is loaded.</param>\n" : string.Empty;
        var engineDocs = indent + "/// <param name=\"engine\">The kernel, the interpreter, or (Auto) the kernel when this process can load programs there.</param>\n"
            + indent + "/// <param name=\"options\">Engine options (verification, kernel and interpreter settings).</param>\n";
        sb.Append('\n');
        if (_request.Engines == EngineReferences.CoreAndLoader)
        {
            if (_request.ResourceName is not null)
            {
                sb.Append(indent).Append("/// <summary>Loads the embedded object on an engine (see <see cref=\"global::Bpf.BpfEngine.Open\"/>).</summary>\n").Append(engineDocs).Append(configureDoc);
                sb.Append(indent).Append("public static ").Append(cls).Append(" Open(global::Bpf.EngineChoice engine = global::Bpf.EngineChoice.Auto, global::Bpf.BpfEngineOptions? options = null")
                    .Append(configure).Append(") =>\n").Append(i2).Append("Open(global::Bpf.ObjectSpec.Read(ReadObject(), ObjectFileName), engine, options")
                    .Append(hasRodata ? ", configure" : string.Empty).Append(");\n\n");
            }
            sb.Append(indent).Append("/// <summary>Loads <paramref name=\"spec\"/> (this object, read from elsewhere) on an engine.</summary>\n");
            sb.Append(indent).Append("/// <param name=\"spec\">The object: the one this class was generated from.</param>\n").Append(engineDocs).Append(configureDoc);
            sb.Append(indent).Append("public static ").Append(cls).Append(" Open(global::Bpf.ObjectSpec spec, global::Bpf.EngineChoice engine = global::Bpf.EngineChoice.Auto, global::Bpf.BpfEngineOptions? options = null")
                .Append(configure).Append(")\n").Append(indent).Append("{\n");
            sb.Append(i2).Append("global::System.ArgumentNullException.ThrowIfNull(spec);\n");
            if (hasRodata)
            {
                sb.Append(i2).Append("configure?.Invoke(new Constants(spec));\n");
            }
            sb.Append(i2).Append("return new ").Append(cls).Append("(global::Bpf.BpfEngine.Open(spec, engine, options));\n");
            sb.Append(indent).Append("}\n\n");
        }
        sb.Append(indent).Append("/// <summary>Wraps a collection loaded from this object (maps and programs are looked up by name on first use).</summary>\n");
        sb.Append(indent).Append("public ").Append(cls).Append("(global::Bpf.IBpfCollection collection) =>\n")
            .Append(i2).Append("Collection = collection ?? throw new global::System.ArgumentNullException(nameof(collection));\n\n");
        sb.Append(indent).Append("/// <summary>The loaded collection: its engine, the maps and programs by name, the globals.</summary>\n");
        sb.Append(indent).Append("public global::Bpf.IBpfCollection Collection { get; }\n\n");
        sb.Append(indent).Append("/// <summary>Unloads the collection (its maps and programs throw ObjectDisposedException afterwards).</summary>\n");
        sb.Append(indent).Append("public void Dispose() => Collection.Dispose();\n\n");
        sb.Append(fields).Append('\n').Append(props);
        if (hasRodata)
        {
            sb.Append('\n').Append(indent).Append("/// <summary>The object's constants (<c>.rodata</c>), set on the object before it is loaded; the kernel and the\n")
                .Append(indent).Append("/// interpreter freeze them once loaded.</summary>\n");
            sb.Append(indent).Append("public sealed class Constants\n").Append(indent).Append("{\n");
            sb.Append(i2).Append("private readonly global::Bpf.ObjectSpec _spec;\n\n");
            sb.Append(i2).Append("/// <summary>The constants of <paramref name=\"spec\"/> (this object, not yet loaded).</summary>\n");
            sb.Append(i2).Append("public Constants(global::Bpf.ObjectSpec spec) => _spec = spec ?? throw new global::System.ArgumentNullException(nameof(spec));\n\n");
            sb.Append(constants).Append('\n');
            sb.Append(i2).Append("private global::Bpf.VariableSpec Variable(string name) => _spec.Variable(name)\n")
                .Append(i2).Append(Indent).Append("?? throw new global::System.Collections.Generic.KeyNotFoundException(\"the object has no global '\" + name + \"' (is it the object ").Append(Naming.Xml(_fileName).Replace("\"", "'")).Append(" was generated from?)\");\n");
            sb.Append(indent).Append("}\n");
        }
        return sb.ToString();
    }

    /// <summary>The property type of a map and the view call that makes it (an empty call for an untyped map), plus a note.</summary>
    private (string Type, string Make, string Note) MapView(MapInfo m)
    {
        string? Cs(BtfType? t, string what)
        {
            if (t is null)
            {
                return null;
            }
            var cs = MemberType(t, m.CName + "_" + what, null, out _);
            return cs;
        }
        var key = Cs(m.Key, "key");
        var value = Cs(m.Value, "value");
        const string Raw = "global::Bpf.IBpfMap";
        switch (m.Type)
        {
            case MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage when key is not null && value is not null:
                return ("global::Bpf.IBpfPerCpuMap<" + key + ", " + value + ">", "AsPerCpu<" + key + ", " + value + ">", " One value per CPU.");
            case MapType.Queue or MapType.Stack when value is not null:
                return ("global::Bpf.IBpfQueue<" + value + ">", "AsQueue<" + value + ">", string.Empty);
            case MapType.RingBuf when value is not null:
                return ("global::Bpf.IBpfRingBuffer<" + value + ">", "AsRingBuffer<" + value + ">", " Records are read as the map's declared value type.");
            case MapType.RingBuf:
                return (Raw, string.Empty, " The record type is not in the BTF: read records with <c>.AsRingBuffer&lt;TEvent&gt;()</c>.");
            case MapType.ProgArray:
                return ("global::Bpf.IBpfProgramArray", "AsProgramArray", string.Empty);
            case MapType.ArrayOfMaps or MapType.HashOfMaps when key is not null:
                return ("global::Bpf.IBpfMapOfMaps<" + key + ">", "AsMapOfMaps<" + key + ">", string.Empty);
            case MapType.PerCpuArray or MapType.PerCpuHash or MapType.LruPerCpuHash or MapType.PerCpuCgroupStorage
                or MapType.Queue or MapType.Stack or MapType.ArrayOfMaps or MapType.HashOfMaps or MapType.PerfEventArray
                or MapType.UserRingBuf or MapType.Arena or MapType.StructOps:
                return (Raw, string.Empty, string.Empty);
            default:
                return key is not null && value is not null
                    ? ("global::Bpf.IBpfMap<" + key + ", " + value + ">", "As<" + key + ", " + value + ">", string.Empty)
                    : (Raw, string.Empty, " Its key or value type is not in the BTF, so the map is untyped.");
        }
    }

    /// <summary>A class member's name for a C name: PascalCase, or with <paramref name="suffix"/> when a type or another
    /// member has it (a BPFGEN0005 only when that is taken too).</summary>
    private string MemberName(string cName, string suffix)
    {
        var wanted = Naming.Pascal(cName);
        if (wanted.Length > 0 && !_classScope.Contains(wanted))
        {
            _classScope.Add(wanted);
            return wanted;
        }
        return Unique(_classScope, wanted + suffix, cName, _request.ClassName.TrimStart('@'), suffix.ToLowerInvariant());
    }

    private static string FieldName(string property) =>
        "_" + char.ToLowerInvariant(property[0]) + property.Substring(1);

    private static void WriteNames(StringBuilder sb, string indent, string className, string summary, List<(string CName, string Doc)> names)
    {
        sb.Append('\n').Append(indent).Append("/// <summary>").Append(summary).Append("</summary>\n");
        sb.Append(indent).Append("public static class ").Append(className).Append("\n").Append(indent).Append("{\n");
        var scope = new HashSet<string>(StringComparer.Ordinal) { className };
        foreach (var (cName, doc) in names)
        {
            var name = Naming.Pascal(cName);
            if (name.Length == 0 || !scope.Add(name))
            {
                var i = 2;
                while (!scope.Add(name + "_" + i.ToString(CultureInfo.InvariantCulture)))
                {
                    i++;
                }
                name = name + "_" + i.ToString(CultureInfo.InvariantCulture);
            }
            sb.Append(indent).Append(Indent).Append("/// <summary>").Append(doc).Append("</summary>\n");
            sb.Append(indent).Append(Indent).Append("public const string ").Append(name).Append(" = \"").Append(cName).Append("\";\n");
        }
        sb.Append(indent).Append("}\n");
    }

    private void WriteDecl(StringBuilder sb, TypeDecl decl, string indent)
    {
        sb.Append('\n');
        switch (decl.Type)
        {
            case BtfEnum e: WriteEnum(sb, decl, e, indent); break;
            case BtfComposite c: WriteComposite(sb, decl, c, indent); break;
        }
    }

    private void WriteEnum(StringBuilder sb, TypeDecl decl, BtfEnum e, string indent)
    {
        var underlying = IntName(e.Size, e.IsSigned);
        sb.Append(indent).Append("/// <summary>C: <c>").Append(Naming.Xml(decl.CDisplay)).Append("</c> (").Append(e.Size).Append(" bytes).</summary>\n");
        sb.Append(indent).Append("public enum ").Append(decl.Name).Append(" : ").Append(underlying ?? "int").Append('\n').Append(indent).Append("{\n");
        if (underlying is null)
        {
            Report(GeneratorDiagnostics.Unrepresentable, decl.QualifiedName, decl.CDisplay, "an enum of " + e.Size.ToString(CultureInfo.InvariantCulture) + " bytes", "it is generated as an int enum");
        }
        var scope = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in e.Values)
        {
            var name = Unique(scope, Naming.Pascal(v.Name), v.Name, decl.QualifiedName, "value");
            var literal = e.IsSigned || underlying is null
                ? v.Value.ToString(CultureInfo.InvariantCulture)
                : (e.Size >= 8 ? unchecked((ulong)v.Value) : unchecked((ulong)v.Value) & ((1UL << (int)(e.Size * 8)) - 1)).ToString(CultureInfo.InvariantCulture);
            sb.Append(indent).Append(Indent).Append("/// <summary>C: <c>").Append(Naming.Xml(v.Name)).Append(" = ").Append(literal).Append("</c>.</summary>\n");
            sb.Append(indent).Append(Indent).Append(name).Append(" = unchecked((").Append(underlying ?? "int").Append(')').Append(literal).Append(underlying is "ulong" ? "UL" : underlying is "long" ? "L" : string.Empty).Append("),\n");
        }
        sb.Append(indent).Append("}\n");
    }

    private void WriteComposite(StringBuilder sb, TypeDecl decl, BtfComposite c, string indent)
    {
        decl.MemberNames.Add(decl.Name);
        decl.MemberNames.Add("Layout");
        var slots = new List<Slot>();
        Flatten(c, 0, slots, 0);
        var members = new StringBuilder();
        var layout = new StringBuilder();
        var cDecl = new StringBuilder();
        var storage = new Dictionary<(uint Start, uint Size), string>();
        var inner = indent + Indent;
        foreach (var slot in slots)
        {
            var m = slot.Member;
            var decl2 = CDeclaration(m.Type, m.Name) + (slot.BitWidth > 0 ? " : " + slot.BitWidth.ToString(CultureInfo.InvariantCulture) : string.Empty);
            cDecl.Append(indent).Append("///     ").Append(Naming.Xml(decl2)).Append(";  /* ")
                .Append(slot.BitWidth > 0 ? "bit " + slot.BitOffset.ToString(CultureInfo.InvariantCulture) : "offset " + (slot.BitOffset / 8).ToString(CultureInfo.InvariantCulture)).Append(" */\n");
            var name = Unique(decl.MemberNames, Naming.Pascal(m.Name), m.Name, decl.QualifiedName, "member");
            var doc = "C: <c>" + Naming.Xml(decl2) + "</c>";
            if (slot.BitWidth > 0)
            {
                WriteBitfield(members, layout, decl, slot, name, doc, storage, inner);
                continue;
            }
            if (slot.BitOffset % 8 != 0)
            {
                Report(GeneratorDiagnostics.Unrepresentable, decl.QualifiedName, m.Name, "a member at bit offset " + slot.BitOffset.ToString(CultureInfo.InvariantCulture) + " that is not a bitfield", "it is left out");
                continue;
            }
            var offset = slot.BitOffset / 8;
            var type = MemberType(m.Type, m.Name, decl, out var why);
            if (type is null)
            {
                Report(GeneratorDiagnostics.Unrepresentable, decl.QualifiedName, m.Name, why!, "it is left out");
                continue;
            }
            layout.Append(inner).Append(Indent).Append("/// <summary>Byte offset of <c>").Append(Naming.Xml(m.Name)).Append("</c>.</summary>\n")
                .Append(inner).Append(Indent).Append("public const int OffsetOf").Append(name).Append(" = ").Append(offset).Append(";\n");
            var be = BigEndianWidth(m.Type);
            if (be is { } beType)
            {
                members.Append(inner).Append("/// <summary>").Append(doc).Append(" at offset ").Append(offset).Append(", as stored: network (big-endian) byte order.</summary>\n");
                members.Append(inner).Append("[global::System.Runtime.InteropServices.FieldOffset(").Append(offset).Append(")] public ").Append(beType).Append(' ').Append(name).Append("NetworkOrder;\n");
                var network = name + "NetworkOrder";
                members.Append(inner).Append("/// <summary>").Append(doc).Append(" at offset ").Append(offset).Append(", in host byte order (reads and writes <see cref=\"").Append(network).Append("\"/>).</summary>\n");
                members.Append(inner).Append("public ").Append(beType).Append(' ').Append(name).Append("\n").Append(inner).Append("{\n")
                    .Append(inner).Append(Indent).Append("readonly get => global::System.BitConverter.IsLittleEndian ? global::System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(").Append(network).Append(") : ").Append(network).Append(";\n")
                    .Append(inner).Append(Indent).Append("set => ").Append(network).Append(" = global::System.BitConverter.IsLittleEndian ? global::System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value) : value;\n")
                    .Append(inner).Append("}\n");
                decl.MemberNames.Add(network);
                continue;
            }
            members.Append(inner).Append("/// <summary>").Append(doc).Append(" at offset ").Append(offset).Append(".</summary>\n");
            members.Append(inner).Append("[global::System.Runtime.InteropServices.FieldOffset(").Append(offset).Append(")] public ").Append(type).Append(' ').Append(name).Append(";\n");
        }

        sb.Append(indent).Append("/// <summary>C: <c>").Append(Naming.Xml(decl.CDisplay)).Append("</c> (").Append(c.Size).Append(" bytes).</summary>\n");
        sb.Append(indent).Append("/// <remarks><code>\n").Append(indent).Append("/// ").Append(c.IsUnion ? "union" : "struct").Append(c.Name.Length > 0 ? " " + Naming.Xml(c.Name) : string.Empty).Append(" {\n");
        sb.Append(cDecl).Append(indent).Append("/// };\n").Append(indent).Append("/// </code></remarks>\n");
        sb.Append(indent).Append("[global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Explicit, Size = ").Append(c.Size).Append(")]\n");
        sb.Append(indent).Append("public partial struct ").Append(decl.Name).Append('\n').Append(indent).Append("{\n");
        sb.Append(members);
        sb.Append('\n').Append(inner).Append("/// <summary>The layout of the C type, from the object's BTF: size and member offsets.</summary>\n");
        sb.Append(inner).Append("public static class Layout\n").Append(inner).Append("{\n");
        sb.Append(inner).Append(Indent).Append("/// <summary>sizeof(").Append(Naming.Xml(decl.CDisplay)).Append(").</summary>\n");
        sb.Append(inner).Append(Indent).Append("public const int Size = ").Append(c.Size).Append(";\n");
        sb.Append(inner).Append(Indent).Append("/// <summary>The id of the C type in the object's BTF.</summary>\n");
        sb.Append(inner).Append(Indent).Append("public const uint BtfTypeId = ").Append(c.Id).Append(";\n");
        sb.Append(inner).Append(Indent).Append("/// <summary>The C type.</summary>\n");
        sb.Append(inner).Append(Indent).Append("public const string CName = \"").Append(decl.CDisplay.Replace("\"", "\\\"")).Append("\";\n");
        sb.Append(layout);
        sb.Append(inner).Append("}\n");
        foreach (var nested in decl.Nested)
        {
            WriteDecl(sb, nested, inner);
        }
        sb.Append(indent).Append("}\n");
    }

    private void WriteBitfield(
        StringBuilder members, StringBuilder layout, TypeDecl decl, Slot slot, string name, string doc,
        Dictionary<(uint Start, uint Size), string> storage, string inner)
    {
        var m = slot.Member;
        var size = BtfSpec.Underlying(m.Type) switch
        {
            BtfInt i => i.Size,
            BtfEnum e => e.Size,
            _ => 0u,
        };
        var propType = size == 0 ? null : MemberType(m.Type, m.Name, decl, out _);
        if (propType is null)
        {
            Report(GeneratorDiagnostics.Unrepresentable, decl.QualifiedName, m.Name, "a bitfield whose type is not an integer or enum", "it is left out");
            return;
        }
        var structSize = ((BtfComposite)decl.Type).Size;
        uint start = 0, unit = 0;
        foreach (var s in new uint[] { 1, 2, 4, 8 })
        {
            var st = slot.BitOffset / 8 / s * s;
            if (slot.BitOffset + slot.BitWidth <= (st + s) * 8 && st + s <= structSize)
            {
                start = st;
                unit = s;
                break;
            }
        }
        if (unit == 0)
        {
            Report(GeneratorDiagnostics.Unrepresentable, decl.QualifiedName, m.Name, "a bitfield spanning more than one aligned 8-byte unit", "it is left out");
            return;
        }
        var unitType = IntName(unit, false)!;
        if (!storage.TryGetValue((start, unit), out var field))
        {
            field = "_bits" + start.ToString(CultureInfo.InvariantCulture) + "x" + unit.ToString(CultureInfo.InvariantCulture);
            storage[(start, unit)] = field;
            decl.MemberNames.Add(field);
            members.Append(inner).Append("[global::System.Runtime.InteropServices.FieldOffset(").Append(start).Append(")] private ").Append(unitType).Append(' ').Append(field).Append(";\n");
        }
        var shift = slot.BitOffset - (start * 8);
        var width = slot.BitWidth;
        var mask = width >= 64 ? "ulong.MaxValue" : "0x" + ((1UL << (int)width) - 1).ToString("x", CultureInfo.InvariantCulture) + "UL";
        var under = BtfSpec.Underlying(m.Type);
        var signed = under switch
        {
            BtfInt i => (i.Encoding & BtfIntEncoding.Signed) != 0,
            BtfEnum e => e.IsSigned,
            _ => false,
        };
        var isBool = under is BtfInt { Encoding: BtfIntEncoding.Bool };
        var raw = signed
            ? "(long)((ulong)" + field + " << " + (64 - shift - width).ToString(CultureInfo.InvariantCulture) + ") >> " + (64 - width).ToString(CultureInfo.InvariantCulture)
            : "((ulong)" + field + " >> " + shift.ToString(CultureInfo.InvariantCulture) + ") & " + mask;
        string get, valueBits;
        if (isBool)
        {
            get = "(" + raw + ") != 0";
            valueBits = "(value ? 1UL : 0UL)";
        }
        else if (under is BtfEnum)
        {
            var u = IntName(size, signed) ?? "int";
            get = "unchecked((" + propType + ")(" + u + ")(" + raw + "))";
            valueBits = "unchecked((ulong)(" + u + ")value)";
        }
        else
        {
            get = "unchecked((" + propType + ")(" + raw + "))";
            valueBits = "unchecked((ulong)value)";
        }
        members.Append(inner).Append("/// <summary>").Append(doc).Append(": bits ").Append(shift).Append("..").Append(shift + width - 1)
            .Append(" of the ").Append(unit).Append("-byte unit at offset ").Append(start).Append(".</summary>\n");
        members.Append(inner).Append("public ").Append(propType).Append(' ').Append(name).Append("\n").Append(inner).Append("{\n")
            .Append(inner).Append(Indent).Append("readonly get => ").Append(get).Append(";\n")
            .Append(inner).Append(Indent).Append("set => ").Append(field).Append(" = unchecked((").Append(unitType).Append(")(((ulong)").Append(field)
            .Append(" & ~(").Append(mask).Append(" << ").Append(shift).Append(")) | ((").Append(valueBits).Append(" & ").Append(mask).Append(") << ").Append(shift).Append(")));\n")
            .Append(inner).Append("}\n");
        layout.Append(inner).Append(Indent).Append("/// <summary>Bit offset of bitfield <c>").Append(Naming.Xml(m.Name)).Append("</c> from the start of the struct.</summary>\n")
            .Append(inner).Append(Indent).Append("public const int BitOffsetOf").Append(name).Append(" = ").Append(slot.BitOffset).Append(";\n")
            .Append(inner).Append(Indent).Append("/// <summary>Width in bits of bitfield <c>").Append(Naming.Xml(m.Name)).Append("</c>.</summary>\n")
            .Append(inner).Append(Indent).Append("public const int BitWidthOf").Append(name).Append(" = ").Append(width).Append(";\n");
    }

    /// <summary>Members in declaration order; anonymous struct/union members are flattened at their offsets (as C reads them).</summary>
    private static void Flatten(BtfComposite c, uint baseBits, List<Slot> slots, int depth)
    {
        if (depth > BtfSpec.MaxResolveDepth)
        {
            throw new BpfObjectException($"type {c.Id}: anonymous members nested deeper than {BtfSpec.MaxResolveDepth}", ".BTF");
        }
        foreach (var m in c.Members)
        {
            var under = BtfSpec.Underlying(m.Type);
            if (m.Name.Length == 0 && under is BtfComposite inner)
            {
                Flatten(inner, baseBits + m.BitOffset, slots, depth + 1);
                continue;
            }
            var bitOffset = baseBits + m.BitOffset;
            uint width = m.BitfieldSize;
            if (width == 0 && under is BtfInt i && (i.BitOffset != 0 || i.Bits != i.Size * 8))
            {
                // Legacy encoding (kind_flag 0): the bitfield lives in the INT type.
                width = i.Bits;
                bitOffset += i.BitOffset;
            }
            slots.Add(new Slot(m, bitOffset, width));
        }
    }

    /// <summary>The C# type for a member of type <paramref name="type"/>, or null with the reason.</summary>
    private string? MemberType(BtfType type, string memberName, TypeDecl? owner, out string? why)
    {
        why = null;
        var t = BtfSpec.Underlying(type);
        switch (t)
        {
            case BtfInt i:
                if ((i.Encoding & BtfIntEncoding.Bool) != 0 && i.Size == 1)
                {
                    return "bool";
                }
                if (i.Size == 16)
                {
                    return (i.Encoding & BtfIntEncoding.Signed) != 0 ? "global::System.Int128" : "global::System.UInt128";
                }
                return IntName(i.Size, (i.Encoding & BtfIntEncoding.Signed) != 0) ?? Fail(out why, "an integer of " + i.Size.ToString(CultureInfo.InvariantCulture) + " bytes");
            case BtfFloat f:
                return f.Size switch
                {
                    2 => "global::System.Half",
                    4 => "float",
                    8 => "double",
                    _ => Fail(out why, "a floating-point type of " + f.Size.ToString(CultureInfo.InvariantCulture) + " bytes (C# has no such type)"),
                };
            case BtfPointer:
                // A BPF pointer is 64 bits; in user space it is only a number.
                return "ulong";
            case BtfEnum or BtfComposite:
                if (!_decls.TryGetValue(t, out var decl))
                {
                    var suffix = t is BtfEnum ? "_kind" : "_type";
                    decl = Register(t, memberName + suffix, DisplayKind(t) + " (anonymous), type of member '" + memberName + "'", owner);
                }
                return decl.QualifiedName;
            case BtfArray a:
                return ArrayType(a, memberName, owner, out why);
            default:
                return Fail(out why, "a member of kind " + t.Kind + " has no size or layout");
        }
    }

    private static string? Fail(out string? why, string reason)
    {
        why = reason;
        return null;
    }

    private string? ArrayType(BtfArray a, string memberName, TypeDecl? owner, out string? why)
    {
        if (a.Count == 0)
        {
            why = "a flexible array member (no element count)";
            return null;
        }
        var element = MemberType(a.ElementType, memberName, owner, out why);
        if (element is null)
        {
            return null;
        }
        var size = BtfSpec.SizeOf(a);
        var key = "Array" + a.Count.ToString(CultureInfo.InvariantCulture) + "Of" + ElementTitle(element);
        if (!_arrays.ContainsKey(key))
        {
            if (!_request.InlineArrays && !_reportedNoInlineArray)
            {
                _reportedNoInlineArray = true;
                Report(GeneratorDiagnostics.NoInlineArray, _fileName, "fixed-size");
            }
            var decl = new ArrayDecl(key, element, a.Count, size, BtfSpec.DisplayName(a));
            _arrays[key] = decl;
            _arrayOrder.Add(decl);
            _classScope.Add(key);
        }
        return key;
    }

    private static string ElementTitle(string csType)
    {
        var simple = csType.Replace("global::System.", string.Empty);
        var sb = new StringBuilder();
        foreach (var part in simple.Split('.'))
        {
            sb.Append(part.Length > 0 && char.IsLower(part[0]) ? Keyword(part) : part);
        }
        return sb.ToString();

        static string Keyword(string k) => k switch
        {
            "byte" => "Byte", "sbyte" => "SByte", "short" => "Int16", "ushort" => "UInt16", "int" => "Int32",
            "uint" => "UInt32", "long" => "Int64", "ulong" => "UInt64", "float" => "Single", "double" => "Double",
            "bool" => "Boolean", _ => char.ToUpperInvariant(k[0]) + k.Substring(1),
        };
    }

    private void WriteArray(StringBuilder sb, ArrayDecl a, string indent)
    {
        sb.Append('\n').Append(indent).Append("/// <summary>C: <c>").Append(Naming.Xml(a.CDisplay)).Append("</c>: ").Append(a.Count)
            .Append(" elements, ").Append(a.Size).Append(" bytes.</summary>\n");
        if (_request.InlineArrays)
        {
            sb.Append(indent).Append("[global::System.Runtime.CompilerServices.InlineArray(").Append(a.Count).Append(")]\n");
            sb.Append(indent).Append("public struct ").Append(a.Name).Append('\n').Append(indent).Append("{\n");
            sb.Append(indent).Append(Indent).Append("private ").Append(a.Element).Append(" _element0;\n");
            sb.Append(indent).Append(Indent).Append("/// <summary>The number of elements.</summary>\n");
            sb.Append(indent).Append(Indent).Append("public const int Length = ").Append(a.Count).Append(";\n");
        }
        else
        {
            sb.Append(indent).Append("[global::System.Runtime.InteropServices.StructLayout(global::System.Runtime.InteropServices.LayoutKind.Sequential, Size = ").Append(a.Size).Append(")]\n");
            sb.Append(indent).Append("public struct ").Append(a.Name).Append('\n').Append(indent).Append("{\n");
            sb.Append(indent).Append(Indent).Append("/// <summary>The number of elements (opaque: the target lacks InlineArray, BPFGEN0007).</summary>\n");
            sb.Append(indent).Append(Indent).Append("public const int Length = ").Append(a.Count).Append(";\n");
        }
        sb.Append(indent).Append("}\n");
    }

    /// <summary>A C declarator: <c>__u16 matrix[2][3]</c>, <c>void *ptr</c>.</summary>
    private static string CDeclaration(BtfType type, string name)
    {
        var dims = new StringBuilder();
        for (var i = 0; i < BtfSpec.MaxResolveDepth && type is BtfArray a; i++)
        {
            dims.Append('[').Append(a.Count).Append(']');
            type = a.ElementType;
        }
        var display = BtfSpec.DisplayName(type);
        return display + (display.EndsWith("*", StringComparison.Ordinal) ? string.Empty : " ") + name + dims;
    }

    /// <summary>The storage type of a <c>__be16</c>/<c>__be32</c>/<c>__be64</c> member (found in its typedef chain), or null.</summary>
    private static string? BigEndianWidth(BtfType type)
    {
        for (var i = 0; i < BtfSpec.MaxResolveDepth; i++)
        {
            switch (type)
            {
                case BtfTypedef td when td.Name is "__be16": return "ushort";
                case BtfTypedef td when td.Name is "__be32": return "uint";
                case BtfTypedef td when td.Name is "__be64": return "ulong";
                case BtfTypedef or BtfQualifier or BtfTypeTag: type = ((BtfReferenceType)type).Target; break;
                default: return null;
            }
        }
        return null;
    }

    private static string? IntName(uint size, bool signed) => size switch
    {
        1 => signed ? "sbyte" : "byte",
        2 => signed ? "short" : "ushort",
        4 => signed ? "int" : "uint",
        8 => signed ? "long" : "ulong",
        _ => null,
    };

    private sealed class TypeDecl(BtfType type, string name, string cDisplay, TypeDecl? parent)
    {
        public BtfType Type { get; } = type;
        public string Name { get; } = name;
        public string CDisplay { get; } = cDisplay;
        public TypeDecl? Parent { get; } = parent;
        public string QualifiedName => Parent is null ? Name : Parent.QualifiedName + "." + Name;
        public List<TypeDecl> Nested { get; } = [];
        public HashSet<string> MemberNames { get; } = new(StringComparer.Ordinal);
    }

    private sealed record ArrayDecl(string Name, string Element, uint Count, ulong Size, string CDisplay);

    private readonly record struct Slot(BtfMember Member, uint BitOffset, uint BitWidth);

    private sealed record MapInfo(string CName, MapType? Type, BtfType? Key, BtfType? Value, string Doc);

    private sealed record VariableInfo(string CName, string Section, BtfType Type, string CDeclaration);
}
