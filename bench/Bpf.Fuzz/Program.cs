using System.Globalization;
using Bpf.Verifier.Tests;

// bpf-fuzz [--seconds N] [--seed S] [--threads T] [--report SECONDS]
// Runs the pruning soundness fuzzer: programs are generated, verified, and every accepted one is run in the
// interpreter on boundary inputs. Prints programs per second as it goes; exits 1 if any accepted program faulted.
var seconds = 60.0;
var seed = Random.Shared.Next();
var threads = 1;
var report = 30.0;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--report": report = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: bpf-fuzz [--seconds N] [--seed S] [--threads T] [--report SECONDS]");
            return 2;
    }
}
Console.WriteLine($"pruning fuzzer: master seed {seed}, {threads} thread(s), {seconds} s, {PruningFuzz.RunsPerProgram} inputs per accepted program");
var results = new PruningFuzz.Stats[threads];
var gate = new object();
var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
{
    // Thread t runs indices t, t+T, t+2T, ...: the (seed, index) pair printed with a finding reproduces it.
    results[t] = PruningFuzz.Campaign(seed, TimeSpan.FromSeconds(seconds), t, threads, s =>
    {
        lock (gate) Console.WriteLine($"[thread {t}] {s}");
    }, TimeSpan.FromSeconds(report));
})).ToList();
workers.ForEach(w => w.Start());
workers.ForEach(w => w.Join());
long programs = results.Sum(r => r.Programs), accepted = results.Sum(r => r.Accepted), runs = results.Sum(r => r.Runs);
var faults = results.SelectMany(r => r.Faults).ToList();
var elapsed = results.Max(r => r.Elapsed.TotalSeconds);
Console.WriteLine($"total: seed {seed}, {programs} programs, {accepted} accepted, {runs} interpreter runs, {faults.Count} faults, " +
                  $"{elapsed:F0} s, {programs / elapsed:F0} programs/s");
foreach (var f in faults) Console.WriteLine("FAULT " + f);
return faults.Count == 0 ? 0 : 1;
