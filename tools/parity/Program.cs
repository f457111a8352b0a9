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
        string kernelRun = c is not null && c.Programs.ContainsKey(p.Name) ? Run(() => c.Run(p.Name, input)) : "-";
        string interpRun = interp is not null && interp.Programs.ContainsKey(p.Name) ? Run(() => interp.Program(p.Name).Run(input)) : "-";
        Console.WriteLine($"{p.Name} [{p.Type}] load={load} ours={ver} run.kernel={kernelRun} run.interp={interpRun}");
    }
    interp?.Dispose();
    c?.Dispose();
    foreach (var pin in Directory.GetFiles(pins)) File.Delete(pin);
}
Directory.Delete(pins);

static string Run(Func<RunResult> run)
{
    try { return "ret:" + run().ReturnValue; }
    catch (Exception e) { return "fail:" + e.GetType().Name; }
}
