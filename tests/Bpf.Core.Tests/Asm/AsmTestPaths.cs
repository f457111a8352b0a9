using Bpf.Tests;

namespace Bpf.Core.Tests.Asm;

/// <summary>Paths of the assembler tests' own data, beside the shared <see cref="RepoPaths"/>.</summary>
internal static class AsmTestPaths
{
    public static string AsmDataDir => Path.Combine(RepoPaths.Root, "tests", "Bpf.Core.Tests", "Asm", "data");

    public static string ConformancePath(string file) => Path.Combine(RepoPaths.ConformanceDir, file);
}
