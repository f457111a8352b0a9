// Helpers of tracing programs the managed runtime implements with kernel semantics (issue 17: libbpf-bootstrap's
// usdt, ksyscall, minimal_ns and profile): bpf_get_attach_cookie (174), bpf_get_ns_current_pid_tgid (120),
// bpf_get_stack (67) and bpf_trace_vprintk (177). Each program leaves what the helper gave in globals.
#include "features.h"

static __u64 (*bpf_get_attach_cookie)(void *ctx) = (void *)174;
static long (*bpf_get_ns_current_pid_tgid)(__u64 dev, __u64 ino, void *nsdata, __u32 size) = (void *)120;
static long (*bpf_get_stack)(void *ctx, void *buf, __u32 size, __u64 flags) = (void *)67;
static long (*bpf_trace_vprintk)(const char *fmt, __u32 fmt_size, const void *data, __u32 data_len) = (void *)177;

struct pidns_info { __u32 pid; __u32 tgid; };

__u64 cookie_seen;

SEC("kprobe/do_unlinkat")
int attach_cookie(void *ctx)
{
	cookie_seen = bpf_get_attach_cookie(ctx);
	return 0;
}

// The namespace the program asks about, set by the test; what the helper filled and returned.
__u64 ns_dev = 1, ns_ino = 1;
struct pidns_info ns_seen = { 0xdead, 0xbeef };
long ns_ret = 1;
__u32 ns_short[2] = { 0xdead, 0xbeef };
long ns_short_ret = 1;

SEC("raw_tracepoint/sys_enter")
int ns_pid(void *ctx)
{
	ns_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns_seen, sizeof(ns_seen));
	// A size other than sizeof(struct bpf_pidns_info): -EINVAL, the buffer zeroed.
	ns_short_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, ns_short, 4);
	return 0;
}

__u64 stack_flags;
__u32 stack_size = 64;
__u64 stack_buf[8];
long stack_ret = 1;

SEC("perf_event")
int stack(void *ctx)
{
	__u32 size = stack_size;
	if (size > sizeof(stack_buf)) size = sizeof(stack_buf);
	for (int i = 0; i < 8; i++) stack_buf[i] = 0xaaaaaaaaaaaaaaaaULL;
	stack_ret = bpf_get_stack(ctx, stack_buf, size, stack_flags);
	return 0;
}

long vprintk_ret[4] = { 1, 1, 1, 1 };

SEC("socket")
int vprintk(void *skb)
{
	static const char five[] = "a=%d b=%u c=%x d=%lld e=%05d\n";
	static const char two[] = "%d %d\n";
	static const char none[] = "no arguments\n";
	__u64 args[5] = { (__u64)-1, 2, 255, 1234567890123ULL, 42 };
	vprintk_ret[0] = bpf_trace_vprintk(five, sizeof(five), args, sizeof(args));
	vprintk_ret[1] = bpf_trace_vprintk(two, sizeof(two), args, 8);	  // a conversion without its argument: -EINVAL
	vprintk_ret[2] = bpf_trace_vprintk(two, sizeof(two), args, 12);	  // data_len not a multiple of 8: -EINVAL
	vprintk_ret[3] = bpf_trace_vprintk(none, sizeof(none), 0, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
