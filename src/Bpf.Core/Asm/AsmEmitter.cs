namespace Bpf.Asm;

/// <summary>Which field of a slot a label reference patches.</summary>
internal enum FixupField : byte
{
    /// <summary>The 16-bit offset (conditional jumps, ja).</summary>
    Offset,
    /// <summary>The 32-bit immediate (ja32/gotol, local calls, lddw of a function address).</summary>
    Imm,
}

/// <summary>
/// Collects slots, label definitions and label references while lines are parsed, then resolves every
/// reference to a slot-relative offset (target - (slot + 1)), as jumps and local calls count slots.
/// </summary>
internal sealed class AsmEmitter
{
    private readonly List<Instruction> _slots = new();
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _implicitLabels = new(StringComparer.Ordinal);
    private readonly List<(int Slot, FixupField Field, Token Label, int Line)> _fixups = new();

    public AsmEmitter(string? sourceName) => SourceName = sourceName;

    public string? SourceName { get; }

    public int Count => _slots.Count;

    public void Emit(Instruction insn) => _slots.Add(insn);

    public void DefineLabel(Token name, int line)
    {
        if (!_labels.TryAdd(name.Text, _slots.Count))
        {
            throw new AsmException($"label '{name.Text}' is defined twice", line, name.Column, SourceName);
        }
    }

    /// <summary>
    /// Defines a label that an explicit definition of the same name overrides, and only the first time (the
    /// conformance dialect lets <c>exit</c> name the first exit instruction).
    /// </summary>
    public void DefineImplicitLabel(string name) => _implicitLabels.TryAdd(name, _slots.Count);

    /// <summary>Records that the field of the slot about to be emitted (or of <paramref name="slot"/>) refers to a label.</summary>
    public void Reference(int slot, FixupField field, Token label, int line) => _fixups.Add((slot, field, label, line));

    public Instruction[] Finish()
    {
        foreach (var (slot, field, label, line) in _fixups)
        {
            if (!_labels.TryGetValue(label.Text, out var target) && !_implicitLabels.TryGetValue(label.Text, out target))
            {
                throw new AsmException($"undefined label '{label.Text}'", line, label.Column, SourceName);
            }
            var relative = (long)target - (slot + 1);
            var insn = _slots[slot];
            if (field == FixupField.Offset)
            {
                if (relative is < short.MinValue or > short.MaxValue)
                {
                    throw new AsmException($"label '{label.Text}' is {relative} slots away; a 16-bit jump offset reaches -32768..32767 (use ja32/gotol)",
                        line, label.Column, SourceName);
                }
                _slots[slot] = insn.WithOffset((short)relative);
            }
            else
            {
                _slots[slot] = insn.WithImm((int)relative);
            }
        }
        return _slots.ToArray();
    }
}
