// One object for the engine-neutral API test (EngineApiTests): a hash map, a per-CPU array, global variables in
// .data, .bss and .rodata, and an XDP program that uses them all.
#include "loader_extra.h"

struct stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct stats);
} by_len SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

__u64 total = 5;                 /* .data */
__u32 last_len;                  /* .bss */
const volatile __u32 verdict = 2; /* .rodata: XDP_PASS */

SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 zero = 0;
	struct stats *s = bpf_map_lookup_elem(&by_len, &len);
	if (s) {
		s->packets++;
		s->bytes += len;
	} else {
		struct stats fresh = { 1, len };
		bpf_map_update_elem(&by_len, &len, &fresh, 0);
	}
	__u64 *c = bpf_map_lookup_elem(&per_cpu, &zero);
	if (c)
		*c += 1;
	total += len;
	last_len = len;
	return verdict;
}

char _license[] SEC("license") = "GPL";
