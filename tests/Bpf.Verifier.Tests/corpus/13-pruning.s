### prune-regreg-jump-other-operand
# expect: reject
# expect-cap: reject
# Issue 9 class 1: "if r6 >= r3" bounds r6 by r3; the path with r3 = 1000 must not be pruned against r3 = 4.
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r9 = r0
r6 = *(u64 *)(r0 + 0)
r8 = *(u64 *)(r0 + 8)
r4 = 0
if r8 > 100 goto big
r3 = 4
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
goto join
big: r3 = 1000
join: if r6 >= r3 goto out
r9 += r6
r0 = *(u8 *)(r9 + 0)
out: r0 = 0
exit

### prune-regreg-jump-safe
# expect: accept
# expect-cap: reject PointerArithmetic
# The same shape with both bounds inside the 16-byte value: safe on every path. Without CAP_PERFMON the kernel's
# Spectre-v1 sanitation refuses "r9 += r6": r6's bound (hence the ALU limit) differs between the two paths.
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r9 = r0
r6 = *(u64 *)(r0 + 0)
r8 = *(u64 *)(r0 + 8)
r4 = 0
if r8 > 100 goto big
r3 = 4
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
goto join
big: r3 = 16
join: if r6 >= r3 goto out
r9 += r6
r0 = *(u8 *)(r9 + 0)
out: r0 = 0
exit

### prune-regreg-jump-src-refined
# expect: reject
# expect-cap: reject
# Class 1 with the roles swapped: the source operand is the one used later, the destination bounds it.
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r9 = r0
r6 = *(u64 *)(r0 + 0)
r8 = *(u64 *)(r0 + 8)
r4 = 0
if r8 > 100 goto big
r3 = 4
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
goto join
big: r3 = 1000
join: if r3 <= r6 goto out
r9 += r6
r0 = *(u8 *)(r9 + 0)
out: r0 = 0
exit

### prune-refinement-rules-out-edge
# expect: reject InvalidMemoryAccess
# expect-cap: reject InvalidMemoryAccess
# Issue 9 class 2: r1 in {3,4} never equals r2 in {0,2,8,10} (tnum), so one path skips the edge; the path
# with r1 = 2 takes it and dereferences a scalar.
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = *(u64 *)(r0 + 0)
r8 = *(u64 *)(r0 + 8)
r1 = r6
r1 &= 1
r1 += 3
r2 = r6
r2 &= 10
r4 = 0
if r8 > 100 goto big
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
goto join
big: r1 = 2
join: if r1 == r2 goto bad
out: r0 = 0
exit
bad: r0 = *(u8 *)(r1 + 0)
exit

### prune-ptr-vs-zero-register
# expect: reject InvalidMemoryAccess
# expect-cap: reject PointerComparison
# Issue 9 class 3: a non-null pointer against a register holding 0 is decided "not equal"; that register's
# value matters, so the path where it holds an unknown scalar is explored.
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r9 = r0
r7 = *(u64 *)(r0 + 0)
r8 = *(u64 *)(r0 + 8)
r4 = 0
if r8 > 100 goto join
r7 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
r4 = 0
join: if r9 == r7 goto bad
out: r0 = 0
exit
bad: r0 = *(u8 *)(r7 + 0)
exit

### null-check-through-zero-register
# expect: reject InvalidMemoryAccess
# expect-cap: reject PointerComparison
# Issue 9 class 4: the kernel takes only "if rX == 0" (an immediate) as a null check.
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r1 = 0
if r0 == r1 goto out
r0 = *(u64 *)(r0 + 0)
out: r0 = 0
exit

### null-check-through-zero-register-swapped
# expect: reject InvalidMemoryAccess
# expect-cap: reject PointerComparison
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r1 = 0
if r1 != r0 goto read
r0 = 0
exit
read: r0 = *(u64 *)(r0 + 0)
r0 = 0
exit

### xdp-meta-vs-moved-data
# expect: reject PacketOutOfBounds
# expect-cap: reject PointerComparison
# Issue 9 class 5: data_meta gets a range only from a comparison with the initial data pointer. Without
# CAP_PERFMON a comparison that gives no packet range (try_match_pkt_pointers fails) is refused outright.
.type xdp
r2 = *(u32 *)(r1 + 8)
r3 = *(u32 *)(r1 + 0)
r3 += 8
r4 = r2
r4 += 8
if r4 > r3 goto +1
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-meta-vs-initial-data
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 8)
r3 = *(u32 *)(r1 + 0)
r4 = r2
r4 += 8
if r3 < r4 goto +1
r0 = *(u32 *)(r2 + 4)
r0 = 2
exit
