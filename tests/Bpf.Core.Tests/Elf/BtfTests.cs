using Bpf.Btf;
using Bpf.Elf;

namespace Bpf.Tests.Elf;

/// <summary>BTF type graph and BTF.ext records of the corpus, checked against the C sources.</summary>
public class BtfTests
{
    private static ObjectSpec Read(string name) => ObjectSpec.Read(Corpus.Bytes(name), name);

    [Fact]
    public void Struct_members_offsets_and_bitfields_match_the_c_layout()
    {
        var btf = Read("xdp_filter").Btf!;
        // xdp_filter.c only uses ethhdr/iphdr via pointers cast from packet data; the context struct is in BTF.
        var xdp = (BtfComposite)btf.FindType("xdp_md", BtfKind.Struct)!;
        Assert.Equal(24u, xdp.Size);
        Assert.Equal(["data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex"], xdp.Members.Select(m => m.Name));
        Assert.Equal([0u, 32, 64, 96, 128, 160], xdp.Members.Select(m => m.BitOffset));
        Assert.All(xdp.Members, m => Assert.Equal("__u32", m.Type.Name));

        var skb = (BtfComposite)Read("socket_filter").Btf!.FindType("__sk_buff", BtfKind.Struct)!;
        Assert.Equal(84u, skb.Size);
        Assert.Equal(76u, skb.FindMember("data")!.ByteOffset);
        var cb = (BtfArray)BtfSpec.Underlying(skb.FindMember("cb")!.Type);
        Assert.Equal(5u, cb.Count);
        Assert.Equal(20ul, BtfSpec.SizeOf(cb));
    }

    [Fact]
    public void Bitfields_are_decoded_from_kind_flag_members()
    {
        // A hand-made BTF: struct bf { unsigned int lo:4, hi:4; } with kind_flag set, plus every remaining kind.
        var btf = BtfSpec.Parse(BtfBuilder.AllKinds());
        var s = (BtfComposite)btf.FindType("bf", BtfKind.Struct)!;
        Assert.Equal([(0u, (byte)4), (4u, (byte)4)], s.Members.Select(m => (m.BitOffset, m.BitfieldSize)));
        Assert.Equal(BtfKind.Enum64, btf.FindType("big", BtfKind.Enum64)!.Kind);
        Assert.Equal(-2L, ((BtfEnum)btf.FindType("big", BtfKind.Enum64)!).Values[0].Value);
        Assert.Equal(0x1_0000_0000L, ((BtfEnum)btf.FindType("big", BtfKind.Enum64)!).Values[1].Value);
        Assert.Equal(8u, ((BtfFloat)btf.FindType("double", BtfKind.Float)!).Size);
        var tag = (BtfDeclTag)btf.Types.Single(t => t.Kind == BtfKind.DeclTag);
        Assert.Equal(("dtag", 1), (tag.Name, tag.ComponentIndex));
        Assert.Same(s, tag.Target);
        var typeTag = (BtfTypeTag)btf.Types.Single(t => t.Kind == BtfKind.TypeTag);
        Assert.Equal("user", typeTag.Name);
        Assert.Equal("unsigned int __tag(user) *", BtfSpec.DisplayName(btf.Types.Single(t => t is BtfPointer p && p.Target == typeTag)));
        Assert.Equal(BtfKind.Restrict, btf.Types.Single(t => t.Kind == BtfKind.Restrict).Kind);
        Assert.True(((BtfForward)btf.FindType("fwd_union", BtfKind.Forward)!).IsUnion);
        Assert.Equal(4ul, BtfSpec.SizeOf(btf.FindType("u32_t", BtfKind.Typedef)!));
    }

    [Fact]
    public void Func_protos_datasecs_and_vars_are_linked()
    {
        var btf = Read("globals").Btf!;
        var func = (BtfFunc)btf.FindType("use_globals", BtfKind.Func)!;
        var proto = (BtfFuncProto)func.Target;
        Assert.Equal("int", proto.ReturnType.Name);
        Assert.Equal("skb", proto.Parameters.Single().Name);
        Assert.Equal("struct __sk_buff *", BtfSpec.DisplayName(proto.Parameters.Single().Type));
        var data = (BtfDataSec)btf.FindType(".data", BtfKind.DataSec)!;
        Assert.Equal(12u, data.Size);
        Assert.Equal([("packets_seen", 0u, 8u), ("last_len", 8u, 4u)], data.Variables.Select(v => (v.Type.Name, v.Offset, v.Size)));
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Line_info_names_the_source_line_it_quotes(string name)
    {
        var spec = Read(name);
        var source = File.ReadAllLines(Path.Combine(Corpus.Dir, name + ".c"));
        var checkedLines = 0;
        foreach (var p in spec.Programs)
        {
            Assert.NotEmpty(p.LineInfos);
            Assert.Equal(p.LineInfos.OrderBy(l => l.InstructionIndex).Select(l => l.InstructionIndex), p.LineInfos.Select(l => l.InstructionIndex));
            foreach (var l in p.LineInfos.Where(l => l.Line > 0))
            {
                Assert.Equal($"./{name}.c", l.FileName);
                Assert.InRange(l.Line, 1, source.Length);
                Assert.Equal(source[l.Line - 1], l.LineText);
                Assert.InRange(l.Column, 0, source[l.Line - 1].Length + 1);
                Assert.InRange(l.InstructionIndex, 0, p.Instructions.Length - 1);
                checkedLines++;
            }
        }
        Assert.True(checkedLines > 0);
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Func_info_names_each_program(string name)
    {
        foreach (var p in Read(name).Programs)
        {
            var first = p.FuncInfos[0];
            Assert.Equal(0, first.InstructionIndex);
            Assert.Equal(p.Name, first.Function.Name);
            Assert.IsType<BtfFuncProto>(((BtfFunc)first.Function).Target);
        }
    }

    [Fact]
    public void Typedef_loops_are_reported_not_followed_forever()
    {
        var btf = BtfSpec.Parse(BtfBuilder.TypedefLoop());
        var e = Assert.Throws<BpfObjectException>(() => BtfSpec.SizeOf(btf.Types[1]));
        Assert.Contains("loop", e.Message);
    }

    [Fact]
    public void Type_ids_out_of_range_are_rejected()
    {
        var e = Assert.Throws<BpfObjectException>(() => BtfSpec.Parse(BtfBuilder.DanglingPointer()));
        Assert.Contains("refers to type 99", e.Message);
        Assert.Equal(".BTF", e.SectionName);
    }
}
