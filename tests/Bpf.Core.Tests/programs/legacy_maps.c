// Maps declared the old way, in a "maps" section with struct bpf_map_def.
#include "bpfnet_helpers.h"

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 128,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 4,
};

SEC("socket")
int legacy(struct __sk_buff *skb)
{
	__u32 key = skb->protocol;
	__u64 *v = bpf_map_lookup_elem(&legacy_hash, &key);
	if (v)
		*v += 1;
	key = 0;
	__u32 *w = bpf_map_lookup_elem(&legacy_array, &key);
	return w ? *w : 0;
}

char _license[] SEC("license") = "GPL";
