// Writes one record per run into a ring buffer: the packet length and a marker.
#include "loader_extra.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

volatile const __u64 marker = 0xfeedface;

SEC("xdp")
int emit(struct xdp_md *ctx)
{
	__u64 rec[2];
	rec[0] = ctx->data_end - ctx->data;
	rec[1] = marker;
	bpf_ringbuf_output(&events, rec, sizeof(rec), 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
