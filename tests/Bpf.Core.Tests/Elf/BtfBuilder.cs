using System.Buffers.Binary;
using System.Text;

namespace Bpf.Tests.Elf;

/// <summary>Builds small .BTF sections by hand, for kinds clang-14 does not emit from the corpus.</summary>
internal sealed class BtfBuilder
{
    private readonly List<byte> _types = [];
    private readonly List<byte> _strings = [0];
    private uint _next = 1;

    public uint Str(string s)
    {
        var off = (uint)_strings.Count;
        _strings.AddRange(Encoding.UTF8.GetBytes(s));
        _strings.Add(0);
        return off;
    }

    public uint Type(string name, int kind, int vlen, bool kindFlag, uint sizeOrType, params uint[] extra)
    {
        U32(name.Length == 0 ? 0 : Str(name));
        U32((uint)vlen | ((uint)kind << 24) | (kindFlag ? 1u << 31 : 0));
        U32(sizeOrType);
        foreach (var e in extra) U32(e);
        return _next++;
    }

    private void U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        _types.AddRange(b.ToArray());
    }

    public byte[] Build()
    {
        var header = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0xeB9F);
        header[2] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)_types.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), (uint)_strings.Count);
        return [.. header, .. _types, .. _strings];
    }

    public static byte[] AllKinds()
    {
        var b = new BtfBuilder();
        var u32 = b.Type("unsigned int", 1, 0, false, 4, 32);                                   // 1 INT
        b.Type("bf", 4, 2, true, 4, b.Str("lo"), u32, (4u << 24) | 0, b.Str("hi"), u32, (4u << 24) | 4); // 2 STRUCT
        b.Type("big", 19, 2, true, 8, b.Str("NEG"), 0xfffffffe, 0xffffffff, b.Str("HUGE"), 0, 1);     // 3 ENUM64
        b.Type("double", 16, 0, false, 8);                                                      // 4 FLOAT
        b.Type("dtag", 17, 0, false, 2, 1);                                                     // 5 DECL_TAG on member 1 of bf
        var tag = b.Type("user", 18, 0, false, u32);                                            // 6 TYPE_TAG
        b.Type("", 2, 0, false, tag);                                                           // 7 PTR -> tag
        b.Type("", 11, 0, false, 7);                                                            // 8 RESTRICT
        b.Type("fwd_union", 7, 0, true, 0);                                                     // 9 FWD union
        b.Type("u32_t", 8, 0, false, u32);                                                      // 10 TYPEDEF
        b.Type("e", 6, 1, true, 4, b.Str("MINUS"), 0xffffffff);                                 // 11 signed ENUM
        return b.Build();
    }

    public static byte[] TypedefLoop()
    {
        var b = new BtfBuilder();
        b.Type("a", 8, 0, false, 2);
        b.Type("b", 8, 0, false, 1);
        return b.Build();
    }

    public static byte[] DanglingPointer()
    {
        var b = new BtfBuilder();
        b.Type("", 2, 0, false, 99);
        return b.Build();
    }
}
