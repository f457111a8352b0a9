// bpf_for_each_map_elem (164) over a hash map and an array: the callback records the order it sees the elements in,
// sums their values, may stop, delete the element it is given or write through its value (what the test sets in
// `mode`). The managed runtime's semantics against the kernel's bpf_for_each_hash_elem / bpf_for_each_array_elem.
#include "features.h"

struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };

static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;

struct {
	__uint(type, 1); /* BPF_MAP_TYPE_HASH */
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} table SEC(".maps");

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} cells SEC(".maps");

struct {
	__uint(type, 5); /* BPF_MAP_TYPE_PERCPU_HASH */
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

// Inputs: what the callback does (0 walk, 1 delete each element, 2 add 1 to each value, 3 insert key + 1000 for each
// key below 1000), the key it stops at (returns 1), the flags of the call.
__u32 mode, stop_at = 0xffffffff;
__u64 call_flags;
// Outputs: the helper's result, how many times the callback ran, the sum of the values, the keys in visit order.
long visited = 1;
__u32 calls;
__u64 sum;
__u32 order[64];

// The callback counts in globals, not in its context: a count on the stack would be tracked exactly by the kernel's
// verifier, whose walk of the callback would then never converge.
static long visit(void *map, __u32 *key, __u64 *value, void *unused)
{
	__u32 k = *key;
	__u32 i = calls;
	if (i < 64) order[i] = k;
	calls = i + 1;
	sum += *value;
	if (mode == 1) bpf_map_delete_elem(map, key);
	if (mode == 2) *value += 1;
	if (mode == 3 && k < 1000) {
		__u32 nk = k + 1000;
		__u64 nv = k;
		bpf_map_update_elem(map, &nk, &nv, 0);
	}
	return k == stop_at;
}

static long walk(void *map)
{
	calls = 0;
	sum = 0;
	visited = bpf_for_each_map_elem(map, visit, (void *)0, call_flags);
	return 2; /* XDP_PASS */
}

SEC("xdp")
int walk_table(struct xdp_md *ctx)
{
	return walk(&table);
}

SEC("xdp")
int walk_cells(struct xdp_md *ctx)
{
	return walk(&cells);
}

SEC("xdp")
int walk_per_cpu(struct xdp_md *ctx)
{
	return walk(&per_cpu);
}

char _license[] SEC("license") = "GPL";
