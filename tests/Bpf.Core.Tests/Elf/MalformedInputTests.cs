using System.Buffers.Binary;
using System.Diagnostics;
using Bpf.Elf;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Bpf.Tests.Elf;

/// <summary>Malformed, truncated and unsupported objects: one exception type, a location, no crash, hang or blow-up.</summary>
public class MalformedInputTests
{
    private static BpfObjectException Fails(byte[] bytes) => Assert.Throws<BpfObjectException>(() => ObjectSpec.Read(bytes));

    private static byte[] Corpus0 => Corpus.Bytes("xdp_filter");

    [Fact]
    public void Empty_and_tiny_inputs()
    {
        Assert.Contains("not an ELF file", Fails([]).Message);
        Assert.Contains("not an ELF file", Fails([0x7f, (byte)'E', (byte)'L', (byte)'X', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]).Message);
        Assert.Contains("shorter than the 64-byte ELF64 header", Fails(Corpus0[..40]).Message);
    }

    [Fact]
    public void Big_endian_is_rejected_clearly()
    {
        var b = Corpus0;
        b[5] = 2;
        var e = Fails(b);
        Assert.Contains("big-endian", e.Message);
        Assert.Equal(5, e.FileOffset);
    }

    [Fact]
    public void Wrong_machine_and_class()
    {
        var b = Corpus0;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(18), 62);
        Assert.Contains("not EM_BPF", Fails(b).Message);
        b = Corpus0;
        b[4] = 1;
        Assert.Contains("32-bit", Fails(b).Message);
    }

    [Fact]
    public void Section_table_past_end_of_file()
    {
        var b = Corpus0;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)b.Length - 10);
        var e = Fails(b);
        Assert.Equal(40, e.FileOffset);
        b = Corpus0;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(60), 0xfff0);
        Assert.Contains("does not fit", Fails(b).Message);
    }

    [Fact]
    public void Truncation_anywhere_is_reported()
    {
        var full = Corpus0;
        foreach (var length in new[] { 64, 200, full.Length / 2, full.Length - 1 })
        {
            Fails(full[..length]);
        }
    }

    [Fact]
    public void Section_with_huge_size_is_reported_with_its_header_offset()
    {
        var b = Corpus0;
        var elf = ElfFile.Parse(Corpus0);
        var btf = elf.FindSection(".BTF")!;
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(40));
        var header = shoff + (btf.Index * 64);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(header + 32), 0x7fff_ffff_0000);
        var e = Fails(b);
        Assert.Equal(header + 24, e.FileOffset);
        Assert.Contains("extends past the end", e.Message);
    }

    [Fact]
    public void Huge_bss_is_rejected_without_allocating()
    {
        var bytes = Corpus.Bytes("globals");
        var elf = ElfFile.Parse(bytes);
        var bss = elf.FindSection(".bss")!;
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(shoff + (bss.Index * 64) + 32), 1UL << 40);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BpfObjectException>(() => ObjectSpec.Read(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        Assert.Equal(".bss", e.SectionName);
    }

    [Fact]
    public void Relocation_against_missing_symbol_names_the_section()
    {
        var bytes = Corpus0;
        var elf = ElfFile.Parse(bytes);
        var rel = elf.FindSection(".relxdp")!;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)rel.Offset + 12), 5000);
        var e = Fails(bytes);
        Assert.Equal(".relxdp", e.SectionName);
        Assert.Contains("symbol 5000", e.Message);
    }

    [Fact]
    public void Unsupported_struct_ops_section_is_refused_not_dropped()
    {
        // Rename section ".data.counters" to ".struct_ops" by editing the section-name string table in place.
        var bytes = Corpus.Bytes("globals");
        var strtab = ElfFile.Parse(Corpus.Bytes("globals")).FindSection(".strtab")!;
        var text = System.Text.Encoding.Latin1.GetString(bytes, (int)strtab.Offset, (int)strtab.Size);
        var at = (int)strtab.Offset + text.IndexOf(".data.counters\0", StringComparison.Ordinal);
        System.Text.Encoding.Latin1.GetBytes(".struct_ops\0\0\0\0").CopyTo(bytes, at);
        var e = Fails(bytes);
        Assert.Contains("struct_ops", e.Message);
        Assert.Equal(".struct_ops", e.SectionName);
    }

    public sealed record Mutation(int File, int Kind, int Region, int Position, uint Value, int Count);

    private static readonly byte[][] Originals = Corpus.Names.Select(Corpus.Bytes).ToArray();

    // The byte ranges the reader actually interprets: headers, tables, BTF, code, relocations, maps, data.
    private static readonly (int Start, int Length)[][] Regions = Originals.Select(bytes =>
    {
        var elf = ElfFile.Parse(bytes);
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        var list = new List<(int, int)> { (0, 64), (shoff, elf.Sections.Count * 64) };
        foreach (var s in elf.Sections)
        {
            if (s.Type != ElfSectionType.NoBits && s.Size > 0 && !s.Name.StartsWith(".debug", StringComparison.Ordinal) && !s.Name.StartsWith(".rel.debug", StringComparison.Ordinal))
            {
                list.Add(((int)s.Offset, (int)s.Size));
            }
        }
        return list.ToArray();
    }).ToArray();

    private static readonly Gen<Mutation> Mutations =
        from file in Gen.Choose(0, Originals.Length - 1)
        from kind in Gen.Frequency((4, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)))
        from region in Gen.Choose(0, 1000)
        from position in Gen.Choose(0, int.MaxValue)
        from value in Gen.OneOf(
            Gen.Elements(0u, 1u, 2u, 7u, 8u, 0xffu, 0xffffu, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffff0u),
            Gen.Choose(0, 0xffff).Select(v => (uint)v),
            Gen.Choose(int.MinValue, int.MaxValue).Select(v => (uint)v))
        from count in Gen.Choose(1, 4)
        select new Mutation(file, kind, region, position, value, count);

    internal static byte[] Apply(Mutation m)
    {
        var original = Originals[m.File];
        var regions = Regions[m.File];
        var (start, length) = regions[m.Region % regions.Length];
        var at = start + (m.Position % Math.Max(length, 1));
        switch (m.Kind)
        {
            case 0: // overwrite a 32-bit field with an interesting value
            {
                var b = (byte[])original.Clone();
                at = Math.Min(at & ~3, b.Length - 4);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), m.Value);
                return b;
            }
            case 1: // flip bytes
            {
                var b = (byte[])original.Clone();
                for (var i = 0; i < m.Count && at + i < b.Length; i++) b[at + i] ^= (byte)(m.Value >> (8 * i) | 1);
                return b;
            }
            case 2: // truncate
                return original[..(m.Position % original.Length)];
            default: // overwrite a 64-bit field (offsets and sizes in headers are 64-bit)
            {
                var b = (byte[])original.Clone();
                at = Math.Min(at & ~7, b.Length - 8);
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), (ulong)m.Value << (m.Count > 2 ? 32 : 0) | m.Value);
                return b;
            }
        }
    }

    private const long MemoryBoundBytes = 32L << 20;
    /// <summary>CPU time of the process per case (a hang detector; CPU, not wall-clock, time so a busy machine does not fail it).</summary>
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(2);

    [Property(MaxTest = 10_000, QuietOnSuccess = true)]
    public Property Mutated_objects_read_or_fail_with_BpfObjectException() =>
        Prop.ForAll(Mutations.ToArbitrary(), m =>
        {
            var bytes = Apply(m);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            try
            {
                var spec = ObjectSpec.Read(bytes);
                // A successful read must also be printable (exercises BTF display and line lookups).
                foreach (var p in spec.Programs)
                {
                    for (var i = 0; i < p.Instructions.Length; i++) _ = p.LineInfoAt(i);
                }
                foreach (var v in spec.Variables) _ = v.Get().Length;
            }
            catch (BpfObjectException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Reason));
            }
            var took = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(took < TimeBound, $"{m} took {took} of CPU time");
            Assert.True(allocated < MemoryBoundBytes, $"{m} allocated {allocated} bytes");
        });

    [Fact]
    public void Mutations_reach_deep_into_the_reader_not_just_the_header()
    {
        // Guards the property against being vacuous: a fixed sample must both succeed and fail, and the
        // failures must come from many different places (sections), not only the ELF header.
        var random = new Random(1234);
        var ok = 0;
        var sections = new HashSet<string>();
        var reasons = new HashSet<string>();
        for (var i = 0; i < 3000; i++)
        {
            var m = new Mutation(random.Next(Originals.Length), random.Next(4), random.Next(1000), random.Next(), (uint)random.Next(int.MinValue, int.MaxValue), random.Next(1, 5));
            try
            {
                ObjectSpec.Read(Apply(m));
                ok++;
            }
            catch (BpfObjectException e)
            {
                sections.Add(e.SectionName ?? "(file)");
                reasons.Add(e.Reason.Split(' ')[0]);
            }
        }
        Assert.InRange(ok, 100, 2900);
        Assert.Contains(".BTF", sections);
        Assert.Contains(".BTF.ext", sections);
        Assert.Contains("(file)", sections);
        Assert.True(sections.Count >= 8, string.Join(", ", sections));
        Assert.True(reasons.Count >= 10, string.Join(", ", reasons));
    }
}
