// A program array for tail calls, initialised with .values.
#include "bpfnet_helpers.h"

SEC("xdp")
int stage_one(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int stage_two(struct xdp_md *ctx)
{
	return XDP_DROP;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = {
		[0] = (void *)&stage_one,
		[2] = (void *)&stage_two,
	},
};

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, ctx->rx_queue_index & 3);
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
