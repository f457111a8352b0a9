using Bpf.Elf;

namespace Bpf.Tests.Elf;

/// <summary>The ELF reader and the linked programs against llvm-readelf-14 / llvm-objdump-14 (or their committed output).</summary>
public class ElfReaderTests
{
    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Committed_expectations_are_what_the_tools_print_today(string name)
    {
        // The expectation files stand in for the tools on machines without LLVM; keep them honest where it exists.
        var (readelf, liveReadelf) = Corpus.ReadElfView(name);
        var (objdump, liveObjdump) = Corpus.ObjdumpView(name);
        if (liveReadelf)
        {
            Assert.Equal(File.ReadAllText(Path.Combine(Corpus.Dir, "expected", name + ".readelf.txt")), readelf);
        }
        if (liveObjdump)
        {
            Assert.Equal(File.ReadAllText(Path.Combine(Corpus.Dir, "expected", name + ".objdump.txt")), objdump);
        }
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Sections_match_llvm_readelf(string name)
    {
        var elf = ElfFile.Parse(Corpus.Bytes(name));
        var expected = LlvmViews.Sections(Corpus.ReadElfView(name).Text);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, elf.Sections.Count);
        foreach (var e in expected)
        {
            var s = elf.Sections[e.Index];
            Assert.Equal(e.Name, s.Name);
            Assert.Equal(e.Offset, s.Offset);
            Assert.Equal(e.Size, s.Size);
            Assert.Equal(e.Link, (int)s.Link);
            Assert.Equal(e.Info, (int)s.Info);
            Assert.Equal(e.Flags.Contains('X'), (s.Flags & ElfSectionFlags.ExecInstr) != 0);
            Assert.Equal(e.Flags.Contains('W'), (s.Flags & ElfSectionFlags.Write) != 0);
            var type = e.Type switch
            {
                "NULL" => ElfSectionType.Null, "PROGBITS" => ElfSectionType.ProgBits, "SYMTAB" => ElfSectionType.SymTab,
                "STRTAB" => ElfSectionType.StrTab, "REL" => ElfSectionType.Rel, "NOBITS" => ElfSectionType.NoBits,
                "LLVM_ADDRSIG" => ElfSectionType.LlvmAddrsig, _ => throw new InvalidOperationException(e.Type),
            };
            Assert.Equal(type, s.Type);
        }
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Symbols_match_llvm_readelf(string name)
    {
        var elf = ElfFile.Parse(Corpus.Bytes(name));
        var expected = LlvmViews.Symbols(Corpus.ReadElfView(name).Text);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, elf.Symbols.Count);
        foreach (var e in expected)
        {
            var s = elf.Symbols[e.Index];
            Assert.Equal(e.Name, elf.SymbolDisplayName(s));
            Assert.Equal(e.Value, s.Value);
            Assert.Equal(e.Size, s.Size);
            Assert.Equal(e.Type, s.Type switch
            {
                ElfSymbolType.NoType => "NOTYPE", ElfSymbolType.Object => "OBJECT", ElfSymbolType.Func => "FUNC",
                ElfSymbolType.Section => "SECTION", ElfSymbolType.File => "FILE", _ => "?",
            });
            Assert.Equal(e.Bind, s.Binding.ToString().ToUpperInvariant());
            Assert.Equal(e.Ndx, s.SectionIndex switch { 0 => "UND", 0xfff1 => "ABS", 0xfff2 => "COM", var n => n.ToString() });
        }
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Relocations_match_llvm_readelf(string name)
    {
        var elf = ElfFile.Parse(Corpus.Bytes(name));
        var expected = LlvmViews.Relocations(Corpus.ReadElfView(name).Text);
        var actual = elf.Sections
            .Where(s => s.Type == ElfSectionType.Rel)
            .SelectMany(s => elf.ReadRelocations(s).Select(r => new LlvmViews.Relocation(s.Name, r.Offset, r.SymbolIndex, (uint)r.Type)))
            .ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Code_bytes_match_llvm_objdump(string name)
    {
        var elf = ElfFile.Parse(Corpus.Bytes(name));
        var functions = LlvmViews.Functions(Corpus.ObjdumpView(name).Text);
        Assert.NotEmpty(functions);
        foreach (var f in functions)
        {
            var section = elf.FindSection(f.Section)!;
            Assert.True(section.IsExecutable, f.Section);
            Assert.Equal(f.Bytes, elf.GetContents(section).Slice((int)f.Address, f.Bytes.Length).ToArray());
        }
        // Every executable byte is covered by objdump's functions.
        foreach (var s in elf.Sections.Where(s => s.IsExecutable))
        {
            Assert.Equal(s.Size, functions.Where(f => f.Section == s.Name).Sum(f => f.Bytes.Length));
        }
    }

    [Theory]
    [MemberData(nameof(Corpus.All), MemberType = typeof(Corpus))]
    public void Linked_programs_start_with_objdump_function_bytes_except_relocated_fields(string name)
    {
        var spec = ObjectSpec.Read(Corpus.Bytes(name), name);
        var functions = LlvmViews.Functions(Corpus.ObjdumpView(name).Text);
        Assert.NotEmpty(spec.Programs);
        foreach (var program in spec.Programs)
        {
            foreach (var placed in program.Functions)
            {
                var f = functions.Single(x => x.Name == placed.Name && x.Section == placed.SectionName);
                Assert.Equal(f.Bytes.Length / 8, placed.Length);
                var original = InstructionDecoder.ReadSlots(f.Bytes);
                for (var i = 0; i < placed.Length; i++)
                {
                    var linked = program.Instructions[placed.StartIndex + i];
                    var o = original[i];
                    Assert.Equal(o.Opcode, linked.Opcode);
                    Assert.Equal(o.DstRaw, linked.DstRaw);
                    Assert.Equal(o.Offset, linked.Offset);
                    var isPatchedCall = o.Opcode == Opcodes.Call && linked.SrcRaw == (byte)CallKind.Local;
                    var isPatchedLoad = o.Opcode == Opcodes.LdDw || (i > 0 && original[i - 1].Opcode == Opcodes.LdDw);
                    if (!isPatchedCall && !isPatchedLoad)
                    {
                        Assert.Equal(o, linked);
                    }
                }
            }
        }
    }
}
