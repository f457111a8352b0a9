// bpf_loop scanning an array map through a callback: the program the lookup-vs-scan benchmark loads, and
// the fixture for callback verification (ObjectTests compares our verdict with the kernel's, BTF included).
#include "bpfnet_helpers.h"
struct scan_ctx { __u32 key; __u32 found; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 64); } table SEC(".maps");

static int scan_one(__u32 i, void *data)
{
	struct scan_ctx *c = data;
	__u32 k = i;
	__u32 *v = bpf_map_lookup_elem(&table, &k);
	if (!v) return 1;
	if (*v == c->key) { c->found = i + 1; return 1; }
	return 0;
}

SEC("tc")
int loop_scan(struct __sk_buff *skb)
{
	struct scan_ctx c = { .key = skb->mark, .found = 0 };
	bpf_loop(64, scan_one, &c, 0);
	return c.found;
}


static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)164;

static long count_matches(void *map, __u32 *key, __u32 *value, struct scan_ctx *c)
{
	if (*value == c->key)
		c->found += *key + 1;
	return 0;
}

SEC("tc")
int for_each_scan(struct __sk_buff *skb)
{
	struct scan_ctx c = { .key = skb->mark, .found = 0 };
	bpf_for_each_map_elem(&table, count_matches, &c, 0);
	return c.found;
}
// Refused by the kernel and by us: the key a callback gets is read-only.
static long clear_keys(void *map, __u32 *key, __u32 *value, void *ctx)
{
	*key = 0;
	return 0;
}

SEC("tc")
int for_each_writes_key(struct __sk_buff *skb)
{
	bpf_for_each_map_elem(&table, clear_keys, 0, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
