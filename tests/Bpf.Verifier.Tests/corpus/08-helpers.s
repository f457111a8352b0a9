### helper-unknown-id
# expect: reject UnknownHelper
call 100000
r0 = 0
exit

### helper-id-zero
# expect: reject UnknownHelper
call 0
r0 = 0
exit

### helper-ktime
# expect: accept
call 5
exit

### helper-prandom
# expect: accept
call 7
exit

### helper-smp-id
# expect: accept
call 8
exit

### helper-boot-ns
# expect: accept
call 125
exit

### helper-trace-printk
# expect: accept
# expect-cap: reject UnknownHelper
*(u32 *)(r10 - 8) = 0x0a6968
r1 = r10
r1 += -8
r2 = 4
call 6
r0 = 0
exit

### helper-trace-printk-size-zero
# expect-cap: reject UnknownHelper
# expect: reject InvalidHelperArgument
*(u32 *)(r10 - 8) = 0x0a6968
r1 = r10
r1 += -8
r2 = 0
call 6
r0 = 0
exit

### helper-trace-printk-too-big
# expect-cap: reject UnknownHelper
# expect: reject InvalidStackAccess
*(u32 *)(r10 - 8) = 0x0a6968
r1 = r10
r1 += -8
r2 = 16
call 6
r0 = 0
exit

### helper-trace-printk-unbounded-size
# expect: reject InvalidHelperArgument
# expect-cap: reject UnknownHelper
*(u64 *)(r10 - 8) = 0
call 7
r2 = r0
r1 = r10
r1 += -8
call 6
r0 = 0
exit

### helper-trace-printk-bounded-size
# expect: accept
# expect-cap: reject UnknownHelper
*(u64 *)(r10 - 8) = 0
call 7
r2 = r0
r2 &= 7
r2 += 1
r1 = r10
r1 += -8
call 6
r0 = 0
exit

### helper-redirect-xdp
# expect: accept
.type xdp
r1 = 1
r2 = 0
call 23
exit

### helper-redirect-socketfilter
# expect: reject UnknownHelper
r1 = 1
r2 = 0
call 23
exit

### helper-csum-diff-xdp
# expect: accept
.type xdp
*(u64 *)(r10 - 8) = 0
r1 = 0
r2 = 0
r3 = r10
r3 += -8
r4 = 8
r5 = 0
call 28
exit

### helper-csum-diff-socketfilter
# expect: reject UnknownHelper
*(u64 *)(r10 - 8) = 0
r1 = 0
r2 = 0
r3 = r10
r3 += -8
r4 = 8
r5 = 0
call 28
exit

### helper-skb-load-bytes
# expect: accept
r2 = 0
r3 = r10
r3 += -8
r4 = 8
call 26
r0 = *(u64 *)(r10 - 8)
exit

### helper-skb-load-bytes-bad-ctx
# expect: reject InvalidHelperArgument
r1 = r10
r2 = 0
r3 = r10
r3 += -8
r4 = 8
call 26
r0 = 0
exit

### helper-skb-store-bytes-tc
# expect: accept
.type sched_cls
*(u32 *)(r10 - 4) = 0
r2 = 0
r3 = r10
r3 += -4
r4 = 4
r5 = 0
call 9
r0 = 0
exit

### helper-l3-csum-replace
# expect: accept
.type sched_cls
r2 = 24
r3 = 0
r4 = 0
r5 = 2
call 10
r0 = 0
exit

### helper-get-pid-tgid-socketfilter
# expect: accept
call 14
exit

### helper-get-pid-tgid-tracepoint
# expect-cap: reject PermissionDenied
# expect: accept
.type tracepoint
call 14
exit

### helper-get-comm-kprobe
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
r1 = r10
r1 += -16
r2 = 16
call 16
r0 = 0
exit

### helper-tail-call
# expect: accept
.map progs prog_array key=4 value=4 entries=4
r2 = map:progs ll
r3 = 0
call 12
r0 = 0
exit

### helper-tail-call-wrong-map
# expect: reject InvalidMap
.map h hash key=4 value=4 entries=4
r2 = map:h ll
r3 = 0
call 12
r0 = 0
exit

### helper-tail-call-r0-after
# expect: reject UninitializedRegister
.map progs prog_array key=4 value=4 entries=4
r2 = map:progs ll
r3 = 0
call 12
exit

### helper-lookup-prog-array
# expect: reject InvalidMap
.map progs prog_array key=4 value=4 entries=4
*(u32 *)(r10 - 4) = 0
r1 = map:progs ll
r2 = r10
r2 += -4
call 1
r0 = 0
exit

### ringbuf-reserve-submit
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +5
r1 = 1
*(u64 *)(r0 + 0) = r1
r1 = r0
r2 = 0
call 132
r0 = 0
exit

### ringbuf-reserve-leak
# expect: reject UnreleasedReference
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +1
r0 = 0
r0 = 0
exit

### ringbuf-reserve-discard
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 16
r3 = 0
call 131
if r0 == 0 goto +3
r1 = r0
r2 = 0
call 133
r0 = 0
exit

### ringbuf-write-past-reservation
# expect: reject MemoryOutOfBounds
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +5
r1 = 1
*(u64 *)(r0 + 8) = r1
r1 = r0
r2 = 0
call 132
r0 = 0
exit

### ringbuf-use-after-submit
# expect: reject InvalidMemoryAccess
# expect-cap: reject UninitializedRegister
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
if r0 == 0 goto +5
r6 = r0
r1 = r0
r2 = 0
call 132
r0 = *(u64 *)(r6 + 0)
r0 = 0
exit

### ringbuf-reserve-var-size
# expect: reject InvalidHelperArgument
.map rb ringbuf key=0 value=0 entries=4096
call 7
r2 = r0
r2 &= 0xff
r1 = map:rb ll
r3 = 0
call 131
if r0 == 0 goto +3
r1 = r0
r2 = 0
call 133
r0 = 0
exit

### ringbuf-submit-null-unchecked
# expect: reject InvalidHelperArgument
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 8
r3 = 0
call 131
r1 = r0
r2 = 0
call 132
r0 = 0
exit

### ringbuf-output
# expect: accept
.map rb ringbuf key=0 value=0 entries=4096
*(u64 *)(r10 - 8) = 0
r1 = map:rb ll
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call 130
exit

### ringbuf-lookup-wrong
# expect: reject InvalidHelperArgument
# A ringbuf has no keys: the key argument is a zero-sized read, refused before the map type is (as the kernel does).
.map rb ringbuf key=0 value=0 entries=4096
*(u32 *)(r10 - 4) = 0
r1 = map:rb ll
r2 = r10
r2 += -4
call 1
r0 = 0
exit

### perf-event-output
# expect: accept
.map ev perf_event_array key=4 value=4 entries=4
*(u64 *)(r10 - 8) = 0
r2 = map:ev ll
r3 = 0xffffffff ll
r4 = r10
r4 += -8
r5 = 8
call 25
r0 = 0
exit

### helper-arg-pointer-leak
# expect: accept
# expect-cap: reject PointerLeak
.type xdp
r2 = 0
r1 = r10
call 23
exit

### helper-arg-uninit
# expect: reject UninitializedRegister
.type xdp
r1 = 1
call 23
exit

### helper-stack-var-offset-at-limit
# expect: reject InvalidStackAccess
# A stack pointer whose variable offset reaches 1 << 29 is "unbounded" for a helper (the kernel's limit, inclusive).
.type kprobe
r6 = *(u64 *)(r1 + 0)
r6 &= 0x20000000
r1 = r10
r1 += -8
r1 += r6
r2 = 8
r3 = 0
call 4
r0 = 0
exit

### ringbuf-submit-moved-record
# expect: reject InvalidHelperArgument
# A ringbuf record must be released through the pointer reserve returned, not one moved into it (the kernel's
# "must have zero offset when passed to release func").
.map rb ringbuf key=0 value=0 entries=4096
r1 = map:rb ll
r2 = 16
r3 = 0
call 131
if r0 == 0 goto out
r1 = r0
r1 += 8
r2 = 0
call 132
out: r0 = 0
exit
