using Bpf.Btf;
using Bpf.Loader;
using Bpf.Tests;

namespace Bpf.Verifier.Tests;

/// <summary>
/// BTF-typed contexts and kernel objects against the kernel, by sweep: fentry, fexit and fmod_ret programs on kernel
/// functions of every argument shape this machine's BTF has, and LSM programs on its hooks, each reading its context
/// at every argument slot with every width (and misaligned, negative, past the twelfth argument), then reading
/// through each struct pointer argument at every member offset with every width, through its pointer members, with a
/// negative or variable offset, and writing. Verdict and message compared word for word with the kernel's log.
/// The targets are chosen from the BTF (the first function by name of each argument kind at each position), so the
/// sweep follows the kernel it runs on; a function the kernel will not attach to here is left out before comparing.
/// </summary>
public sealed class BtfContextSweepDifferentialTests(ITestOutputHelper output)
{
    private static readonly MemSize[] Widths = [MemSize.B, MemSize.H, MemSize.W, MemSize.DW];

    private static int Bytes(MemSize s) => s switch { MemSize.B => 1, MemSize.H => 2, MemSize.W => 4, _ => 8 };

    private static Instruction Ld(MemSize s, Register dst, Register src, int off) => Instruction.Load(s, dst, src, (short)off);

    private static readonly Instruction[] Exit0 = [Instruction.AluImm(OpClass.Alu64, AluOp.Mov, Register.R0, 0), Instruction.ExitInsn()];

    /// <summary>An argument's kind for choosing targets: int, enum, struct by value, pointer to struct, union, int,
    /// char, void, function or pointer, a __user pointer, anything else.</summary>
    private static char Kind(BtfType t)
    {
        t = BtfSpec.Underlying(t);
        switch (t)
        {
            case BtfVoid: return 'v';
            case BtfInt { Size: 1 }: return 'c';
            case BtfInt: return 'i';
            case BtfEnum: return 'e';
            case BtfComposite c: return c.IsUnion ? 'U' : 'S';
            case BtfPointer p:
                var target = p.Target;
                while (target is BtfTypeTag tag)
                {
                    if (tag.Name == "user") return 'u';
                    target = ((BtfReferenceType)tag).Target;
                }
                return BtfSpec.Underlying(target) switch
                {
                    BtfComposite { IsUnion: false } => 's',
                    BtfComposite => 'n',
                    BtfVoid => 'V',
                    BtfInt { Size: 1 } => 'C',
                    BtfInt or BtfEnum => 'I',
                    BtfFuncProto => 'f',
                    BtfPointer => 'P',
                    _ => 'x',
                };
            default: return 'x';
        }
    }

    private sealed record Target(string Name, uint Id, BtfFuncProto Proto, ProgramType Type, AttachType Attach)
    {
        /// <summary>The name a program gives as its attach target (an LSM hook or an iterator without its prefix).</summary>
        public string AttachTo => Type == ProgramType.Lsm ? Name["bpf_lsm_".Length..] : Attach == AttachType.TraceIter ? Name["bpf_iter_".Length..] : Name;
    }

    /// <summary>The first function (by name) with each argument kind at each of the first six positions, each return
    /// kind, and each argument count up to twelve; the same for LSM hooks (bpf_lsm_*).</summary>
    private static List<Target> Targets(BtfSpec btf)
    {
        var funcs = btf.Types.OfType<BtfFunc>()
            .Where(f => f.Target is BtfFuncProto p && !p.Parameters.Any(a => a.Type is BtfVoid))
            .OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var chosen = new List<Target>();
        void Pick(IEnumerable<BtfFunc> from, ProgramType type, AttachType attach)
        {
            var seen = new HashSet<string>();
            foreach (var f in from)
            {
                var p = (BtfFuncProto)f.Target;
                var keys = new List<string> { "r" + Kind(p.ReturnType), "n" + p.Parameters.Count };
                for (var i = 0; i < Math.Min(6, p.Parameters.Count); i++) keys.Add($"{i}{Kind(p.Parameters[i].Type)}");
                var fresh = false;
                foreach (var k in keys) fresh |= seen.Add(k);
                if (fresh) chosen.Add(new Target(f.Name, f.Id, p, type, attach));
            }
        }
        Pick(funcs.Where(f => !f.Name.StartsWith("bpf_lsm_", StringComparison.Ordinal) && !f.Name.StartsWith("bpf_iter_", StringComparison.Ordinal)),
            ProgramType.Tracing, AttachType.TraceFentry);
        Pick(funcs.Where(f => f.Name.StartsWith("bpf_lsm_", StringComparison.Ordinal)), ProgramType.Lsm, AttachType.LsmMac);
        // Every iterator target (bpf_iter_NAME(struct bpf_iter_meta *meta, ...)) whose objects are structs: a pointer to
        // anything else is a buffer (PTR_TO_BUF) ours does not model.
        chosen.AddRange(funcs.Where(f => f.Name.StartsWith("bpf_iter_", StringComparison.Ordinal)
                                         && ((BtfFuncProto)f.Target).Parameters is [{ Name: "meta" }, ..] ps
                                         && ps.All(a => Kind(a.Type) == 's'))
            .Select(f => new Target(f.Name, f.Id, (BtfFuncProto)f.Target, ProgramType.Tracing, AttachType.TraceIter)));
        return chosen;
    }

    /// <summary>The programs for one target: its context read at each slot and width, then each struct pointer
    /// argument's object read through.</summary>
    private static IEnumerable<(string Name, Instruction[] Insns, AttachType Attach)> Programs(BtfSpec btf, Target t, HashSet<uint> walked)
    {
        var n = t.Proto.Parameters.Count;
        var attaches = t.Attach == AttachType.TraceFentry ? new[] { AttachType.TraceFentry, AttachType.TraceFexit, AttachType.ModifyReturn } : [t.Attach];
        foreach (var attach in attaches)
        {
            var slots = attach is AttachType.TraceFentry or AttachType.LsmMac or AttachType.TraceIter
                ? Enumerable.Range(0, n + 2).Append(12).Prepend(-1)
                : new[] { n, n + 1 };
            foreach (var slot in slots)
            {
                foreach (var w in Widths)
                {
                    yield return ($"{attach} {t.Name} ctx+{slot * 8} {w}", [Ld(w, Register.R2, Register.R1, slot * 8), .. Exit0], attach);
                }
                if (attach is AttachType.TraceFentry or AttachType.TraceIter && slot >= 0) yield return ($"{attach} {t.Name} ctx+{slot * 8 + 4} W", [Ld(MemSize.W, Register.R2, Register.R1, slot * 8 + 4), .. Exit0], attach);
            }
        }
        var first = t.Attach;
        if (t.Type == ProgramType.Tracing) yield return ($"{first} {t.Name} ctx write", [Instruction.StoreImm(MemSize.DW, Register.R1, 0, 0), .. Exit0], first);
        for (var a = 0; a < n; a++)
        {
            if (BtfSpec.Underlying(t.Proto.Parameters[a].Type) is not BtfPointer ptr || Kind(ptr) != 's') continue;
            var st = (BtfComposite)BtfSpec.Underlying(ptr.Target);
            if (Acquire(btf, st.Name, $"r1 = *(u64 *)(r1 + {a * 8})") is { } own) yield return ($"{first} {t.Name} arg{a} ({st.Name}) acquired", own, first);
            if (!walked.Add(st.Id)) continue;
            // Loaded and checked for null (an iterator's objects may be null); the check is idle for the others.
            var slot = a * 8;
            Instruction[] Through(params Instruction[] body) =>
                [Ld(MemSize.DW, Register.R2, Register.R1, slot), Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R2, 0, (short)body.Length), .. body, .. Exit0];
            var name = $"{first} {t.Name} arg{a} ({st.Name})";
            var offsets = new SortedSet<int> { -4, (int)st.Size - 1, (int)st.Size, (int)st.Size + 4 };
            foreach (var m in st.Members.Take(48)) { offsets.Add((int)m.ByteOffset); offsets.Add((int)m.ByteOffset + 1); }
            foreach (var off in offsets.Where(o => o < short.MaxValue))
            {
                foreach (var w in Widths) yield return ($"{name} +{off} {w}", Through(Ld(w, Register.R3, Register.R2, off)), first);
            }
            yield return ($"{name} store", Through(Instruction.StoreImm(MemSize.W, Register.R2, 0, 0)), first);
            yield return ($"{name} variable offset",
            [
                Instruction.AluReg(OpClass.Alu64, AluOp.Mov, Register.R6, Register.R1), Instruction.CallHelper(7),
                Instruction.AluImm(OpClass.Alu64, AluOp.And, Register.R0, 8), Ld(MemSize.DW, Register.R2, Register.R6, slot),
                Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R2, 0, 2),
                Instruction.AluReg(OpClass.Alu64, AluOp.Add, Register.R2, Register.R0), Ld(MemSize.W, Register.R3, Register.R2, 0), .. Exit0,
            ], first);
            var deep = 0;
            foreach (var m in st.Members.Where(m => m.BitfieldSize == 0 && BtfSpec.Underlying(m.Type) is BtfPointer mp && Kind(mp) == 's'))
            {
                var inner = (BtfComposite)BtfSpec.Underlying(((BtfPointer)BtfSpec.Underlying(m.Type)).Target);
                // Whether the kernel keeps the member trusted, RCU-protected, maybe null or untrusted: read through it
                // unchecked, and pass it to the acquire kfunc of its struct (task_struct, cgroup).
                yield return ($"{name} ->{m.Name} ({inner.Name}) unchecked", Through(Ld(MemSize.DW, Register.R3, Register.R2, (int)m.ByteOffset), Ld(MemSize.B, Register.R4, Register.R3, 0)), first);
                if (Acquire(btf, inner.Name, $"r2 = *(u64 *)(r1 + {a * 8})\nif r2 == 0 goto out\nr1 = *(u64 *)(r2 + {m.ByteOffset})") is { } acquired)
                {
                    yield return ($"{name} ->{m.Name} ({inner.Name}) acquired", acquired, first);
                }
                if (++deep > 4) continue;
                foreach (var off in new[] { 0, (int)inner.Size })
                {
                    yield return ($"{name} ->{m.Name} ({inner.Name}) +{off}",
                        Through(Ld(MemSize.DW, Register.R3, Register.R2, (int)m.ByteOffset), Ld(MemSize.W, Register.R4, Register.R3, off)), first);
                }
                yield return ($"{name} ->{m.Name} checked +0",
                    Through(Ld(MemSize.DW, Register.R3, Register.R2, (int)m.ByteOffset),
                        Instruction.JumpImm(OpClass.Jmp, JumpOp.Jeq, Register.R3, 0, 1), Ld(MemSize.W, Register.R4, Register.R3, 0)), first);
            }
        }
    }

    /// <summary>A program acquiring (and releasing) the object R1 is loaded with by <paramref name="load"/>, when
    /// <paramref name="structName"/> has acquire and release kfuncs here (task_struct, cgroup): the kernel's KF_RCU
    /// check accepts a trusted or RCU pointer, not a plain or untrusted one.</summary>
    private static Instruction[]? Acquire(BtfSpec btf, string structName, string load)
    {
        var (acquire, release) = structName switch
        {
            "task_struct" => ("bpf_task_acquire", "bpf_task_release"),
            "cgroup" => ("bpf_cgroup_acquire", "bpf_cgroup_release"),
            _ => ((string?)null, (string?)null),
        };
        if (acquire is null || btf.FindType(acquire, BtfKind.Func) is not { } a || btf.FindType(release!, BtfKind.Func) is not { } r) return null;
        return Bpf.Asm.Assembler.Assemble($"{load}\nif r1 == 0 goto out\ncall kfunc {a.Id}\nif r0 == 0 goto out\nr1 = r0\ncall kfunc {r.Id}\nout:\nr0 = 0\nexit\n", Bpf.Asm.AsmDialect.Llvm);
    }

    [KernelFact]
    public void Btf_context_and_object_reads_agree_with_the_kernel()
    {
        Need.Kernel();
        Need.SystemFile("/sys/kernel/btf/vmlinux");
        var btf = KernelBtf.TryGet() ?? throw new InvalidOperationException("/sys/kernel/btf/vmlinux exists but could not be read");
        var targets = Targets(btf);
        var walked = new HashSet<uint>();
        int compared = 0, attachable = 0, accepted = 0;
        var disagreements = new List<string>();
        var wording = new WordingDifferences();
        var refused = new List<string>();
        foreach (var t in targets)
        {
            // A target the kernel will not attach to here (not traceable, not modifiable, denied) is refused before
            // verifying: its log has no instruction.
            var probe = KernelOracle.Load(Exit0, [], t.Type, attach: t.Attach, attachBtfId: t.Id);
            if (!probe.Accepted)
            {
                if (refused.Count < 3) refused.Add($"{t.Name} (id {t.Id}): {probe.Message}");
                continue;
            }
            attachable++;
            foreach (var (name, insns, attach) in Programs(btf, t, walked))
            {
                var kernel = KernelOracle.Load(insns, [], t.Type, attach: attach, attachBtfId: t.Id);
                if (!kernel.Accepted && !kernel.Log.Contains("0: (", StringComparison.Ordinal)) continue;
                var ours = BpfVerifier.Verify(insns, new VerifierOptions
                {
                    ProgramType = t.Type, ExpectedAttachType = attach, AttachTarget = t.AttachTo, KernelBtf = btf,
                });
                compared++;
                if (kernel.Accepted) accepted++;
                if (ours.IsAccepted != kernel.Accepted || ours.Error?.Code == VerifierErrorCode.NotSupported)
                {
                    disagreements.Add($"{name}: kernel {(kernel.Accepted ? "accepts" : "rejects: " + kernel.Message)}; ours {ours}");
                }
                wording.Check(name, ours, kernel);
            }
        }
        output.WriteLine($"{targets.Count} targets chosen, {attachable} attachable here, {walked.Count} structs walked; {compared} programs compared ({accepted} accepted by the kernel), {disagreements.Count} disagreements, {wording.Count} worded differently");
        output.WriteLine($"{targets.Count - attachable} targets not attachable here (the kernel refuses the load before verifying), e.g.: {string.Join("; ", refused.Take(3))}");
        foreach (var d in disagreements.Take(60)) output.WriteLine(d);
        foreach (var w in wording.Report().Take(30)) output.WriteLine(w);
        Assert.True(attachable >= 8, $"only {attachable} targets attachable");
        Assert.True(compared >= 2000 && accepted >= 500, $"only {compared} programs compared, {accepted} accepted");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements.Take(20)));
        Assert.True(wording.Count == 0, string.Join("\n", wording.Report()));
    }
}
