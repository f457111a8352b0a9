// Section names that libbpf or cilium/ebpf accept beyond the strict table: socket/N, socket/tail, sk_lookup/,
// the legacy prefix form xdp_* (libbpf's legacy mode), and subprograms in sections of their own that name no
// program type ("static", "other"), called from a program.
#include "features.h"

SEC("socket/1")
int sock_one(void *skb)
{
	return 0;
}

SEC("sk_lookup/")
int lookup(void *ctx)
{
	return 1; /* SK_PASS */
}

SEC("xdp_legacy_drop")
int xdp_legacy(void *ctx)
{
	return 1; /* XDP_DROP */
}

volatile int step = 1; /* read at run time, so the compiler keeps the calls */

static __attribute__((noinline, section("static"))) int static_helper(int x)
{
	return x - step;
}

__attribute__((noinline, section("other"))) int global_helper(int x)
{
	return x + step;
}

SEC("socket/tail")
int tail(void *skb)
{
	return static_helper(3) + global_helper(4); /* 2 + 5 */
}

char _license[] SEC("license") = "GPL";
