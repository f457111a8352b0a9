namespace Bpf;

/// <summary>The instruction class: the low three bits of the opcode (RFC 9669 §3.1).</summary>
public enum OpClass : byte
{
    /// <summary>Non-standard load operations (the wide immediate load, legacy packet loads).</summary>
    Ld = 0x00,
    /// <summary>Load into a register from memory.</summary>
    Ldx = 0x01,
    /// <summary>Store an immediate to memory.</summary>
    St = 0x02,
    /// <summary>Store a register to memory (and atomics).</summary>
    Stx = 0x03,
    /// <summary>32-bit arithmetic.</summary>
    Alu = 0x04,
    /// <summary>64-bit jumps, calls and exit.</summary>
    Jmp = 0x05,
    /// <summary>32-bit jumps.</summary>
    Jmp32 = 0x06,
    /// <summary>64-bit arithmetic.</summary>
    Alu64 = 0x07,
}

/// <summary>The arithmetic operation code: the high four bits of an ALU or ALU64 opcode.</summary>
public enum AluOp : byte
{
    /// <summary>dst += src</summary>
    Add = 0x00,
    /// <summary>dst -= src</summary>
    Sub = 0x10,
    /// <summary>dst *= src</summary>
    Mul = 0x20,
    /// <summary>dst /= src (unsigned; signed with offset 1).</summary>
    Div = 0x30,
    /// <summary>dst |= src</summary>
    Or = 0x40,
    /// <summary>dst &amp;= src</summary>
    And = 0x50,
    /// <summary>dst &lt;&lt;= src</summary>
    Lsh = 0x60,
    /// <summary>dst &gt;&gt;= src (logical)</summary>
    Rsh = 0x70,
    /// <summary>dst = -dst</summary>
    Neg = 0x80,
    /// <summary>dst %= src (unsigned; signed with offset 1).</summary>
    Mod = 0x90,
    /// <summary>dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>dst = src (sign-extending with offset 8, 16 or 32).</summary>
    Mov = 0xb0,
    /// <summary>dst &gt;&gt;= src (arithmetic)</summary>
    Arsh = 0xc0,
    /// <summary>Byte swap / endianness conversion.</summary>
    End = 0xd0,
}

/// <summary>The jump operation code: the high four bits of a JMP or JMP32 opcode.</summary>
public enum JumpOp : byte
{
    /// <summary>Unconditional jump (JMP: 16-bit offset; JMP32: 32-bit offset in imm, "gotol").</summary>
    Ja = 0x00,
    /// <summary>Jump if equal.</summary>
    Jeq = 0x10,
    /// <summary>Jump if greater (unsigned).</summary>
    Jgt = 0x20,
    /// <summary>Jump if greater or equal (unsigned).</summary>
    Jge = 0x30,
    /// <summary>Jump if dst &amp; src is non-zero.</summary>
    Jset = 0x40,
    /// <summary>Jump if not equal.</summary>
    Jne = 0x50,
    /// <summary>Jump if greater (signed).</summary>
    Jsgt = 0x60,
    /// <summary>Jump if greater or equal (signed).</summary>
    Jsge = 0x70,
    /// <summary>Call a helper, a local function, or (callx) the helper whose id is in a register.</summary>
    Call = 0x80,
    /// <summary>Return from the current function.</summary>
    Exit = 0x90,
    /// <summary>Jump if less (unsigned).</summary>
    Jlt = 0xa0,
    /// <summary>Jump if less or equal (unsigned).</summary>
    Jle = 0xb0,
    /// <summary>Jump if less (signed).</summary>
    Jslt = 0xc0,
    /// <summary>Jump if less or equal (signed).</summary>
    Jsle = 0xd0,
    /// <summary>Conditional pseudo-jump (BPF_JCOND); with src 0 it is <c>may_goto</c>: taken once the kernel's
    /// per-invocation loop budget is spent.</summary>
    Cond = 0xe0,
}

/// <summary>Bit 3 of an arithmetic or jump opcode: which operand is the source.</summary>
public enum Source : byte
{
    /// <summary>The 32-bit immediate (for END: convert to little-endian).</summary>
    Imm = 0x00,
    /// <summary>The source register (for END: convert to big-endian).</summary>
    Reg = 0x08,
}

/// <summary>The access size of a load or store (bits 3-4 of the opcode).</summary>
public enum MemSize : byte
{
    /// <summary>4 bytes.</summary>
    W = 0x00,
    /// <summary>2 bytes.</summary>
    H = 0x08,
    /// <summary>1 byte.</summary>
    B = 0x10,
    /// <summary>8 bytes.</summary>
    DW = 0x18,
}

/// <summary>The addressing mode of a load or store (bits 5-7 of the opcode).</summary>
public enum MemMode : byte
{
    /// <summary>Immediate (only the 64-bit wide load, <c>lddw</c>).</summary>
    Imm = 0x00,
    /// <summary>Legacy packet access at an absolute offset.</summary>
    Abs = 0x20,
    /// <summary>Legacy packet access at a register-relative offset.</summary>
    Ind = 0x40,
    /// <summary>Regular memory access.</summary>
    Mem = 0x60,
    /// <summary>Sign-extending load.</summary>
    MemSx = 0x80,
    /// <summary>Atomic read-modify-write (STX only; the operation is in imm).</summary>
    Atomic = 0xc0,
}

/// <summary>The atomic operation encoded in the immediate of an atomic STX instruction.</summary>
public enum AtomicOp
{
    /// <summary>*(dst+off) += src</summary>
    Add = 0x00,
    /// <summary>*(dst+off) |= src</summary>
    Or = 0x40,
    /// <summary>*(dst+off) &amp;= src</summary>
    And = 0x50,
    /// <summary>*(dst+off) ^= src</summary>
    Xor = 0xa0,
    /// <summary>Fetch-and-add: src receives the old value.</summary>
    FetchAdd = 0x01,
    /// <summary>Fetch-and-or.</summary>
    FetchOr = 0x41,
    /// <summary>Fetch-and-and.</summary>
    FetchAnd = 0x51,
    /// <summary>Fetch-and-xor.</summary>
    FetchXor = 0xa1,
    /// <summary>Exchange: src receives the old value.</summary>
    Xchg = 0xe1,
    /// <summary>Compare r0 with memory and store src if equal; r0 receives the old value.</summary>
    CmpXchg = 0xf1,
    /// <summary>Load-acquire: dst = *(src+off) with acquire ordering (BPF_LOAD_ACQ; every access size).</summary>
    LoadAcquire = 0x100,
    /// <summary>Store-release: *(dst+off) = src with release ordering (BPF_STORE_REL; every access size).</summary>
    StoreRelease = 0x110,
}

/// <summary>The meaning of the source register field of a 64-bit wide immediate load (<c>lddw</c>).</summary>
public enum PseudoSource : byte
{
    /// <summary>A plain 64-bit constant.</summary>
    None = 0,
    /// <summary>imm is a map fd: dst = map pointer (BPF_PSEUDO_MAP_FD).</summary>
    MapFd = 1,
    /// <summary>imm is a map fd, next imm an offset: dst = address of the map value (BPF_PSEUDO_MAP_VALUE).</summary>
    MapValue = 2,
    /// <summary>imm is a BTF id of a kernel variable (BPF_PSEUDO_BTF_ID).</summary>
    BtfId = 3,
    /// <summary>imm is an instruction offset: dst = address of a function (BPF_PSEUDO_FUNC).</summary>
    Func = 4,
    /// <summary>imm is a map index: dst = map pointer (BPF_PSEUDO_MAP_IDX).</summary>
    MapIndex = 5,
    /// <summary>imm is a map index, next imm an offset: dst = address of the map value (BPF_PSEUDO_MAP_IDX_VALUE).</summary>
    MapIndexValue = 6,
}

/// <summary>The meaning of the source register field of a call instruction.</summary>
public enum CallKind : byte
{
    /// <summary>imm is a helper id.</summary>
    Helper = 0,
    /// <summary>imm is the relative offset of a local (bpf-to-bpf) function (BPF_PSEUDO_CALL).</summary>
    Local = 1,
    /// <summary>imm is a kernel function BTF id (BPF_PSEUDO_KFUNC_CALL).</summary>
    Kfunc = 2,
}
