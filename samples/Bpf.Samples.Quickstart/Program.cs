// BpfNet quickstart.
// Part 1: assemble a small packet classifier, print its disassembly in both dialects, verify it, run it in
//         the managed interpreter, and build the same program with the fluent builder.
// Part 2: load a clang-compiled XDP object, verify it, then run the same C# against the interpreter and
//         against the kernel (when this machine can load it), and check that both engines agree.
using Bpf;
using Bpf.Asm;
using Bpf.Samples.Quickstart;

// r1 = packet address, r2 = packet length (the interpreter's "memory + length" calling convention).
// Returns 1 for an IPv4/UDP packet to port 53 (DNS), 0 for anything else, after checking every length.
const string Classifier = """
    # Ethernet (14) + IPv4 (20, no options) + UDP (8) = 42 bytes needed
    jlt %r2, 42, pass
    ldxh %r3, [%r1+12]        # EtherType, network byte order
    be16 %r3
    jne %r3, 0x0800, pass      # IPv4?
    ldxb %r3, [%r1+23]        # IP protocol
    jne %r3, 17, pass          # UDP?
    ldxh %r3, [%r1+36]        # UDP destination port
    be16 %r3
    jne %r3, 53, pass
    mov %r0, 1
    exit
    pass:
    mov %r0, 0
    exit
    """;

var program = Assembler.Assemble(Classifier, AsmDialect.Conformance);
Console.WriteLine($"Assembled {program.Length} instructions ({program.Length * 8} bytes).");
Console.WriteLine();
Console.WriteLine("-- conformance dialect --");
Console.Write(Disassembler.Disassemble(program, AsmDialect.Conformance));
Console.WriteLine("-- LLVM / kernel dialect --");
Console.Write(Disassembler.Disassemble(program, AsmDialect.Llvm));
Console.WriteLine();

// The static verifier checks it as the interpreter runs it: r1 = a 64-byte input, r2 = its length.
var verdict = BpfVerifier.Verify(program, new VerifierOptions { ProgramType = VerifierProgramTypes.Memory, MemorySize = 64 });
Console.WriteLine($"Verifier: {verdict}");
if (!verdict.IsAccepted) return 1;
Console.WriteLine();

var interpreter = new Interpreter(program);
foreach (var (name, packet) in new[] { ("DNS query", Packet(dstPort: 53)), ("HTTPS", Packet(dstPort: 443)), ("runt frame", new byte[20]) })
{
    var result = interpreter.Run(packet);
    Console.WriteLine(result.Succeeded
        ? $"{name,-10}: r0 = {result.R0} after {result.InstructionsExecuted} instructions"
        : $"{name,-10}: fault: {result.Fault!.Message}");
}

// The same logic from C#: labels are resolved when Build() runs.
var built = new ProgramBuilder()
    .JumpIf(JumpOp.Jlt, Register.R2, 42, "pass")
    .Load(MemSize.H, Register.R3, Register.R1, 12).ToBigEndian(Register.R3, 16)
    .JumpIf(JumpOp.Jne, Register.R3, 0x0800, "pass")
    .Load(MemSize.B, Register.R3, Register.R1, 23)
    .JumpIf(JumpOp.Jne, Register.R3, 17, "pass")
    .Load(MemSize.H, Register.R3, Register.R1, 36).ToBigEndian(Register.R3, 16)
    .JumpIf(JumpOp.Jne, Register.R3, 53, "pass")
    .Mov64(Register.R0, 1).Exit()
    .Label("pass").Mov64(Register.R0, 0).Exit()
    .Build();
Console.WriteLine();
Console.WriteLine($"Fluent builder produced identical bytes: {built.AsSpan().SequenceEqual(program)}");
if (!built.AsSpan().SequenceEqual(program)) return 1;

// ---- Part 2: a compiled object, two engines -------------------------------------------------------------
// XdpFilter is generated at build time from bpf/xdp_filter.c (a BpfProgram item): the object is embedded in this
// assembly, and its maps, program and key/value types are typed members: no names as strings, no hand-written structs.
Console.WriteLine();
var spec = ObjectSpec.Read(XdpFilter.ReadObject(), XdpFilter.ObjectFileName);
Console.WriteLine($"{XdpFilter.ObjectFileName}: programs [{string.Join(", ", spec.Programs.Select(p => $"{p.Name} ({p.Type}, {p.Instructions.Length} insns)"))}], " +
                  $"maps [{string.Join(", ", spec.Maps.Select(m => $"{m.Name} ({m.Type})"))}]");

foreach (var p in spec.Programs)
{
    var objectVerdict = ObjectVerifier.Verify(spec, p.Name);
    Console.WriteLine($"Verifier, {p.Name}: {objectVerdict}");
    if (!objectVerdict.IsAccepted) return 1;
}

uint allowed = Ipv4(10, 0, 0, 1), blocked = Ipv4(10, 0, 0, 66);
var traffic = new[] { allowed, blocked, allowed, allowed, blocked };
var outcomes = new List<string>();
// The interpreter verifies as the program will be deployed (by root, with CAP_BPF): without it, this process's own
// privileges would decide, and an unprivileged user may load only socket filters and cgroup skb programs.
var deployed = new BpfEngineOptions { Privilege = PrivilegeMode.Privileged };
foreach (var choice in new[] { EngineChoice.Interpreter, EngineChoice.Auto })
{
    using var filter = XdpFilter.Open(choice, deployed);
    filter.Blocked.Update(blocked, 1);                          // block 10.0.0.66 from C#
    var verdicts = traffic.Select(src => filter.XdpFilterProgram.Run(Frame(src)).ReturnValue switch { 1 => "DROP", 2 => "PASS", var v => v.ToString() });
    var line = $"verdicts {string.Join(" ", verdicts)}; packets counted for 10.0.0.1: {filter.PacketCounts.Lookup(allowed)}";
    Console.WriteLine($"{filter.Collection.Engine,-11} ({filter.Collection.EngineReason}): {line}");
    outcomes.Add(line);
}
var agree = outcomes[0] == outcomes[1];
Console.WriteLine(agree ? "Both engines agree." : "The engines disagree!");
return agree ? 0 : 1;

// An Ethernet + IPv4 frame from the given source address (network byte order on the wire).
static byte[] Frame(uint source)
{
    var f = Packet(dstPort: 80);
    BitConverter.TryWriteBytes(f.AsSpan(26, 4), source);
    return f;
}

// The address as the program reads it: the four wire bytes as a little-endian u32.
static uint Ipv4(byte a, byte b, byte c, byte d) => BitConverter.ToUInt32([a, b, c, d]);

static byte[] Packet(int dstPort)
{
    var p = new byte[64];
    p[12] = 0x08; p[13] = 0x00;                 // EtherType IPv4
    p[14] = 0x45;                               // version 4, IHL 5
    p[23] = 17;                                 // UDP
    p[36] = (byte)(dstPort >> 8); p[37] = (byte)dstPort;
    return p;
}
