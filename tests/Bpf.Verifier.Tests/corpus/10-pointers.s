### ptr-add-ptr
# expect: reject PointerArithmetic
r1 += r10
r0 = 0
exit

### ptr-sub-ptr-stack
# expect: accept
# expect-cap: reject PointerArithmetic
r2 = r10
r2 += -8
r2 -= r10
r0 = r2
exit

### scalar-minus-ptr
# expect: reject PointerArithmetic
r2 = 5
r2 -= r10
r0 = 0
exit

### scalar-plus-ptr
# expect: accept
r2 = -8
r2 += r10
r3 = 1
*(u64 *)(r2 + 0) = r3
r0 = 0
exit

### ptr-mul
# expect: reject PointerArithmetic
r1 *= 2
r0 = 0
exit

### ptr-and
# expect: reject PointerArithmetic
r1 &= 0xff
r0 = 0
exit

### ptr-32bit-add
# expect: reject PointerArithmetic
w1 += 1
r0 = 0
exit

### ptr-neg
# expect: accept
# expect-cap: reject PointerArithmetic
r2 = r10
r2 = -r2
r0 = 0
exit

### ptr-bswap
# expect: accept
# expect-cap: reject PointerArithmetic
r2 = r10
r2 = be64 r2
r0 = 0
exit

### ptr-compare-ptr
# expect: accept
# expect-cap: reject PointerComparison
r2 = r10
r0 = 0
if r1 == r2 goto +1
r0 = 1
exit

### ptr-compare-scalar-reg
# expect-cap: reject PointerComparison
# expect: accept
r2 = 5
r0 = 0
if r1 > r2 goto +1
r0 = 1
exit

### ptr-compare-null-stack
# expect-cap: reject PointerComparison
# expect: accept
r0 = 0
if r10 == 0 goto +1
r0 = 1
exit

### ptr-stack-null-branch-not-dead
# expect-cap: reject PointerComparison
# expect: reject UninitializedRegister
r0 = 0
if r10 != 0 goto +1
r0 = r9
exit

### ptr-huge-offset
# expect: reject PointerArithmetic
r2 = r10
r2 += 0x20000000
r0 = 0
exit

### ptr-stack-out-of-range-arith
# expect: accept
# expect-cap: reject PointerArithmetic
r2 = r10
r2 += 8
r0 = 0
exit

### ptr-spill-ctx-to-stack-and-use
# expect: accept
*(u64 *)(r10 - 16) = r1
r6 = *(u64 *)(r10 - 16)
r0 = *(u32 *)(r6 + 4)
exit

### ptr-store-into-ctx-cb
# expect: accept
# expect-cap: reject PointerLeak
*(u32 *)(r1 + 48) = r10
r0 = 0
exit

### ptr-stack-var-add-mixed-sign
# expect: accept
# expect-cap: reject PointerArithmetic
call 7
r0 &= 0xf
r0 -= 8
r1 = r10
r1 += -16
r1 += r0
r0 = 0
exit

### ptr-scalar-unbounded-add-map
# expect: reject PointerArithmetic
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +3
r6 = r0
call 7
r6 += r0
r0 = 0
exit

### ptr-map-value-arith-out-of-range
# expect: accept
# expect-cap: reject PointerArithmetic
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +1
r0 += 16
r0 = 0
exit

### ptr-movsx
# expect: accept
# expect-cap: reject PointerLeak
r0 = (s32)r10
r0 = 0
exit
