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
    /// <param name="kernelSymbols">The kernel <c>__ksym</c> variables and kfunc calls resolve against (the Loader's
    /// <c>KernelBtf.TryGetSymbols()</c> for the running kernel), as the loader resolves them; the verifier then judges the
    /// resolved program (typed variables and kfuncs by that kernel's BTF, whether a variable has an address). A program
    /// with such externs and no kernel is reported as not supported.</param>
    /// <exception cref="ArgumentException">No program of that name.</exception>
    public static VerificationResult Verify(ObjectSpec obj, string programName, PrivilegeMode privilege = PrivilegeMode.Privileged, BtfSpec? coreTarget = null,
        KernelSymbols? kernelSymbols = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var program = obj.Program(programName)
            ?? throw new ArgumentException($"object has no program '{programName}' (it has: {string.Join(", ", obj.Programs.Select(p => p.Name))})", nameof(programName));
        if (!TryPrepare(obj, program, privilege, coreTarget, out var insns, out var options, out var error, kernelSymbols))
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
    /// libbpf and the kernel loader do), and <c>__ksym</c> variables and kfunc calls resolved against
    /// <paramref name="kernelSymbols"/> (null: a program with such externs is not supported).</summary>
    public static bool TryPrepare(ObjectSpec obj, ProgramSpec program, PrivilegeMode privilege, BtfSpec? coreTarget,
        out Instruction[] instructions, out VerifierOptions options, out VerifierError? error, KernelSymbols? kernelSymbols = null)
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
        if (KernelSymbolLinker.Needs(obj, program))
        {
            var first = program.References.First(r => r.Kind is ReferenceKind.ExternVariable or ReferenceKind.KernelFunction
                && obj.Extern(r.Name) is not { Kind: ExternKind.Kconfig });
            if (kernelSymbols is null)
            {
                error = Unsupported(first.InstructionIndex, $"extern '{first.Name}' ({obj.Extern(first.Name)?.Kind.ToString() ?? first.Kind.ToString()}: __ksym or kfunc) " +
                    "resolves against a kernel's BTF and symbols: pass kernelSymbols (the Loader's KernelBtf.TryGetSymbols() for the running kernel) to judge the program");
                return false;
            }
            try
            {
                KernelSymbolLinker.Apply(obj, program, instructions, kernelSymbols, []);
            }
            catch (Exception e) when (e is ExternResolutionException or InvalidOperationException)
            {
                // The loader fails the same way, before any kernel verdict (a strong extern the kernel lacks).
                error = Unsupported(first.InstructionIndex, e.Message);
                return false;
            }
        }
        return TryPrepareRelocated(obj, program, instructions, privilege, out options, out error, coreTarget ?? kernelSymbols?.Btf, kernelSymbols);
    }

    /// <summary>As <see cref="TryPrepare(ObjectSpec, ProgramSpec, PrivilegeMode, BtfSpec?, out Instruction[], out VerifierOptions, out VerifierError?, KernelSymbols?)"/>
    /// for instructions whose CO-RE relocations and <c>__ksym</c>/kfunc externs the collection loader already applied
    /// (their references are not looked at again; <paramref name="kernelSymbols"/> is the kernel they were resolved
    /// against, for the verifier's judgement of typed variables and kfuncs): map references become
    /// map-index loads in <paramref name="instructions"/> (in place, through the one relocation routine).
    /// <paramref name="kernelBtf"/> is the kernel's BTF for BTF-typed reads (<see cref="VerifierOptions.KernelBtf"/>);
    /// without it such reads are refused, as the managed runtime cannot give them a value.</summary>
    public static bool TryPrepareRelocated(ObjectSpec obj, ProgramSpec program, Instruction[] instructions, PrivilegeMode privilege,
        out VerifierOptions options, out VerifierError? error, BtfSpec? kernelBtf = null, KernelSymbols? kernelSymbols = null)
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
            if (r.Kind == ReferenceKind.KernelFunction || (r.Kind == ReferenceKind.ExternVariable && obj.Extern(r.Name) is { Kind: ExternKind.KernelVariable or ExternKind.KernelFunction }))
            {
                continue; // resolved by the loader (KernelSymbolLinker) before these instructions were handed over
            }
            if (r.Kind is not (ReferenceKind.Map or ReferenceKind.MapValue) || maps.FindIndex(m => m.Name == r.Name) < 0)
            {
                error = r.Kind == ReferenceKind.ExternVariable
                    ? Unsupported(r.InstructionIndex, $"extern '{r.Name}' ({obj.Extern(r.Name)?.Kind.ToString() ?? r.Kind.ToString()}) cannot be resolved: {obj.Extern(r.Name)?.Problem ?? "not an extern the object declares"}")
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
            KernelBtf = kernelBtf ?? kernelSymbols?.Btf,
            KernelSymbolAddress = kernelSymbols is null ? null : kernelSymbols.AddressOf,
            SourceLocator = i => program.LineInfoAt(i) is { } li ? new SourceLocation(li.FileName, li.Line, li.Column, li.LineText) : null,
        };
        return true;
    }

    private static VerifierError Unsupported(int insn, string message) =>
        new(VerifierErrorCode.NotSupported, insn, message, null, null, [], null);

    /// <summary>The license strings the kernel treats as GPL-compatible.</summary>
    private static bool IsGpl(string license) => license is "GPL" or "GPL v2" or "GPL and additional rights" or "Dual BSD/GPL" or "Dual MIT/GPL" or "Dual MPL/GPL";
}
