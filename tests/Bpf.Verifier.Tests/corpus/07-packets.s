### xdp-pkt-checked-read
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 14
if r4 > r3 goto +1
r0 = *(u8 *)(r2 + 13)
r0 = 2
exit

### xdp-pkt-unchecked-read
# expect: reject PacketOutOfBounds
.type xdp
r2 = *(u32 *)(r1 + 0)
r0 = *(u8 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-read-past-check
# expect: reject PacketOutOfBounds
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 14
if r4 > r3 goto +1
r0 = *(u8 *)(r2 + 14)
r0 = 2
exit

### xdp-pkt-check-wrong-branch
# expect: reject PacketOutOfBounds
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 14
if r4 <= r3 goto +1
r0 = *(u8 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-check-reversed-operands
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r3 < r4 goto +1
r0 = *(u64 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-check-jlt-taken
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 <= r3 goto +2
r0 = 1
exit
r0 = *(u64 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-strict-lt-last-byte
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 < r3 goto +2
r0 = 1
exit
r0 = *(u64 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-strict-lt-shorter
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 < r3 goto +2
r0 = 1
exit
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-jge-fallthrough
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 >= r3 goto +1
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-write
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 4
if r4 > r3 goto +1
*(u32 *)(r2 + 0) = 0
r0 = 2
exit

### xdp-pkt-var-offset-checked
# expect-cap: reject PointerArithmetic
# expect: accept
.type xdp
r6 = r1
call 7
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r0 &= 0xff
r2 += r0
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-var-offset-unbounded
# expect: reject PointerArithmetic
.type xdp
r6 = r1
call 7
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r2 += r0
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-var-checked-old-ptr
# expect: reject PacketOutOfBounds
.type xdp
r6 = r1
call 7
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r0 &= 0xff
r5 = r2
r2 += r0
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r5 + 0)
r0 = 2
exit

### xdp-pkt-end-deref
# expect: reject InvalidMemoryAccess
.type xdp
r3 = *(u32 *)(r1 + 4)
r0 = *(u8 *)(r3 + 0)
exit

### xdp-pkt-end-arith
# expect: reject PointerArithmetic
.type xdp
r3 = *(u32 *)(r1 + 4)
r3 += 1
r0 = 2
exit

### xdp-pkt-after-adjust-head
# expect: reject InvalidMemoryAccess
.type xdp
r6 = r1
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto +5
r1 = r6
r7 = r2
r2 = 0
call 44
r0 = *(u8 *)(r7 + 0)
r0 = 2
exit

### xdp-pkt-reload-after-adjust-head
# expect: accept
.type xdp
r6 = r1
r1 = r6
r2 = -14
call 44
r2 = *(u32 *)(r6 + 0)
r3 = *(u32 *)(r6 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto +1
r0 = *(u8 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-ptr-sub
# expect: accept
# expect-cap: reject PointerArithmetic
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r3 -= r2
r0 = r3
exit

### xdp-pkt-meta-read
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 8)
r3 = *(u32 *)(r1 + 0)
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-negative-off
# expect: reject PacketOutOfBounds
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 > r3 goto +1
r0 = *(u8 *)(r2 - 1)
r0 = 2
exit

### tc-pkt-checked-read
# expect: accept
.type sched_cls
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 14
if r4 > r3 goto +1
r0 = *(u16 *)(r2 + 12)
r0 = 0
exit

### tc-pkt-write-checked
# expect: accept
.type sched_cls
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 2
if r4 > r3 goto +2
r5 = 1
*(u16 *)(r2 + 0) = r5
r0 = 0
exit

### tc-pkt-after-pull-data
# expect: reject InvalidMemoryAccess
.type sched_cls
r6 = r1
r7 = *(u32 *)(r6 + 76)
r3 = *(u32 *)(r6 + 80)
r4 = r7
r4 += 2
if r4 > r3 goto +4
r1 = r6
r2 = 0
call 39
r0 = *(u8 *)(r7 + 0)
r0 = 0
exit

### cgroup-skb-pkt-read
# expect: accept
.type cgroup_skb
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 1
if r4 > r3 goto +1
r0 = *(u8 *)(r2 + 0)
r0 = 1
exit

### cgroup-skb-pkt-write
# expect: reject PacketOutOfBounds
.type cgroup_skb
r2 = *(u32 *)(r1 + 76)
r3 = *(u32 *)(r1 + 80)
r4 = r2
r4 += 1
if r4 > r3 goto +1
*(u8 *)(r2 + 0) = 0
r0 = 1
exit

### xdp-pkt-compare-pointer-32bit
# expect: reject PacketOutOfBounds
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if w4 > w3 goto +1
r0 = *(u8 *)(r2 + 0)
r0 = 2
exit

### xdp-pkt-two-checks-larger-wins
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 4
if r4 > r3 goto +7
r4 = r2
r4 += 20
if r4 > r3 goto +3
r0 = *(u32 *)(r2 + 16)
r0 = 2
exit
r0 = *(u32 *)(r2 + 0)
r0 = 1
exit

### xdp-pkt-strict-lt-byte-at-off
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 8
if r4 < r3 goto +2
r0 = 1
exit
r0 = *(u8 *)(r2 + 8)
r0 = 2
exit
