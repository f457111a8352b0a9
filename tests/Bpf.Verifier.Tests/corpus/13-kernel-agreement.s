# Classes where an earlier version disagreed with the Linux 6.18 verifier (issue 9): the 6.18 instructions
# (may_goto, load-acquire, store-release), atomics, and the accept/refuse classes found by adversarial programs.

### may-goto-endless-counter
# expect: accept
r6 = 0
loop:
may_goto out
r6 += 1
goto loop
out:
r0 = 0
exit

### may-goto-indexed-map-walk
# Root: the loop unrolls (the index decides the bound check, so it is not widened). Without CAP_PERFMON each
# iteration needs a different Spectre mask for the same instruction.
# expect: accept
# expect-cap: reject PointerArithmetic
.map a array key=4 value=64 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = 0
loop:
may_goto out
if r6 >= 64 goto out
r1 = r0
r1 += r6
r2 = *(u8 *)(r1 + 0)
r6 += 1
goto loop
out:
r0 = 0
exit

### may-goto-index-unchecked
# expect: reject MapValueOutOfBounds
# expect-cap: reject PointerArithmetic
.map a array key=4 value=64 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = 0
loop:
may_goto out
if r6 > 64 goto out
r1 = r0
r1 += r6
r2 = *(u8 *)(r1 + 0)
r6 += 1
goto loop
out:
r0 = 0
exit

### may-goto-spilled-counter
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
loop:
may_goto out
r1 = *(u64 *)(r10 - 8)
r1 += 1
*(u64 *)(r10 - 8) = r1
goto loop
out:
r0 = 0
exit

### load-acquire-stack
# expect: accept
r1 = 7
*(u64 *)(r10 - 8) = r1
r0 = load_acquire((u64 *)(r10 - 8))
w2 = load_acquire((u32 *)(r10 - 8))
w3 = load_acquire((u16 *)(r10 - 8))
w4 = load_acquire((u8 *)(r10 - 8))
exit

### load-acquire-bounds-byte
# expect: accept
.map a array key=4 value=256 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
w1 = load_acquire((u8 *)(r0 + 0))
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
out:
r0 = 0
exit

### load-acquire-ctx
# expect: reject InvalidMemoryAccess
w0 = load_acquire((u32 *)(r1 + 0))
exit

### load-acquire-misaligned-map
# expect: reject InvalidMemoryAccess
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r0 = load_acquire((u64 *)(r0 + 4))
out:
r0 = 0
exit

### store-release-stack-spill
# expect: accept
r1 = 3
store_release((u64 *)(r10 - 8), r1)
r0 = *(u64 *)(r10 - 8)
w2 = 5
store_release((u8 *)(r10 - 9), w2)
exit

### store-release-map
# expect: accept
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
w1 = 9
store_release((u16 *)(r0 + 6), w1)
out:
r0 = 0
exit

### store-release-ctx
# expect: reject
w2 = 0
store_release((u32 *)(r1 + 0), w2)
r0 = 0
exit

### atomic-map-misaligned
# expect: reject InvalidMemoryAccess
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 + 4) += r1
out:
r0 = 0
exit

### atomic-map-variable-misaligned
# expect: reject InvalidMemoryAccess
.map a array key=4 value=64 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u32 *)(r0 + 0)
r1 &= 7
r0 += r1
r1 = 1
lock *(u64 *)(r0 + 0) += r1
out:
r0 = 0
exit

### atomic-map-variable-aligned
# expect: accept
.map a array key=4 value=64 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u32 *)(r0 + 0)
r1 &= 56
r0 += r1
r1 = 1
lock *(u64 *)(r0 + 0) += r1
out:
r0 = 0
exit

### subprog-returns-caller-stack
# The kernel refuses any stack pointer in R0 at a subprogram's exit, even one into the caller's frame.
# expect: reject PointerLeak
r1 = r10
r1 += -8
call sub
r0 = 0
exit
sub:
r0 = r1
exit

### subprog-takes-caller-stack-returns-scalar
# expect: accept
r1 = r10
r1 += -8
call sub
r0 = 0
exit
sub:
r0 = 1
exit

### tail-call-in-subprog-no-btf
# expect: reject InvalidHelperArgument
.map jt prog_array key=4 value=4 entries=1
call sub
r0 = 0
exit
sub:
r2 = map:jt ll
r3 = 0
call 12
r0 = 0
exit

### tail-call-main-big-stack-with-subprog
# The 256-byte cap applies to the frames below a subprogram that tail calls; main is exempt.
# expect: accept
.map jt prog_array key=4 value=4 entries=1
r6 = r1
*(u64 *)(r10 - 264) = 0
call sub
r1 = r6
r2 = map:jt ll
r3 = 0
call 12
r0 = 0
exit
sub:
r0 = 0
exit

### ringbuf-reserve-size-high-bits
# The kernel keeps the reserved size in 32 bits: 0x100000000 is a 0-byte record.
# expect: reject MemoryOutOfBounds
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 0x100000000 ll
r3 = 0
call 131
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r1 = r0
r2 = 0
call 132
out:
r0 = 0
exit

### ringbuf-reserve-size-truncated-small
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 0x100000008 ll
r3 = 0
call 131
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r1 = r0
r2 = 0
call 132
out:
r0 = 0
exit

### helper-mem-size-zero-scalar-ptr
# bpf_csum_diff(from=5, 0, to=0, 0, 0): a zero size does not excuse a non-null scalar pointer.
# expect: reject InvalidHelperArgument
.type tc
r1 = 5
r2 = 0
r3 = 0
r4 = 0
r5 = 0
call 28
r0 = 0
exit

### helper-mem-size-zero-null-ok
# expect: accept
.type tc
r1 = 0
r2 = 0
r3 = 0
r4 = 0
r5 = 0
call 28
r0 = 0
exit

### ldxs-ctx-scalar-field
# expect: accept
r0 = *(s32 *)(r1 + 0)
r0 = *(s8 *)(r1 + 0)
r0 = 0
exit

### ldxs-tc-data-end
# expect: reject InvalidContextAccess
.type tc
r0 = *(s32 *)(r1 + 80)
r0 = 0
exit

### ldxs-xdp-data
# expect: reject InvalidContextAccess
.type xdp
r0 = *(s32 *)(r1 + 0)
r0 = 0
exit

### ldxs-xdp-ingress-ifindex
# expect: accept
.type xdp
r0 = *(s32 *)(r1 + 12)
r0 = 2
exit

### rdonly-prog-map-write
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=1 flags=0x80
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r0 + 0) = 1
out:
r0 = 0
exit

### rdonly-prog-map-read
# expect: accept
.map a array key=4 value=8 entries=1 flags=0x80
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r0 = *(u64 *)(r0 + 0)
exit
out:
r0 = 0
exit

### rdonly-prog-map-atomic
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=1 flags=0x80
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = 1
lock *(u64 *)(r0 + 0) += r1
out:
r0 = 0
exit

### rdonly-prog-map-helper-write
# bpf_skb_load_bytes into a read-only map value.
# expect: reject InvalidMemoryAccess
.map a array key=4 value=16 entries=1 flags=0x80
r6 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = r6
r2 = 0
r3 = r0
r4 = 8
call 26
out:
r0 = 0
exit

### rdonly-prog-direct-value-write
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=1 flags=0x80
r1 = map_value:a+0 ll
*(u64 *)(r1 + 0) = 1
r0 = 0
exit

### spilled-pointer-partial-overwrite
# expect: accept
# expect-cap: reject PointerLeak
*(u64 *)(r10 - 8) = r1
*(u32 *)(r10 - 8) = 0
r0 = 0
exit

### spilled-pointer-partial-overwrite-reg
# expect: accept
# expect-cap: reject PointerLeak
*(u64 *)(r10 - 8) = r1
r2 = 0
*(u8 *)(r10 - 5) = r2
r0 = 0
exit

### helper-varlen-uninit-stack
# bpf_skb_load_bytes with a size in [1, 32] into uninitialised stack: with a variable size the kernel drops raw
# mode, so without CAP_PERFMON the buffer must be initialised first.
# expect: accept
# expect-cap: reject InvalidStackAccess
r6 = r1
r0 = *(u32 *)(r6 + 0)
r4 = r0
r4 &= 31
r4 += 1
r1 = r6
r2 = 0
r3 = r10
r3 += -32
call 26
r0 = *(u8 *)(r10 - 32)
r0 = 0
exit

### neg-constant-index
# expect: accept
r1 = 8
r1 = -r1
r2 = r10
r2 += r1
*(u64 *)(r2 + 0) = 0
r0 = 0
exit

### be16-constant-index
# expect: accept
r1 = 0x0800
r1 = be16 r1
r2 = r10
r2 += -16
r2 += r1
*(u64 *)(r2 + 0) = 0
r0 = 0
exit

### neg32-constant
# expect: accept
w1 = 8
w1 = -w1
r1 <<= 32
r1 s>>= 32
r2 = r10
r2 += r1
*(u64 *)(r2 + 0) = 0
r0 = 0
exit

### neg-bounded-stack-index
# BPF_NEG of a bounded scalar: a range on 6.18 (0 - x), so the variable stack offset is bounded.
# expect: accept
# expect-cap: reject
r1 = *(u8 *)(r1 + 0)
r1 &= 7
r1 = -r1
r1 += -8
r2 = r10
r2 += r1
*(u8 *)(r2 + 0) = 0
r0 = 0
exit

### get-current-comm-socket-filter
# expect: accept
# expect-cap: reject UnknownHelper
r1 = r10
r1 += -16
r2 = 16
call 16
r0 = 0
exit

### ringbuf-released-pointer-as-scalar
# After submit the pointer is invalid: an unknown scalar for root, unreadable without CAP_PERFMON.
# expect: accept
# expect-cap: reject UninitializedRegister
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto out
r6 = r0
r1 = r0
r2 = 0
call 132
r0 = r6
r0 &= 1
exit
out:
r0 = 0
exit

### linked-copy-with-offset-bounds-original
# r3 = r2 + 1 stays linked to r2 (delta 1): bounding r3 bounds r2, as the kernel's linked registers do.
# expect: accept
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r2 = *(u32 *)(r0 + 0)
r3 = r2
r3 += 1
if r3 > 8 goto out
r0 += r2
r0 = *(u64 *)(r0 + 0)
exit
out:
r0 = 0
exit

### linked-copy-with-offset-too-far
# The same link, one byte too far: r2 may be 9, and 9 + 8 > 16.
# expect: reject MapValueOutOfBounds
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r2 = *(u32 *)(r0 + 0)
r3 = r2
r3 += 1
if r3 > 10 goto out
r0 += r2
r0 = *(u64 *)(r0 + 0)
exit
out:
r0 = 0
exit

### linked-copy-offset-twice-unlinks
# A second constant add drops the link (the kernel keeps one delta), so r2 stays unbounded.
# expect: reject
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r2 = *(u32 *)(r0 + 0)
r3 = r2
r3 += 1
r3 += 1
if r3 > 8 goto out
r0 += r2
r0 = *(u64 *)(r0 + 0)
exit
out:
r0 = 0
exit

### bpf-loop-callback-without-func-info
# A callback needs BTF func_info (loaded with an object); raw instructions carry none.
# expect: reject InvalidHelperArgument
r1 = 4
r2 = func +6 ll
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit

### spill-fill-keeps-register-link
# A scalar spilled and filled whole keeps its id: bounding the filled copy bounds the original, as the kernel's
# linked registers do (a plain 8-byte load).
# expect: accept
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r10 - 16) = r6
r7 = *(u64 *)(r10 - 16)
if r7 > 8 goto out
r0 += r6
r0 = *(u64 *)(r0 + 0)
out:
r0 = 0
exit

### load-acquire-keeps-register-link
# The same through an 8-byte load-acquire: the link survives it too.
# expect: accept
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r10 - 16) = r6
r7 = load_acquire((u64 *)(r10 - 16))
if r7 > 8 goto out
r0 += r6
r0 = *(u64 *)(r0 + 0)
out:
r0 = 0
exit

### narrow-fill-keeps-register-link
# A 4-byte fill of the same spill keeps the link too: the value fits in 4 bytes (the kernel's get_reg_width), so the
# narrow copy is the same number.
# expect: accept
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r10 - 16) = r6
r7 = *(u32 *)(r10 - 16)
if r7 > 8 goto out
r0 += r6
r0 = *(u64 *)(r0 + 0)
out:
r0 = 0
exit

### narrow-fill-of-wide-value-drops-register-link
# A 1-byte fill of a spilled 4-byte value is a different number: bounding it says nothing about the original, so the
# access may be out of bounds.
# expect: reject
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r10 - 16) = r6
r7 = *(u8 *)(r10 - 16)
if r7 > 8 goto out
r0 += r6
r0 = *(u64 *)(r0 + 0)
out:
r0 = 0
exit

### sign-extending-fill-drops-register-link
# A sign-extending 4-byte fill of a spilled 32-bit value may be a different (negative) number: no link.
# expect: reject
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
*(u64 *)(r10 - 16) = r6
r7 = *(s32 *)(r10 - 16)
if r7 > 8 goto out
if r7 s< 0 goto out
r0 += r6
r0 = *(u64 *)(r0 + 0)
out:
r0 = 0
exit

### ptr-add-reg-two-paths-same-mask
# Without CAP_PERFMON the kernel masks pointer + register against Spectre v1, one mask per instruction: two paths
# that reach it with the same offset range (r8 differs, and a later branch on it keeps them apart) need the same
# mask, and are accepted.
# expect: accept
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r6 &= 3
r7 = *(u32 *)(r9 + 4)
r8 = 0
if r7 > 5 goto join
r8 = 1
join:
r0 += r6
r0 = *(u8 *)(r0 + 0)
if r8 == 0 goto out
r0 = 1
out:
r0 = 0
exit

### ptr-add-reg-two-paths-different-masks
# The same instruction reached with offsets in [0, 3] and in [0, 7]: the masks differ, which the kernel refuses
# without CAP_PERFMON ("different maps, paths or scalars"); with it there is no mask.
# expect: accept
# expect-cap: reject PointerArithmetic
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r7 = *(u32 *)(r9 + 4)
r6 &= 3
if r7 > 5 goto join
r6 = *(u32 *)(r9 + 0)
r6 &= 7
join:
r0 += r6
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### ptr-add-reg-two-paths-same-distance-different-start
# The mask is the distance the pointer may move, not where it starts: one path adds [0, 3] to value+0, the other to
# value+8, so both move at most 3 and need the same mask (the kernel's abs(limit before - limit after)).
# expect: accept
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r6 &= 3
r7 = *(u32 *)(r9 + 4)
if r7 > 5 goto join
r0 += 8
join:
r0 += r6
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### narrow-spill-of-a-value-that-fits-stays-linked
# r6 in [0, 255] spilled as one byte fits: the fill is linked to r6 (the kernel gives r6 an id before the spill), so
# bounding the fill bounds r6.
# expect: accept
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 12) = 0
r1 = map:m ll
r2 = r10
r2 += -12
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r6 &= 255
*(u8 *)(r10 - 8) = r6
r8 = *(u8 *)(r10 - 8)
if r8 > 8 goto out
r0 += r6
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### narrow-spill-of-a-value-that-does-not-fit-is-not-linked
# r6 in [0, 511], linked to r7, spilled as one byte: the slot holds the low byte only, so the fill is not r6, and
# bounding it leaves r6 unbounded.
# expect: reject MapValueOutOfBounds
# expect-cap: reject PointerArithmetic
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 12) = 0
r1 = map:m ll
r2 = r10
r2 += -12
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r6 &= 511
r7 = r6
*(u8 *)(r10 - 8) = r6
r8 = *(u8 *)(r10 - 8)
if r8 > 8 goto out
r0 += r6
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### join-zero-bytes-vs-spilled-unknown-scalar
# Pruning: the first path leaves fp-4..fp-1 zero (a 4-byte store of 0 below an unwritten fp-8), the second spills
# an unknown scalar over fp-8..fp-1. Zero bytes do not cover a spill: the second path is explored, and its read of
# fp-4 is unknown, too wide an offset.
# (The first path is padded — the kernel, and ours, keep a state at a join only after 2 jumps and 8 instructions —
# with r3 = 0, set on both paths: ours compares dead registers by type, so it must not differ.)
# expect: reject UnboundedAccess
# expect-cap: reject PointerArithmetic
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 12) = 0
r1 = map:m ll
r2 = r10
r2 += -12
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r3 = 0
if r6 > 5 goto spill
*(u32 *)(r10 - 4) = r3
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r6 == 1 goto join
goto join
spill:
*(u64 *)(r10 - 8) = r6
join:
r7 = *(u32 *)(r10 - 4)
r0 += r7
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### join-spilled-unknown-scalar-vs-zero-bytes
# The same two paths explored the other way round: a spilled unknown scalar first, zero bytes second.
# (The first path is padded — the kernel, and ours, keep a state at a join only after 2 jumps and 8 instructions —
# with r3 = 0, set on both paths: ours compares dead registers by type, so it must not differ.)
# expect: reject UnboundedAccess
# expect-cap: reject PointerArithmetic
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 12) = 0
r1 = map:m ll
r2 = r10
r2 += -12
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r3 = 0
if r6 > 5 goto zero
*(u64 *)(r10 - 8) = r6
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r6 == 1 goto join
goto join
zero:
*(u32 *)(r10 - 4) = r3
join:
r7 = *(u32 *)(r10 - 4)
r0 += r7
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### join-map-value-pointers-at-different-offsets
# Pruning: the first path reaches the join with the value pointer at +0 (its 8-byte read at +8 fits), the second at
# +8 (the same read ends at 16, past the 16-byte value). A pointer at another offset is not covered by the first.
# (The first path is padded — the kernel, and ours, keep a state at a join only after 2 jumps and 8 instructions —
# with r3 = 0, set on both paths: ours compares dead registers by type, so it must not differ.)
# expect: reject MapValueOutOfBounds
# expect-cap: reject MapValueOutOfBounds
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r3 = 0
if r6 > 5 goto plus
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r6 == 1 goto join
goto join
plus:
r0 += 8
join:
r1 = *(u64 *)(r0 + 8)
out:
r0 = 0
exit

### array-lookup-key-at-a-variable-stack-offset-may-be-null
# The key is at fp-16 or fp-8 (a variable offset): fp-16 holds 0, fp-8 holds 7, out of the two-entry array, so the
# lookup may return null — only a constant key at a constant offset lets an array lookup skip the check.
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=2
r9 = r1
r6 = *(u32 *)(r9 + 0)
r6 &= 8
r1 = 0
*(u32 *)(r10 - 16) = r1
r1 = 7
*(u32 *)(r10 - 8) = r1
r2 = r10
r2 += -16
r2 += r6
r1 = map:a ll
call 1
r0 = *(u64 *)(r0 + 0)
r0 = 0
exit

### jeq-decided-by-unsigned-ranges-alone
# r1 in [2^63 - 1, 2^63 + 1] and r2 in [2^63 + 5, 2^63 + 10] (unsigned): their unsigned ranges are apart while r1's
# signed range is everything, so only the unsigned bounds decide r1 == r2 false, and the scalar dereference below
# is never reached.
# expect: accept
.map m array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r2 = *(u64 *)(r0 + 8)
r3 = 0x7fffffffffffffff ll
if r1 < r3 goto out
r3 = 0x8000000000000001 ll
if r1 > r3 goto out
r4 = 0x8000000000000005 ll
if r2 < r4 goto out
r4 = 0x800000000000000a ll
if r2 > r4 goto out
if r1 == r2 goto bad
out:
r0 = 0
exit
bad:
r0 = *(u8 *)(r1 + 0)
exit

### tail-call-holding-a-reference
# A tail call never returns: a ring buffer reservation still held would leak.
# expect: reject UnreleasedReference
.map rb ringbuf key=0 value=0 entries=4096
.map progs prog_array key=4 value=4 entries=4
r6 = r1
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto out
r7 = r0
r1 = r6
r2 = map:progs ll
r3 = 0
call 12
r1 = r7
r2 = 0
call 132
out:
r0 = 0
exit

### helper-call-holding-a-reference
# Any other helper may be called while a reservation is held.
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto out
r7 = r0
call 5
r1 = r7
r2 = 0
call 132
out:
r0 = 0
exit

### atomic-on-a-scalar
# An atomic add through a scalar is a memory access through a non-pointer.
# expect: reject InvalidMemoryAccess
r1 = 0
r2 = 1
lock *(u64 *)(r1 + 0) += r2
r0 = 0
exit

### jslt32-taken-branch-is-explored
# w1 s< w2 can hold: the branch is explored, and the scalar dereference there refused.
# expect: reject InvalidMemoryAccess
r1 = *(u32 *)(r1 + 0)
w2 = 10
if w1 s< w2 goto bad
r0 = 0
exit
bad:
r0 = *(u8 *)(r1 + 0)
exit

### jgt32-bound-reaches-the-64-bit-range
# skb->len is zero-extended: bounding its low 32 bits (w1 <= 8) bounds all 64, so it is a valid offset into the
# 16-byte value.
# expect: accept
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u32 *)(r9 + 0)
if w1 > 8 goto out
r0 += r1
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### packet-pointer-compared-with-a-scalar
# Without CAP_PERFMON a packet pointer may be compared only with the packet's other end (data with data_end,
# data_meta with the initial data): data against a scalar is refused.
# expect: accept
# expect-cap: reject PointerComparison
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 12)
if r2 > r3 goto out
r0 = 1
out:
r0 = 2
exit

### moved-packet-pointer-compared-with-data-meta
# data_meta may be compared with the initial data pointer only: data + 8 against it is refused without CAP_PERFMON.
# expect: accept
# expect-cap: reject PointerComparison
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 8)
r2 += 8
if r2 > r3 goto out
r0 = 1
out:
r0 = 2
exit

### two-lookups-one-checked
# Checking one lookup's result for null says nothing of another's (a different id; a hash map, as an array
# looked up with a constant key in range is never null).
# expect: reject InvalidMemoryAccess
.map m hash key=4 value=16 entries=4
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
r6 = r0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
r7 = r0
if r6 == 0 goto out
r0 = *(u64 *)(r7 + 0)
out:
r0 = 0
exit

### pointer-plus-register-with-unbounded-min
# A value pointer plus a register whose minimum is unbounded is refused before its range is looked at.
# expect: reject PointerArithmetic
.map m array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r0 += r1
out:
r0 = 0
exit

### pointer-minus-register-overflows-the-minimum
# Each operand is sane (the pointer's offset in [-100, 0], the register's minimum 0), but subtracting a register
# whose maximum is 2^63 - 1 takes the pointer's minimum past the bottom: refused after the operation.
# expect: reject PointerArithmetic
.map m array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 0)
r2 = *(u64 *)(r0 + 8)
r2 &= 100
r1 >>= 1
r0 -= r2
r0 -= r1
out:
r0 = 0
exit

### atomic-alignment-counts-both-offsets
# An atomic's address is the pointer's offset plus the instruction's: value + 6 + 2 is 8-byte aligned.
# expect: accept
.map m array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r0 += 6
r1 = 1
lock *(u64 *)(r0 + 2) += r1
out:
r0 = 0
exit

### ld-abs-holding-a-reference
# A legacy packet load may end the program (a packet too short), so no reference may be held across it.
# expect: reject UnreleasedReference
.map rb ringbuf key=0 value=0 entries=4096
r6 = r1
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto out
r7 = r0
r0 = *(u8 *)skb[12]
r1 = r7
r2 = 0
call 132
out:
r0 = 0
exit

### helper-reads-a-spilled-pointer-as-a-key
# A map key read from a stack slot holding a spilled pointer: allowed with CAP_PERFMON (pointer leaks are), refused
# without it.
# expect: accept
# expect-cap: reject
.map h hash key=8 value=8 entries=4
*(u64 *)(r10 - 8) = r10
r1 = map:h ll
r2 = r10
r2 += -8
call 1
r0 = 0
exit

### neg-of-pointer-is-unknown
# Negating a pointer (allowed with CAP_PERFMON) gives an unknown scalar, not 0 - its offset: the branch below is not
# decided, and the fall-through dereferences a scalar.
# expect: reject InvalidMemoryAccess
# expect-cap: reject PointerArithmetic
r1 = r10
r1 = -r1
if r1 == 0 goto ok
r0 = *(u8 *)(r1 + 0)
ok:
r0 = 0
exit

### movsx32-result-is-zero-extended
# w1 = (s8)w2 sign-extends into the low 32 bits and zero-extends into the upper: 0xff becomes 0xffffffff, so the
# branch is taken and the scalar dereference never runs.
# expect: accept
w2 = 255
w1 = (s8)w2
r3 = 0xffffffff ll
if r1 == r3 goto ok
r0 = *(u8 *)(r1 + 0)
ok:
r0 = 0
exit

### join-zero-bytes-vs-unknown-bytes-beside-narrow-spill
# Both paths spill a 4-byte scalar at fp-8; the first zeroes fp-4..fp-1 byte by byte, the second stores unknown
# bytes there. The second may not be pruned at the join (its fp-4 is not 0), and its offset is out of range.
# (The first path is padded — the kernel, and ours, keep a state at a join only after 2 jumps and 8 instructions —
# with r3 = 0, set on both paths: ours compares dead registers by type, so it must not differ.)
# expect: reject
.map m array key=4 value=16 entries=1
r9 = r1
*(u32 *)(r10 - 12) = 0
r1 = map:m ll
r2 = r10
r2 += -12
call 1
if r0 == 0 goto out
r6 = *(u32 *)(r9 + 0)
r7 = *(u32 *)(r9 + 4)
r8 = 5
*(u32 *)(r10 - 8) = r8
r3 = 0
if r7 > 5 goto second
*(u8 *)(r10 - 4) = 0
*(u8 *)(r10 - 3) = 0
*(u8 *)(r10 - 2) = 0
*(u8 *)(r10 - 1) = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r7 == 1 goto join
goto join
second:
*(u8 *)(r10 - 4) = r6
*(u8 *)(r10 - 3) = r6
*(u8 *)(r10 - 2) = r6
*(u8 *)(r10 - 1) = r6
join:
r1 = *(u32 *)(r10 - 4)
r0 += r1
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### stack-pointer-to-the-frame-bottom
# fp - 512 is the stack's last byte: a pointer there is fine, and a byte store through it.
# expect: accept
r1 = r10
r1 += -512
*(u8 *)(r1 + 0) = 1
r0 = 0
exit

### stack-var-offset-reaching-the-frame-bottom
# A variable offset whose smallest value lands exactly on fp - 512: inside the frame.
# expect: accept
# expect-cap: reject PointerArithmetic
r1 = *(u32 *)(r1 + 0)
r1 &= 8
r2 = r10
r2 += -520
r2 += r1
*(u64 *)(r2 + 8) = 0
r0 = 0
exit

### direct-value-access-on-hash-map
# A map value's address by lddw (BPF_PSEUDO_MAP_VALUE) exists only for one-entry arrays.
# expect: reject InvalidMap
.map h hash key=4 value=8 entries=4
r1 = map_value:h ll
r0 = 0
exit

### direct-value-access-on-one-entry-hash-map
# A hash map has no direct value access however many entries it has.
# expect: reject InvalidMap
.map h hash key=4 value=8 entries=1
r1 = map_value:h ll
r0 = 0
exit

### direct-value-access-on-four-entry-array
# An array has direct value access, but only with one entry: the kernel's answer for four is an invalid access.
# expect: reject InvalidMap
.map a array key=4 value=8 entries=4
r1 = map_value:a ll
r0 = 0
exit

### lookup-on-cpumap
# A program may not look up a cpumap (it redirects through one).
# expect: reject InvalidMap
.map c cpumap key=4 value=4 entries=4
*(u32 *)(r10 - 4) = 0
r1 = map:c ll
r2 = r10
r2 += -4
call 1
r0 = 0
exit

### join-map-pointers-of-different-maps
# Pruning: the first path reaches the join holding the 64-byte array's map pointer (a read at +32 of its value fits),
# the second the 8-byte array's. A pointer to another map is not covered by the first. (Padded as the other join cases.)
# (The lookup after the join: see join-unchecked-values-of-different-maps for the pointers the lookups return.)
# expect: reject MapValueOutOfBounds
# expect-cap: reject MapValueOutOfBounds
.map big array key=4 value=64 entries=1
.map small array key=4 value=8 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r6 = *(u32 *)(r9 + 0)
r3 = 0
r1 = map:big ll
if r6 > 5 goto other
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r6 == 1 goto join
goto join
other:
r1 = map:small ll
join:
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 32)
out:
r0 = 0
exit

### helper-key-from-a-short-packet
# A map key the helper reads from a packet checked to be 8 bytes long: the 16-byte key reaches past the checked range.
# expect: reject PacketOutOfBounds
# expect-cap: reject PacketOutOfBounds
.type xdp
.map h hash key=16 value=8 entries=4
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto out
r1 = map:h ll
call 1
out:
r0 = 2
exit

### helper-key-from-a-packet
# A map key the helper reads from the start of a packet checked to be 8 bytes long: the 8-byte key fits.
# expect: accept
# expect-cap: accept
.type xdp
.map h hash key=8 value=8 entries=4
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto out
r1 = map:h ll
call 1
out:
r0 = 2
exit

### join-unchecked-values-of-different-maps
# Pruning: the first path reaches the join with a not yet null-checked value of the 64-byte hash map (a read at +32
# fits once checked), the second with one of the 8-byte hash map. A maybe-null value of another map is not covered.
# expect: reject MapValueOutOfBounds
# expect-cap: reject MapValueOutOfBounds
.map big hash key=4 value=64 entries=1
.map small hash key=4 value=8 entries=1
r9 = r1
*(u32 *)(r10 - 4) = 0
r6 = *(u32 *)(r9 + 0)
r3 = 0
r2 = r10
r2 += -4
if r6 > 5 goto other
r1 = map:big ll
call 1
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r6 == 1 goto join
goto join
other:
r1 = map:small ll
call 1
r3 = 0
join:
if r0 == 0 goto out
r1 = *(u64 *)(r0 + 32)
out:
r0 = 0
exit
