using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace Bpf.Generators;

/// <summary>C names to .NET names: <c>packet_counts</c> → <c>PacketCounts</c>, <c>XDP_PASS</c> → <c>XdpPass</c>.</summary>
internal static class Naming
{
    /// <summary>PascalCase of a C identifier: split at underscores (and lower→upper case changes kept), each word
    /// capitalised; a word in all capitals is lowered after its first letter. Empty when the name has no letter or digit.</summary>
    public static string Pascal(string cName)
    {
        var sb = new StringBuilder(cName.Length);
        foreach (var word in Words(cName))
        {
            var allUpper = true;
            foreach (var c in word)
            {
                if (char.IsLower(c))
                {
                    allUpper = false;
                    break;
                }
            }
            sb.Append(char.ToUpperInvariant(word[0]));
            for (var i = 1; i < word.Length; i++)
            {
                sb.Append(allUpper ? char.ToLowerInvariant(word[i]) : word[i]);
            }
        }
        if (sb.Length > 0 && char.IsDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }
        return sb.ToString();
    }

    /// <summary>The words of a name: runs of ASCII letters and digits (underscores and anything else separate them).</summary>
    private static IEnumerable<string> Words(string name)
    {
        var start = -1;
        for (var i = 0; i <= name.Length; i++)
        {
            var part = i < name.Length && name[i] < 128 && char.IsLetterOrDigit(name[i]);
            if (part && start < 0)
            {
                start = i;
            }
            else if (!part && start >= 0)
            {
                yield return name.Substring(start, i - start);
                start = -1;
            }
        }
    }

    /// <summary>True when <paramref name="name"/> is a valid C# identifier and not a reserved keyword.</summary>
    public static bool IsUsableIdentifier(string name) =>
        SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;

    /// <summary>A name given by the project made usable: keywords get '@', other characters become '_'.</summary>
    public static string MakeIdentifier(string name)
    {
        if (SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
        {
            return "@" + name;
        }
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            sb.Append(SyntaxFacts.IsIdentifierPartCharacter(c) ? c : '_');
        }
        if (sb.Length == 0 || !SyntaxFacts.IsIdentifierStartCharacter(sb[0]))
        {
            sb.Insert(0, '_');
        }
        return sb.ToString();
    }

    /// <summary>Escapes text for an XML doc comment.</summary>
    public static string Xml(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
