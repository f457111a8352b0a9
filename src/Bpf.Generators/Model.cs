using System.Collections;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Bpf.Generators;

/// <summary>An immutable array compared by contents, so pipeline steps that produce it cache (Roslyn compares outputs with Equals).</summary>
internal readonly struct EquatableArray<T>(T[] items) : IEquatable<EquatableArray<T>>, IEnumerable<T>
    where T : IEquatable<T>
{
    private readonly T[]? _items = items;

    public int Count => _items?.Length ?? 0;

    public T this[int index] => _items![index];

    public bool Equals(EquatableArray<T> other)
    {
        var a = _items ?? [];
        var b = other._items ?? [];
        if (a.Length != b.Length)
        {
            return false;
        }
        for (var i = 0; i < a.Length; i++)
        {
            if (!a[i].Equals(b[i]))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = 17;
        foreach (var item in _items ?? [])
        {
            hash = unchecked((hash * 31) + item.GetHashCode());
        }
        return hash;
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A diagnostic as plain data (no Location or symbols, which would defeat caching).</summary>
/// <param name="Id">The descriptor id (BPFGEN0001…).</param>
/// <param name="Path">The object file the diagnostic is about.</param>
/// <param name="Arguments">The message arguments.</param>
internal sealed record DiagnosticData(string Id, string Path, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
    {
        var descriptor = Array.Find(GeneratorDiagnostics.All, d => d.Id == Id);
        var location = Location.Create(Path, default(TextSpan), default(LinePositionSpan));
        return Diagnostic.Create(descriptor, location, [.. Arguments]);
    }
}

/// <summary>What the generator produces for one object: a source file (null when the object is unusable) and diagnostics.</summary>
/// <param name="HintName">The generated file's name.</param>
/// <param name="Source">The C# source, or null.</param>
/// <param name="Diagnostics">What to report.</param>
internal sealed record GenerationResult(string HintName, string? Source, EquatableArray<DiagnosticData> Diagnostics);
