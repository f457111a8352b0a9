using System.Text;
using Bpf.Cli;

namespace Bpf.Cli.Tests;

/// <summary>Runs bpfnet in-process with captured streams.</summary>
internal static class CliRunner
{
    public sealed record Output(int ExitCode, string Stdout, string Stderr, byte[] BinaryStdout);

    public static Output RunWithInput(string stdin, params string[] args) => RunCore(stdin, errorIsTerminal: false, args);

    /// <summary>As if stderr were a terminal: long work shows its progress line there.</summary>
    public static Output RunOnTerminal(params string[] args) => RunCore(string.Empty, errorIsTerminal: true, args);

    private static Output RunCore(string stdin, bool errorIsTerminal, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var binary = new MemoryStream();
        var cli = new CliContext(new StringReader(stdin), stdout, stderr, () => new NonClosingStream(binary), errorIsTerminal);
        var code = BpfNetCli.Run(args, cli);
        return new Output(code, stdout.ToString(), stderr.ToString(), binary.ToArray());
    }

    public static Output Run(params string[] args) => RunWithInput(string.Empty, args);

    /// <summary>A temp file that deletes itself.</summary>
    public sealed class TempFile : IDisposable
    {
        public TempFile(string extension, byte[] content)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bpfnet-test-{Guid.NewGuid():N}{extension}");
            File.WriteAllBytes(Path, content);
        }

        public TempFile(string extension, string content) : this(extension, Encoding.UTF8.GetBytes(content))
        {
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
