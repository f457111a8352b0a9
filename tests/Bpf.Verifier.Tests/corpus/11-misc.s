### atomic-add-stack
# expect: accept
*(u64 *)(r10 - 8) = 0
r1 = 1
lock *(u64 *)(r10 - 8) += r1
r0 = *(u64 *)(r10 - 8)
exit

### atomic-fetch-add-stack
# expect: accept
*(u64 *)(r10 - 8) = 0
r1 = 1
r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
r0 = r1
exit

### atomic-uninit-stack
# expect: accept
# expect-cap: reject InvalidStackAccess
r1 = 1
lock *(u64 *)(r10 - 8) += r1
r0 = 0
exit

### atomic-cmpxchg-stack
# expect: accept
*(u64 *)(r10 - 8) = 0
r0 = 0
r1 = 5
r0 = cmpxchg_64(r10 - 8, r0, r1)
exit

### atomic-cmpxchg-no-r0
# expect: reject UninitializedRegister
*(u64 *)(r10 - 8) = 0
r1 = 5
r0 = cmpxchg_64(r10 - 8, r0, r1)
exit

### atomic-xchg32
# expect: accept
*(u32 *)(r10 - 4) = 0
w1 = 5
w1 = xchg32_32(r10 - 4, w1)
r0 = r1
exit

### atomic-ctx
# expect: reject InvalidMemoryAccess
r2 = 1
lock *(u32 *)(r1 + 48) += r2
r0 = 0
exit

### atomic-map-value
# expect: accept
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 4) = 0
r1 = map:h ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +2
r1 = 1
lock *(u64 *)(r0 + 0) += r1
r0 = 0
exit

### atomic-bad-op
# expect: reject ReservedField
*(u64 *)(r10 - 8) = 0
r1 = 1
.insn 0x00000002fff81adb
r0 = 0
exit

### ldabs-socketfilter
# expect: accept
r6 = r1
r0 = *(u8 *)skb[12]
exit

### ldabs-without-r6
# expect: reject UninitializedRegister
r0 = *(u8 *)skb[12]
exit

### ldabs-r6-not-ctx
# expect: reject InvalidContextAccess
r6 = r10
r0 = *(u8 *)skb[12]
exit

### ldabs-xdp
# expect: reject InvalidContextAccess
.type xdp
r6 = r1
r0 = *(u8 *)skb[12]
exit

### ldind-clobbers-r1
# expect: reject UninitializedRegister
r6 = r1
r2 = 4
r0 = *(u16 *)skb[r2 + 12]
r0 = r1
exit

### ldx-reserved-imm
# expect: reject ReservedField
r0 = 0
.insn 0x0000000100001061
exit

### ldx-sign-extend
# expect: accept
r0 = *(s8 *)(r1 + 0)
exit

### st-reserved-src
# expect: reject ReservedField
.insn 0x00000000fff81a7a
r0 = 0
exit

### big-straight-line
# expect: accept
r0 = 0
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
r0 += 1
exit

### gpl-helper-ok
# expect-cap: reject PermissionDenied
# expect: accept
.type tracepoint
*(u32 *)(r10 - 8) = 0x0a6968
r1 = r10
r1 += -8
r2 = 4
call 6
r0 = 0
exit

### tracepoint-probe-pid
# expect-cap: reject PermissionDenied
# expect: accept
.type tracepoint
call 14
r0 >>= 32
exit

### xdp-ret-pkt-pointer
# expect: accept
# expect-cap: reject PointerLeak
.type xdp
r0 = *(u32 *)(r1 + 0)
exit

### kprobe-return
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
r0 = 0
exit
