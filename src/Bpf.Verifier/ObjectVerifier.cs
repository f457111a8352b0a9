using Bpf.Btf;
using Bpf.Verifier.Internal;

namespace Bpf;

/// <summary>Verifies programs of a parsed ELF object (<see cref="ObjectSpec"/>): its maps are declared from the
/// object, map references become map-index loads, and errors name the source line from the BTF line info.</summary>
public static class ObjectVerifier
{
    /// <summary>Verifies the program named <paramref name="programName"/> (function name) of an object.</summary>
    /// <param name="obj">The object.</param>
    /// <param name="programName">The program's function name.</param>
    /// <param name="privilege">The privileges the program would be loaded with.</param>
    /// <param name="coreTarget">The BTF CO-RE relocations resolve against (the kernel the program is for, e.g. the
    /// Loader's <c>KernelBtf.TryGet()</c>), so the verifier judges the instructions the kernel would see. A program
    /// with CO-RE relocations and no target is reported as not supported, never judged unrelocated.</param>
    /// <exception cref="ArgumentException">No program of that name.</exception>
    public static VerificationResult Verify(ObjectSpec obj, string programName, PrivilegeMode privilege = PrivilegeMode.Privileged, BtfSpec? coreTarget = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var program = obj.Program(programName)
            ?? throw new ArgumentException($"object has no program '{programName}' (it has: {string.Join(", ", obj.Programs.Select(p => p.Name))})", nameof(programName));
        if (!TryPrepare(obj, program, privilege, coreTarget, out var insns, out var options, out var error))
        {
            return new VerificationResult(error, 0, 0, 0, 0, null);
        }
        return BpfVerifier.Verify(insns, options);
    }

    /// <summary>Builds the instructions (map references as pseudo source 5/6 into <see cref="VerifierOptions.Maps"/>)
    /// and the options for one program of an object; false with an error when the program uses something the
    /// verifier does not model (kfuncs, extern variables, a program type it does not know).</summary>
    public static bool TryPrepare(ObjectSpec obj, ProgramSpec program, PrivilegeMode privilege,
        out Instruction[] instructions, out VerifierOptions options, out VerifierError? error) =>
        TryPrepare(obj, program, privilege, null, out instructions, out options, out error);

    /// <summary>As <see cref="TryPrepare(ObjectSpec, ProgramSpec, PrivilegeMode, out Instruction[], out VerifierOptions, out VerifierError?)"/>,
    /// with CO-RE relocations applied against <paramref name="coreTarget"/> first (unresolvable ones poisoned, as
    /// libbpf and the kernel loader do).</summary>
    public static bool TryPrepare(ObjectSpec obj, ProgramSpec program, PrivilegeMode privilege, BtfSpec? coreTarget,
        out Instruction[] instructions, out VerifierOptions options, out VerifierError? error)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
        instructions = (Instruction[])program.Instructions.Clone();
        options = VerifierOptions.Default;
        error = null;
        if (program.CoreRelocations.Count > 0)
        {
            if (coreTarget is null)
            {
                error = Unsupported(program.CoreRelocations[0].InstructionIndex,
                    $"program '{program.Name}' has {program.CoreRelocations.Count} CO-RE relocations and no target BTF to resolve them against; " +
                    "pass the kernel's BTF (coreTarget) so the verifier judges the instructions the kernel would see");
                return false;
            }
            try
            {
                CoreRelocator.Apply(program, instructions, coreTarget);
            }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException)
            {
                error = Unsupported(program.CoreRelocations[0].InstructionIndex, e.Message);
                return false;
            }
        }
        return TryPrepareRelocated(obj, program, instructions, privilege, out options, out error, coreTarget);
    }

    /// <summary>As <see cref="TryPrepare(ObjectSpec, ProgramSpec, PrivilegeMode, BtfSpec?, out Instruction[], out VerifierOptions, out VerifierError?)"/>
    /// for instructions whose CO-RE relocations the collection loader already applied: map references become
    /// map-index loads in <paramref name="instructions"/> (in place, through the one relocation routine).
    /// <paramref name="kernelBtf"/> is the kernel's BTF for BTF-typed reads (<see cref="VerifierOptions.KernelBtf"/>);
    /// without it such reads are refused, as the managed runtime cannot give them a value.</summary>
    public static bool TryPrepareRelocated(ObjectSpec obj, ProgramSpec program, Instruction[] instructions, PrivilegeMode privilege,
        out VerifierOptions options, out VerifierError? error, BtfSpec? kernelBtf = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(instructions);
        options = VerifierOptions.Default;
        error = null;
        var type = program.Type;
        if (!Enum.IsDefined(type) || type == VerifierProgramTypes.Memory)
        {
            error = Unsupported(-1, $"program type {program.Type} is not modelled by this verifier");
            return false;
        }
        if ((program.Flags & ProgramFlags.Sleepable) != 0)
        {
            // The kernel restricts sleepable programs' maps and helpers and trusts fewer kernel pointers in them.
            error = Unsupported(-1, $"program '{program.Name}' is sleepable (section '{program.SectionName}'): the kernel's rules for sleepable programs are not modelled by this verifier");
            return false;
        }
        var maps = obj.Maps.Select(MapDefinition.FromSpec).ToList();
        // Inner-map templates, so a lookup in a map of maps can be typed as the inner map (appended: indices of the
        // object's own maps do not move).
        foreach (var inner in maps.Where(m => m.InnerMap is not null).Select(m => m.InnerMap!).ToList())
        {
            if (!maps.Contains(inner)) maps.Add(inner);
        }
        // __kconfig externs are read from the .kconfig map libbpf (and BpfNet's loader) creates: one read-only array
        // element the program loads from (BPF_F_RDONLY_PROG). Their values are the running kernel's; a load gives an
        // unknown scalar here (the kernel, which sees the frozen map, may know the constant and skip dead branches).
        var kconfig = -1;
        foreach (var r in program.References)
        {
            if (r.Kind == ReferenceKind.ExternVariable && obj.Extern(r.Name) is { Kind: ExternKind.Kconfig } && obj.KconfigSize > 0)
            {
                if (kconfig < 0)
                {
                    maps.Add(new MapDefinition(ObjectSpec.KconfigMapName, MapType.Array, 4, (int)obj.KconfigSize, 1, MapFlags.ReadOnlyProgram | MapFlags.Mmapable));
                    kconfig = maps.Count - 1;
                }
                continue;
            }
            if (r.Kind is not (ReferenceKind.Map or ReferenceKind.MapValue) || maps.FindIndex(m => m.Name == r.Name) < 0)
            {
                error = r.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction
                    ? Unsupported(r.InstructionIndex, $"extern '{r.Name}' ({obj.Extern(r.Name)?.Kind.ToString() ?? r.Kind.ToString()}: __ksym or kfunc) " +
                        "is not modelled by this verifier: its value comes from the running kernel; judge the program with the kernel's verifier")
                    : Unsupported(r.InstructionIndex, $"{r.Kind} reference to '{r.Name}' is not modelled by this verifier");
                return false;
            }
        }
        CollectionLoader.RelocateMapReferences(program, instructions, r =>
        {
            var index = maps.FindIndex(m => m.Name == r.Name);
            return r.Kind == ReferenceKind.Map
                ? new LddwTarget(PseudoSource.MapIndex, index, 0)
                : new LddwTarget(PseudoSource.MapIndexValue, index, (int)r.Offset);
        });
        if (kconfig >= 0)
        {
            foreach (var r in program.References)
            {
                if (r.Kind != ReferenceKind.ExternVariable || obj.Extern(r.Name) is not { Kind: ExternKind.Kconfig } e) continue;
                var at = r.InstructionIndex;
                var addend = (uint)at < (uint)instructions.Length ? (uint)instructions[at].Imm : 0;
                CollectionLoader.PatchLddw(program.Name, instructions, at, new LddwTarget(PseudoSource.MapIndexValue, kconfig, (int)(e.Offset + addend)));
            }
        }
        options = new VerifierOptions
        {
            ProgramType = type,
            ExpectedAttachType = program.AttachType,
            AttachTarget = program.AttachTo,
            Privilege = privilege,
            Maps = maps,
            GplCompatible = IsGpl(program.License),
            HasFuncInfo = program.FuncInfos.Count > 0,
            KernelBtf = kernelBtf,
            SourceLocator = i => program.LineInfoAt(i) is { } li ? new SourceLocation(li.FileName, li.Line, li.Column, li.LineText) : null,
        };
        return true;
    }

    private static VerifierError Unsupported(int insn, string message) =>
        new(VerifierErrorCode.NotSupported, insn, message, null, null, [], null);

    /// <summary>The license strings the kernel treats as GPL-compatible.</summary>
    private static bool IsGpl(string license) => license is "GPL" or "GPL v2" or "GPL and additional rights" or "Dual BSD/GPL" or "Dual MIT/GPL" or "Dual MPL/GPL";
}
