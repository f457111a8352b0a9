using System.Buffers.Binary;
using System.Text;

namespace Bpf.Elf;

/// <summary>
/// A parsed little-endian ELF64 relocatable object for EM_BPF: section headers, the symbol table, string tables
/// and relocation sections. Every offset, size and index read from the file is checked against the file before
/// it is used; a bad one raises <see cref="BpfObjectException"/>. Nothing is allocated in proportion to a size
/// a header claims, only in proportion to bytes that are actually present.
/// </summary>
internal sealed class ElfFile
{
    /// <summary>EM_BPF.</summary>
    public const ushort MachineBpf = 247;

    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const int SymbolSize = 24;

    private readonly byte[] _data;
    private readonly ElfSection[] _sections;
    private readonly ElfSymbol[] _symbols;
    private readonly Dictionary<string, ElfSection> _byName;

    private ElfFile(byte[] data, ElfSection[] sections, ElfSymbol[] symbols, ushort machine, ushort type)
    {
        _data = data;
        _sections = sections;
        _symbols = symbols;
        Machine = machine;
        ObjectType = type;
        _byName = new Dictionary<string, ElfSection>(StringComparer.Ordinal);
        foreach (var s in sections)
        {
            _byName.TryAdd(s.Name, s);
        }
    }

    /// <summary>e_machine (always <see cref="MachineBpf"/> or 0 for objects accepted by <see cref="Parse"/>).</summary>
    public ushort Machine { get; }

    /// <summary>e_type (1 = relocatable).</summary>
    public ushort ObjectType { get; }

    /// <summary>All section headers, in file order (index 0 is the null section).</summary>
    public IReadOnlyList<ElfSection> Sections => _sections;

    /// <summary>All symbols of the symbol table (index 0 is the null symbol); empty when there is none.</summary>
    public IReadOnlyList<ElfSymbol> Symbols => _symbols;

    /// <summary>The raw file bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    /// <summary>Finds the first section with this name.</summary>
    public ElfSection? FindSection(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The contents of a section (empty for NOBITS). Offsets were checked at parse time.</summary>
    public ReadOnlySpan<byte> GetContents(ElfSection section) =>
        section.Type is ElfSectionType.NoBits or ElfSectionType.Null
            ? ReadOnlySpan<byte>.Empty
            : _data.AsSpan((int)section.Offset, (int)section.Size);

    /// <summary>The name to show for a symbol: its own name, or for a section symbol the section's name.</summary>
    public string SymbolDisplayName(ElfSymbol symbol) =>
        symbol.Name.Length == 0 && symbol.Type == ElfSymbolType.Section && symbol.SectionIndex < _sections.Length
            ? _sections[symbol.SectionIndex].Name
            : symbol.Name;

    /// <summary>Relocation sections (REL or RELA) that apply to <paramref name="target"/>.</summary>
    public IEnumerable<ElfSection> RelocationSectionsFor(ElfSection target)
    {
        foreach (var s in _sections)
        {
            if (s.Type is ElfSectionType.Rel or ElfSectionType.Rela && s.Info == (uint)target.Index)
            {
                yield return s;
            }
        }
    }

    /// <summary>Decodes a REL or RELA section. Symbol indices are checked against the symbol table.</summary>
    /// <exception cref="BpfObjectException">The section is not a relocation section or an entry is bad.</exception>
    public ElfRelocation[] ReadRelocations(ElfSection section)
    {
        var entrySize = section.Type switch
        {
            ElfSectionType.Rel => 16,
            ElfSectionType.Rela => 24,
            _ => throw new BpfObjectException("not a relocation section", section.Name, section.Offset),
        };
        if (section.Size % entrySize != 0)
        {
            throw new BpfObjectException(
                $"size {section.Size} is not a multiple of the {entrySize}-byte relocation entry", section.Name, section.Offset);
        }
        var bytes = GetContents(section);
        var result = new ElfRelocation[bytes.Length / entrySize];
        for (var i = 0; i < result.Length; i++)
        {
            var e = bytes.Slice(i * entrySize, entrySize);
            var info = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            var sym = info >> 32;
            if (sym >= (ulong)_symbols.Length)
            {
                throw new BpfObjectException(
                    $"relocation {i} refers to symbol {sym}, but the symbol table has {_symbols.Length} entries",
                    section.Name, section.Offset + (i * entrySize) + 8);
            }
            var addend = entrySize == 24 ? BinaryPrimitives.ReadInt64LittleEndian(e[16..]) : 0;
            result[i] = new ElfRelocation(
                BinaryPrimitives.ReadUInt64LittleEndian(e), (int)sym, (BpfRelocationType)(uint)info, addend);
        }
        return result;
    }

    /// <summary>Parses an ELF object held in memory. The array is kept (not copied); do not modify it afterwards.</summary>
    /// <exception cref="BpfObjectException">The bytes are not a well-formed little-endian ELF64 BPF object.</exception>
    public static ElfFile Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> d = data;
        if (d.Length < 16 || d[0] != 0x7f || d[1] != (byte)'E' || d[2] != (byte)'L' || d[3] != (byte)'F')
        {
            throw new BpfObjectException("not an ELF file (bad magic)", fileOffset: 0);
        }
        if (d[4] != 2)
        {
            throw new BpfObjectException(
                d[4] == 1 ? "32-bit ELF is not supported: BPF objects are ELF64" : $"bad ELF class {d[4]}", fileOffset: 4);
        }
        if (d[5] == 2)
        {
            throw new BpfObjectException(
                "big-endian ELF is not supported: rebuild with -target bpfel (or -target bpf on a little-endian host)",
                fileOffset: 5);
        }
        if (d[5] != 1)
        {
            throw new BpfObjectException($"bad ELF data encoding {d[5]}", fileOffset: 5);
        }
        if (d.Length < HeaderSize)
        {
            throw new BpfObjectException($"file is {d.Length} bytes, shorter than the 64-byte ELF64 header", fileOffset: d.Length);
        }
        var type = BinaryPrimitives.ReadUInt16LittleEndian(d[16..]);
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(d[18..]);
        if (machine != MachineBpf && machine != 0)
        {
            throw new BpfObjectException($"e_machine is {machine}, not EM_BPF ({MachineBpf})", fileOffset: 18);
        }
        if (type != 1)
        {
            throw new BpfObjectException($"e_type is {type}; only relocatable objects (ET_REL) are supported", fileOffset: 16);
        }
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(d[40..]);
        var shentsize = BinaryPrimitives.ReadUInt16LittleEndian(d[58..]);
        ulong shnum = BinaryPrimitives.ReadUInt16LittleEndian(d[60..]);
        uint shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(d[62..]);
        if (shoff == 0)
        {
            throw new BpfObjectException("the object has no section header table", fileOffset: 40);
        }
        if (shentsize != SectionHeaderSize)
        {
            throw new BpfObjectException($"e_shentsize is {shentsize}, expected {SectionHeaderSize}", fileOffset: 58);
        }
        CheckRange(d.Length, shoff, SectionHeaderSize, "section header 0", null, 40);
        // Extended numbering: the real counts live in section 0 when they overflow 16 bits.
        var sh0 = d.Slice((int)shoff, SectionHeaderSize);
        if (shnum == 0)
        {
            shnum = BinaryPrimitives.ReadUInt64LittleEndian(sh0[32..]);
        }
        if (shstrndx == 0xffff)
        {
            shstrndx = BinaryPrimitives.ReadUInt32LittleEndian(sh0[40..]);
        }
        if (shnum == 0 || shnum > (ulong)(d.Length - (long)shoff) / SectionHeaderSize)
        {
            throw new BpfObjectException(
                $"section header table at 0x{shoff:x} with {shnum} entries does not fit in the {d.Length}-byte file",
                fileOffset: 60);
        }
        var count = (int)shnum;
        if (shstrndx >= (uint)count)
        {
            throw new BpfObjectException($"e_shstrndx {shstrndx} is not a section (there are {count})", fileOffset: 62);
        }

        var raw = new RawSection[count];
        for (var i = 0; i < count; i++)
        {
            var at = (long)shoff + ((long)i * SectionHeaderSize);
            var h = d.Slice((int)at, SectionHeaderSize);
            var r = new RawSection(
                BinaryPrimitives.ReadUInt32LittleEndian(h),
                BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[32..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[40..]),
                BinaryPrimitives.ReadUInt32LittleEndian(h[44..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[48..]),
                BinaryPrimitives.ReadUInt64LittleEndian(h[56..]),
                at);
            if (i > 0 && r.Type != (uint)ElfSectionType.NoBits && r.Type != (uint)ElfSectionType.Null)
            {
                CheckRange(d.Length, r.Offset, r.Size, $"contents of section {i}", null, at + 24);
            }
            if (r.Link >= (uint)count)
            {
                throw new BpfObjectException($"section {i} has sh_link {r.Link}, but there are only {count} sections", fileOffset: at + 40);
            }
            raw[i] = r;
        }

        var shstr = raw[shstrndx];
        if (shstr.Type != (uint)ElfSectionType.StrTab)
        {
            throw new BpfObjectException($"e_shstrndx {shstrndx} names a section of type {shstr.Type}, not a string table", fileOffset: shstr.HeaderOffset);
        }
        var sectionNames = d.Slice((int)shstr.Offset, (int)shstr.Size);
        var sections = new ElfSection[count];
        for (var i = 0; i < count; i++)
        {
            var r = raw[i];
            var name = i == 0 ? string.Empty : ReadString(sectionNames, r.NameOffset, ".shstrtab", (long)shstr.Offset);
            sections[i] = new ElfSection(
                i, name, (ElfSectionType)r.Type, (ElfSectionFlags)r.Flags, (long)r.Offset, (long)r.Size,
                r.Link, r.Info, r.Align, r.EntSize);
        }
        foreach (var s in sections)
        {
            if (s.Type is ElfSectionType.Rel or ElfSectionType.Rela && s.Info >= (uint)count)
            {
                throw new BpfObjectException($"relocation section applies to section {s.Info}, but there are only {count}", s.Name, raw[s.Index].HeaderOffset + 44);
            }
        }

        var symbols = ReadSymbols(d, sections);
        return new ElfFile(data, sections, symbols, machine, type);
    }

    private static ElfSymbol[] ReadSymbols(ReadOnlySpan<byte> d, ElfSection[] sections)
    {
        ElfSection? symtab = null;
        foreach (var s in sections)
        {
            if (s.Type == ElfSectionType.SymTab)
            {
                if (symtab is not null)
                {
                    throw new BpfObjectException("more than one symbol table", s.Name, s.Offset);
                }
                symtab = s;
            }
        }
        if (symtab is null)
        {
            return [];
        }
        if (symtab.Size % SymbolSize != 0)
        {
            throw new BpfObjectException($"size {symtab.Size} is not a multiple of the {SymbolSize}-byte symbol entry", symtab.Name, symtab.Offset);
        }
        var strtab = sections[symtab.Link];
        if (strtab.Type != ElfSectionType.StrTab)
        {
            throw new BpfObjectException($"sh_link {symtab.Link} names section '{strtab.Name}', which is not a string table", symtab.Name, symtab.Offset);
        }
        var names = d.Slice((int)strtab.Offset, (int)strtab.Size);
        var bytes = d.Slice((int)symtab.Offset, (int)symtab.Size);
        var result = new ElfSymbol[bytes.Length / SymbolSize];
        for (var i = 0; i < result.Length; i++)
        {
            var e = bytes.Slice(i * SymbolSize, SymbolSize);
            var at = symtab.Offset + ((long)i * SymbolSize);
            var name = ReadString(names, BinaryPrimitives.ReadUInt32LittleEndian(e), strtab.Name, strtab.Offset);
            var info = e[4];
            int shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
            if (shndx != 0 && shndx < 0xff00 && shndx >= sections.Length)
            {
                throw new BpfObjectException($"symbol {i} '{name}' is in section {shndx}, but there are only {sections.Length}", symtab.Name, at + 6);
            }
            result[i] = new ElfSymbol(
                i, name, BinaryPrimitives.ReadUInt64LittleEndian(e[8..]), BinaryPrimitives.ReadUInt64LittleEndian(e[16..]),
                (ElfSymbolType)(info & 0xf), (ElfSymbolBinding)(info >> 4), (byte)(e[5] & 3), shndx);
        }
        return result;
    }

    /// <summary>Reads a NUL-terminated string from a string table, checking the offset and the terminator.</summary>
    internal static string ReadString(ReadOnlySpan<byte> table, uint offset, string tableName, long tableFileOffset)
    {
        if (offset >= (uint)table.Length)
        {
            if (offset == 0 && table.Length == 0)
            {
                return string.Empty;
            }
            throw new BpfObjectException($"string offset {offset} is outside the {table.Length}-byte string table", tableName, tableFileOffset);
        }
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new BpfObjectException($"string at offset {offset} is not NUL-terminated", tableName, tableFileOffset + offset);
        }
        return end == 0 ? string.Empty : Encoding.UTF8.GetString(rest[..end]);
    }

    private static void CheckRange(int fileLength, ulong offset, ulong size, string what, string? section, long headerOffset)
    {
        if (offset > (ulong)fileLength || size > (ulong)fileLength - offset)
        {
            throw new BpfObjectException(
                $"{what} (offset 0x{offset:x}, size {size}) extends past the end of the {fileLength}-byte file", section, headerOffset);
        }
    }

    private readonly record struct RawSection(
        uint NameOffset, uint Type, ulong Flags, ulong Offset, ulong Size, uint Link, uint Info, ulong Align, ulong EntSize,
        long HeaderOffset);
}
