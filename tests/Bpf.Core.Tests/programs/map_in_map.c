// Map-in-map: an array of hash maps, with one slot initialised.
#include "bpfnet_helpers.h"

struct inner_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps") = {
	.values = { [1] = &inner_a, [3] = &inner_b },
};

SEC("socket")
int lookup_nested(struct __sk_buff *skb)
{
	__u32 slot = 1;
	void *inner = bpf_map_lookup_elem(&outer, &slot);
	if (!inner)
		return 0;
	__u32 key = skb->mark;
	__u32 *v = bpf_map_lookup_elem(inner, &key);
	return v ? *v : 0;
}

char _license[] SEC("license") = "GPL";
