# bpf_spin_lock / bpf_spin_unlock (issue 9): the lock lives in a map value whose BTF places a struct bpf_spin_lock
# (.map ... spin_lock=OFF; the oracle creates such maps with a small BTF blob); one lock at a time, no helper call,
# exit or legacy packet load while holding it, unlock through the same element, no direct access to its bytes.

### spin-lock-basic
# Take the value's lock, update a counter under it, release it.
# expect: accept
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = *(u64 *)(r6 + 8)
r1 += 1
*(u64 *)(r6 + 8) = r1
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-socket-filter
# A map with a bpf_spin_lock cannot be used by a socket filter at all.
# expect: reject InvalidMap
.type socket_filter
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-kprobe
# Nor by tracing programs.
# expect: reject InvalidMap
.type kprobe
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-map-without-btf
# The lock is found through the map's BTF: a map created without it cannot be locked.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-btf-without-lock
# A map with BTF whose value holds no bpf_spin_lock.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 btf
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-wrong-offset
# The pointer must point at the lock itself.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
r1 += 8
call 93
out:
r0 = 0
exit

### spin-lock-variable-offset
# A variable offset, even one that may be 0, is refused (without CAP_PERFMON already the pointer arithmetic,
# whose one-byte bounds check may land in the lock).
# expect: reject InvalidHelperArgument
# expect-cap: reject PointerArithmetic
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = *(u32 *)(r6 + 8)
r1 &= 4
r2 = r6
r2 += r1
r1 = r2
call 93
out:
r0 = 0
exit

### spin-lock-twice
# One lock at a time.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r1 = r6
call 93
out:
r0 = 0
exit

### spin-unlock-without-lock
# Unlock with no lock held.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 94
out:
r0 = 0
exit

### spin-unlock-different-element
# Lock one element, unlock another (two lookups: two ids).
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
*(u32 *)(r10 - 8) = 1
r1 = map:h ll
r2 = r10
r2 += -8
call 1
if r0 == 0 goto out
r7 = r0
r1 = r6
call 93
r1 = r7
call 94
out:
r0 = 0
exit

### spin-lock-exit-held
# Exit while holding the lock.
# expect: reject UnreleasedReference
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r0 = 0
exit
out:
r0 = 0
exit

### spin-lock-exit-held-one-path
# The lock is released on one path only.
# expect: reject UnreleasedReference
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r2 = *(u64 *)(r6 + 8)
if r2 > 5 goto skip
r1 = r6
call 94
skip:
out:
r0 = 0
exit

### spin-lock-both-paths
# Released on both paths of a branch taken under the lock.
# expect: accept
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
r2 = *(u64 *)(r6 + 8)
if r2 > 5 goto other
*(u64 *)(r6 + 8) = 0
r1 = r6
call 94
goto out
other:
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-helper-held
# No helper call while holding the lock.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
call 5
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-direct-read
# The lock's bytes cannot be read directly.
# expect: reject InvalidMemoryAccess
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = *(u32 *)(r6 + 0)
out:
r0 = 0
exit

### spin-lock-direct-write-overlap
# Nor written, even by a store that only overlaps them.
# expect: reject InvalidMemoryAccess
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=4
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
*(u64 *)(r6 + 0) = 0
out:
r0 = 0
exit

### spin-lock-atomic
# Nor changed by an atomic.
# expect: reject InvalidMemoryAccess
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = 1
lock *(u32 *)(r6 + 0) += r1
out:
r0 = 0
exit

### spin-lock-helper-memory
# A helper may not read the lock's bytes either (the value as a key of another lookup).
# expect: reject InvalidMemoryAccess
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = map:h ll
r2 = r6
call 1
out:
r0 = 0
exit

### spin-lock-next-to-lock
# The bytes after the lock are ordinary memory.
# expect: accept
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = *(u32 *)(r6 + 4)
*(u64 *)(r6 + 8) = r1
out:
r0 = 0
exit

### spin-lock-null-pointer
# The lock argument must be a checked map value.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r1 = r0
call 93
r0 = 0
exit

### spin-lock-stack-pointer
# A stack pointer is not a lock.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
r1 = r10
r1 += -8
call 93
r0 = 0
exit

### spin-lock-array-const-key
# An array lookup with a constant key in range cannot be null; the lock still needs the same element to unlock.
# expect: accept
.type xdp
.map a array key=4 value=16 entries=4 spin_lock=0
r1 = 1
*(u32 *)(r10 - 8) = r1
r1 = map:a ll
r2 = r10
r2 += -8
call 1
r6 = r0
r1 = r0
call 93
r1 = r6
call 94
out:
r0 = 0
exit

### spin-lock-direct-value
# A direct value pointer (lddw map_value) locks and unlocks the single element.
# expect: accept
.type xdp
.map a array key=4 value=16 entries=1 spin_lock=0
r6 = map_value:a+0 ll
r1 = r6
call 93
r1 = r6
call 94
r0 = 0
exit

### spin-lock-subprog-call-held
# A bpf-to-bpf call while holding the lock.
# expect: accept
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
call sub
r1 = r6
call 94
out:
r0 = 0
exit
sub:
r0 = 1
exit

### spin-lock-subprog-helper-held
# A helper called in a subprogram while the caller holds the lock.
# expect: reject InvalidHelperArgument
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call 93
call sub
r1 = r6
call 94
out:
r0 = 0
exit
sub:
call 5
r0 = 1
exit

### spin-lock-in-subprog
# A subprogram takes and releases the lock of the value its caller passes.
# expect: accept
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=0
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r1 = r6
call sub
out:
r0 = 0
exit
sub:
r6 = r1
call 93
r1 = r6
call 94
r0 = 0
exit

### spin-lock-ld-abs-held
# A legacy packet load while holding the lock.
# expect: reject UnreleasedReference
.type sched_cls
.map h hash key=4 value=16 entries=4 spin_lock=0
r6 = r1
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r7 = r0
r1 = r0
call 93
r0 = *(u8 *)skb[0]
r1 = r7
call 94
out:
r0 = 0
exit

### spin-lock-pointer-arithmetic-to-lock
# A pointer to the lock made by arithmetic: root may, but without CAP_PERFMON the kernel's one-byte bounds check
# after pointer arithmetic (sanitize_check_bounds) finds the byte inside the lock and refuses it.
# expect: accept
# expect-cap: reject PointerArithmetic
.type xdp
.map h hash key=4 value=16 entries=4 spin_lock=8
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
r6 = r0
r6 += 8
r1 = r6
call 93
r1 = r6
call 94
out:
r0 = 0
exit
