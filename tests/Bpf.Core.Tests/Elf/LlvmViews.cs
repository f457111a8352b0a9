using System.Globalization;
using System.Text.RegularExpressions;

namespace Bpf.Tests.Elf;

/// <summary>Parses the parts of llvm-readelf / llvm-objdump text output the reader is compared against.</summary>
internal static partial class LlvmViews
{
    public sealed record Section(int Index, string Name, string Type, long Offset, long Size, string Flags, int Link, int Info);
    public sealed record Symbol(int Index, ulong Value, ulong Size, string Type, string Bind, string Ndx, string Name);
    public sealed record Relocation(string Section, ulong Offset, int SymbolIndex, uint Type);
    public sealed record Function(string Section, ulong Address, string Name, byte[] Bytes);

    [GeneratedRegex(@"^\s*\[\s*(\d+)\]\s(\S*)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")]
    private static partial Regex SectionLine();

    [GeneratedRegex(@"^\s*(\d+):\s+([0-9a-f]{16})\s+(\d+)\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s?(.*)$")]
    private static partial Regex SymbolLine();

    [GeneratedRegex(@"^Relocation section '([^']+)'")]
    private static partial Regex RelocationHeader();

    [GeneratedRegex(@"^([0-9a-f]{16})\s+([0-9a-f]{16})\s+R_BPF")]
    private static partial Regex RelocationLine();

    [GeneratedRegex(@"^Disassembly of section (.+):$")]
    private static partial Regex DisassemblyHeader();

    [GeneratedRegex(@"^([0-9a-f]{16}) <(.+)>:$")]
    private static partial Regex FunctionHeader();

    [GeneratedRegex(@"^\s*\d+:\t([0-9a-f]{2}(?: [0-9a-f]{2})*)")]
    private static partial Regex InstructionLine();

    public static List<Section> Sections(string readelf)
    {
        var result = new List<Section>();
        foreach (var line in readelf.Split('\n'))
        {
            var m = SectionLine().Match(line);
            if (!m.Success) continue;
            result.Add(new Section(
                int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value.Trim(), m.Groups[3].Value,
                long.Parse(m.Groups[5].Value, NumberStyles.HexNumber), long.Parse(m.Groups[6].Value, NumberStyles.HexNumber),
                m.Groups[8].Value, int.Parse(m.Groups[9].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[10].Value, CultureInfo.InvariantCulture)));
        }
        return result;
    }

    public static List<Symbol> Symbols(string readelf)
    {
        var result = new List<Symbol>();
        var inSymtab = false;
        foreach (var line in readelf.Split('\n'))
        {
            if (line.StartsWith("Symbol table", StringComparison.Ordinal)) { inSymtab = true; continue; }
            if (line.StartsWith("Relocation section", StringComparison.Ordinal)) inSymtab = false;
            if (!inSymtab) continue;
            var m = SymbolLine().Match(line);
            if (!m.Success) continue;
            result.Add(new Symbol(
                int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber),
                ulong.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Groups[4].Value, m.Groups[5].Value, m.Groups[7].Value,
                m.Groups[8].Value.Trim()));
        }
        return result;
    }

    public static List<Relocation> Relocations(string readelf)
    {
        var result = new List<Relocation>();
        string? section = null;
        foreach (var line in readelf.Split('\n'))
        {
            var h = RelocationHeader().Match(line);
            if (h.Success) { section = h.Groups[1].Value; continue; }
            if (line.StartsWith("Symbol table", StringComparison.Ordinal)) section = null;
            var m = RelocationLine().Match(line);
            if (!m.Success || section is null) continue;
            var info = ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber);
            result.Add(new Relocation(section, ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber), (int)(info >> 32), (uint)info));
        }
        return result;
    }

    /// <summary>Functions (objdump's &lt;symbol&gt; blocks, excluding LBB labels merged into their function) with their bytes.</summary>
    public static List<Function> Functions(string objdump)
    {
        var result = new List<Function>();
        string? section = null;
        string? name = null;
        ulong address = 0;
        var bytes = new List<byte>();
        void Flush()
        {
            if (name is not null) result.Add(new Function(section!, address, name, bytes.ToArray()));
            bytes.Clear();
            name = null;
        }
        foreach (var line in objdump.Split('\n'))
        {
            var d = DisassemblyHeader().Match(line);
            if (d.Success) { Flush(); section = d.Groups[1].Value; continue; }
            var f = FunctionHeader().Match(line);
            if (f.Success)
            {
                // Branch-target labels (LBB*) are not functions: keep accumulating into the current one.
                if (f.Groups[2].Value.StartsWith("LBB", StringComparison.Ordinal)) continue;
                Flush();
                name = f.Groups[2].Value;
                address = ulong.Parse(f.Groups[1].Value, NumberStyles.HexNumber);
                continue;
            }
            var i = InstructionLine().Match(line);
            if (i.Success && name is not null)
            {
                foreach (var hex in i.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    bytes.Add(byte.Parse(hex, NumberStyles.HexNumber));
                }
            }
        }
        Flush();
        return result;
    }
}
