using System.Text;
using Bpf.Asm;
using Bpf.Verifier;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet verify OBJECT [--program NAME]</c> or <c>bpfnet verify FILE.s|FILE.bin|FILE.data [--type TYPE]</c>:
/// runs the static verifier and prints the verdict. Exit 0 when every program is accepted, 1 when one is
/// rejected, 2 for unusable input.
/// </summary>
internal static class VerifyCommand
{
    private sealed record Outcome(string? Program, VerificationResult Result);

    public static int Run(CliArgs a, CliContext cli)
    {
        try
        {
            return Verify(a, cli);
        }
        catch (CliUsageException e) when (a.Has("--json"))
        {
            // --json always prints JSON: unusable input is an "error" verdict (still exit 2).
            JsonOutput.Write(cli.Out, json =>
            {
                json.WriteStartObject();
                json.WriteString("file", a.Positionals.FirstOrDefault());
                json.WriteString("verdict", "error");
                json.WriteString("error", e.Message);
                json.WriteEndObject();
            });
            return ExitCodes.Usage;
        }
    }

    private static int Verify(CliArgs a, CliContext cli)
    {
        var path = a.Single("FILE");
        var privilege = ParsePrivilege(a.Get("--privilege"));
        var content = ReadAll(path);

        List<Outcome> outcomes;
        // On a terminal, a line shows which program is being verified and for how long (a large object, or one
        // program at the complexity limit, takes seconds).
        var status = new VerifyStatus(Path.GetFileName(path));
        try
        {
            using var progress = Progress.For(cli, "verify").Ticking(status.Line);
            outcomes = content.AsSpan().StartsWith("\u007fELF"u8)
                ? VerifyObject(path, content, a.Get("--program"), privilege, status)
                : [new Outcome(null, VerifyProgram(path, content, a, privilege))];
        }
        catch (Bpf.Runtime.MapException e)
        {
            // A map the kernel refuses to create (E2BIG, EINVAL: the message names it): the object cannot load,
            // so nothing in it is accepted. One line, exit 1.
            return ReportObjectError(cli, a.Has("--json"), path, e.Message);
        }

        if (a.Has("--json")) WriteJson(cli, path, outcomes);
        else WriteText(cli, outcomes);
        return outcomes.All(o => o.Result.IsAccepted) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>What the progress line says: the file, and for an object the program being verified (N of M).</summary>
    private sealed class VerifyStatus(string file)
    {
        private volatile string? _program;

        public void Program(int index, int count, string name) => _program = $": program {index + 1}/{count} ({name})";

        public string Line(TimeSpan elapsed) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"verify: {file}{_program}, {elapsed.TotalSeconds:F1} s");
    }

    private static List<Outcome> VerifyObject(string path, byte[] content, string? programName, PrivilegeMode privilege, VerifyStatus status)
    {
        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.Read(content, Path.GetFileName(path));
        }
        catch (Bpf.BpfObjectException e)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        if (programName is not null && spec.Program(programName) is null)
        {
            throw new CliUsageException($"{path}: no program '{programName}' (programs: {string.Join(", ", spec.Programs.Select(p => p.Name))})");
        }
        var names = programName is null ? spec.Programs.Select(p => p.Name).ToList() : [programName];
        // CO-RE relocations resolve against this machine's kernel, as the loader would resolve them; the same BTF
        // lets privileged programs read struct bpf_map fields through map pointers, as the kernel does.
        var coreTarget = spec.Programs.Any(p => p.CoreRelocations.Count > 0) && OperatingSystem.IsLinux() ? Bpf.Loader.KernelBtf.TryGet() : null;
        // __ksym variables and kfunc calls resolve against this machine's kernel, as the loader resolves them.
        var kernelSymbols = OperatingSystem.IsLinux() && spec.Programs.Any(p => p.References.Any(r => r.Kind == ReferenceKind.KernelFunction
            || (r.Kind == ReferenceKind.ExternVariable && spec.Extern(r.Name) is { Kind: ExternKind.KernelVariable or ExternKind.KernelFunction })))
            ? Bpf.Loader.KernelBtf.TryGetSymbols() : null;
        return names.Select((n, i) =>
        {
            status.Program(i, names.Count, n);
            return new Outcome(n, WithKernelBtfIfNeeded(coreTarget, btf => ObjectVerifier.Verify(spec, n, privilege, btf, kernelSymbols)));
        }).ToList();
    }

    /// <summary>Verifies without the kernel's BTF unless it is already loaded, and again with this machine's when the
    /// verdict is a refusal the kernel's BTF would change (<see cref="NeedsKernelBtf"/>). The kernel's BTF changes nothing before
    /// that first refusal, so the second run is the verdict with BTF; parsing vmlinux (~0.7 s) is paid only then.</summary>
    private static VerificationResult WithKernelBtfIfNeeded(Bpf.Btf.BtfSpec? loaded, Func<Bpf.Btf.BtfSpec?, VerificationResult> verify)
    {
        var result = verify(loaded);
        if (loaded is null && NeedsKernelBtf(result.Error) && OperatingSystem.IsLinux() && Bpf.Loader.KernelBtf.TryGet() is { } vmlinux)
        {
            result = verify(vmlinux);
        }
        return result;
    }

    private const string NoBtfMapPointerAccess = "map_ptr access not supported without CONFIG_DEBUG_INFO_BTF";

    /// <summary>The refusals the kernel's BTF would change: a read through a map pointer, and the reads of BTF-typed
    /// contexts and kernel objects (tracing and LSM programs), which the verifier reports as needing
    /// VerifierOptions.KernelBtf.</summary>
    private static bool NeedsKernelBtf(VerifierError? e) =>
        e is not null && (e.Message == NoBtfMapPointerAccess || (e.Code == VerifierErrorCode.NotSupported && e.Message.Contains("VerifierOptions.KernelBtf", StringComparison.Ordinal)));

    private static VerificationResult VerifyProgram(string path, byte[] content, CliArgs a, PrivilegeMode privilege)
    {
        if (a.Get("--program") is not null) throw new CliUsageException("--program applies to ELF objects");
        ProgramType? type = a.Get("--type") is { } t ? ParseType(t) : null;
        Instruction[] insns;
        IReadOnlyList<MapDefinition> maps = [];
        var memorySize = 0;

        if (path.EndsWith(".data", StringComparison.OrdinalIgnoreCase))
        {
            // Conformance files run over plain memory: r1 = its address, r2 = its length.
            var input = ProgramInput.Load(path, AsmDialect.Conformance);
            insns = input.Slots;
            memorySize = input.Memory?.Length ?? 0;
            type ??= VerifierProgramTypes.Memory;
        }
        else if (ProgramInput.LooksLikeText(content))
        {
            var text = Encoding.UTF8.GetString(content);
            var dialect = ProgramInput.ParseDialect(a.Get("--dialect")) ?? ProgramInput.DetectDialect(text);
            VerifierSource source;
            try
            {
                source = VerifierSource.Parse(text, dialect, path);
            }
            catch (AsmException e)
            {
                throw new CliUsageException(e.Message);
            }
            insns = source.Instructions;
            maps = source.Maps;
            type ??= source.ProgramType;
        }
        else
        {
            // Raw bytes are judged, not refused: an unknown opcode, a reserved field in use or a cut-off lddw
            // is the verifier's rejection (with the kernel's message and the slot), as the kernel gives one.
            if (content.Length % 8 != 0)
            {
                throw new CliUsageException($"{path}: byte offset {content.Length / 8 * 8}: program length {content.Length} is not a multiple of 8 bytes");
            }
            insns = InstructionDecoder.ReadSlots(content);
            // Raw bytes carry no type: the verifier's default (a socket filter) unless --type says otherwise.
            type ??= VerifierOptions.Default.ProgramType;
        }

        if (type is null) throw new CliUsageException($"{path}: no program type: give --type TYPE or a '.type TYPE' directive");
        return WithKernelBtfIfNeeded(null, btf => BpfVerifier.Verify(insns, new VerifierOptions
        {
            ProgramType = type.Value,
            Privilege = privilege,
            Maps = maps,
            MemorySize = memorySize,
            // This machine's kernel BTF, when a read of struct bpf_map fields through a map pointer needs it.
            KernelBtf = btf,
        }));
    }

    private static int ReportObjectError(CliContext cli, bool json, string path, string message)
    {
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("verdict", "reject");
                w.WriteString("error", message);
                w.WriteStartArray("programs");
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        else
        {
            cli.Out.WriteLine($"reject: {path}: {message}");
        }
        return ExitCodes.Failed;
    }

    private static ProgramType ParseType(string name) => VerifierSource.TryParseProgramType(name, out var type)
        ? type
        : throw new CliUsageException($"--type: unknown program type '{name}' (socket_filter, kprobe, tc, sched_act, tracepoint, xdp, cgroup_skb, memory)");

    internal static PrivilegeMode ParsePrivilege(string? value) => value switch
    {
        null or "privileged" or "root" => PrivilegeMode.Privileged,
        "cap_bpf" => PrivilegeMode.CapBpfOnly,
        "unprivileged" => PrivilegeMode.Unprivileged,
        _ => throw new CliUsageException($"--privilege must be privileged, cap_bpf or unprivileged, not '{value}'"),
    };

    private static byte[] ReadAll(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{path}: cannot read: {e.Message}");
        }
    }

    private static void WriteText(CliContext cli, List<Outcome> outcomes)
    {
        foreach (var (program, result) in outcomes)
        {
            var prefix = program is null ? "" : $"{program}: ";
            if (result.Error is not { } e)
            {
                cli.Out.WriteLine($"{prefix}accept (processed {result.ProcessedInstructions} insns, peak states {result.PeakStates})");
                continue;
            }
            cli.Out.WriteLine($"{prefix}reject: {e.Code}: insn {e.InstructionIndex}: {e.Message}");
            if (e.Register is { } reg) cli.Out.WriteLine($"  R{(int)reg} = {e.RegisterState}");
            if (e.Source is { } src) cli.Out.WriteLine($"  at {src.File}:{src.Line}: {src.Text?.Trim()}");
            cli.Out.WriteLine($"  processed {result.ProcessedInstructions} insns");
        }
    }

    private static void WriteJson(CliContext cli, string path, List<Outcome> outcomes) => JsonOutput.Write(cli.Out, json =>
    {
        json.WriteStartObject();
        json.WriteString("file", path);
        json.WriteString("verdict", outcomes.All(o => o.Result.IsAccepted) ? "accept" : "reject");
        if (outcomes is [var single])
        {
            // One program (a text file, or --program): its fields at the top level too, for simple scripts.
            using var doc = System.Text.Json.JsonDocument.Parse(single.Result.ToJson());
            foreach (var property in doc.RootElement.EnumerateObject().Where(p => p.Name != "verdict")) property.WriteTo(json);
        }
        json.WriteStartArray("programs");
        foreach (var (program, result) in outcomes)
        {
            // The verifier's own JSON (verdict, code, insn, message, processed, ...), with the program's name added.
            using var doc = System.Text.Json.JsonDocument.Parse(result.ToJson());
            json.WriteStartObject();
            if (program is not null) json.WriteString("program", program);
            foreach (var property in doc.RootElement.EnumerateObject()) property.WriteTo(json);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    });
}
