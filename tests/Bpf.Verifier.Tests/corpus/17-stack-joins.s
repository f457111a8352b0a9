# Joins whose two states differ only in one stack slot (issue 16: the stack comparison at a join was never
# exercised, so a mutation that stopped comparing written bytes, or spilled registers, survived every test). Each
# program: an unknown r1, padding so that the state at the join is kept (the kernel keeps one after 2 jumps and 8
# instructions), a branch whose fall-through path reaches the join first with one stack content, the other with
# another. corpus/outcomes.txt pins the instructions each one processes (pruned or not).

### join-stack-written-vs-unwritten
# expect: accept
# expect-cap: reject InvalidStackAccess
# Written (4 bytes) on the path that reaches the join first, never written on the other: without CAP_PERFMON the
# read after the join must be refused on the second path (the kept state does not cover it). With CAP_PERFMON
# reading unwritten stack is allowed and the second path is pruned.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u32 *)(r10 - 8) = r1
goto join
other: r0 = 0
join: r2 = *(u32 *)(r10 - 8)
r0 = 0
exit

### join-stack-spilled-const-vs-unknown
# expect: reject UninitializedRegister
# A spilled 0 on the first path, a spilled unknown (> 10) on the other: the spilled registers must be compared, or
# the second path (where the branch below is taken to an uninitialized read) is pruned.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u64 *)(r10 - 8) = r0
goto join
other: *(u64 *)(r10 - 8) = r1
join: r2 = *(u64 *)(r10 - 8)
if r2 == 0 goto out
r0 = r5
out: r0 = 0
exit

### join-stack-spilled-unknown-covers-const
# expect: accept
# A spilled unknown (<= 10) on the first path, a spilled 5 on the other: the first covers the second, which is pruned.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u64 *)(r10 - 8) = r1
goto join
other: r4 = 5
*(u64 *)(r10 - 8) = r4
r4 = 0
join: r2 = *(u64 *)(r10 - 8)
r0 = 0
exit

### join-stack-misc-vs-spilled-scalar
# expect: accept
# 4 unknown bytes written on the first path, a spilled scalar on the other: bytes of a spilled scalar are covered
# by unknown bytes, so the second path is pruned.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u32 *)(r10 - 8) = r1
goto join
other: *(u64 *)(r10 - 8) = r1
join: r2 = *(u32 *)(r10 - 8)
r0 = 0
exit

### join-stack-misc-vs-spilled-pointer
# expect: reject InvalidStackAccess
# 4 unknown bytes on the first path, a spilled pointer (the frame pointer) on the other: not covered, so the
# second path is walked, where reading half a spilled pointer is refused ("invalid size of register fill").
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u32 *)(r10 - 8) = r1
goto join
other: *(u64 *)(r10 - 8) = r10
join: r2 = *(u32 *)(r10 - 8)
r0 = 0
exit

### join-stack-misc-vs-zero
# expect: accept
# 4 unknown bytes on the first path, 4 zero bytes on the other: zero is one of the unknown values, pruned.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u32 *)(r10 - 8) = r1
goto join
other: *(u32 *)(r10 - 8) = 0
join: r2 = *(u32 *)(r10 - 8)
r0 = 0
exit

### join-stack-zero-vs-misc
# expect: reject UninitializedRegister
# 4 zero bytes on the first path, 4 unknown bytes (> 10) on the other: not covered; on the second path the branch
# below is taken to an uninitialized read.
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
*(u32 *)(r10 - 8) = 0
goto join
other: *(u32 *)(r10 - 8) = r1
join: r2 = *(u32 *)(r10 - 8)
if r2 == 0 goto out
r0 = r5
out: r0 = 0
exit

### join-stack-spilled-pointers-differ
# expect: reject InvalidContextAccess
# The frame pointer spilled on the first path, the context pointer on the other: different pointer types are
# never covered; on the second path the reload is a context pointer and the store through it is refused.
r9 = r1
r1 = *(u32 *)(r1 + 0)
r0 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
r3 = 0
if r1 > 10 goto other
r6 = r10
r6 += -16
*(u64 *)(r10 - 8) = r6
goto join
other: *(u64 *)(r10 - 8) = r9
join: r2 = *(u64 *)(r10 - 8)
r4 = 7
*(u64 *)(r2 + 0) = r4
r0 = 0
exit
