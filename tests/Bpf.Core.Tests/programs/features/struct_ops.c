// A struct_ops map (as sched_ext schedulers and TCP congestion controls are built): the ops struct's
// function pointers are programs of the object, bound by relocations in .rel.struct_ops.link.
#include "features.h"

struct sock;
struct bpfnet_cc_ops {
	void (*init)(struct sock *sk);
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 flags;
	char name[16];
};

SEC("struct_ops/cc_init")
void cc_init(__u64 *ctx)
{
}

SEC("struct_ops/cc_ssthresh")
__u32 cc_ssthresh(__u64 *ctx)
{
	return 10;
}

SEC(".struct_ops.link")
struct bpfnet_cc_ops bpfnet_cc = {
	.init = (void *)cc_init,
	.ssthresh = (void *)cc_ssthresh,
	.flags = 7,
	.name = "bpfnet_cc",
};

char _license[] SEC("license") = "GPL";
