using System.Diagnostics;
using System.Text.Json;
using Bpf.Loader;
using Bpf.Runtime;
using ObjProgramType = Bpf.ProgramType;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet run OBJECT --program NAME --data HEX|--data-file F [--repeat N] [--kernel] [--maps] [--json]</c>: runs a
/// program of a compiled object on a packet (XDP, socket filter, tc) or a context buffer (other types) in the
/// managed runtime, or with <c>--kernel</c> through BPF_PROG_TEST_RUN, and prints r0, the output packet and, with
/// <c>--maps</c>, every map's contents afterwards. Socket-buffer programs see the frame as the kernel's test run
/// builds it (Ethernet header pulled for socket filters), so both engines print the same thing.
/// </summary>
internal static class RunObjectCommand
{
    public static int Run(CliArgs a, CliContext cli)
    {
        var path = a.Single("OBJECT");
        var programName = a.Get("--program") ?? throw new CliUsageException("missing --program NAME");
        var data = ReadData(a);
        var repeat = a.GetInt("--repeat", 1, 1, 100_000_000);
        var json = a.Has("--json");
        // The interpreter runs only what BpfNet's verifier accepts, judged with this process's privileges unless told.
        var engineOptions = new BpfEngineOptions
        {
            Verify = !a.Has("--unverified"),
            Privilege = a.Get("--privilege") is { } p ? VerifyCommand.ParsePrivilege(p) : null,
            // One program of the object is run: another one that fails to load (on either engine) does not stop it.
            SkipFailedPrograms = true,
        };

        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.ReadFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Bpf.BpfObjectException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        var programSpec = spec.Program(programName)
            ?? throw new CliUsageException($"{path}: no program '{programName}' (programs: {string.Join(", ", spec.Programs.Select(p => p.Name))})");

        try
        {
            // The input itself (a packet too large for an XDP frame, too short for its headers) is unusable input;
            // checked here, so an ArgumentException from the run below is never mistaken for a usage error.
            ContextFor(programSpec.Type, data);
            if (programSpec.Type == ObjProgramType.RawTracepoint) MemoryContext.CheckRawTracepointArguments(data, programSpec.Name);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        var seeds = MapEntries.Parse(a.GetAll("--map"), spec, path);

        Outcome outcome;
        try
        {
            if (!a.Has("--kernel"))
            {
                outcome = RunOn(cli, EngineChoice.Interpreter, spec, programSpec, data, repeat, engineOptions, seeds, a.Has("--maps"));
            }
            else if (OperatingSystem.IsLinux())
            {
                using var pins = PrivatePins.For(spec); // by-name pins live as long as the run
                outcome = RunOn(cli, EngineChoice.Kernel, spec, programSpec, data, repeat, engineOptions with { Kernel = pins.Options }, seeds, a.Has("--maps"));
            }
            else
            {
                outcome = new Outcome("kernel", 0, [], null, null, [], "--kernel needs Linux (BPF_PROG_TEST_RUN)");
            }
        }
        catch (Exception e) when (KernelRefusal(e) is { } refusal)
        {
            // bpf() not permitted for this process (or absent): the environment is unusable, not the program. Exit 2.
            return Fail(cli, json, path, programName, refusal.Message, ExitCodes.Usage);
        }
        catch (Exception e) when (e is MapException or NotSupportedException or Bpf.ProgramLoadException or BpfSyscallException
            or KeyNotFoundException or ArgumentException)
        {
            // Everything loading and running can report: a map the kernel or the runtime refuses (MapException,
            // naming the map), a map type, helper or kfunc the runtime lacks, a program that does not load, a
            // syscall error, a relocation naming a missing map, map attributes invalid for their type (CreateMap's
            // ArgumentException). The program failed: one line, exit 1.
            return Fail(cli, json, path, programName, e.Message);
        }
        if (outcome.Error is { } error)
        {
            return Fail(cli, json, path, programName, error);
        }
        Print(cli, json, path, spec, programSpec, outcome, a.Has("--maps"), repeat);
        return ExitCodes.Ok;
    }

    private sealed record MapDump(string Name, string Type, IReadOnlyList<KeyValuePair<byte[], byte[]>> Entries, string? Note);

    private sealed record Outcome(string Engine, ulong R0, byte[] Packet, long? Instructions, double? NanosecondsPerRun, IReadOnlyList<MapDump> Maps, string? Error);

    private static byte[] ReadData(CliArgs a)
    {
        var hex = a.Get("--data");
        var file = a.Get("--data-file");
        if (hex is not null && file is not null) throw new CliUsageException("give --data or --data-file, not both");
        if (hex is not null) return Hex.ParseBytes(hex, "--data");
        if (file is null) throw new CliUsageException("missing --data HEX or --data-file F");
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{file}: cannot read: {e.Message}");
        }
    }

    private static ProgramContext ContextFor(ObjProgramType type, byte[] data) => ContextLayout.KindOf(type) switch
    {
        ContextKind.Xdp => new XdpContext(data),
        ContextKind.SkBuff => SkBuffContext.ForTestRun(data, type),
        _ => new MemoryContext(data),
    };

    /// <summary>Loads the object on one engine through <see cref="BpfEngine.Open"/> (the interpreter verifies every
    /// program first) and runs the program through <see cref="IBpfProgram"/>: the same path for both engines.</summary>
    private static Outcome RunOn(CliContext cli, EngineChoice engine, ObjectSpec spec, ProgramSpec programSpec, byte[] data, int repeat, BpfEngineOptions options, IReadOnlyList<MapSeed> seeds, bool dumpMaps)
    {
        using var collection = BpfEngine.Open(spec, engine, options);
        foreach (var seed in seeds) collection.Map(seed.Map).Update(seed.Key, seed.Value); // --map, before the run
        IBpfProgram program;
        try
        {
            program = collection.Program(programSpec.Name);
        }
        catch (NotSupportedException e) when (e.InnerException is BpfSyscallException or Bpf.ProgramLoadException)
        {
            // The program asked for is the one left out: its own error, as when it alone failed the load.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
        // The kernel's test run takes the context struct (data_end must match the frame); the interpreter builds the
        // context the test run would from the frame alone.
        byte[] context = collection.Engine != Engine.Kernel ? [] : ContextLayout.KindOf(programSpec.Type) switch
        {
            ContextKind.Xdp => XdpContextIn(data.Length),
            ContextKind.SkBuff => new byte[SkBuffContext.StructSize],
            _ => [],
        };
        RunResult r;
        try
        {
            // One call runs every repetition (the kernel's test run repeats inside one syscall): on a terminal a
            // timer shows the time elapsed meanwhile; the measurement itself is untouched.
            using var progress = repeat > 1
                ? Progress.For(cli, "run").Ticking(t => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"run: {repeat} runs of {programSpec.Name} on the {EngineName(collection)}, {t.TotalSeconds:F1} s"))
                : null;
            r = program.Run(data, context, repeat);
        }
        catch (BpfProgramFaultException e)
        {
            return new Outcome(EngineName(collection), 0, [], null, null, [], e.Detail);
        }
        var maps = dumpMaps ? collection.Maps.Values.Select(Dump).ToList() : []; // read only for --maps
        return new Outcome(EngineName(collection), r.ReturnValue, r.Data, r.InstructionsExecuted, r.NanosecondsPerRun, maps, null);
    }

    private static string EngineName(IBpfCollection c) => c.Engine == Engine.Kernel ? "kernel" : "interpreter";

    private static byte[] XdpContextIn(int size)
    {
        var ctx = new byte[XdpMdOffsets.Size];
        BitConverter.TryWriteBytes(ctx.AsSpan(XdpMdOffsets.DataEnd), (uint)size); // data_end must equal the size
        BitConverter.TryWriteBytes(ctx.AsSpan(XdpMdOffsets.IngressIfindex), 1u); // ingress_ifindex: lo
        return ctx;
    }

    private static MapDump Dump(IBpfMap map)
    {
        if (map is InterpreterMap { Managed: var m })
        {
            // The managed runtime shows what it can that the kernel's maps do not give user space directly.
            return m switch
            {
                RingBufferMap ring => new MapDump(m.Name, m.Type.ToString(), ring.Drain().Select((r, i) => new KeyValuePair<byte[], byte[]>(BitConverter.GetBytes(i), r)).ToList(), "records (key = index)"),
                QueueStackMap q => new MapDump(m.Name, m.Type.ToString(), [], $"{q.Count} values"),
                _ => new MapDump(m.Name, m.Type.ToString(), m.Entries(), null),
            };
        }
        var list = new List<KeyValuePair<byte[], byte[]>>();
        // Maps whose entries user space cannot read back (EOPNOTSUPP for AF_XDP sockets and perf event slots) or
        // reads as fds or ids, not as the program sees them: listed without entries, as the managed side lists them.
        if (map.Type is Bpf.MapType.RingBuf or Bpf.MapType.Queue or Bpf.MapType.Stack or Bpf.MapType.ProgArray
            or Bpf.MapType.ArrayOfMaps or Bpf.MapType.HashOfMaps or Bpf.MapType.XskMap or Bpf.MapType.PerfEventArray)
        {
            return new MapDump(map.Name, map.Type.ToString(), list, null);
        }
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (list.Count <= map.MaxEntries && map.TryGetNextKey(key, next))
        {
            key = next.ToArray();
            var value = new byte[map.UserValueSize];
            if (map.TryLookup(key, value)) list.Add(new(key, value));
        }
        return new MapDump(map.Name, map.Type.ToString(), list, null);
    }

    private static BpfSyscallException? KernelRefusal(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is BpfSyscallException { IsEnvironmentRefusal: true } refusal) return refusal;
        }
        return null;
    }

    private static int Fail(CliContext cli, bool json, string path, string program, string message, int exitCode = ExitCodes.Failed)
    {
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("program", program);
                w.WriteBoolean("ok", false);
                w.WriteString("error", message);
                w.WriteEndObject();
            });
        }
        else if (exitCode == ExitCodes.Usage)
        {
            cli.Err.WriteLine($"bpfnet run: {path}: {message}");
        }
        else
        {
            cli.Out.WriteLine($"error: {message}");
        }
        return exitCode;
    }

    private static void Print(CliContext cli, bool json, string path, ObjectSpec spec, ProgramSpec program, Outcome o, bool maps, int repeat)
    {
        if (json)
        {
            JsonOutput.Write(cli.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("program", program.Name);
                w.WriteString("type", program.Type.ToString());
                w.WriteString("engine", o.Engine);
                w.WriteBoolean("ok", true);
                w.WriteString("r0", $"0x{o.R0:x}");
                w.WriteNumber("retval", (uint)o.R0);
                w.WriteString("packet", Convert.ToHexString(o.Packet).ToLowerInvariant());
                if (o.Instructions is { } n) w.WriteNumber("instructions", n);
                if (o.NanosecondsPerRun is { } ns)
                {
                    w.WriteNumber("runs", repeat);
                    w.WriteNumber("ns_per_run", Math.Round(ns, 1));
                }
                if (maps)
                {
                    w.WriteStartObject("maps");
                    foreach (var m in o.Maps)
                    {
                        w.WriteStartObject(m.Name);
                        w.WriteString("type", m.Type);
                        if (m.Note is not null) w.WriteString("note", m.Note);
                        w.WriteStartArray("entries");
                        foreach (var (k, v) in m.Entries)
                        {
                            w.WriteStartObject();
                            w.WriteString("key", Convert.ToHexString(k).ToLowerInvariant());
                            w.WriteString("value", Convert.ToHexString(v).ToLowerInvariant());
                            MapEntries.WriteDecoded(w, spec.Maps.FirstOrDefault(s => s.Name == m.Name), k, v);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            });
            return;
        }
        cli.Out.WriteLine($"r0: 0x{o.R0:x}");
        cli.Out.WriteLine($"packet: {Hex.Format(o.Packet)}");
        if (o.NanosecondsPerRun is { } perRun) cli.Out.WriteLine($"{o.Engine}: {perRun:F1} ns/run over {repeat} runs");
        if (!maps) return;
        foreach (var m in o.Maps)
        {
            cli.Out.WriteLine($"map {m.Name} ({m.Type}){(m.Note is null ? "" : ", " + m.Note)}: {m.Entries.Count} entries");
            var mapSpec = spec.Maps.FirstOrDefault(s => s.Name == m.Name);
            foreach (var (k, v) in m.Entries) cli.Out.WriteLine($"  {MapEntries.FormatText(mapSpec, k, v)}");
        }
    }

}
