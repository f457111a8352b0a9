using Bpf.Elf;

namespace Bpf.Btf;

public sealed partial class BtfSpec
{
    /// <summary>
    /// Reads the BTF of a file: raw BTF as the kernel exposes it (<c>/sys/kernel/btf/vmlinux</c>, starting with the
    /// BTF magic) or the <c>.BTF</c> section of an ELF object.
    /// </summary>
    /// <exception cref="BpfObjectException">The file is neither, an ELF object without <c>.BTF</c>, or malformed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static BtfSpec ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 4 && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F')
        {
            var elf = ElfFile.Parse(bytes);
            var section = elf.FindSection(SectionName)
                ?? throw new BpfObjectException("the object has no .BTF section (compile with -g)");
            return Parse(elf.GetContents(section), section.Offset);
        }
        if (bytes.Length >= 2 && (bytes[0] | (bytes[1] << 8)) is Magic or 0x9FEB)
        {
            return Parse(bytes);
        }
        throw new BpfObjectException("neither raw BTF (magic 0xeb9f) nor an ELF object", fileOffset: 0);
    }
}
