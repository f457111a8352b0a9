// CO-RE: the program reads config fields through a struct marked preserve_access_index, so every field
// offset is a CO-RE relocation resolved against the target's BTF at load time (core_target_*.c give targets).
#include "features.h"

struct config {
	__u32 mode;
	__u32 threshold;
} __attribute__((preserve_access_index));

struct {
	__uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32[8]);
} settings SEC(".maps");

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

SEC("xdp")
int read_threshold(void *ctx)
{
	__u32 zero = 0;
	struct config *c = bpf_map_lookup_elem(&settings, &zero);
	if (!c)
		return 0;
	return c->threshold;
}

char _license[] SEC("license") = "GPL";
