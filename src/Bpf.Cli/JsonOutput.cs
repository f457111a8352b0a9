using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Bpf.Cli;

/// <summary>Writes one JSON document, indented, followed by a newline. Field names are part of the CLI's
/// stable contract (docs/cli.md): add fields, never rename or remove them. Text is
/// escaped only where JSON requires it (quotes, backslashes, control characters), not HTML-safe.</summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(json);
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }
}
