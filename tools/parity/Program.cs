// Parity harness (outside CI): reads, loads (one kernel collection, programs left out individually), verifies, and runs
// every object of a directory in the kernel and in the interpreter; one line per program. See docs/compatibility.md.
using Bpf;
using Bpf.Loader;

// By-name pins go to a directory of our own on bpffs, emptied after each object.
BpfFs.EnsureMounted();
var pins = $"/sys/fs/bpf/bpfnet-parity-{Environment.ProcessId}";
Directory.CreateDirectory(pins);
// Ethernet + IPv4 + TCP SYN (10.0.0.1:1234 -> 10.0.0.2:80), 74 bytes: the input of every run.
byte[] packet = new byte[74];
new byte[] { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff }.CopyTo(packet, 0);
foreach (var file in Directory.GetFiles(args[0]).Order())
{
    Console.WriteLine($"== {Path.GetFileName(file)}");
    ObjectSpec spec;
    try { spec = ObjectSpec.ReadFile(file); }
    catch (Exception e) { Console.WriteLine($"READFAIL {e.GetType().Name}: {e.Message}"); continue; }
    KernelCollection? c = null;
    string? whole = null;
    try { c = KernelCollection.Load(spec, new KernelCollectionOptions { SkipFailedPrograms = true, PinPath = pins }); }
    catch (Exception e) { whole = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}"; }
    IBpfCollection? interp = null;
    try { interp = BpfEngine.Open(ObjectSpec.ReadFile(file), EngineChoice.Interpreter, new BpfEngineOptions { SkipFailedPrograms = true }); }
    catch (Exception e) { Console.WriteLine($"INTERPFAIL {e.GetType().Name}: {e.Message.Split('\n')[0]}"); }
    foreach (var p in spec.Programs)
    {
        string load = whole is not null ? "FAIL(object) " + whole
            : c!.Programs.ContainsKey(p.Name) ? "OK"
            : "FAIL " + c.FailedPrograms[p.Name].GetType().Name + ": " + c.FailedPrograms[p.Name].Message.Split('\n')[0];
        string ver;
        try
        {
            var r = ObjectVerifier.Verify(spec, p.Name, PrivilegeMode.Privileged, KernelBtf.TryGet(), KernelBtf.TryGetSymbols());
            ver = r.IsAccepted ? "accept" : r.Error!.Code == VerifierErrorCode.NotSupported ? "notmodelled" : "reject";
        }
        catch (Exception e) { ver = "crash " + e.GetType().Name; }
        // Packet programs get the frame; raw tracepoints 12 zero arguments; the others (kprobes: struct pt_regs, tracepoints: their record) 512 zero bytes.
        byte[] input = p.Type is Bpf.ProgramType.Xdp or Bpf.ProgramType.SocketFilter or Bpf.ProgramType.SchedCls or Bpf.ProgramType.SchedAct
            or Bpf.ProgramType.CgroupSkb or Bpf.ProgramType.LwtIn or Bpf.ProgramType.LwtOut or Bpf.ProgramType.LwtXmit ? packet
            // A raw tracepoint's test run takes its u64 arguments, at most 12 (the kernel's limit).
            : p.Type == Bpf.ProgramType.RawTracepoint ? new byte[96] : new byte[512];
        string kernelRun = c is not null && c.Programs.ContainsKey(p.Name) ? Run(c, spec, () => c.Run(p.Name, input)) : "-";
        string interpRun = interp is not null && interp.Programs.ContainsKey(p.Name) ? Run(interp, spec, () => interp.Program(p.Name).Run(input)) : "-";
        Console.WriteLine($"{p.Name} [{p.Type}] load={load} ours={ver} run.kernel={kernelRun} run.interp={interpRun}");
    }
    interp?.Dispose();
    c?.Dispose();
    foreach (var pin in Directory.GetFiles(pins)) File.Delete(pin);
}
Directory.Delete(pins);

// A run's outcome: r0, a digest of the packet as the program left it, and a digest of what the run changed in the
// object's global data (offset and new byte of every changed byte, so programs run before on one engine only do not
// make the engines' globals differ here).
static string Run(IBpfCollection collection, ObjectSpec spec, Func<RunResult> run)
{
    try
    {
        var before = Globals(collection, spec);
        var r = run();
        var after = Globals(collection, spec);
        ulong changed = 14695981039346656037UL;
        foreach (var (name, bytes) in after)
        {
            var old = before[name];
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == old[i]) continue;
                foreach (var b in BitConverter.GetBytes(i)) changed = (changed ^ b) * 1099511628211UL;
                changed = (changed ^ bytes[i]) * 1099511628211UL;
            }
        }
        ulong data = 14695981039346656037UL;
        foreach (var b in r.Data) data = (data ^ b) * 1099511628211UL;
        return $"ret:{r.ReturnValue},data:{data:x16},globals:{changed:x16}";
    }
    catch (Exception e) { return "fail:" + e.GetType().Name; }
}

static Dictionary<string, byte[]> Globals(IBpfCollection collection, ObjectSpec spec)
{
    var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
    foreach (var m in spec.Maps)
    {
        if (m.Source != MapSource.GlobalData || !collection.Maps.TryGetValue(m.Name, out var map)) continue;
        var value = new byte[map.ValueSize];
        if (map.TryLookup(new byte[4], value)) values[m.Name] = value;
    }
    return values;
}
