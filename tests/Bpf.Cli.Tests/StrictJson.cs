using System.Text.Json;

namespace Bpf.Cli.Tests;

/// <summary>The JSON contract as a strict consumer reads it: one document, no duplicate keys at any level.</summary>
internal static class StrictJson
{
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false };

    public static JsonDocument Parse(string text, string what)
    {
        try
        {
            return JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: not one strict JSON document ({e.Message}):\n{text}");
        }
    }
}
