/* A map pinned by name (LIBBPF_PIN_BY_NAME) that counts runs: a one-shot `bpfnet run --kernel` must start from an
 * empty map each time and leave no pin behind. */
#include "loader_extra.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_runs SEC(".maps");

SEC("socket")
int count_runs(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *runs = bpf_map_lookup_elem(&bpfnet_runs, &key);
	if (!runs)
		return 0;
	*runs += 1;
	return *runs;
}

char LICENSE[] SEC("license") = "GPL";
