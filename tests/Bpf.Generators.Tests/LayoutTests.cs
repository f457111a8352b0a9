extern alias gen;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Bpf.Btf;
using Microsoft.CodeAnalysis;
using Naming = gen::Bpf.Generators.Naming;

namespace Bpf.Generators.Tests;

/// <summary>
/// Every generated struct of every corpus object, compiled and loaded, measured against the object's BTF as
/// Bpf.Core reads it: the size, and for every member (anonymous members flattened, as C reads them) the exact
/// bytes — or for a bitfield the exact bits — that writing it touches. Big-endian members are checked to store
/// in network order what the host-order property is given.
/// </summary>
public sealed class LayoutTests
{
    private static readonly Lazy<(Assembly Assembly, IReadOnlyList<Diagnostic> Diagnostics)> Compiled = new(() =>
    {
        var objects = Corpus.Objects();
        var (run, output) = GeneratorHarness.Generate(objects.Select(o => o.Path), options: CorpusOptions.For(objects));
        return (GeneratorHarness.Load(output), run.Diagnostics);
    });

    public static TheoryData<string> Objects() => Corpus.Names();

    [Theory]
    [MemberData(nameof(Objects))]
    public void EveryGeneratedTypeHasTheBtfLayout(string name)
    {
        var path = Corpus.PathOf(name);
        var btf = ObjectSpec.ReadFile(path).Btf!;
        var ns = "Generated." + Naming.Pascal(name[..name.IndexOf('.')]);
        var stem = Path.GetFileNameWithoutExtension(path);
        var root = Compiled.Value.Assembly.GetType(ns + "." + Naming.Pascal(stem), throwOnError: true)!;
        var checkedTypes = 0;
        foreach (var type in AllNested(root))
        {
            var layout = type.GetNestedType("Layout");
            if (!type.IsValueType || layout is null) continue;
            var id = (uint)layout.GetField("BtfTypeId")!.GetRawConstantValue()!;
            var composite = Assert.IsType<BtfComposite>(btf.TypeById(id));
            CheckType(type, composite);
            checkedTypes++;
        }
        var expected = btf.Types.OfType<BtfComposite>().Count(c => c.Name.Length > 0);
        Assert.True(checkedTypes >= expected, $"{name}: {checkedTypes} generated structs checked, but BTF names {expected}");
    }

    [Fact]
    public void LayoutCorpusCoversEveryFeature()
    {
        // The layout corpus must exercise what the generator claims, or the theory above proves little.
        var btf = ObjectSpec.ReadFile(Corpus.LayoutObject).Btf!;
        var composites = btf.Types.OfType<BtfComposite>().ToList();
        Assert.Contains(composites, c => c.IsUnion && c.Name.Length > 0);
        Assert.Contains(composites, c => c.Members.Any(m => m.Name.Length == 0 && BtfSpec.Underlying(m.Type) is BtfComposite { IsUnion: true }));
        Assert.Contains(composites, c => c.Members.Any(m => m.Name.Length == 0 && BtfSpec.Underlying(m.Type) is BtfComposite { IsUnion: false }));
        Assert.Contains(composites, c => c.Members.Any(m => m.BitfieldSize > 0 && BtfSpec.Underlying(m.Type) is BtfEnum));
        Assert.Contains(composites, c => c.Members.Any(m => m.BitfieldSize > 32));
        Assert.Contains(composites, c => c.Members.Any(m => m.Type is BtfTypedef { Name: "__be16" }));
        Assert.Contains(composites, c => c.Members.Any(m => m.Type is BtfArray { ElementType: BtfArray }));
        Assert.Contains(composites, c => c.Members.Any(m => m.Type is BtfTypedef { Target: BtfTypedef }));
        Assert.Contains(composites, c => c.Members.Any(m => m.BitOffset % 32 == 8 && m.BitfieldSize == 0 && BtfSpec.SizeOf(m.Type) == 4)); // packed
        var diagnostics = Compiled.Value.Diagnostics.Where(d => d.Location.GetLineSpan().Path == Corpus.LayoutObject).ToList();
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void BigEndianPropertiesStoreNetworkOrder()
    {
        var root = Compiled.Value.Assembly.GetType("Generated.Generators.Layouts", throwOnError: true)!;
        var addr = root.GetNestedType("Addr")!;
        object boxed = Activator.CreateInstance(addr)!;
        addr.GetProperty("Port")!.SetValue(boxed, (ushort)0x1234);
        addr.GetProperty("Ip")!.SetValue(boxed, 0x0A000001u); // 10.0.0.1
        var bytes = ToBytes(addr, boxed);
        Assert.Equal(new byte[] { 10, 0, 0, 1, 0x12, 0x34, 0, 0 }, bytes);
        Assert.Equal((ushort)0x1234, addr.GetProperty("Port")!.GetValue(boxed));
        Assert.Equal(0x0A000001u, addr.GetProperty("Ip")!.GetValue(boxed));
    }

    [Fact]
    public void SignedAndEnumBitfieldsRoundTrip()
    {
        var root = Compiled.Value.Assembly.GetType("Generated.Generators.Layouts", throwOnError: true)!;
        var flags = root.GetNestedType("Flags")!;
        var verdict = root.GetNestedType("Verdict")!;
        object boxed = Activator.CreateInstance(flags)!;
        flags.GetProperty("C")!.SetValue(boxed, -3);
        flags.GetProperty("V")!.SetValue(boxed, Enum.ToObject(verdict, 7));
        flags.GetProperty("Big")!.SetValue(boxed, 0xAB_CDEF_0123UL);
        flags.GetProperty("A")!.SetValue(boxed, 5u);
        Assert.Equal(-3, flags.GetProperty("C")!.GetValue(boxed));
        Assert.Equal(Enum.ToObject(verdict, 7), flags.GetProperty("V")!.GetValue(boxed));
        Assert.Equal(0xAB_CDEF_0123UL, flags.GetProperty("Big")!.GetValue(boxed));
        Assert.Equal(5u, flags.GetProperty("A")!.GetValue(boxed));
        // c:4 at bit 8 holds -3 = 0b1101; v:3 at bit 12 holds 7; a:3 at bit 0 holds 5.
        var bytes = ToBytes(flags, boxed);
        Assert.Equal(0b0000_0101, bytes[0]);
        Assert.Equal(0b0111_1101, bytes[1]);
    }

    private static IEnumerable<Type> AllNested(Type t)
    {
        foreach (var n in t.GetNestedTypes())
        {
            yield return n;
            foreach (var m in AllNested(n)) yield return m;
        }
    }

    private static void CheckType(Type type, BtfComposite c)
    {
        Assert.True(SizeOf(type) == c.Size, $"{type.FullName}: sizeof is {SizeOf(type)}, BTF says {c.Size}");
        var members = new List<(BtfMember Member, uint BitOffset)>();
        Flatten(c, 0, members);
        foreach (var (m, bitOffset) in members)
        {
            var name = Naming.Pascal(m.Name);
            var under = BtfSpec.Underlying(m.Type);
            var width = (uint)m.BitfieldSize;
            var offset = bitOffset;
            if (width == 0 && under is BtfInt i && (i.BitOffset != 0 || i.Bits != i.Size * 8))
            {
                width = i.Bits;
                offset += i.BitOffset;
            }
            if (width > 0)
            {
                CheckBitfield(type, name, offset, width, under);
                continue;
            }
            if (m.Type is BtfArray { Count: 0 } || under is BtfArray { Count: 0 })
            {
                Assert.Null(type.GetField(name)); // flexible array members are left out (BPFGEN0004)
                continue;
            }
            var field = type.GetField(name) ?? type.GetField(name + "NetworkOrder");
            Assert.True(field is not null, $"{type.FullName}: no member for C '{m.Name}'");
            var size = BtfSpec.SizeOf(m.Type);
            Assert.True(SizeOf(field!.FieldType) == (int)size, $"{type.FullName}.{field.Name}: {SizeOf(field.FieldType)} bytes, BTF says {size}");
            var boxed = Activator.CreateInstance(type)!;
            field.SetValue(boxed, FromBytes(field.FieldType, Enumerable.Repeat((byte)0xff, (int)size).ToArray()));
            AssertBits(type.FullName + "." + field.Name, ToBytes(type, boxed), bitOffset, (uint)size * 8, set: true);
        }
    }

    private static void CheckBitfield(Type type, string name, uint bitOffset, uint width, BtfType under)
    {
        var property = type.GetProperty(name);
        Assert.True(property is not null, $"{type.FullName}: no property for bitfield '{name}'");
        var t = property!.PropertyType;
        object ones = t == typeof(bool) ? true
            : t.IsEnum ? Enum.ToObject(t, width >= 64 ? ulong.MaxValue : (1UL << (int)width) - 1)
            : under is BtfInt i && (i.Encoding & BtfIntEncoding.Signed) != 0 ? Convert.ChangeType(-1, t)
            : Convert.ChangeType(width >= 64 ? ulong.MaxValue : (1UL << (int)width) - 1, t);
        var boxed = Activator.CreateInstance(type)!;
        property.SetValue(boxed, ones);
        AssertBits(type.FullName + "." + name, ToBytes(type, boxed), bitOffset, width, set: true);
        Assert.Equal(ones, property.GetValue(boxed));
        // From all ones, clearing the bitfield clears exactly its bits.
        var full = FromBytes(type, Enumerable.Repeat((byte)0xff, SizeOf(type)).ToArray());
        property.SetValue(full, t == typeof(bool) ? false : t.IsEnum ? Enum.ToObject(t, 0) : Convert.ChangeType(0, t));
        AssertBits(type.FullName + "." + name + " (clear)", ToBytes(type, full), bitOffset, width, set: false);
    }

    /// <summary>Exactly bits [from, from+count) are <paramref name="set"/> (set or clear), every other bit the opposite.</summary>
    private static void AssertBits(string what, byte[] bytes, uint from, uint count, bool set)
    {
        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var isSet = (bytes[bit / 8] >> (bit % 8) & 1) != 0;
            var inside = bit >= from && bit < from + count;
            Assert.True(isSet == (inside == set), $"{what}: bit {bit} is {(isSet ? 1 : 0)}; the member occupies bits {from}..{from + count - 1}");
        }
    }

    private static void Flatten(BtfComposite c, uint baseBits, List<(BtfMember, uint)> into)
    {
        foreach (var m in c.Members)
        {
            if (m.Name.Length == 0 && BtfSpec.Underlying(m.Type) is BtfComposite inner) Flatten(inner, baseBits + m.BitOffset, into);
            else into.Add((m, baseBits + m.BitOffset));
        }
    }

    private static int SizeOf(Type t) => (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;

    private static byte[] ToBytes(Type t, object boxed) =>
        (byte[])typeof(LayoutTests).GetMethod(nameof(ToBytesOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t).Invoke(null, [boxed])!;

    private static object FromBytes(Type t, byte[] bytes) =>
        typeof(LayoutTests).GetMethod(nameof(FromBytesOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(t).Invoke(null, [bytes])!;

    private static byte[] ToBytesOf<T>(object boxed) where T : struct
    {
        var value = (T)boxed;
        return MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref value)).ToArray();
    }

    private static object FromBytesOf<T>(byte[] bytes) where T : struct => MemoryMarshal.Read<T>(bytes);
}
