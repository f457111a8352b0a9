### skb-len-read
# expect: accept
r0 = *(u32 *)(r1 + 0)
exit

### skb-len-narrow-byte
# expect: accept
r0 = *(u8 *)(r1 + 0)
exit

### skb-len-narrow-half-hi
# expect: accept
r0 = *(u16 *)(r1 + 2)
exit

### skb-len-8-byte
# expect: reject InvalidContextAccess
r0 = *(u64 *)(r1 + 0)
exit

### skb-misaligned
# expect: reject InvalidContextAccess
r0 = *(u32 *)(r1 + 2)
exit

### skb-past-end
# expect: reject InvalidContextAccess
r0 = *(u32 *)(r1 + 192)
exit

### skb-negative-off
# expect: reject InvalidContextAccess
r0 = *(u32 *)(r1 - 4)
exit

### skb-write-len
# expect: reject InvalidContextAccess
r2 = 1
*(u32 *)(r1 + 0) = r2
r0 = 0
exit

### skb-write-cb
# expect: accept
r2 = 1
*(u32 *)(r1 + 48) = r2
r0 = 0
exit

### skb-write-cb-64
# expect: accept
r2 = 1
*(u64 *)(r1 + 56) = r2
r0 = 0
exit

### skb-st-imm-cb
# expect: accept
*(u32 *)(r1 + 48) = 1
r0 = 0
exit

### skb-write-mark-socketfilter
# expect: reject InvalidContextAccess
r2 = 1
*(u32 *)(r1 + 8) = r2
r0 = 0
exit

### skb-data-socketfilter
# expect: reject InvalidContextAccess
r0 = *(u32 *)(r1 + 76)
exit

### skb-family-socketfilter
# expect: reject InvalidContextAccess
r0 = *(u32 *)(r1 + 88)
exit

### skb-protocol-read
# expect: accept
r0 = *(u32 *)(r1 + 16)
exit

### skb-cb-read
# expect: accept
r0 = *(u32 *)(r1 + 64)
exit

### skb-cb-read-past
# expect: reject InvalidContextAccess
r0 = *(u64 *)(r1 + 64)
exit

### ctx-modified-ptr
# expect: reject InvalidContextAccess
r1 += 4
r0 = *(u32 *)(r1 + 0)
exit

### ctx-var-offset
# expect: reject InvalidContextAccess
r6 = r1
call 7
r0 &= 4
r6 += r0
r0 = *(u32 *)(r6 + 0)
exit

### tc-write-mark
# expect: accept
.type sched_cls
r2 = 1
*(u32 *)(r1 + 8) = r2
r0 = 0
exit

### tc-write-priority
# expect: accept
.type sched_cls
r2 = 1
*(u32 *)(r1 + 32) = r2
r0 = 0
exit

### tc-write-len
# expect: reject InvalidContextAccess
.type sched_cls
r2 = 1
*(u32 *)(r1 + 0) = r2
r0 = 0
exit

### tc-read-data
# expect: accept
.type sched_cls
r2 = *(u32 *)(r1 + 76)
r0 = 0
exit

### tc-read-data-half
# expect: reject InvalidContextAccess
.type sched_cls
r2 = *(u16 *)(r1 + 76)
r0 = 0
exit

### tc-read-tstamp
# expect: accept
.type sched_cls
r0 = *(u64 *)(r1 + 152)
exit

### tc-read-family
# expect: reject InvalidContextAccess
.type sched_cls
r0 = *(u32 *)(r1 + 88)
exit

### xdp-read-data
# expect: accept
.type xdp
r2 = *(u32 *)(r1 + 0)
r0 = 2
exit

### xdp-read-ifindex
# expect: accept
.type xdp
r0 = *(u32 *)(r1 + 12)
exit

### xdp-read-narrow
# expect: reject InvalidContextAccess
.type xdp
r0 = *(u16 *)(r1 + 12)
exit

### xdp-read-egress
# expect: reject InvalidContextAccess
.type xdp
r0 = *(u32 *)(r1 + 20)
exit

### xdp-write-ctx
# expect: reject InvalidContextAccess
.type xdp
r2 = 0
*(u32 *)(r1 + 12) = r2
r0 = 2
exit

### xdp-past-end
# expect: reject InvalidContextAccess
.type xdp
r0 = *(u32 *)(r1 + 24)
exit

### tracepoint-read-field
# expect-cap: reject PermissionDenied
# expect: accept
.type tracepoint
r0 = *(u64 *)(r1 + 8)
exit

### tracepoint-read-header
# expect-cap: reject PermissionDenied
# expect: reject InvalidContextAccess
.type tracepoint
r0 = *(u64 *)(r1 + 0)
exit

### tracepoint-write
# expect-cap: reject PermissionDenied
# expect: reject InvalidContextAccess
.type tracepoint
r2 = 0
*(u64 *)(r1 + 8) = r2
r0 = 0
exit

### kprobe-read-reg
# expect-cap: reject PermissionDenied
# expect: accept
.type kprobe
r0 = *(u64 *)(r1 + 112)
exit

### kprobe-read-past
# expect-cap: reject PermissionDenied
# expect: reject InvalidContextAccess
.type kprobe
r0 = *(u64 *)(r1 + 168)
exit

### ctx-negative-offset-load
# expect: reject InvalidContextAccess
# A context pointer moved back: refused as "negative offset", before "modified" (the kernel's __check_ptr_off_reg).
r1 += -4
r0 = *(u32 *)(r1 + 0)
exit

### cgroup-skb-return-2
# expect: reject InvalidReturnValue
.type cgroup_skb
r0 = 2
exit

### cgroup-skb-return-1
# expect: accept
.type cgroup_skb
r0 = 1
exit

### cgroup-skb-return-unknown
# expect: reject InvalidReturnValue
.type cgroup_skb
call 7
exit

### cgroup-skb-return-pointer
# expect: reject InvalidReturnValue
# expect-cap: reject PointerLeak
# A pointer is no return code: refused before its range is looked at ("R0 is not a known value (ctx)"); without
# CAP_PERFMON, earlier still, as a leak ("R0 leaks addr as return value").
.type cgroup_skb
r0 = r1
exit

### cgroup-skb-return-masked
# expect: accept
.type cgroup_skb
call 7
r0 &= 1
exit

### cgroup-skb-write-mark
# expect: accept
.type cgroup_skb
r2 = 1
*(u32 *)(r1 + 8) = r2
r0 = 1
exit

### socket-filter-return-any
# expect: accept
r0 = -1
exit

### xdp-return-any
# expect: accept
.type xdp
r0 = 99
exit

### deref-scalar
# expect: reject InvalidMemoryAccess
r1 = 0
r0 = *(u32 *)(r1 + 0)
exit

### deref-uninit
# expect: reject UninitializedRegister
r0 = *(u32 *)(r3 + 0)
exit
