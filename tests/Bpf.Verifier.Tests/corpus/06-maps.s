### map-lookup-null-checked
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 + 0)
exit

### map-lookup-not-null-checked
# expect: reject InvalidMemoryAccess
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r0 = *(u64 *)(r0 + 0)
exit

### map-lookup-jgt-not-null-check
# expect: reject InvalidMemoryAccess
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 > 0 goto +1
exit
r0 = *(u64 *)(r0 + 0)
exit

### map-lookup-jne-null-check
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 != 0 goto +1
exit
r0 = *(u64 *)(r0 + 0)
exit

### map-value-read-past-end
# expect: reject MapValueOutOfBounds
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 + 4)
exit

### map-value-write
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +2
r1 = 5
*(u64 *)(r0 + 0) = r1
r0 = 0
exit

### map-value-negative-off
# expect: reject MapValueOutOfBounds
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +1
r0 = *(u8 *)(r0 - 1)
exit

### map-key-uninit
# expect: accept
# expect-cap: reject InvalidStackAccess
.map h hash key=4 value=8 entries=16
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r0 = 0
exit

### map-key-too-big-for-stack
# expect: reject InvalidStackAccess
.map h hash key=16 value=8 entries=16
*(u64 *)(r10 - 8) = 0
r1 = map:h ll
r2 = r10
r2 += -8
call 1
r0 = 0
exit

### map-key-scalar
# expect: reject InvalidHelperArgument
.map h hash key=4 value=8 entries=16
r1 = map:h ll
r2 = 0
call 1
r0 = 0
exit

### map-arg-not-map
# expect: reject InvalidHelperArgument
*(u32 *)(r10 - 4) = 0
r1 = 0
r2 = r10
r2 += -4
call 1
r0 = 0
exit

### map-index-in-range
# expect: accept
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
r1 &= 7
r0 += r1
r0 = *(u8 *)(r0 + 8)
exit
r0 = 0
exit

### map-index-checked-jlt
# expect: accept
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
if r1 >= 16 goto +5
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit
r0 = 1
exit

### map-index-off-by-one
# expect: reject MapValueOutOfBounds
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
if r1 > 16 goto +5
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit
r0 = 1
exit

### map-index-unbounded
# expect: reject UnboundedAccess
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +4
r1 = *(u32 *)(r0 + 0)
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit

### map-index-signed-unbounded-min
# expect: reject PointerArithmetic
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
if r1 s> 15 goto +5
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit
r0 = 1
exit

### map-index-signed-checked
# expect: accept
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +6
r1 = *(u64 *)(r0 + 0)
if r1 s> 15 goto +6
if r1 s< 0 goto +5
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit
r0 = 1
exit

### map-index-via-copy-id
# expect: accept
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +6
r1 = *(u64 *)(r0 + 0)
r2 = r1
if r2 >= 16 goto +5
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit
r0 = 1
exit

### map-index-mod-no-bound
# expect: reject PointerArithmetic
.map h hash key=4 value=16 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 + 0)
r1 %= 8
r0 += r1
r0 = *(u8 *)(r0 + 0)
exit
r0 = 0
exit

### array-const-key-unaligned-slot-needs-check
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=4
*(u32 *)(r10 - 4) = 2
r1 = map:a ll
r2 = r10
r2 += -4
call 1
r0 = *(u64 *)(r0 + 0)
exit

### array-out-of-range-key-needs-check
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=4
*(u32 *)(r10 - 4) = 4
r1 = map:a ll
r2 = r10
r2 += -4
call 1
r0 = *(u64 *)(r0 + 0)
exit

### array-var-key-needs-check
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=4
call 7
*(u32 *)(r10 - 4) = r0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
r0 = *(u64 *)(r0 + 0)
exit

### map-update
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 1
*(u64 *)(r10 - 16) = 2
r1 = map:h ll
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call 2
exit

### map-update-value-uninit
# expect: accept
# expect-cap: reject InvalidStackAccess
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 1
r1 = map:h ll
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call 2
exit

### map-delete
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 1
r1 = map:h ll
r2 = r10
r2 += -4
call 3
exit

### map-value-store-pointer
# expect: accept
# expect-cap: reject PointerLeak
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +1
*(u64 *)(r0 + 0) = r10
r0 = 0
exit

### map-ptr-arith
# expect: reject PointerArithmetic
.map h hash key=4 value=8 entries=16
r1 = map:h ll
r1 += 8
r0 = 0
exit

### map-ptr-deref
# Root reads struct bpf_htab through the map pointer with the kernel's BTF (on 6.18 offset 0 is bpf_map.sha[],
# bytes); without CAP_PERFMON the kernel refuses (check_ptr_to_map_access). More in 15-map-ptr.s.
# needs: kernel-btf
# expect: accept
# expect-cap: reject PermissionDenied
.map h hash key=4 value=8 entries=16
r1 = map:h ll
r0 = *(u64 *)(r1 + 0)
exit

### map-or-null-arith
# expect: reject PointerArithmetic
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r0 += 4
r0 = 0
exit

### map-null-copy-checked
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
r6 = r0
if r0 == 0 goto +2
r0 = *(u64 *)(r6 + 0)
exit
r0 = 0
exit

### map-direct-value
# expect: accept
.map g array key=4 value=16 entries=1
r1 = map_value:g+8 ll
r0 = *(u64 *)(r1 + 0)
exit

### map-direct-value-past-end
# expect: reject MapValueOutOfBounds
.map g array key=4 value=16 entries=1
r1 = map_value:g+12 ll
r0 = *(u64 *)(r1 + 0)
exit

### map-lookup-percpu-array
# expect: accept
.map p percpu_array key=4 value=8 entries=2
*(u32 *)(r10 - 4) = 0
r1 = map:p ll
r2 = r10
r2 += -4
call 1
r0 = *(u64 *)(r0 + 0)
exit

### map-lookup-lru-hash
# expect: accept
.map l lru_hash key=8 value=8 entries=16
*(u64 *)(r10 - 8) = 0
r1 = map:l ll
r2 = r10
r2 += -8
call 1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 + 0)
exit

### map-key-in-map-value
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +4
r2 = r0
r1 = map:h ll
call 1
r0 = 0
exit

### array-const-key-no-null-check
# expect: accept
.map a array key=4 value=8 entries=4
*(u32 *)(r10 - 8) = 2
r1 = map:a ll
r2 = r10
r2 += -8
call 1
r0 = *(u64 *)(r0 + 0)
exit

### array-const-key-reg-spill
# expect: reject InvalidMemoryAccess
.map a array key=4 value=8 entries=4
r1 = 3
*(u64 *)(r10 - 8) = r1
r1 = map:a ll
r2 = r10
r2 += -8
call 1
r0 = *(u64 *)(r0 + 0)
exit
