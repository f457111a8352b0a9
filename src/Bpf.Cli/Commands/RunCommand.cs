using System.Diagnostics;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet run FILE [--mem HEX | --mem-file F] [--repeat N] [--json]</c>: runs a program in the managed
/// interpreter with r1/r2 = the input memory's address and length, and prints r0.
/// </summary>
internal static class RunCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        // A compiled object has programs, maps and contexts: that is the runtime's job, not a bare program run.
        if (a.Has("--program") || a.Positionals.Any(IsElfObject))
        {
            a.Refuse("a program FILE (.s, .bin, .data), not an object", "--mem", "--mem-file", "--dialect");
            return RunObjectCommand.Run(a, cli);
        }

        a.Refuse("a compiled OBJECT with --program NAME", "--data", "--data-file", "--map", "--kernel", "--maps", "--privilege");
        var input = ProgramInput.Load(a.Single("FILE"), ProgramInput.ParseDialect(a.Get("--dialect")));
        var memory = ReadMemory(a) ?? input.Memory ?? [];
        var repeat = a.GetInt("--repeat", 1, 1, 100_000_000);

        // Every path that runs a program verifies it first unless the caller opts out: a bare program is judged as a
        // memory program (r1 = the input memory, r2 = its length), privileged, as `bpfnet verify FILE` does.
        if (!a.Has("--unverified"))
        {
            var verdict = BpfVerifier.Verify(input.Slots, new VerifierOptions
            {
                ProgramType = VerifierProgramTypes.Memory,
                MemorySize = memory.Length,
                Privilege = PrivilegeMode.Privileged,
            });
            if (!verdict.IsAccepted)
            {
                var e = verdict.Error!;
                return Report(cli, a.Has("--json"), input.Path,
                    failure: $"rejected by the BpfNet verifier" + (e.InstructionIndex >= 0 ? $" at instruction {e.InstructionIndex}" : "") +
                             $": {e.Message} (--unverified runs it anyway)");
            }
        }

        Interpreter interpreter;
        try
        {
            interpreter = new Interpreter(input.Slots, new InterpreterOptions { Helpers = HelperRegistry.CreateDefault() });
        }
        catch (Exception e) when (e is ProgramLoadException or NotSupportedException)
        {
            // Malformed (ProgramLoadException) or needing what a bare run cannot give: a map (lddw of a map
            // fd or value), a kfunc. Both are the program failing to load, one line, exit 1.
            return Report(cli, a.Has("--json"), input.Path, failure: e.Message);
        }

        var working = new byte[memory.Length];
        var timings = repeat > 1 ? new long[repeat] : null;
        RunResult result = default;
        using (var progress = repeat > 1 ? Progress.For(cli, "run", repeat) : null)
        {
            for (var i = 0; i < repeat; i++)
            {
                memory.CopyTo(working, 0);
                var start = Stopwatch.GetTimestamp();
                result = interpreter.Run(working);
                if (timings is not null) timings[i] = Stopwatch.GetTimestamp() - start;
                if (!result.Succeeded) break;
                progress?.Report(i + 1); // outside the timed region
            }
        }

        if (!result.Succeeded)
        {
            return Report(cli, a.Has("--json"), input.Path, failure: result.Fault!.Message);
        }

        double? medianNs = null;
        if (timings is not null)
        {
            Array.Sort(timings);
            medianNs = timings[timings.Length / 2] * 1e9 / Stopwatch.Frequency;
        }

        if (a.Has("--json"))
        {
            JsonOutput.Write(cli.Out, json =>
            {
                json.WriteStartObject();
                json.WriteString("file", input.Path);
                json.WriteBoolean("ok", true);
                json.WriteString("r0", $"0x{result.R0:x}");
                json.WriteNumber("instructions", result.InstructionsExecuted ?? 0);
                if (input.ExpectedResult is { } expected) json.WriteBoolean("matches_expected", expected == result.R0);
                if (medianNs is { } ns)
                {
                    json.WriteNumber("runs", repeat);
                    json.WriteNumber("median_ns", Math.Round(ns, 1));
                    json.WriteNumber("ns_per_instruction", Math.Round(ns / Math.Max(1, (result.InstructionsExecuted ?? 0)), 3));
                }
                json.WriteEndObject();
            });
        }
        else
        {
            cli.Out.WriteLine($"0x{result.R0:x}");
            if (medianNs is { } ns)
            {
                cli.Out.WriteLine($"instructions: {result.InstructionsExecuted}");
                cli.Out.WriteLine($"median: {ns:F1} ns/run over {repeat} runs ({ns / Math.Max(1, (result.InstructionsExecuted ?? 0)):F2} ns/instruction)");
            }
        }

        if (input.ExpectedResult is { } want && want != result.R0)
        {
            cli.Err.WriteLine($"{input.Path}: r0 = 0x{result.R0:x}, but the file expects 0x{want:x}");
            return ExitCodes.Failed;
        }
        return ExitCodes.Ok;
    }

    private static bool IsElfObject(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("\u007fELF"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false; // ProgramInput.Load reports the unreadable file with its reason.
        }
    }

    private static byte[]? ReadMemory(CliArgs a)
    {
        var hex = a.Get("--mem");
        var file = a.Get("--mem-file");
        if (hex is not null && file is not null) throw new CliUsageException("give --mem or --mem-file, not both");
        if (hex is not null) return Hex.ParseBytes(hex, "--mem");
        if (file is null) return null;
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{file}: cannot read: {e.Message}");
        }
    }

    private static int Report(CliContext cli, bool json, string path, string failure)
    {
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteBoolean("ok", false);
                w.WriteString("error", failure);
                w.WriteEndObject();
            });
        }
        else
        {
            cli.Out.WriteLine($"error: {failure}");
        }
        return ExitCodes.Failed;
    }
}
