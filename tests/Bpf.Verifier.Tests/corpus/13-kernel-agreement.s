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
# expect: accept
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
