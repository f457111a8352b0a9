// Programs whose runs change their own input, for the repeat semantics of BPF_PROG_TEST_RUN (RepeatRunTests):
// the kernel runs a repeat loop on one packet and context, so each run sees what the runs before it left.
#include "loader_extra.h"

static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;

// Increments the first packet byte; every run also grows the packet by 4 bytes at the front (XDP_PASS).
SEC("xdp")
int grow_and_count(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -4))
		return 0;
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 5 > end)
		return 0;
	data[0] = data[4] + 1;
	return 2;
}

// Increments the first packet byte and the mark (TC_ACT_OK).
SEC("tc")
int count_skb(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + 1 > end)
		return 2;
	data[0]++;
	skb->mark += 1;
	return 0;
}

__u64 raw_runs;

// Counts its runs (a raw tracepoint's test run has no packet; its input is the arguments).
SEC("raw_tracepoint/sys_enter")
int count_raw(void *ctx)
{
	raw_runs++;
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
