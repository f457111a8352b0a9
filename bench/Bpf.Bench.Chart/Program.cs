using System.Globalization;
using System.Text;
using ScottPlot;

// Draws the lookup-vs-linear-scan chart (issue 14) from the results of ScanVsLookupBenchmarks and writes the docs
// table. Run from the repository after the benchmark (docs/benchmarks.md gives both commands):
//
//   dotnet run -c Release --project bench/Bpf.Bench.Chart [-- RESULTS.csv]
//
// RESULTS.csv defaults to the newest BenchmarkDotNet.Artifacts/results/*-scan-vs-lookup.csv (written by the
// benchmark's exporter), else the committed docs/benchmark-scan-vs-lookup.csv (so the chart can be redrawn without
// measuring again). Writes docs/benchmark-scan-vs-lookup.{csv,png,svg} and replaces the table between the
// "scan-vs-lookup table" markers in docs/benchmarks.md.
var root = FindRoot();
var docs = Path.Combine(root, "docs");
var committed = Path.Combine(docs, "benchmark-scan-vs-lookup.csv");
var input = args.Length > 0 ? Path.GetFullPath(args[0]) : NewestResults(root) ?? committed;
if (!File.Exists(input))
{
    Console.Error.WriteLine($"no results at {input}: run the benchmark first (docs/benchmarks.md)");
    return 2;
}

List<Row> rows;
string[] comments;
try
{
    (rows, comments) = Results.Read(input);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"{input}: {e.Message}");
    return 2;
}
if (!string.Equals(input, committed, StringComparison.Ordinal)) File.Copy(input, committed, overwrite: true);

var series = Series.From(rows);
Chart.Draw(series, Path.Combine(docs, "benchmark-scan-vs-lookup"));
var table = Table.Markdown(series, comments);
var doc = Path.Combine(docs, "benchmarks.md");
const string Begin = "<!-- begin scan-vs-lookup table (written by bench/Bpf.Bench.Chart) -->";
const string End = "<!-- end scan-vs-lookup table -->";
var text = File.ReadAllText(doc);
var (b, e2) = (text.IndexOf(Begin, StringComparison.Ordinal), text.IndexOf(End, StringComparison.Ordinal));
if (b >= 0 && e2 > b)
{
    File.WriteAllText(doc, text[..(b + Begin.Length)] + "\n" + table + text[e2..]);
    Console.WriteLine($"updated the table in {doc}");
}
else
{
    Console.WriteLine($"no table markers in {doc}; the table:");
}
Console.WriteLine(table);
Console.WriteLine($"read {input}; wrote {Path.Combine(docs, "benchmark-scan-vs-lookup")}.png and .svg");
return 0;

static string FindRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "BpfNet.sln"))) return dir.FullName;
    }
    throw new DirectoryNotFoundException("run from inside the repository (no BpfNet.sln above " + Directory.GetCurrentDirectory() + ")");
}

static string? NewestResults(string root)
{
    var dir = Path.Combine(root, "BenchmarkDotNet.Artifacts", "results");
    return Directory.Exists(dir)
        ? Directory.EnumerateFiles(dir, "*-scan-vs-lookup.csv").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
        : null;
}

/// <summary>One row of the exporter's CSV.</summary>
internal sealed record Row(string Category, string Method, int Rules, double Ns, double? KernelReportedNs);

/// <summary>Reads the CSV ScanVsLookupExporter writes (the header names the columns; '#' lines are provenance).</summary>
internal static class Results
{
    public static (List<Row> Rows, string[] Comments) Read(string path)
    {
        var lines = File.ReadAllLines(path);
        var comments = lines.Where(l => l.StartsWith('#')).Select(l => "Run: " + l.TrimStart('#', ' ')).ToArray();
        var data = lines.Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (data.Count < 2) throw new FormatException("no header and rows");
        var header = data[0].Split(',');
        int Col(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new FormatException($"line 1: no column '{name}' in the header");
        // The median when the results have it (robust against a few iterations preempted on a shared machine), else the mean.
        var time = Array.IndexOf(header, "median_ns") is >= 0 and var m ? m : Col("mean_ns");
        var (category, method, rules, kernel) = (Col("category"), Col("method"), Col("rules"), Col("kernel_reported_ns"));
        var rows = new List<Row>();
        for (var n = 1; n < data.Count; n++)
        {
            var f = data[n].Split(',');
            if (f.Length != header.Length) throw new FormatException($"row {n}: {f.Length} fields, the header has {header.Length}");
            rows.Add(new Row(f[category], f[method], Int(f[rules], n), Num(f[time], n),
                f[kernel].Length == 0 ? null : Num(f[kernel], n)));
        }
        var which = header[time] == "median_ns" ? "the median" : "the mean";
        return (rows, [.. comments, $"Times are per packet, {which} of BenchmarkDotNet's iterations (the kernel-reported rows: the kernel's own mean)."]);
    }

    private static int Int(string s, int row) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"row {row}: '{s}' is not an integer");

    private static double Num(string s, int row) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"row {row}: '{s}' is not a number");
}

/// <summary>One line of the chart: an engine and a method, ns per packet by N.</summary>
internal sealed record Line(string Engine, string Method, SortedDictionary<int, double> Points);

internal static class Series
{
    public const string Interpreter = "BpfNet interpreter", Kernel = "Kernel, test-run syscall", KernelJit = "Kernel, reported run time", CSharp = "Plain C#";
    public const string Scan = "scan", Hash = "hash lookup", Lpm = "LPM lookup";

    public static List<Line> From(List<Row> rows)
    {
        var lines = new Dictionary<(string, string), Line>();
        void Add(string engine, string method, int rules, double ns)
        {
            if (!lines.TryGetValue((engine, method), out var l)) lines[(engine, method)] = l = new Line(engine, method, new SortedDictionary<int, double>());
            l.Points[rules] = ns;
        }
        foreach (var r in rows)
        {
            var (engine, method) = r.Method switch
            {
                "InterpreterScan" => (Interpreter, Scan),
                "InterpreterHash" => (Interpreter, Hash),
                "InterpreterLpm" => (Interpreter, Lpm),
                "KernelScan" => (Kernel, Scan),
                "KernelHash" => (Kernel, Hash),
                "KernelLpm" => (Kernel, Lpm),
                "ListScan" => (CSharp, Scan),
                "DictionaryLookup" => (CSharp, Hash),
                _ => throw new FormatException($"unknown method '{r.Method}'"),
            };
            Add(engine, method, r.Rules, r.Ns);
            if (r.KernelReportedNs is { } k) Add(KernelJit, method, r.Rules, k);
        }
        string[] engines = [Interpreter, Kernel, KernelJit, CSharp];
        string[] methods = [Scan, Hash, Lpm];
        return lines.Values.OrderBy(l => Array.IndexOf(engines, l.Engine)).ThenBy(l => Array.IndexOf(methods, l.Method)).ToList();
    }
}

/// <summary>The log-log chart: x = rules, y = ns per packet; colour by engine, marker by method.</summary>
internal static class Chart
{
    public static void Draw(List<Line> lines, string pathWithoutExtension)
    {
        var plot = new Plot();
        foreach (var line in lines)
        {
            var lx = line.Points.Keys.Select(n => Math.Log10(n)).ToArray();
            var ly = line.Points.Values.Select(v => Math.Log10(Math.Max(v, 0.01))).ToArray();
            var s = plot.Add.Scatter(lx, ly);
            s.LegendText = $"{line.Engine}: {(line.Engine == Series.CSharp ? line.Method == Series.Scan ? "List scan" : "Dictionary lookup" : line.Method)}";
            // Colour by engine, marker by method; solid lines only (Skia's SVG backend drops dash patterns).
            s.Color = line.Engine switch
            {
                Series.Interpreter => Colors.RoyalBlue,
                Series.Kernel => Colors.DarkOrange,
                Series.KernelJit => Colors.Crimson,
                _ => Colors.ForestGreen,
            };
            s.LineWidth = line.Method == Series.Scan ? 2.5f : 1.5f;
            s.MarkerSize = 8;
            s.MarkerShape = line.Method switch
            {
                Series.Scan => MarkerShape.FilledCircle,
                Series.Hash => MarkerShape.FilledSquare,
                _ => MarkerShape.OpenTriangleUp,
            };
        }
        var ys = lines.SelectMany(l => l.Points.Values).ToArray();
        var xs = lines.SelectMany(l => l.Points.Keys).ToArray();
        plot.Axes.Bottom.TickGenerator = DecadeTicks((int)Math.Floor(Math.Log10(xs.Min())), (int)Math.Ceiling(Math.Log10(xs.Max())), Count);
        plot.Axes.Left.TickGenerator = DecadeTicks((int)Math.Floor(Math.Log10(Math.Max(ys.Min(), 0.01))), (int)Math.Ceiling(Math.Log10(ys.Max())), Nanoseconds);
        plot.Axes.SetLimitsX(Math.Log10(xs.Min()) - 0.15, Math.Log10(xs.Max()) + 0.15);
        plot.Axes.SetLimitsY(Math.Floor(Math.Log10(Math.Max(ys.Min(), 0.01))), Math.Ceiling(Math.Log10(ys.Max())));
        plot.Title("Per-packet verdict from N rules: linear scan vs one map lookup (log-log)");
        plot.XLabel("rules (N)");
        plot.YLabel("time per packet");
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.15);
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = 11;
        plot.SavePng(pathWithoutExtension + ".png", 1300, 750);
        plot.SaveSvg(pathWithoutExtension + ".svg", 1300, 750);
    }

    private static ScottPlot.TickGenerators.NumericManual DecadeTicks(int from, int to, Func<double, string> label)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var k = from; k <= to; k++)
        {
            ticks.AddMajor(k, label(Math.Pow(10, k)));
            if (k == to) break;
            for (var m = 2; m <= 9; m++) ticks.AddMinor(k + Math.Log10(m));
        }
        return ticks;
    }

    private static string Count(double n) => n >= 1000 ? (n / 1000).ToString("#,0", CultureInfo.InvariantCulture) + "k" : n.ToString("0", CultureInfo.InvariantCulture);

    public static string Nanoseconds(double ns) => ns switch
    {
        >= 1e9 => (ns / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + " s",
        >= 1e6 => (ns / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " ms",
        >= 1e3 => (ns / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + " µs",
        _ => ns.ToString("0.##", CultureInfo.InvariantCulture) + " ns",
    };
}

/// <summary>The docs table: one row per engine and N, ns per packet, scan/lookup ratios.</summary>
internal static class Table
{
    public static string Markdown(List<Line> lines, string[] comments)
    {
        var sb = new StringBuilder();
        foreach (var c in comments) sb.Append(c).Append("\n\n");
        sb.Append("| Engine | N rules | Scan | Hash lookup | LPM lookup | Scan / hash | Scan / LPM |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var engine in lines.Select(l => l.Engine).Distinct())
        {
            var scan = lines.FirstOrDefault(l => l.Engine == engine && l.Method == Series.Scan);
            var hash = lines.FirstOrDefault(l => l.Engine == engine && l.Method == Series.Hash);
            var lpm = lines.FirstOrDefault(l => l.Engine == engine && l.Method == Series.Lpm);
            var ns = lines.Where(l => l.Engine == engine).SelectMany(l => l.Points.Keys).Distinct().Order();
            foreach (var n in ns)
            {
                double? S(Line? l) => l is not null && l.Points.TryGetValue(n, out var v) ? v : null;
                var (s, h, p) = (S(scan), S(hash), S(lpm));
                sb.Append(CultureInfo.InvariantCulture, $"| {engine} | {n:#,0} | {Ns(s)} | {Ns(h)} | {Ns(p)} | {Ratio(s, h)} | {Ratio(s, p)} |\n");
            }
        }
        sb.Append("\nGrowth from N = 1 to the largest N (time at the largest N / time at N = 1):\n\n");
        sb.Append("| Engine | Scan | Hash lookup | LPM lookup | Scan cost per added rule |\n|---|---:|---:|---:|---:|\n");
        foreach (var engine in lines.Select(l => l.Engine).Distinct())
        {
            string G(string method) => lines.FirstOrDefault(l => l.Engine == engine && l.Method == method) is { } l && l.Points.Count > 1
                ? Factor(l.Points.Last().Value / l.Points.First().Value) + "×" : "–";
            var scan = lines.FirstOrDefault(l => l.Engine == engine && l.Method == Series.Scan);
            var slope = scan is { Points.Count: > 1 }
                ? Chart.Nanoseconds((scan.Points.Last().Value - scan.Points.First().Value) / (scan.Points.Last().Key - scan.Points.First().Key)) : "–";
            sb.Append(CultureInfo.InvariantCulture, $"| {engine} | {G(Series.Scan)} | {G(Series.Hash)} | {G(Series.Lpm)} | {slope} |\n");
        }
        return sb.ToString();
    }

    private static string Ns(double? v) => v is { } x ? Chart.Nanoseconds(x) : "–";

    private static string Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? Factor(x / y) : "–";

    private static string Factor(double r) => r.ToString(r >= 100 ? "#,0" : "0.00", CultureInfo.InvariantCulture);
}
