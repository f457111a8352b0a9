namespace Bpf.Verifier.Internal;

/// <summary>The kinds of value a register can hold.</summary>
internal enum RegType : byte
{
    NotInit,
    Scalar,
    Ctx,
    Stack,
    MapValue,
    MapValueOrNull,
    MapPtr,
    /// <summary>The result of a lookup in a map of maps: the inner map (Map names its template) or null.</summary>
    MapPtrOrNull,
    Packet,
    PacketMeta,
    PacketEnd,
    Mem,
    MemOrNull,
    SockCommonOrNull,
    /// <summary>A map key handed to a callback (bpf_for_each_map_elem): read-only, Map names the map.</summary>
    MapKey,
    /// <summary>A function pointer (lddw with BPF_PSEUDO_FUNC): a callback; Off holds its first instruction.</summary>
    Func,
    /// <summary>A pointer to a kernel object typed by the kernel's BTF (the kernel's PTR_TO_BTF_ID): a BTF-typed
    /// context argument of a tracing or LSM program, or a pointer field read through a map pointer or another such
    /// pointer; Range holds the pointee struct's BTF type id, Map its <see cref="BtfTrust"/>. Reads through it walk
    /// the struct as the kernel's btf_struct_walk does.</summary>
    BtfPointer,
    /// <summary>A <see cref="BtfPointer"/> that may be null (the kernel's PTR_MAYBE_NULL: an iterator's object, a
    /// __nullable argument, a pointer read through a trusted one): it must be null-checked before use.</summary>
    BtfPointerOrNull,
    /// <summary>Read-only memory of Range bytes (the kernel's PTR_TO_MEM | MEM_RDONLY): a kernel function's address
    /// loaded by a BTF-id lddw (Range 0, <c>bpf_ksym_exists</c>), a typed non-struct kernel variable, or memory a
    /// kfunc returns. Never null.</summary>
    RdonlyMem,
    /// <summary>A <see cref="RdonlyMem"/> that may be null (bpf_per_cpu_ptr of a non-struct variable).</summary>
    RdonlyMemOrNull,
}

/// <summary>How far the verifier trusts a BTF pointer (the kernel's PTR_TRUSTED / PTR_UNTRUSTED flags), kept in
/// <see cref="RegState.Map"/> of a <see cref="RegType.BtfPointer"/>.</summary>
internal static class BtfTrust
{
    /// <summary>A plain PTR_TO_BTF_ID (fentry/fexit arguments, pointers read through them): readable, passable to helpers.</summary>
    public const int Legacy = 0;
    /// <summary>PTR_TRUSTED (iterator, LSM and tp_btf arguments): readable, passable to helpers.</summary>
    public const int Trusted = 1;
    /// <summary>PTR_UNTRUSTED (read through a trusted pointer): readable, not passable to helpers.</summary>
    public const int Untrusted = 2;
    /// <summary>MEM_PERCPU (a per-CPU kernel variable loaded by a BTF-id lddw): not readable directly, not passable to
    /// kfuncs or struct helpers.</summary>
    public const int Percpu = 3;
    /// <summary>MEM_RCU (a field the kernel's __safe_rcu tables name, read through a trusted pointer in an RCU
    /// critical section): readable, passable to helpers and to KF_RCU kfuncs, not trusted.</summary>
    public const int Rcu = 4;
}

/// <summary>The abstract value of one register (or one spilled stack slot).</summary>
internal struct RegState
{
    public RegType Type;
    /// <summary>For <see cref="RegType.Stack"/>: the frame whose stack it points into.</summary>
    public byte Frame;
    /// <summary>Constant offset of a pointer from its base. For a scalar with an <see cref="Id"/>: its constant
    /// delta from the other registers of that id (<c>r3 = r2; r3 += 1</c> links r3 to r2 with delta 1).</summary>
    public int Off;
    /// <summary>Scalars: copies share an id so a bound learned on one applies to all. Or-null pointers: the
    /// null-check id. Packet pointers: which base (range) they share.</summary>
    public int Id;
    /// <summary>Reference (acquired object) id, 0 when none.</summary>
    public int RefId;
    /// <summary>Packet: bytes proven readable from the pointer's base. Mem: the region size.</summary>
    public int Range;
    /// <summary>Map index into the options' map list, for map pointers and map values.</summary>
    public int Map;
    /// <summary>The scalar value, or for pointers the variable part of the offset.</summary>
    public Scalar V;

    public static RegState Unknown => new() { Type = RegType.Scalar, V = Scalar.Unknown };

    public static RegState Known(ulong v) => new() { Type = RegType.Scalar, V = Scalar.Const(v) };

    public static RegState OfScalar(in Scalar s) => new() { Type = RegType.Scalar, V = s };

    public static RegState Pointer(RegType type, int off = 0) => new() { Type = type, Off = off, V = Scalar.Const(0) };

    public readonly bool IsPointer => Type is not (RegType.NotInit or RegType.Scalar);

    public readonly bool IsScalar => Type == RegType.Scalar;

    public readonly bool IsNullable => Type is RegType.MapValueOrNull or RegType.MapPtrOrNull or RegType.MemOrNull or RegType.SockCommonOrNull or RegType.BtfPointerOrNull or RegType.RdonlyMemOrNull;

    public readonly bool IsPacketLike => Type is RegType.Packet or RegType.PacketMeta;

    public readonly string Format(IReadOnlyList<MapDefinition> maps)
    {
        var map = Map;
        var v = V;
        string MapDesc() => map >= 0 && map < maps.Count ? $"ks={maps[map].KeySize},vs={maps[map].ValueSize}" : "";
        string Var() => v.IsConst ? (v.ConstValue == 0 ? "" : $",var={(long)v.ConstValue}") : $",{v.Format()}";
        return Type switch
        {
            RegType.NotInit => "!read_ok",
            RegType.Scalar => V.IsConst ? ((long)V.ConstValue).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"scalar({V.Format()})",
            RegType.Ctx => Off == 0 && V.IsZero ? "ctx()" : $"ctx(off={Off}{Var()})",
            RegType.Stack => V.IsZero ? $"fp{Off}" : $"fp(off={Off}{Var()})",
            RegType.MapValue => $"map_value({MapDesc()}{(Off != 0 ? $",off={Off}" : "")}{Var()})",
            RegType.MapValueOrNull => $"map_value_or_null(id={Id},{MapDesc()})",
            RegType.MapPtr => $"map_ptr({MapDesc()})",
            RegType.MapPtrOrNull => $"map_value_or_null(id={Id},map_ptr({MapDesc()}))",
            RegType.Packet => $"pkt(off={Off},r={Range}{Var()})",
            RegType.PacketMeta => $"pkt_meta(off={Off},r={Range}{Var()})",
            RegType.PacketEnd => "pkt_end()",
            RegType.Mem => $"mem(sz={Range}{(Off != 0 ? $",off={Off}" : "")}{Var()})",
            RegType.MemOrNull => $"mem_or_null(id={Id},sz={Range})",
            RegType.RdonlyMem => $"rdonly_mem(sz={Range}{(Off != 0 ? $",off={Off}" : "")}{Var()})",
            RegType.RdonlyMemOrNull => $"rdonly_mem_or_null(id={Id},sz={Range})",
            RegType.SockCommonOrNull => "sock_common_or_null()",
            _ => Type.ToString(),
        };
    }

    /// <summary>The kernel's name of the type in messages ("invalid mem access 'scalar'").</summary>
    public readonly string TypeName => Type switch
    {
        RegType.NotInit => "?",
        RegType.Scalar => "scalar",
        RegType.Ctx => "ctx",
        RegType.Stack => "fp",
        RegType.MapValue => "map_value",
        RegType.MapValueOrNull => "map_value_or_null",
        RegType.MapPtr => "map_ptr",
        // The kernel types the lookup result as map_value_or_null until the null check makes it the inner map_ptr.
        RegType.MapPtrOrNull => "map_value_or_null",
        RegType.Packet => "pkt",
        RegType.PacketMeta => "pkt_meta",
        RegType.PacketEnd => "pkt_end",
        // A referenced region is a ringbuf record (the only helper memory with a reference).
        RegType.Mem => RefId != 0 ? "ringbuf_mem" : "mem",
        RegType.MemOrNull => RefId != 0 ? "ringbuf_mem_or_null" : "mem_or_null",
        RegType.RdonlyMem => "rdonly_mem",
        RegType.RdonlyMemOrNull => "rdonly_mem_or_null",
        RegType.SockCommonOrNull => "sock_common_or_null",
        RegType.Func => "func",
        RegType.MapKey => "map_key",
        RegType.BtfPointer => Map switch { BtfTrust.Trusted => "trusted_ptr_", BtfTrust.Untrusted => "untrusted_ptr_", BtfTrust.Percpu => "percpu_ptr_", BtfTrust.Rcu => "rcu_ptr_", _ => "ptr_" },
        RegType.BtfPointerOrNull => Map switch { BtfTrust.Trusted => "trusted_ptr_or_null_", BtfTrust.Rcu => "rcu_ptr_or_null_", _ => "ptr_or_null_" },
        // Every type is named above (RegisterNameTests checks each against the kernel's composition).
        _ => throw new System.Diagnostics.UnreachableException(),
    };
}

/// <summary>What one stack byte holds.</summary>
internal enum SlotType : byte
{
    Invalid,
    Misc,
    Zero,
    Spill,
}

/// <summary>
/// One call frame: registers and a 512-byte stack. Frames below the current one are shared between the states
/// cloned from one another (copy on write): a state writes to such a frame only through
/// <see cref="VState.Writable"/>, which copies it first when <see cref="Shared"/>.
/// </summary>
internal sealed class Frame
{
    public const int StackSize = 512;
    public const int Slots = StackSize / 8;

    public readonly RegState[] Regs = new RegState[11];
    /// <summary>The byte types, shared with the frames cloned from this one until either writes
    /// (<see cref="WritableBytes"/> copies first): most paths never touch most of the stack.</summary>
    private SlotType[] _bytes;
    private bool _bytesShared;
    /// <summary>Spilled registers per 8-byte slot (index 0 is fp-512), allocated on first spill.</summary>
    public RegState[]? Spills;
    public int CallSite = -1;
    public int Subprog;
    /// <summary>Set once a second state holds this frame; never cleared (a writer copies it instead).</summary>
    public bool Shared;

    public Frame() => _bytes = new SlotType[StackSize];

    private Frame(SlotType[] bytes) => _bytes = bytes;

    /// <summary>Byte types; index 0 is fp-512, index 511 is fp-1. Read-only: writes go through <see cref="WritableBytes"/>.</summary>
    public ReadOnlySpan<SlotType> Bytes => _bytes;

    /// <summary>The byte types to write, copied first when another frame shares them.</summary>
    public Span<SlotType> WritableBytes
    {
        get
        {
            if (_bytesShared)
            {
                _bytes = (SlotType[])_bytes.Clone();
                _bytesShared = false;
            }
            return _bytes;
        }
    }

    public Frame Clone()
    {
        _bytesShared = true;
        var f = new Frame(_bytes) { CallSite = CallSite, Subprog = Subprog, _bytesShared = true };
        Regs.AsSpan().CopyTo(f.Regs);
        if (Spills is not null) f.Spills = (RegState[])Spills.Clone();
        return f;
    }

    public ref RegState Spill(int slot)
    {
        Spills ??= new RegState[Slots];
        return ref Spills[slot];
    }
}

/// <summary>A branch decision on the current path (a persistent list shared between forks).</summary>
internal sealed record PathNode(int From, int To, PathNode? Prev, int Length);

/// <summary>The whole abstract machine state on one path.</summary>
internal sealed class VState
{
    public Frame[] Frames = new Frame[8];
    public int CurFrame;
    public int Insn;
    /// <summary>Acquired references not yet released: (id, acquiring instruction).</summary>
    public List<(int Id, int Insn)>? Refs;
    public PathNode? Path;
    public Checkpoint? Parent;
    /// <summary>A path the CPU may only reach by misprediction (explored when Spectre v1 checks apply).</summary>
    public bool Speculative;
    /// <summary>How many may_goto fall-throughs this path has taken (the kernel's may_goto_depth).</summary>
    public int MayGotoDepth;
    /// <summary>How many callback visits this path has scheduled (the kernel's callback_unroll_depth).</summary>
    public int CallbackDepth;
    /// <summary>The map whose value's bpf_spin_lock this path holds, or -1 (the kernel's active_lock_ptr).</summary>
    public int LockMap = -1;
    /// <summary>The id of the map value pointer the lock was taken through (the kernel's active_lock_id).</summary>
    public int LockId;

    /// <summary>Whether this path is inside a bpf_rcu_read_lock section (the kernel's active_rcu_lock).</summary>
    public bool RcuLock;

    /// <summary>Whether this path holds a bpf_spin_lock.</summary>
    public bool HoldsLock => LockMap >= 0;

    /// <summary>The current frame, never shared: writes may go to it directly.</summary>
    public Frame Cur => Frames[CurFrame];

    /// <summary>Frame <paramref name="i"/>, copied first if another state holds it too.</summary>
    public Frame Writable(int i)
    {
        var f = Frames[i];
        if (!f.Shared) return f;
        f = f.Clone();
        Frames[i] = f;
        return f;
    }

    /// <summary>A copy that owns its current frame and shares the callers' frames until either side writes.</summary>
    public VState Clone()
    {
        var s = new VState { CurFrame = CurFrame, Insn = Insn, Path = Path, Parent = Parent, Speculative = Speculative, MayGotoDepth = MayGotoDepth, CallbackDepth = CallbackDepth, LockMap = LockMap, LockId = LockId, RcuLock = RcuLock };
        for (var i = 0; i < CurFrame; i++)
        {
            Frames[i].Shared = true;
            s.Frames[i] = Frames[i];
        }
        s.Frames[CurFrame] = Frames[CurFrame].Clone();
        if (Refs is { Count: > 0 }) s.Refs = new List<(int, int)>(Refs);
        return s;
    }
}

/// <summary>A state stored at a prune point, with the count of paths still being explored below it.</summary>
internal sealed class Checkpoint(VState state, Checkpoint? parent)
{
    /// <summary>The stored state; null once the checkpoint left its prune point's list (<see cref="Forget"/>).</summary>
    public VState State { get; private set; } = state;
    public readonly Checkpoint? Parent = parent;
    public int Branches = 1;
    public int Hits;
    public int Misses;

    /// <summary>Drops the stored state when it leaves its prune point's list: states below it still count their
    /// branches through <see cref="Parent"/>, but nothing compares against it again, so it need not stay alive
    /// (a long loop would otherwise keep every iteration's state reachable until the path ends).</summary>
    public void Forget() => State = null!;
}

internal static class RegStateExtensions
{
    public static bool IsZero(this in RegState r) => r.Type == RegType.Scalar && r.V.IsZero;
}
