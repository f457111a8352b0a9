// A consumer of the packed packages: assemble and interpret, verify an object, open it on both engines, block a
// source address from C# and check the XDP verdicts. Exit 0 when everything agrees, 1 otherwise; the kernel engine
// is skipped (saying why) when this process cannot load BPF, unless BPFNET_REQUIRE_KERNEL=1.
using System.Runtime.Versioning;
using Bpf;
using Bpf.Asm;
using Bpf.Loader;
using Consumer;

var failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    if (!ok) failures++;
}

var program = Assembler.Assemble("mov %r0, 42\nexit");
Check(new Interpreter(program).Run(new byte[8]).R0 == 42, "Bpf.Core: assemble and interpret");

var spec = ObjectSpec.ReadFile(Path.Combine(AppContext.BaseDirectory, "xdp_filter.o"));
Check(ObjectVerifier.Verify(spec, "xdp_filter").IsAccepted, "Bpf.Verifier: xdp_filter accepted");

uint allowed = BitConverter.ToUInt32([10, 0, 0, 1]), blocked = BitConverter.ToUInt32([10, 0, 0, 66]);
string? Verdicts(EngineChoice choice)
{
    using var collection = BpfEngine.Open(spec, choice);
    collection.Map("blocked").Update(blocked, (byte)1);
    var filter = collection.Program("xdp_filter");
    var verdicts = string.Join(" ", new[] { allowed, blocked, allowed }.Select(src => filter.Run(Frame(src)).ReturnValue));
    Console.WriteLine($"     {collection.Engine}: {verdicts} ({collection.EngineReason})");
    return verdicts;
}

// The same through the class Bpf.Generators made from the object's BTF: typed maps and programs, no names.
string Typed(EngineChoice choice)
{
    using var filter = XdpFilter.Open(choice);
    filter.Blocked.Update(blocked, 1);
    var verdicts = string.Join(" ", new[] { allowed, blocked, allowed }.Select(src => filter.XdpFilterProgram.Run(Frame(src)).ReturnValue));
    return $"{verdicts}; counted {filter.PacketCounts.Lookup(allowed)}";
}

var interpreted = Verdicts(EngineChoice.Interpreter);
Check(interpreted == "2 1 2", "Bpf.Loader: interpreter engine passes 10.0.0.1 and drops 10.0.0.66");
var typedInterpreted = Typed(EngineChoice.Interpreter);
Check(typedInterpreted == "2 1 2; counted 2", $"Bpf.Generators: the generated XdpFilter on the interpreter ({typedInterpreted})");

// The Linux-only API behind a platform guard: no CA1416 here (this project treats warnings as errors).
if (OperatingSystem.IsLinux() && KernelUsable(out var why))
{
    Check(Verdicts(EngineChoice.Kernel) == interpreted, "Bpf.Loader: kernel engine agrees with the interpreter");
    Check(Typed(EngineChoice.Kernel) == typedInterpreted, "Bpf.Generators: the generated XdpFilter on the kernel agrees");
}
else if (Environment.GetEnvironmentVariable("BPFNET_REQUIRE_KERNEL") == "1")
{
    Check(false, "kernel engine required (BPFNET_REQUIRE_KERNEL=1) but unavailable");
}
else
{
    Console.WriteLine("skip kernel engine: this process cannot load BPF");
}

#if UNGUARDED
// Built with -p:DefineConstants=UNGUARDED, this unguarded Linux-only call must fail the build with CA1416.
FeatureProbes.SupportsProgramType(ProgramType.Xdp);
#endif

Console.WriteLine(failures == 0 ? "consumer: all checks passed" : $"consumer: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

[SupportedOSPlatform("linux")]
static bool KernelUsable(out string why)
{
    try
    {
        using var map = BpfMap.Create(new MapCreateSpec { Type = MapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 });
        why = "";
        return true;
    }
    catch (BpfSyscallException e) when (e.IsEnvironmentRefusal)
    {
        why = e.Message;
        return false;
    }
}

static byte[] Frame(uint source)
{
    var f = new byte[64];
    f[12] = 0x08; f[14] = 0x45; f[23] = 17;      // IPv4, IHL 5, UDP
    BitConverter.TryWriteBytes(f.AsSpan(26, 4), source);
    return f;
}
