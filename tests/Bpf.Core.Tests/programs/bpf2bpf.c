// bpf-to-bpf calls: subprograms in .text called from two programs, and a callback passed to
// bpf_loop by function pointer.
#include "bpfnet_helpers.h"

static __noinline __u32 mix(__u32 a, __u32 b)
{
	return (a * 31) ^ b;
}

__noinline int checksum(struct __sk_buff *skb)
{
	return mix(skb->len, skb->protocol) + mix(skb->mark, 7);
}

static int loop_body(__u32 index, void *ctx)
{
	__u32 *acc = ctx;
	*acc += index;
	return 0;
}

SEC("socket")
int sock_sum(struct __sk_buff *skb)
{
	return checksum(skb);
}

SEC("tc")
int tc_sum(struct __sk_buff *skb)
{
	__u32 acc = mix(skb->len, 1);
	bpf_loop(4, loop_body, &acc, 0);
	return acc & 1;
}

char _license[] SEC("license") = "GPL";
