# Helpers real objects call that the table lacked (issue 17: libbpf-bootstrap, xdp-tutorial): bpf_fib_lookup (69,
# tc and XDP), bpf_get_stack (67, tracing), bpf_get_ns_current_pid_tgid (120, tracing). Verifier-only: the managed
# runtime does not implement them (a call there is an unknown-helper fault).

### fib-lookup-xdp
# The 64-byte struct bpf_fib_lookup on the stack, initialised, flags 0.
# expect: accept
# expect-cap: accept
.type xdp
r6 = r1
r2 = 0
*(u64 *)(r10 - 8) = r2
*(u64 *)(r10 - 16) = r2
*(u64 *)(r10 - 24) = r2
*(u64 *)(r10 - 32) = r2
*(u64 *)(r10 - 40) = r2
*(u64 *)(r10 - 48) = r2
*(u64 *)(r10 - 56) = r2
*(u64 *)(r10 - 64) = r2
r1 = r6
r2 = r10
r2 += -64
r3 = 64
r4 = 0
call 69
r0 = 2
exit

### fib-lookup-uninitialised-params
# The kernel reads the parameters: uninitialised stack is allowed only with CAP_PERFMON (allow_uninit_stack).
# expect: accept
# expect-cap: reject InvalidStackAccess
.type xdp
r2 = r10
r2 += -64
r3 = 64
r4 = 0
call 69
r0 = 2
exit

### fib-lookup-socket-filter
# Not offered to socket filters.
# expect: reject UnknownHelper
# expect-cap: reject UnknownHelper
.type socket_filter
r2 = 0
*(u64 *)(r10 - 8) = r2
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call 69
r0 = 0
exit

### get-stack-kprobe
# An uninitialised stack buffer is fine: the helper writes it.
# expect: accept
# expect-cap: reject PermissionDenied
.type kprobe
r2 = r10
r2 += -64
r3 = 64
r4 = 0
call 67
r0 = 0
exit

### get-stack-past-the-buffer
# expect: reject InvalidStackAccess
# expect-cap: reject PermissionDenied
.type kprobe
r2 = r10
r2 += -16
r3 = 64
r4 = 0
call 67
r0 = 0
exit

### get-stack-xdp
# expect: reject UnknownHelper
# expect-cap: reject UnknownHelper
.type xdp
r2 = r10
r2 += -64
r3 = 64
r4 = 0
call 67
r0 = 2
exit

### get-ns-current-pid-tgid-kprobe
# struct bpf_pidns_info (8 bytes) written by the helper.
# expect: accept
# expect-cap: reject PermissionDenied
.type kprobe
r1 = 4
r2 = 4026531836
r3 = r10
r3 += -8
r4 = 8
call 120
r0 = 0
exit
