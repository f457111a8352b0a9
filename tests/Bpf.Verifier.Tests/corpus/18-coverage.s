# program: checks no other corpus program reached, found by code coverage of the verifier's tests (docs/testing.md,
# "Coverage"), each compared with the kernel in both privilege modes by DifferentialTests.Corpus.

### ld-abs-in-a-subprogram
# A legacy packet load in a subprogram needs BTF func_info, which raw instructions lack.
# expect: reject InvalidContextAccess
r6 = r1
call f
r0 = 0
exit
f: r0 = *(u8 *)skb[12]
exit

### lddw-first-half-last
# The first half of an lddw as the last instruction: the kernel names the missing exit first.
# expect: reject FallsOffEnd
r0 = 0
exit
.insn 0x0000000000000018

### map-direct-value-offset-too-large
# A direct value offset of 2^29 or more is refused when the map is resolved.
# expect: reject InvalidMap
.map g array key=4 value=16 entries=1
r1 = map_value:g+536870912 ll
r0 = *(u64 *)(r1 + 0)
exit

### helper-size-argument-a-pointer
# A size argument holding a stack pointer.
# expect: reject InvalidHelperArgument
r2 = 0
r3 = r10
r3 += -8
r4 = r10
call 26
r0 = 0
exit

### helper-key-in-ringbuf-memory-too-short
# A ringbuf record of 8 bytes passed as a 16-byte key.
# expect: reject MemoryOutOfBounds
.map rb ringbuf key=0 value=0 entries=4096
.map h hash key=16 value=8 entries=4
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +10
r6 = r0
r1 = map:h ll
r2 = r6
call 1
r1 = r6
r2 = 0
call 133
r0 = 0
exit
r0 = 0
exit

### helper-key-in-ringbuf-memory
# A ringbuf record passed as a key of its own size.
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
.map h hash key=8 value=8 entries=4
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +11
r6 = r0
*(u64 *)(r6 + 0) = 0
r1 = map:h ll
r2 = r6
call 1
r1 = r6
r2 = 0
call 133
r0 = 0
exit
r0 = 0
exit

### helper-writes-packet-in-cgroup-skb
# A packet pointer passed to a helper the kernel does not mark pkt_access.
# expect: reject InvalidHelperArgument
.type cgroup_skb
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 8
if r4 > r3 goto +6
r3 = r2
r2 = 0
r4 = 4
call 26
r0 = 1
exit
r0 = 1
exit

### var-offset-stack-misaligned
# A variable stack offset that may be 4 used for an 8-byte store.
# expect: reject InvalidStackAccess
r2 = *(u32 *)(r1 + 0)
r2 &= 4
r1 = r10
r1 += r2
r0 = 0
*(u64 *)(r1 - 16) = r0
r0 = *(u64 *)(r1 - 16)
exit

### spill-stack-pointer-into-caller-frame
# A subprogram storing a pointer to its own stack into its caller's.
# expect: reject InvalidStackAccess
r1 = r10
r1 += -8
call f
r0 = 0
exit
f: r2 = r10
r2 += -8
*(u64 *)(r1 + 0) = r2
r0 = 0
exit

### byte-swap-32-of-a-constant
# be32 of a constant is known: the branch to the bad read is never taken.
# expect: accept
r0 = 0x12345678
r0 = be32 r0
if r0 == 0x78563412 goto +1
r0 = *(u64 *)(r10 - 8)
r0 = 0
exit

### byte-swap-32-of-a-partly-known-value
# be32 of a value below 256 leaves only the top byte unknown: never above 0xff000000.
# expect: accept
r0 = *(u32 *)(r1 + 0)
r0 &= 0xff
r0 = be32 r0
if r0 > 0xff000000 goto +2
r0 = 0
exit
r0 = *(u64 *)(r10 - 8)
exit

### call-depth-too-deep
# Nine frames of bpf-to-bpf calls.
# expect: reject CallDepthExceeded
call f1
exit
f1: call f2
exit
f2: call f3
exit
f3: call f4
exit
f4: call f5
exit
f5: call f6
exit
f6: call f7
exit
f7: call f8
exit
f8: r0 = 0
exit

### pointer-offset-exactly-minus-2-to-the-29
# A map value pointer moved by constants to an offset of exactly -2^29: the kernel's check_reg_sane_offset refuses it.
# expect: reject PointerArithmetic
# expect-cap: reject PointerArithmetic
.map m array key=4 value=8 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +3
r0 += -536870911
r0 += -1
r0 = 0
exit

### pointer-offset-just-inside-minus-2-to-the-29
# One byte less: allowed where pointers may leave their object (never read through).
# expect: accept
# expect-cap: reject PointerArithmetic
.map m array key=4 value=8 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +3
r0 += -536870911
r0 += 0
r0 = 0
exit

### loop-changing-only-a-dead-register
# r7 changes on the first pass only and is never read: the exact comparison that detects the loop counts it (as the
# kernel's does), so the loop is found on the third visit, not the second (outcomes.txt pins the instructions).
# expect: reject InfiniteLoop
r7 = 1
loop:
call 7
if r0 == 0 goto out
r7 = 2
goto loop
out:
r0 = 0
exit

### loop-changing-only-a-dead-register-in-a-subprogram
# The same in a subprogram's frame.
# expect: reject InfiniteLoop
call f
r0 = 0
exit
f:
r7 = 1
loop:
call 7
if r0 == 0 goto out
r7 = 2
goto loop
out:
r0 = 0
exit

### function-pointer-out-of-range
# A function pointer (lddw src=4) whose target is past the end: the kernel's add_subprog refuses it.
# expect: reject InvalidCallTarget
r2 = func +100 ll
r0 = 0
exit

### helper-write-into-part-of-a-spilled-slot
# A helper writing 4 bytes over a spilled constant 0: the whole slot is data now (the kernel scrubs every byte of a
# spilled slot a helper touches), so the other half reads back as an unknown, not as the spilled 0.
# expect: reject UnboundedAccess
# expect-cap: reject UnknownHelper
.map m array key=4 value=16 entries=1
r1 = 0
*(u64 *)(r10 - 16) = r1
r1 = r10
r1 += -16
r2 = 4
r3 = 0
call 113
r7 = *(u32 *)(r10 - 12)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +3
r0 += r7
r0 = *(u8 *)(r0 + 0)
r0 = 0
exit

### jeq32-narrows-the-signed-32-bit-maximum
# A 32-bit equality narrows both sides' s32 ranges to their intersection ([-5, 10]); sign-extended, the
# value is a map value offset within bounds (the kernel accepts; we refused before sign extension kept the s32 range).
# expect: accept
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
r7 = *(u32 *)(r1 + 4)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
w1 = w6
w1 &= 15
w1 -= 5
w2 = w7
w2 &= 255
w2 -= 100
if w1 != w2 goto out
r2 = (s32)r2
r2 += 5
r0 += r2
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit

### jeq32-narrows-the-signed-32-bit-minimum
# The same with the operands swapped: the other register narrowed.
# expect: accept
.map m array key=4 value=16 entries=1
r6 = *(u32 *)(r1 + 0)
r7 = *(u32 *)(r1 + 4)
*(u32 *)(r10 - 4) = 0
r1 = map:m ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto out
w1 = w6
w1 &= 15
w1 -= 5
w2 = w7
w2 &= 255
w2 -= 100
if w2 != w1 goto out
r1 = (s32)r1
r1 += 5
r0 += r1
r0 = *(u8 *)(r0 + 0)
out:
r0 = 0
exit
