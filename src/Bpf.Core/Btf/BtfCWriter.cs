using System.Globalization;

namespace Bpf.Btf;

/// <summary>
/// Writes BTF types as compilable C declarations — what <c>bpftool btf dump file /sys/kernel/btf/vmlinux format c</c>
/// prints to make <c>vmlinux.h</c>. The algorithm is libbpf's <c>btf_dump.c</c> (BSD-2-Clause), so the text matches
/// it: types are ordered so that every type embedded by value is defined before its user, and a struct reached only
/// through a pointer is forward-declared where a cycle needs it; anonymous structs, unions and enums are written
/// inline; bitfields and holes are laid out with <c>TYPE: BITS</c> padding so the compiled layout equals the BTF one
/// (<c>__attribute__((packed))</c> where the offsets demand it); names that occur twice get a <c>___2</c> suffix.
/// Malformed BTF (a loop of typedefs or qualifiers, a struct that embeds itself) raises
/// <see cref="BpfObjectException"/> naming the type id.
/// </summary>
public sealed class BtfCWriter
{
    /// <summary>Nesting depth beyond which a chain of types is taken for a loop (real kernels nest far less).</summary>
    public const int MaxDepth = 512;

    /// <summary>The largest hole between members (or at a struct's end) written as padding: 64 KiB. The kernel's
    /// own BTF has none above 4 KiB; a larger one is taken for hostile BTF, not written as millions of lines.</summary>
    public const int MaxPaddingBytes = 64 * 1024;

    /// <summary>Padding lines (<c>long: 64;</c>) one writer emits at most: the kernel's BTF needs about 5,000.</summary>
    public const int MaxPaddingLines = 1 << 20;

    private const string KfuncTag = "bpf_kfunc";
    private const string FastcallTag = "bpf_fastcall";

    private readonly BtfSpec _btf;
    private readonly TextWriter _out;
    private readonly int _pointerSize;
    private readonly byte[] _order;   // 0 not ordered, 1 ordering, 2 ordered
    private readonly byte[] _emit;    // 0 not emitted, 1 emitting, 2 emitted
    private readonly bool[] _forwardEmitted;
    private readonly bool[] _referenced;
    private readonly string?[] _resolvedNames;
    private readonly Dictionary<string, int> _typeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _identNames = new(StringComparer.Ordinal);
    private readonly List<uint> _emitQueue = [];
    private readonly List<uint> _declStack = [];
    private int _paddingLines;

    private BtfCWriter(BtfSpec btf, TextWriter output)
    {
        _btf = btf;
        _out = output;
        var n = btf.Types.Count;
        _order = new byte[n];
        _emit = new byte[n];
        _forwardEmitted = new bool[n];
        _referenced = new bool[n];
        _resolvedNames = new string?[n];
        _pointerSize = PointerSize(btf);
        _order[0] = 2; // void needs no definition
        _emit[0] = 2;
        MarkReferenced();
    }

    /// <summary>
    /// Writes a whole header as bpftool does: an include guard, the <c>preserve_access_index</c> pragma around every
    /// type (so field accesses are CO-RE relocatable; <c>BPF_NO_PRESERVE_ACCESS_INDEX</c> turns it off), the
    /// <c>__ksym</c>/<c>__weak</c>/<c>__bpf_fastcall</c> macros, every type, and an <c>extern … __weak __ksym</c>
    /// prototype for every function tagged <c>bpf_kfunc</c> (<c>BPF_NO_KFUNC_PROTOTYPES</c> turns them off).
    /// </summary>
    /// <exception cref="BpfObjectException">The BTF has a type loop that C cannot express.</exception>
    public static void WriteHeader(BtfSpec btf, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(output);
        output.Write("""
            #ifndef __VMLINUX_H__
            #define __VMLINUX_H__

            #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
            #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
            #endif

            #ifndef __ksym
            #define __ksym __attribute__((section(".ksyms")))
            #endif

            #ifndef __weak
            #define __weak __attribute__((weak))
            #endif

            #ifndef __bpf_fastcall
            #if __has_attribute(bpf_fastcall)
            #define __bpf_fastcall __attribute__((bpf_fastcall))
            #else
            #define __bpf_fastcall
            #endif
            #endif


            """.ReplaceLineEndings("\n"));
        var writer = new BtfCWriter(btf, output);
        for (var id = 1u; id < (uint)btf.Types.Count; id++)
        {
            writer.DumpType(id);
        }
        writer.WriteKfuncs();
        output.Write("""
            #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
            #pragma clang attribute pop
            #endif

            #endif /* __VMLINUX_H__ */

            """.ReplaceLineEndings("\n"));
    }

    /// <summary>Writes the C definitions of the given types (or of every type when none is given) and of what they
    /// depend on, each once, in an order C accepts — libbpf's <c>btf_dump__dump_type</c> for each id in turn.</summary>
    /// <exception cref="BpfObjectException">An id does not exist, or the BTF has a type loop that C cannot express.</exception>
    public static void WriteTypes(BtfSpec btf, TextWriter output, params uint[] ids)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(ids);
        var writer = new BtfCWriter(btf, output);
        if (ids.Length == 0)
        {
            for (var id = 1u; id < (uint)btf.Types.Count; id++)
            {
                writer.DumpType(id);
            }
            return;
        }
        foreach (var id in ids)
        {
            btf.TypeById(id);
            writer.DumpType(id);
        }
    }

    /// <summary>A C declaration of <paramref name="name"/> with this type (<c>int (*name)(void *)</c>,
    /// <c>char name[16]</c>); anonymous structs and enums are written inline. An empty name gives a type name.</summary>
    public static string Declaration(BtfSpec btf, BtfType type, string name)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ArgumentNullException.ThrowIfNull(type);
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        new BtfCWriter(btf, sw).EmitTypeDecl(type.Id, name ?? string.Empty, 0, 0);
        return sw.ToString();
    }

    private BtfType T(uint id) => _btf.TypeById(id);

    private static bool Anonymous(BtfType t) => t.Name.Length == 0;

    private static BpfObjectException Loop(uint id) =>
        new($"type {id}: type chain deeper than {MaxDepth} (a loop of typedefs, qualifiers or embedded structs?)", ".BTF");

    private static int PointerSize(BtfSpec btf)
    {
        foreach (var t in btf.Types)
        {
            if (t is BtfInt { Size: 4 or 8 } i && t.Name is "long" or "long int" or "int long" or "unsigned long" or "long unsigned"
                or "unsigned long int" or "unsigned int long" or "long unsigned int" or "long int unsigned" or "int unsigned long" or "int long unsigned")
            {
                return (int)i.Size;
            }
        }
        return 8;
    }

    private void Mark(uint id)
    {
        if (id < (uint)_referenced.Length)
        {
            _referenced[id] = true;
        }
    }

    /// <summary>Types referenced by another type: an anonymous enum that nothing references is a top-level
    /// declaration of constants (<c>enum { A = 1 };</c>), one that is referenced is written inline where used.</summary>
    private void MarkReferenced()
    {
        foreach (var t in _btf.Types)
        {
            switch (t)
            {
                case BtfReferenceType r: Mark(r.TargetId); break;
                case BtfArray a: Mark(a.IndexTypeId); Mark(a.ElementTypeId); break;
                case BtfComposite c:
                    foreach (var m in c.Members) Mark(m.TypeId);
                    break;
                case BtfFuncProto p:
                    foreach (var prm in p.Parameters) Mark(prm.TypeId);
                    break;
                case BtfDataSec d:
                    foreach (var v in d.Variables) Mark(v.TypeId);
                    break;
            }
        }
    }

    private void DumpType(uint id)
    {
        _emitQueue.Clear();
        OrderType(id, false, 0);
        foreach (var queued in _emitQueue)
        {
            EmitType(queued, 0, 0);
        }
    }

    // ---- ordering: a depth-first walk that queues named definitions after what they embed ----------------------
    // Returns 1 when the type is part of a strong link (must be fully defined first), 0 for a weak one (a forward
    // declaration suffices).
    private int OrderType(uint id, bool throughPointer, int depth)
    {
        if (depth > MaxDepth) throw Loop(id);
        if (_order[id] == 2) return 1;
        var t = T(id);
        if (_order[id] == 1)
        {
            if (t is BtfComposite && throughPointer && !Anonymous(t)) return 0;
            throw new BpfObjectException($"type {id} ({BtfSpec.DisplayName(t)}): unsatisfiable type cycle (it contains itself by value)", ".BTF");
        }
        switch (t)
        {
            case BtfInt or BtfFloat:
                _order[id] = 2;
                return 0;
            case BtfPointer p:
            {
                var r = OrderType(p.TargetId, true, depth + 1);
                _order[id] = 2;
                return r;
            }
            case BtfArray a:
                return OrderType(a.ElementTypeId, false, depth + 1);
            case BtfComposite c:
            {
                if (throughPointer && !Anonymous(c)) return 0;
                _order[id] = 1;
                foreach (var m in c.Members)
                {
                    OrderType(m.TypeId, false, depth + 1);
                }
                if (!Anonymous(c)) _emitQueue.Add(id);
                _order[id] = 2;
                return 1;
            }
            case BtfEnum or BtfForward:
                if (!Anonymous(t) || !_referenced[id]) _emitQueue.Add(id);
                _order[id] = 2;
                return 1;
            case BtfTypedef td:
            {
                var strong = OrderType(td.TargetId, throughPointer, depth + 1);
                if (throughPointer && strong == 0) return 0;
                _emitQueue.Add(id);
                _order[id] = 2;
                return 1;
            }
            case BtfQualifier or BtfTypeTag:
                return OrderType(((BtfReferenceType)t).TargetId, throughPointer, depth + 1);
            case BtfFuncProto fp:
            {
                var strong = OrderType(fp.ReturnTypeId, throughPointer, depth + 1) > 0;
                foreach (var prm in fp.Parameters)
                {
                    if (OrderType(prm.TypeId, throughPointer, depth + 1) > 0) strong = true;
                }
                return strong ? 1 : 0;
            }
            default: // func, var, datasec, decl tag: nothing to define
                _order[id] = 2;
                return 0;
        }
    }

    // ---- emission --------------------------------------------------------------------------------------------
    // containerId 0: a top-level definition; else the struct (or typedef) whose definition is being written.
    private void EmitType(uint id, uint containerId, int depth)
    {
        if (depth > MaxDepth) throw Loop(id);
        if (_emit[id] == 2) return;
        var t = T(id);
        var topLevel = containerId == 0;
        if (_emit[id] == 1)
        {
            if (_forwardEmitted[id]) return;
            switch (t)
            {
                case BtfComposite c:
                    if (id == containerId || Anonymous(c)) return; // part of itself; an anonymous loop cannot be declared
                    EmitStructForward(c);
                    _out.Write(";\n\n");
                    _forwardEmitted[id] = true;
                    break;
                case BtfTypedef td:
                    if (!Blacklisted(td))
                    {
                        EmitTypedefDef(td, 0);
                        _out.Write(";\n\n");
                    }
                    _forwardEmitted[id] = true;
                    break;
            }
            return;
        }
        switch (t)
        {
            case BtfInt:
                EmitMissingAlias(t);
                _emit[id] = 2;
                break;
            case BtfEnum e:
                if (topLevel)
                {
                    EmitEnumDef(e, 0);
                    _out.Write(";\n\n");
                }
                _emit[id] = 2;
                break;
            case BtfPointer or BtfQualifier or BtfTypeTag:
                EmitType(((BtfReferenceType)t).TargetId, containerId, depth + 1);
                break;
            case BtfArray a:
                EmitType(a.ElementTypeId, containerId, depth + 1);
                break;
            case BtfForward f:
                EmitForwardDef(f);
                _out.Write(";\n\n");
                _emit[id] = 2;
                break;
            case BtfTypedef td:
                _emit[id] = 1;
                EmitType(td.TargetId, id, depth + 1);
                if (!_forwardEmitted[id] && !Blacklisted(td))
                {
                    EmitTypedefDef(td, 0);
                    _out.Write(";\n\n");
                }
                _emit[id] = 2;
                break;
            case BtfComposite c:
                _emit[id] = 1;
                if (topLevel || Anonymous(c))
                {
                    var inner = Anonymous(c) ? containerId : id;
                    foreach (var m in c.Members)
                    {
                        EmitType(m.TypeId, inner, depth + 1);
                    }
                }
                else if (!_forwardEmitted[id] && id != containerId)
                {
                    EmitStructForward(c);
                    _out.Write(";\n\n");
                    _forwardEmitted[id] = true;
                }
                if (topLevel)
                {
                    EmitStructDef(c, 0, depth);
                    _out.Write(";\n\n");
                    _emit[id] = 2;
                }
                else
                {
                    _emit[id] = 0;
                }
                break;
            case BtfFuncProto fp:
                EmitType(fp.ReturnTypeId, containerId, depth + 1);
                foreach (var prm in fp.Parameters)
                {
                    EmitType(prm.TypeId, containerId, depth + 1);
                }
                break;
        }
    }

    private static bool Blacklisted(BtfType t) => t.Name == "__builtin_va_list"; // a compiler built-in

    private void EmitMissingAlias(BtfType t)
    {
        // GCC's typedefs to its internal Arm SIMD types: alias them to standard base types.
        var name = TypeName(t);
        var base_ = name switch
        {
            "__Poly8_t" => "unsigned char",
            "__Poly16_t" => "unsigned short",
            "__Poly64_t" => "unsigned long long",
            "__Poly128_t" => "unsigned __int128",
            _ => null,
        };
        if (base_ is not null)
        {
            _out.Write($"typedef {base_} {name};\n\n");
        }
    }

    private void EmitStructForward(BtfComposite c)
    {
        _out.Write(c.IsUnion ? "union" : "struct");
        if (!Anonymous(c))
        {
            _out.Write(' ');
            _out.Write(TypeName(c));
        }
    }

    private void EmitForwardDef(BtfForward f)
    {
        _out.Write(f.IsUnion ? "union " : "struct ");
        _out.Write(TypeName(f));
    }

    private static void Indent(TextWriter o, int level)
    {
        for (var i = 0; i < Math.Min(level, 13); i++) o.Write('\t');
    }

    private void EmitStructDef(BtfComposite c, int level, int depth)
    {
        if (depth > MaxDepth) throw Loop(c.Id);
        var align = AlignOf(c, 0);
        var packed = !c.IsUnion && IsPacked(c);
        EmitStructForward(c);
        _out.Write(" {");
        long offset = 0;
        var previousBitfield = false;
        foreach (var m in c.Members)
        {
            int bits = m.BitfieldSize;
            long memberOffset = m.BitOffset;
            var memberAlign = packed ? 1 : AlignOf(m.Type, 0);
            var inBitfield = previousBitfield && bits != 0;
            EmitBitPadding(c, offset, memberOffset, memberAlign, inBitfield, level + 1);
            _out.Write('\n');
            Indent(_out, level + 1);
            EmitTypeDecl(m.TypeId, m.Name, level + 1, depth + 1);
            if (bits != 0)
            {
                _out.Write(": ");
                _out.Write(bits.ToString(CultureInfo.InvariantCulture));
                offset = memberOffset + bits;
                previousBitfield = true;
            }
            else
            {
                offset = memberOffset + (long)ResolveSize(m.Type) * 8;
                previousBitfield = false;
            }
            _out.Write(';');
        }
        if (!c.IsUnion)
        {
            EmitBitPadding(c, offset, (long)c.Size * 8, align, false, level + 1);
        }
        if (c.Members.Count > 0 || c.Size > 0)
        {
            _out.Write('\n');
            Indent(_out, level);
        }
        _out.Write('}');
        if (packed)
        {
            _out.Write(" __attribute__((packed))");
        }
    }

    private static ulong ResolveSize(BtfType type)
    {
        try
        {
            return BtfSpec.SizeOf(type);
        }
        catch (BpfObjectException)
        {
            return 0; // void, a forward declaration, a function: no size (libbpf counts 0 too)
        }
    }

    private int AlignOf(BtfType t, int depth)
    {
        if (depth > MaxDepth) throw Loop(t.Id);
        switch (t)
        {
            case BtfInt i: return (int)Math.Min((uint)_pointerSize, i.Size);
            case BtfEnum e: return (int)Math.Min((uint)_pointerSize, e.Size);
            case BtfFloat f: return (int)Math.Min((uint)_pointerSize, f.Size);
            case BtfPointer: return _pointerSize;
            case BtfTypedef or BtfQualifier or BtfTypeTag: return AlignOf(((BtfReferenceType)t).Target, depth + 1);
            case BtfArray a: return AlignOf(a.ElementType, depth + 1);
            case BtfComposite c:
            {
                var max = 1;
                foreach (var m in c.Members)
                {
                    var align = AlignOf(m.Type, depth + 1);
                    if (align <= 0) return 1;
                    max = Math.Max(max, align);
                    if (m.BitfieldSize == 0 && m.BitOffset % (8 * (uint)align) != 0) return 1; // must be packed
                }
                return c.Size % (uint)max != 0 ? 1 : max;
            }
            default: return 0; // void, forward declaration, function: no alignment
        }
    }

    private bool IsPacked(BtfComposite c)
    {
        var max = 1;
        foreach (var m in c.Members)
        {
            var align = AlignOf(m.Type, 0);
            if (align != 0 && m.BitfieldSize == 0 && m.BitOffset % (8 * (uint)align) != 0) return true;
            max = Math.Max(max, align);
        }
        return c.Size % (uint)max != 0;
    }

    private static long RoundUp(long x, long y) => y <= 0 ? x : (x + y - 1) / y * y;

    /// <summary>Fills the gap between the end of the previous member and the next one with anonymous bitfields
    /// (<c>long: 64;</c>, <c>int: 0;</c>) that make the compiler place the next member where BTF says.</summary>
    private void EmitBitPadding(BtfComposite owner, long current, long next, int nextAlign, bool inBitfield, int level)
    {
        if (current >= next) return;
        if (next - current > MaxPaddingBytes * 8L)
        {
            throw new BpfObjectException($"type {owner.Id} ({BtfSpec.DisplayName(owner)}): a hole of {(next - current) / 8} bytes at byte {current / 8} (more than {MaxPaddingBytes} bytes of padding)", ".BTF");
        }
        ReadOnlySpan<int> padBits = [_pointerSize * 8, 32, 16, 8];
        string[] padNames = ["long", "int", "short", "char"];
        long newOffset = 0;
        var bits = 0;
        var name = string.Empty;
        for (var i = 0; i < padBits.Length; i++)
        {
            bits = padBits[i];
            name = padNames[i];
            newOffset = RoundUp(current, bits);
            if (newOffset <= next) break;
        }
        if (newOffset > current && newOffset <= next)
        {
            if (inBitfield
                || (newOffset == next && RoundUp(current, nextAlign * 8L) != newOffset)
                || (newOffset != next && next - newOffset <= newOffset - current))
            {
                PadLine(level, name, inBitfield ? newOffset - current : 0);
            }
            current = newOffset;
        }
        while (current != next)
        {
            var chunk = (int)Math.Min(next - current, bits);
            if (chunk == bits)
            {
                PadLine(level, name, bits);
                current += bits;
                continue;
            }
            // The remainder: the smallest type that holds it.
            for (var i = padBits.Length - 1; i >= 0; i--)
            {
                if (padBits[i] < chunk) continue;
                PadLine(level, padNames[i], chunk);
                current += chunk;
                break;
            }
        }
    }

    private void PadLine(int level, string type, long bits)
    {
        if (++_paddingLines > MaxPaddingLines)
        {
            throw new BpfObjectException($"more than {MaxPaddingLines} padding lines: the BTF's structs are mostly holes", ".BTF");
        }
        _out.Write('\n');
        Indent(_out, level);
        _out.Write(type);
        _out.Write(": ");
        _out.Write(bits.ToString(CultureInfo.InvariantCulture));
        _out.Write(';');
    }

    private void EmitEnumDef(BtfEnum e, int level)
    {
        _out.Write("enum");
        if (!Anonymous(e))
        {
            _out.Write(' ');
            _out.Write(TypeName(e));
        }
        if (e.Values.Count == 0) return;
        _out.Write(" {");
        var is64 = e.Kind == BtfKind.Enum64;
        foreach (var v in e.Values)
        {
            _out.Write('\n');
            Indent(_out, level + 1);
            _out.Write(v.Name);
            var dups = CountName(_identNames, v.Name); // enumerators share the namespace of typedef names
            if (dups > 1)
            {
                _out.Write("___");
                _out.Write(dups.ToString(CultureInfo.InvariantCulture));
            }
            _out.Write(" = ");
            if (!is64)
            {
                _out.Write(v.Value.ToString(CultureInfo.InvariantCulture));
            }
            else if (e.IsSigned)
            {
                _out.Write(v.Value.ToString(CultureInfo.InvariantCulture));
                _out.Write("LL");
            }
            else
            {
                _out.Write(((ulong)v.Value).ToString(CultureInfo.InvariantCulture));
                _out.Write("ULL");
            }
            _out.Write(',');
        }
        _out.Write('\n');
        Indent(_out, level);
        _out.Write('}');
        if (e.Size == 1)
        {
            _out.Write(" __attribute__((mode(byte)))");
        }
        else if (e.Size == 8 && _pointerSize == 8)
        {
            // 8 bytes comes naturally from a value that needs the upper half; otherwise mode(word) forces it.
            var needsWord = true;
            if (is64)
            {
                foreach (var v in e.Values)
                {
                    if ((ulong)v.Value >> 32 != 0)
                    {
                        needsWord = false;
                        break;
                    }
                }
            }
            if (needsWord) _out.Write(" __attribute__((mode(word)))");
        }
    }

    private void EmitTypedefDef(BtfTypedef td, int level)
    {
        var name = IdentName(td);
        if (td.TargetId == 0 && name == "__gnuc_va_list")
        {
            _out.Write("typedef __builtin_va_list __gnuc_va_list"); // old GCC wrote it as a typedef of void
            return;
        }
        _out.Write("typedef ");
        EmitTypeDecl(td.TargetId, name, level, 0);
    }

    // ---- declarations: C's inside-out declarator syntax from a chain of BTF types ----------------------------
    private void EmitTypeDecl(uint id, string name, int level, int depth)
    {
        if (depth > MaxDepth) throw Loop(id);
        var start = _declStack.Count;
        for (var guard = 0; ; guard++)
        {
            if (guard > MaxDepth) throw Loop(id);
            _declStack.Add(id);
            if (id == 0) break;
            var t = T(id);
            if (t is BtfPointer or BtfQualifier or BtfTypeTag)
            {
                id = ((BtfReferenceType)t).TargetId;
            }
            else if (t is BtfFuncProto fp)
            {
                id = fp.ReturnTypeId;
            }
            else if (t is BtfArray a)
            {
                id = a.ElementTypeId;
            }
            else
            {
                break; // int, float, enum, forward, struct, union, typedef (or a kind that cannot appear here)
            }
        }
        var count = _declStack.Count - start;
        EmitTypeChain(start, ref count, name, level, depth);
        _declStack.RemoveRange(start, _declStack.Count - start);
    }

    private uint Top(int start, int count) => _declStack[start + count - 1];

    private void EmitQualifiers(int start, ref int count)
    {
        while (count > 0 && T(Top(start, count)) is BtfQualifier q)
        {
            _out.Write(q.Kind switch { BtfKind.Volatile => "volatile ", BtfKind.Const => "const ", _ => "restrict " });
            count--;
        }
    }

    private void DropQualifiers(int start, ref int count)
    {
        while (count > 0 && T(Top(start, count)) is BtfQualifier)
        {
            count--;
        }
    }

    private void EmitName(string name, bool lastWasPointer)
    {
        if (name.Length > 0 && !lastWasPointer) _out.Write(' ');
        _out.Write(name);
    }

    private void EmitTypeChain(int start, ref int count, string name, int level, int depth)
    {
        if (depth > MaxDepth) throw Loop(Top(start, Math.Max(count, 1)));
        var lastWasPointer = true; // no space before a lone pointer: (*name)
        while (count > 0)
        {
            var id = _declStack[start + --count];
            var t = T(id);
            switch (t)
            {
                case BtfVoid:
                    EmitQualifiers(start, ref count);
                    _out.Write("void");
                    lastWasPointer = false;
                    continue;
                case BtfInt or BtfFloat:
                    EmitQualifiers(start, ref count);
                    _out.Write(t.Name);
                    break;
                case BtfComposite c:
                    EmitQualifiers(start, ref count);
                    if (Anonymous(c)) EmitStructDef(c, level, depth + 1);
                    else EmitStructForward(c);
                    break;
                case BtfEnum e:
                    EmitQualifiers(start, ref count);
                    if (Anonymous(e)) EmitEnumDef(e, level);
                    else
                    {
                        _out.Write("enum ");
                        _out.Write(TypeName(e));
                    }
                    break;
                case BtfForward f:
                    EmitQualifiers(start, ref count);
                    EmitForwardDef(f);
                    break;
                case BtfTypedef td:
                    EmitQualifiers(start, ref count);
                    _out.Write(IdentName(td));
                    break;
                case BtfPointer:
                    _out.Write(lastWasPointer ? "*" : " *");
                    break;
                case BtfQualifier q:
                    _out.Write(q.Kind switch { BtfKind.Volatile => " volatile", BtfKind.Const => " const", _ => " restrict" });
                    break;
                case BtfTypeTag tag:
                    EmitQualifiers(start, ref count);
                    _out.Write(tag.IsAttribute ? $" __attribute__(({tag.Name}))" : $" __attribute__((btf_type_tag(\"{tag.Name}\")))");
                    break;
                case BtfArray a:
                {
                    // Qualifiers on an array (GCC puts its element's there) mean nothing in C: dropped.
                    DropQualifiers(start, ref count);
                    if (count == 0)
                    {
                        EmitName(name, lastWasPointer);
                        _out.Write($"[{a.Count.ToString(CultureInfo.InvariantCulture)}]");
                        return;
                    }
                    var multidimensional = T(Top(start, count)) is BtfArray;
                    if (name.Length > 0 && !lastWasPointer) _out.Write(' ');
                    if (!multidimensional) _out.Write('(');
                    EmitTypeChain(start, ref count, name, level, depth + 1);
                    if (!multidimensional) _out.Write(')');
                    _out.Write($"[{a.Count.ToString(CultureInfo.InvariantCulture)}]");
                    return;
                }
                case BtfFuncProto fp:
                {
                    DropQualifiers(start, ref count); // GCC's volatile on noreturn function pointers
                    if (count > 0)
                    {
                        _out.Write(" (");
                        EmitTypeChain(start, ref count, name, level, depth + 1);
                        _out.Write(')');
                    }
                    else
                    {
                        EmitName(name, lastWasPointer);
                    }
                    _out.Write('(');
                    var ps = fp.Parameters;
                    if (ps.Count == 0 || (ps.Count == 1 && ps[0].TypeId == 0))
                    {
                        _out.Write("void)");
                        return;
                    }
                    for (var i = 0; i < ps.Count; i++)
                    {
                        if (i > 0) _out.Write(", ");
                        if (i == ps.Count - 1 && ps[i].TypeId == 0)
                        {
                            _out.Write("...");
                            break;
                        }
                        EmitTypeDecl(ps[i].TypeId, ps[i].Name, level, depth + 1);
                    }
                    _out.Write(')');
                    return;
                }
                default:
                    throw new BpfObjectException($"type {id} ({t.Kind}) cannot be part of a C declaration", ".BTF");
            }
            lastWasPointer = t is BtfPointer;
        }
        EmitName(name, lastWasPointer);
    }

    // ---- names: a second struct of the same name becomes NAME___2, as in libbpf ------------------------------
    private static int CountName(Dictionary<string, int> names, string name)
    {
        names.TryGetValue(name, out var n);
        names[name] = ++n;
        return n;
    }

    private string TypeName(BtfType t) => ResolveName(t, _typeNames);

    private string IdentName(BtfType t) => ResolveName(t, _identNames);

    private string ResolveName(BtfType t, Dictionary<string, int> names)
    {
        if (Anonymous(t)) return string.Empty;
        if (_resolvedNames[t.Id] is { } cached) return cached;
        if (t is BtfForward || (t is BtfEnum { Values.Count: 0 }))
        {
            return _resolvedNames[t.Id] = t.Name;
        }
        var dups = CountName(names, t.Name);
        return _resolvedNames[t.Id] = dups > 1 ? $"{t.Name}___{dups.ToString(CultureInfo.InvariantCulture)}" : t.Name;
    }

    private void WriteKfuncs()
    {
        var kfuncs = new List<BtfFunc>();
        var fastcalls = new HashSet<uint>();
        foreach (var t in _btf.Types)
        {
            if (t is BtfDeclTag { ComponentIndex: -1 } tag && tag.Target is BtfFunc f)
            {
                if (tag.Name == KfuncTag) kfuncs.Add(f);
                if (tag.Name == FastcallTag) fastcalls.Add(f.Id);
            }
        }
        kfuncs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        _out.Write("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
        foreach (var f in kfuncs)
        {
            _out.Write("extern ");
            if (fastcalls.Contains(f.Id)) _out.Write("__bpf_fastcall ");
            EmitTypeDecl(f.TargetId, f.Name, 0, 0);
            _out.Write(" __weak __ksym;\n");
        }
        _out.Write("#endif\n\n");
    }
}
