namespace Bpf.Elf;

/// <summary>ELF section types (sh_type) that matter to BPF objects; other values are kept as numbers.</summary>
internal enum ElfSectionType : uint
{
    /// <summary>Unused header.</summary>
    Null = 0,
    /// <summary>Program-defined contents (code, data, BTF).</summary>
    ProgBits = 1,
    /// <summary>Symbol table.</summary>
    SymTab = 2,
    /// <summary>String table.</summary>
    StrTab = 3,
    /// <summary>Relocations with explicit addends.</summary>
    Rela = 4,
    /// <summary>Symbol hash table.</summary>
    Hash = 5,
    /// <summary>Dynamic linking information.</summary>
    Dynamic = 6,
    /// <summary>Notes.</summary>
    Note = 7,
    /// <summary>Occupies no file space (.bss).</summary>
    NoBits = 8,
    /// <summary>Relocations without addends (what clang emits for BPF).</summary>
    Rel = 9,
    /// <summary>Extended section indices for the symbol table.</summary>
    SymTabShndx = 18,
    /// <summary>LLVM address-significance table.</summary>
    LlvmAddrsig = 0x6fff4c03,
}

/// <summary>Section flags (sh_flags).</summary>
[Flags]
internal enum ElfSectionFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>Writable at run time.</summary>
    Write = 0x1,
    /// <summary>Occupies memory at run time.</summary>
    Alloc = 0x2,
    /// <summary>Executable instructions.</summary>
    ExecInstr = 0x4,
    /// <summary>May be merged.</summary>
    Merge = 0x10,
    /// <summary>Contains NUL-terminated strings.</summary>
    Strings = 0x20,
    /// <summary>sh_info holds a section index.</summary>
    InfoLink = 0x40,
}

/// <summary>Symbol types (low nibble of st_info).</summary>
internal enum ElfSymbolType : byte
{
    /// <summary>Unspecified (labels, externs).</summary>
    NoType = 0,
    /// <summary>A data object (variable, map definition).</summary>
    Object = 1,
    /// <summary>A function.</summary>
    Func = 2,
    /// <summary>The section itself.</summary>
    Section = 3,
    /// <summary>The source file name.</summary>
    File = 4,
}

/// <summary>Symbol binding (high nibble of st_info).</summary>
internal enum ElfSymbolBinding : byte
{
    /// <summary>Visible in this object only.</summary>
    Local = 0,
    /// <summary>Visible to all objects.</summary>
    Global = 1,
    /// <summary>Global with lower precedence.</summary>
    Weak = 2,
}

/// <summary>Relocation types of the BPF ELF ABI (EM_BPF).</summary>
internal enum BpfRelocationType : uint
{
    /// <summary>No relocation.</summary>
    None = 0,
    /// <summary>R_BPF_64_64: the 64-bit immediate of an lddw (map, global data or function address).</summary>
    R64_64 = 1,
    /// <summary>R_BPF_64_ABS64: a 64-bit absolute address in data (e.g. .maps initial values).</summary>
    Abs64 = 2,
    /// <summary>R_BPF_64_ABS32: a 32-bit absolute address in data (debug info).</summary>
    Abs32 = 3,
    /// <summary>R_BPF_64_NODYLD32: a 32-bit address that is not resolved at load time (BTF, BTF.ext).</summary>
    NoDyld32 = 4,
    /// <summary>R_BPF_64_32: the 32-bit immediate of a call instruction.</summary>
    R64_32 = 10,
}

/// <summary>One section header.</summary>
/// <param name="Index">Index in the section header table.</param>
/// <param name="Name">Name from the section-name string table.</param>
/// <param name="Type">sh_type.</param>
/// <param name="Flags">sh_flags.</param>
/// <param name="Offset">File offset of the contents (checked to lie in the file unless NOBITS).</param>
/// <param name="Size">Size in bytes (for NOBITS: the size in memory).</param>
/// <param name="Link">sh_link.</param>
/// <param name="Info">sh_info.</param>
/// <param name="Alignment">sh_addralign.</param>
/// <param name="EntrySize">sh_entsize.</param>
internal sealed record ElfSection(
    int Index, string Name, ElfSectionType Type, ElfSectionFlags Flags, long Offset, long Size,
    uint Link, uint Info, ulong Alignment, ulong EntrySize)
{
    /// <summary>True for sections holding BPF instructions (PROGBITS with SHF_EXECINSTR).</summary>
    public bool IsExecutable => Type == ElfSectionType.ProgBits && (Flags & ElfSectionFlags.ExecInstr) != 0;
}

/// <summary>One symbol table entry.</summary>
/// <param name="Index">Index in the symbol table.</param>
/// <param name="Name">Name from the symbol string table (empty for section symbols; see <see cref="ElfFile.SymbolDisplayName"/>).</param>
/// <param name="Value">st_value: for BPF objects, the byte offset inside the section.</param>
/// <param name="Size">st_size.</param>
/// <param name="Type">Symbol type.</param>
/// <param name="Binding">Symbol binding.</param>
/// <param name="Visibility">st_other &amp; 3.</param>
/// <param name="SectionIndex">st_shndx (0 = undefined, 0xfff1 = absolute, 0xfff2 = common).</param>
internal sealed record ElfSymbol(
    int Index, string Name, ulong Value, ulong Size, ElfSymbolType Type, ElfSymbolBinding Binding,
    byte Visibility, int SectionIndex)
{
    /// <summary>True when the symbol is not defined in this object (an extern).</summary>
    public bool IsUndefined => SectionIndex == 0;
}

/// <summary>One relocation entry.</summary>
/// <param name="Offset">r_offset: byte offset inside the target section.</param>
/// <param name="SymbolIndex">The symbol the relocation refers to.</param>
/// <param name="Type">The BPF relocation type.</param>
/// <param name="Addend">r_addend for RELA sections, 0 for REL.</param>
internal record struct ElfRelocation(ulong Offset, int SymbolIndex, BpfRelocationType Type, long Addend);
