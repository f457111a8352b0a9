using System.Text;
using Bpf.Asm;

namespace Bpf.Cli.Commands;

/// <summary>
/// <c>bpfnet cfg OBJECT --program NAME | FILE [--json]</c>: the control-flow graph of one program as Graphviz dot —
/// basic blocks with their instructions, jump and fall-through edges, dashed edges to bpf-to-bpf callees, back
/// edges (found by a depth-first search from each function entry) in red and their targets, the loop headers, drawn
/// with a double border. With <c>--json</c>, the same graph as data.
/// </summary>
internal static class CfgCommand
{
    private sealed record Block(int Id, int Start, int End, bool IsFunctionEntry)
    {
        public bool IsLoopHeader { get; set; }
    }

    private sealed record Edge(int From, int To, string Kind)
    {
        public bool IsBack { get; set; }
    }

    public static int Run(CliArgs a, CliContext cli)
    {
        var path = a.Single("OBJECT|FILE");
        var (name, slots) = Load(path, a.Get("--program"), a.Get("--dialect"));
        var (blocks, edges) = Build(slots);
        if (a.Has("--json")) WriteJson(cli, path, name, slots, blocks, edges);
        else WriteDot(cli, name, slots, blocks, edges);
        return ExitCodes.Ok;
    }

    private static (string Name, Instruction[] Slots) Load(string path, string? programName, string? dialect)
    {
        byte[] head = new byte[4];
        try
        {
            using var file = File.OpenRead(path);
            file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"{path}: cannot read: {e.Message}");
        }
        if (!head.AsSpan().SequenceEqual("\u007fELF"u8))
        {
            if (programName is not null) throw new CliUsageException("--program applies to ELF objects");
            var input = ProgramInput.Load(path, ProgramInput.ParseDialect(dialect));
            return (Path.GetFileName(path), input.Slots);
        }
        ObjectSpec spec;
        try
        {
            spec = ObjectSpec.ReadFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Bpf.BpfObjectException)
        {
            throw new CliUsageException($"{path}: {e.Message}");
        }
        var programs = string.Join(", ", spec.Programs.Select(p => p.Name));
        var program = programName is null
            ? spec.Programs.Count == 1 ? spec.Programs[0] : throw new CliUsageException($"{path}: give --program NAME (programs: {programs})")
            : spec.Program(programName) ?? throw new CliUsageException($"{path}: no program '{programName}' (programs: {programs})");
        return (program.Name, program.Instructions.ToArray());
    }

    /// <summary>Slot indices an instruction passes control to: (target, kind) for jumps and calls, fall-through last.</summary>
    private static IEnumerable<(int Target, string Kind)> Successors(Instruction[] slots, int i)
    {
        var insn = slots[i];
        var next = i + (insn.IsWide ? 2 : 1);
        if (insn.Class is not (OpClass.Jmp or OpClass.Jmp32))
        {
            // A function's address (a callback for bpf_loop, bpf_for_each_map_elem, ...): its code is a function entry.
            if (insn.IsWide && insn.SrcRaw == (byte)PseudoSource.Func) yield return (i + 1 + insn.Imm, "callback");
            yield return (next, "next");
            yield break;
        }
        switch (insn.JumpOp)
        {
            case JumpOp.Exit:
                yield break;
            case JumpOp.Call:
                if (insn.SrcRaw == (byte)CallKind.Local) yield return (i + 1 + insn.Imm, "call");
                yield return (next, "next");
                yield break;
            case JumpOp.Ja:
                yield return (i + 1 + (insn.Class == OpClass.Jmp32 ? insn.Imm : insn.Offset), "jump");
                yield break;
            default:
                yield return (i + 1 + insn.Offset, "jump");
                yield return (next, "next");
                yield break;
        }
    }

    private static (List<Block> Blocks, List<Edge> Edges) Build(Instruction[] slots)
    {
        var n = slots.Length;
        var starts = new List<int>(); // instruction starts (the second slot of an lddw is not one)
        for (var i = 0; i < n; i += slots[i].IsWide ? 2 : 1) starts.Add(i);
        var isStart = new bool[n + 1];
        foreach (var s in starts) isStart[s] = true;

        var leaders = new SortedSet<int> { 0 };
        var entries = new HashSet<int> { 0 };
        foreach (var i in starts)
        {
            var successors = Successors(slots, i).ToList();
            var endsBlock = slots[i].Class is OpClass.Jmp or OpClass.Jmp32 && slots[i].JumpOp != JumpOp.Call;
            foreach (var (target, kind) in successors)
            {
                if (target < 0 || target >= n || !isStart[target]) continue; // out of range: no edge (the verifier rejects it)
                if (kind is "call" or "callback") entries.Add(target);
                if (kind != "next" || endsBlock) leaders.Add(target);
            }
            if (endsBlock && i + 1 < n) leaders.Add(i + 1); // jumps and exits are never lddw: the next slot starts an instruction
        }
        if (n == 0) return ([], []);

        var blocks = new List<Block>();
        var blockOf = new int[n];
        var ordered = leaders.Where(l => l < n).ToList();
        for (var k = 0; k < ordered.Count; k++)
        {
            var end = (k + 1 < ordered.Count ? ordered[k + 1] : n) - 1;
            blocks.Add(new Block(k, ordered[k], end, entries.Contains(ordered[k])));
            for (var s = ordered[k]; s <= end; s++) blockOf[s] = k;
        }

        var edges = new List<Edge>();
        foreach (var b in blocks)
        {
            // Calls inside the block, then the last instruction's own successors.
            var last = starts.Last(s => s <= b.End && s >= b.Start);
            foreach (var i in starts.Where(s => s >= b.Start && s <= b.End))
            {
                foreach (var (target, kind) in Successors(slots, i))
                {
                    if (target < 0 || target >= n || !isStart[target]) continue;
                    if (kind is "call" or "callback" || i == last && kind is "jump" or "next") edges.Add(new Edge(b.Id, blockOf[target], kind));
                }
            }
        }

        // Back edges: an edge to a block still on the depth-first stack. Iterative, so deep graphs cannot overflow.
        var state = new byte[blocks.Count]; // 0 new, 1 on the stack, 2 done
        var flow = blocks.Select(b => edges.Where(e => e.From == b.Id && e.Kind is "jump" or "next").ToList()).ToArray();
        foreach (var entry in blocks.Where(b => b.IsFunctionEntry))
        {
            if (state[entry.Id] != 0) continue;
            var stack = new Stack<(int Block, int Next)>();
            stack.Push((entry.Id, 0));
            state[entry.Id] = 1;
            while (stack.Count > 0)
            {
                var (block, next) = stack.Pop();
                if (next < flow[block].Count)
                {
                    stack.Push((block, next + 1));
                    var edge = flow[block][next];
                    if (state[edge.To] == 1)
                    {
                        edge.IsBack = true;
                        blocks[edge.To].IsLoopHeader = true;
                    }
                    else if (state[edge.To] == 0)
                    {
                        state[edge.To] = 1;
                        stack.Push((edge.To, 0));
                    }
                }
                else
                {
                    state[block] = 2;
                }
            }
        }
        return (blocks, edges);
    }

    private static IEnumerable<string> Lines(Instruction[] slots, Block b)
    {
        for (var i = b.Start; i <= b.End; i += slots[i].IsWide ? 2 : 1) yield return $"{i}: {Disassembler.Format(slots, i, AsmDialect.Llvm)}";
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static void WriteDot(CliContext cli, string name, Instruction[] slots, List<Block> blocks, List<Edge> edges)
    {
        var o = new StringBuilder();
        o.Append("digraph ").Append(Quote(name)).AppendLine(" {");
        o.AppendLine("  node [shape=box, fontname=\"monospace\"];");
        foreach (var b in blocks)
        {
            var label = new StringBuilder();
            if (b.IsLoopHeader) label.Append("loop header\\l");
            foreach (var line in Lines(slots, b)) label.Append(line.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append("\\l");
            o.Append($"  b{b.Id} [label=\"{label}\"");
            if (b.IsLoopHeader) o.Append(", peripheries=2");
            if (b.IsFunctionEntry) o.Append(", style=bold");
            o.AppendLine("];");
        }
        foreach (var e in edges)
        {
            o.Append($"  b{e.From} -> b{e.To}");
            var attributes = new List<string>();
            if (e.IsBack) attributes.Add("color=red, label=\"back\"");
            else if (e.Kind == "jump") attributes.Add("label=\"jump\"");
            else if (e.Kind is "call" or "callback") attributes.Add($"style=dashed, label=\"{e.Kind}\"");
            if (attributes.Count > 0) o.Append(" [").Append(string.Join(", ", attributes)).Append(']');
            o.AppendLine(";");
        }
        o.AppendLine("}");
        cli.Out.Write(o.ToString());
    }

    private static void WriteJson(CliContext cli, string path, string name, Instruction[] slots, List<Block> blocks, List<Edge> edges) => JsonOutput.Write(cli.Out, w =>
    {
        w.WriteStartObject();
        w.WriteString("file", path);
        w.WriteString("program", name);
        w.WriteStartArray("blocks");
        foreach (var b in blocks)
        {
            w.WriteStartObject();
            w.WriteNumber("id", b.Id);
            w.WriteNumber("start", b.Start);
            w.WriteNumber("end", b.End);
            w.WriteBoolean("function_entry", b.IsFunctionEntry);
            w.WriteBoolean("loop_header", b.IsLoopHeader);
            w.WriteStartArray("instructions");
            foreach (var line in Lines(slots, b)) w.WriteStringValue(line);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("edges");
        foreach (var e in edges)
        {
            w.WriteStartObject();
            w.WriteNumber("from", e.From);
            w.WriteNumber("to", e.To);
            w.WriteString("kind", e.Kind);
            w.WriteBoolean("back", e.IsBack);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
