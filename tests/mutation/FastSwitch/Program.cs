// Makes a Stryker-mutated assembly fast to run with one mutant per test process (docs/testing.md, "Measuring a folder").
//
// Stryker 5.1.0 compiles all of a project's mutants into one assembly and (a) marks it DebuggableAttribute(
// DisableOptimizations), so the JIT compiles every method of it with minimal optimization, and (b) calls
// MutantControl.IsActive(id) at every mutation point, a method too large to inline that checks for coverage capture
// and a memory-mapped control file each time. Measured on the verifier (perf, no mutant active): IsActive alone took
// 57-64% of the time and the whole assembly ran unoptimized; the corpus-outcome test took 46 s against 2 s unmutated.
//
// This rewrites the assembly: the DebuggableAttribute goes, and IsActive becomes `id == BpfNetMutantSwitch.Active`,
// a static readonly field read once from BPFNET_ACTIVE_MUTANT (-1 when unset), which the tiered JIT treats as a
// constant, so every mutation point that is not active folds away. One mutant per process, as run-sample.py runs them.
//
// usage: dotnet run --project tests/mutation/FastSwitch -c Release -- MUTATED.dll OUT.dll DIR-WITH-ITS-DEPENDENCIES
using Mono.Cecil;
using Mono.Cecil.Cil;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: FastSwitch MUTATED.dll OUT.dll DIR-WITH-ITS-DEPENDENCIES");
    return 64;
}
var resolver = new DefaultAssemblyResolver();
resolver.AddSearchDirectory(args[2]);
resolver.AddSearchDirectory(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
using var asm = AssemblyDefinition.ReadAssembly(args[0], new ReaderParameters { ReadSymbols = false, AssemblyResolver = resolver });
var module = asm.MainModule;
var control = module.Types.SingleOrDefault(t => t.Name == "MutantControl");
if (control is null)
{
    Console.Error.WriteLine($"{args[0]}: no MutantControl type: not an assembly Stryker mutated");
    return 65;
}
foreach (var a in asm.CustomAttributes.Where(a => a.AttributeType.Name == "DebuggableAttribute").ToList())
{
    Console.WriteLine($"removed DebuggableAttribute({string.Join(",", a.ConstructorArguments.Select(x => x.Value))})");
    asm.CustomAttributes.Remove(a);
}

var holder = new TypeDefinition("", "BpfNetMutantSwitch",
    TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class, module.TypeSystem.Object);
var active = new FieldDefinition("Active", FieldAttributes.Public | FieldAttributes.Static | FieldAttributes.InitOnly, module.TypeSystem.Int32);
holder.Fields.Add(active);
var cctor = new MethodDefinition(".cctor",
    MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName | MethodAttributes.HideBySig,
    module.TypeSystem.Void);
var il = cctor.Body.GetILProcessor();
var parse = il.Create(OpCodes.Call, module.ImportReference(typeof(int).GetMethod(nameof(int.Parse), [typeof(string)])));
il.Emit(OpCodes.Ldstr, "BPFNET_ACTIVE_MUTANT");
il.Emit(OpCodes.Call, module.ImportReference(typeof(Environment).GetMethod(nameof(Environment.GetEnvironmentVariable), [typeof(string)])));
il.Emit(OpCodes.Dup);
il.Emit(OpCodes.Brtrue, parse);
il.Emit(OpCodes.Pop);
il.Emit(OpCodes.Ldc_I4_M1);
il.Emit(OpCodes.Stsfld, active);
il.Emit(OpCodes.Ret);
il.Append(parse);
il.Emit(OpCodes.Stsfld, active);
il.Emit(OpCodes.Ret);
holder.Methods.Add(cctor);
module.Types.Add(holder);

var isActive = control.Methods.Single(m => m.Name == "IsActive");
isActive.Body.Instructions.Clear();
isActive.Body.ExceptionHandlers.Clear();
isActive.Body.Variables.Clear();
var body = isActive.Body.GetILProcessor();
body.Emit(OpCodes.Ldarg_0);
body.Emit(OpCodes.Ldsfld, active);
body.Emit(OpCodes.Ceq);
body.Emit(OpCodes.Ret);
isActive.AggressiveInlining = true;

asm.Write(args[1]);
Console.WriteLine($"written {args[1]}: IsActive(id) is now id == BPFNET_ACTIVE_MUTANT");
return 0;
