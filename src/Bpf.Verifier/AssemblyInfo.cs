using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Bpf.Verifier.Tests")]
