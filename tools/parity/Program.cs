// Parity harness (outside CI): reads, loads (one kernel collection, programs left out individually) and verifies every
// object of a directory; one line per program: load outcome and our verifier's verdict. See docs/compatibility.md.
using Bpf.Loader;
using Bpf.Objects;
using Bpf.Verifier;
Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "bpfnet-parity-pins"));
foreach (var file in Directory.GetFiles(args[0]).Order())
{
    Console.WriteLine($"== {Path.GetFileName(file)}");
    ObjectSpec spec;
    try { spec = ObjectSpec.ReadFile(file); }
    catch (Exception e) { Console.WriteLine($"READFAIL {e.GetType().Name}: {e.Message}"); continue; }
    KernelCollection? c = null;
    string? whole = null;
    try { c = KernelCollection.Load(spec, new KernelCollectionOptions { SkipFailedPrograms = true, PinPath = Path.Combine(Path.GetTempPath(), "bpfnet-parity-pins") }); }
    catch (Exception e) { whole = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}"; }
    foreach (var p in spec.Programs)
    {
        string load = whole is not null ? "FAIL(object) " + whole
            : c!.Programs.ContainsKey(p.Name) ? "OK"
            : "FAIL " + c.FailedPrograms[p.Name].GetType().Name + ": " + c.FailedPrograms[p.Name].Message.Split('\n')[0];
        string ver;
        try
        {
            var r = ObjectVerifier.Verify(spec, p.Name, PrivilegeMode.Privileged, KernelBtf.TryGet());
            ver = r.IsAccepted ? "accept" : r.Error!.Code == VerifierErrorCode.NotSupported ? "notmodelled" : "reject";
        }
        catch (Exception e) { ver = "crash " + e.GetType().Name; }
        Console.WriteLine($"{p.Name} [{p.Type}] load={load} ours={ver}");
    }
    c?.Dispose();
}
