
namespace Bpf.Tests.Elf;

/// <summary>Where clang-14 is installed, rebuilds the corpus from source and reads the fresh objects.</summary>
public class CorpusRebuildTests
{
    [Fact]
    public void Fresh_clang_objects_read_the_same_as_the_committed_ones()
    {
        Need.Tools("clang-14"); // without it the committed objects are still covered by the other tests
        var dir = Path.Combine(Path.GetTempPath(), $"bpfnet-corpus-{Guid.NewGuid():n}");
        try
        {
            Corpus.TryRun("sh", $"build.sh {dir}");
            foreach (var name in Corpus.Names)
            {
                var fresh = ObjectSpec.ReadFile(Path.Combine(dir, name + ".o"));
                var committed = ObjectSpec.Read(Corpus.Bytes(name), name);
                Assert.Equal(Summary(committed), Summary(fresh));
                Assert.NotEmpty(fresh.Programs);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static string Summary(ObjectSpec spec) => string.Join('\n',
        spec.Programs.Select(p => $"{p.Name} {p.SectionName} {p.Type} {Convert.ToHexString(InstructionEncoder.Encode(p.Instructions))} {string.Join(',', p.References)} {p.LineInfos.Count}")
            .Concat(spec.Maps.Select(m => $"{m.Name} {m.Type} {m.KeySize} {m.ValueSize} {m.MaxEntries} {m.Flags} {string.Join(',', m.InitialValues)}"))
            .Concat(spec.Variables.Select(v => $"{v.Name} {v.SectionName} {v.Offset} {v.Size}")));
}
