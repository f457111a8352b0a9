// Section names that libbpf or cilium/ebpf accept beyond the strict table: socket/N, sk_lookup/,
// and the legacy prefix form xdp_* (libbpf's legacy mode).
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

char _license[] SEC("license") = "GPL";
