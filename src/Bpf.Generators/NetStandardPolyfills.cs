using System.Runtime.CompilerServices;
using System.Text;

// In namespace Bpf so that the linked Bpf.Core reader sources (namespaces Bpf.Elf, Bpf.Btf) see these without a using:
// the few .NET Core APIs they call that netstandard2.0 lacks. Core itself is compiled unchanged against the real ones.
namespace Bpf;

/// <summary>netstandard2.0 stand-ins for the .NET APIs the shared ELF/BTF reader uses.</summary>
internal static class NetStandardPolyfills
{
    extension(ArgumentNullException)
    {
        /// <summary>As <c>ArgumentNullException.ThrowIfNull</c> on .NET 6+.</summary>
        public static void ThrowIfNull(object? argument, [CallerArgumentExpression(nameof(argument))] string? paramName = null)
        {
            if (argument is null)
            {
                throw new ArgumentNullException(paramName);
            }
        }
    }

    /// <summary>As <c>Dictionary.TryAdd</c> on .NET Core 2.0+.</summary>
    public static bool TryAdd<TKey, TValue>(this Dictionary<TKey, TValue> dictionary, TKey key, TValue value)
        where TKey : notnull
    {
        if (dictionary.ContainsKey(key))
        {
            return false;
        }
        dictionary.Add(key, value);
        return true;
    }

    /// <summary>As <c>CollectionExtensions.GetValueOrDefault</c> on .NET Core 2.0+.</summary>
    public static TValue? GetValueOrDefault<TKey, TValue>(this Dictionary<TKey, TValue> dictionary, TKey key)
        where TKey : notnull =>
        dictionary.TryGetValue(key, out var value) ? value : default;

    /// <summary>As <c>Encoding.GetString(ReadOnlySpan&lt;byte&gt;)</c> on .NET Core 2.1+.</summary>
    public static unsafe string GetString(this Encoding encoding, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        fixed (byte* p = bytes)
        {
            return encoding.GetString(p, bytes.Length);
        }
    }
}
