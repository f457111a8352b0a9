### helper-uid-gid-kprobe
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
call 15
exit

### helper-uid-gid-cgroup-skb
# expect: accept
.type cgroup_skb
call 15
r0 = 1
exit

### helper-uid-gid-socketfilter
# expect: accept
call 15
exit

### helper-uid-gid-xdp
# expect: accept
.type xdp
call 15
exit

### helper-current-task-kprobe
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
call 35
exit

### helper-current-task-xdp
# expect: accept
# expect-cap: reject UnknownHelper
.type xdp
call 35
r0 = 2
exit

### helper-current-task-probe-read-kernel
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
call 35
r3 = r0
r3 += 16
r1 = r10
r1 += -8
r2 = 8
call 113
r0 = *(u64 *)(r10 - 8)
exit

### helper-probe-read-kernel-size-past-buffer
# expect-cap: reject PermissionDenied
# expect: reject InvalidStackAccess
.type kprobe
r1 = r10
r1 += -8
r2 = 16
r3 = 0
call 113
r0 = 0
exit

### helper-xdp-adjust-meta
# expect: accept
.type xdp
r6 = r1
r2 = -8
call 54
r0 = 2
exit

### helper-xdp-adjust-meta-invalidates-packet
# expect: reject InvalidMemoryAccess
.type xdp
r6 = r1
r7 = *(u32 *)(r6 + 0)
r8 = *(u32 *)(r6 + 4)
r9 = r7
r9 += 1
if r9 > r8 goto +5
r1 = r6
r2 = -8
call 54
r0 = *(u8 *)(r7 + 0)
exit
r0 = 2
exit

### helper-xdp-adjust-meta-tc
# expect: reject UnknownHelper
.type sched_cls
r2 = -8
call 54
r0 = 0
exit

### helper-map-push
# expect: accept
.map q queue key=0 value=8 entries=16
*(u64 *)(r10 - 8) = 7
r1 = map:q ll
r2 = r10
r2 += -8
r3 = 0
call 87
exit

### helper-map-push-uninit-value
# expect: accept
# expect-cap: reject InvalidStackAccess
.map q queue key=0 value=16 entries=16
*(u64 *)(r10 - 16) = 7
r1 = map:q ll
r2 = r10
r2 += -16
r3 = 0
call 87
exit

### helper-map-push-hash
# expect: reject InvalidMap
.map h hash key=4 value=8 entries=16
*(u64 *)(r10 - 8) = 7
r1 = map:h ll
r2 = r10
r2 += -8
r3 = 0
call 87
exit

### helper-map-push-bloom
# expect: accept
.map b bloom_filter key=0 value=8 entries=16
*(u64 *)(r10 - 8) = 7
r1 = map:b ll
r2 = r10
r2 += -8
r3 = 0
call 87
exit

### helper-map-pop-uninit-stack
# expect: accept
.map s stack key=0 value=8 entries=16
r1 = map:s ll
r2 = r10
r2 += -8
call 88
if r0 != 0 goto +1
r0 = *(u64 *)(r10 - 8)
exit

### helper-map-pop-too-small
# expect: reject InvalidStackAccess
.map q queue key=0 value=16 entries=16
r1 = map:q ll
r2 = r10
r2 += -8
call 88
r0 = 0
exit

### helper-map-pop-bloom
# expect: reject InvalidMap
.map b bloom_filter key=0 value=8 entries=16
r1 = map:b ll
r2 = r10
r2 += -8
call 88
r0 = 0
exit

### helper-map-peek-into-map-value
# expect: accept
.map q queue key=0 value=8 entries=16
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +4
r2 = r0
r2 += 8
r1 = map:q ll
call 89
r0 = 0
exit

### helper-map-peek-map-value-past-end
# expect: reject MapValueOutOfBounds
.map q queue key=0 value=8 entries=16
.map a array key=4 value=16 entries=1
*(u32 *)(r10 - 4) = 0
r1 = map:a ll
r2 = r10
r2 += -4
call 1
if r0 == 0 goto +4
r2 = r0
r2 += 12
r1 = map:q ll
call 89
r0 = 0
exit

### helper-map-lookup-queue
# expect: reject InvalidHelperArgument
# A queue has no keys: the key argument is a zero-sized read, refused before the map type is (as the kernel does).
.map q queue key=0 value=8 entries=16
r1 = map:q ll
r2 = r10
r2 += -8
*(u64 *)(r10 - 8) = 0
call 1
r0 = 0
exit

### helper-ringbuf-query
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 0
call 134
exit

### helper-ringbuf-query-hash
# expect: reject InvalidMap
.map h hash key=4 value=8 entries=16
r1 = map:h ll
r2 = 0
call 134
exit

### helper-loop-scalar-callback
# expect: reject InvalidHelperArgument
r1 = 4
r2 = 0
r3 = 0
r4 = 0
call 181
exit


### helper-value-narrow-spill-slot
# expect: accept
# expect-cap: reject InvalidStackAccess
.map h hash key=4 value=8 entries=16
*(u32 *)(r10 - 8) = 7
*(u32 *)(r10 - 12) = 7
r1 = map:h ll
r2 = r10
r2 += -12
r3 = r10
r3 += -8
r4 = 0
call 2
exit
