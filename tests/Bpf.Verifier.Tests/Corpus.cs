using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Verifier.Tests;

/// <summary>One corpus program: its name, where it is written, the parsed source and the expectations noted in it.</summary>
public sealed record CorpusCase(string Name, string File, int Line, VerifierSource Source, string? ExpectPrivileged, string? ExpectCapBpf, bool NeedsKernelBtf = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Reads corpus files: cases start with <c>### name</c>; <c># expect: accept|reject [Code]</c> and
/// <c># expect-cap: ...</c> note the intended verdict (privileged / CAP_BPF-only); <c># needs: kernel-btf</c> marks a
/// program whose verdict depends on the kernel's BTF (reads through map pointers), verified with this machine's; the rest is
/// <see cref="VerifierSource"/> text in the LLVM dialect.
/// </summary>
public static class Corpus
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "corpus");

    private static readonly Lazy<IReadOnlyList<CorpusCase>> All = new(Load);

    public static IReadOnlyList<CorpusCase> Cases => All.Value;

    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var c in Cases) d.Add(c.Name);
        return d;
    }

    public static CorpusCase Get(string name) => Cases.Single(c => c.Name == name);

    private static IReadOnlyList<CorpusCase> Load()
    {
        var list = new List<CorpusCase>();
        foreach (var file in Directory.EnumerateFiles(Dir, "*.s").OrderBy(f => f, StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            var fileName = Path.GetFileName(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("### ", StringComparison.Ordinal)) continue;
                var name = lines[i][4..].Trim();
                var start = i + 1;
                var end = start;
                while (end < lines.Length && !lines[end].StartsWith("### ", StringComparison.Ordinal)) end++;
                string? expP = null, expC = null;
                var needsBtf = false;
                var body = new System.Text.StringBuilder();
                for (var k = start; k < end; k++)
                {
                    var l = lines[k].Trim();
                    if (l.StartsWith("# expect:", StringComparison.Ordinal)) expP = l[9..].Trim();
                    if (l.StartsWith("# expect-cap:", StringComparison.Ordinal)) expC = l[13..].Trim();
                    if (l == "# needs: kernel-btf") needsBtf = true;
                    body.AppendLine(lines[k]);
                }
                // Blank lines keep the assembler's line numbers equal to the file's.
                var text = new string('\n', start) + body;
                VerifierSource src;
                try
                {
                    src = VerifierSource.Parse(text, AsmDialect.Llvm, fileName);
                }
                catch (AsmException e)
                {
                    throw new InvalidDataException($"{fileName}:{e.Line}:{e.Column}: case '{name}': {e.Reason}", e);
                }
                if (list.Any(c => c.Name == name)) throw new InvalidDataException($"{fileName}:{i + 1}: duplicate case name '{name}'");
                list.Add(new CorpusCase(name, fileName, i + 1, src, expP, expC, needsBtf));
                i = end - 1;
            }
        }
        return list;
    }
}
