// Writes perf event samples through bpf_perf_event_output on the current CPU: a 20-byte record (whose raw
// size needs no padding) from `emit`, a 29-byte one (padded by the kernel to 36, so
// that its 48-byte records do not divide the ring and some wrap around its end) from `emit_odd`.
#include "loader_extra.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

volatile const __u32 marker = 0xfeedface;
__u32 sequence;

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	__u32 rec[5];
	rec[0] = ctx->data_end - ctx->data;
	rec[1] = marker;
	rec[2] = ++sequence;
	rec[3] = 0xa1b2c3d4;
	rec[4] = ~rec[2];
	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, rec, sizeof(rec)) != 0)
		return XDP_ABORTED;
	return XDP_PASS;
}

SEC("xdp")
int emit_odd(struct xdp_md *ctx)
{
	__u8 rec[29];
	for (int i = 0; i < 29; i++)
		rec[i] = (__u8)(0x40 + i);
	rec[0] = (__u8)(ctx->data_end - ctx->data);
	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, rec, sizeof(rec)) != 0)
		return XDP_ABORTED;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
