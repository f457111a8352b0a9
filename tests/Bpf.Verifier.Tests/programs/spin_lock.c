// bpf_spin_lock in a map value (issue 9): the fixture ObjectTests compares with the kernel (the map's BTF places
// the lock) and SpinLockTests runs in the managed runtime. spin_exit_held and spin_helper_held are refused by both.
#include "bpfnet_helpers.h"

struct bpf_spin_lock { __u32 val; };
static void (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static void (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct counter {
	struct bpf_spin_lock lock;
	__u32 last_len;
	__u64 packets;
	__u64 bytes;
};

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, struct counter); __uint(max_entries, 4); } counters SEC(".maps");

SEC("xdp")
int spin_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 len = ctx->data_end - ctx->data;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return XDP_ABORTED;
	bpf_spin_lock(&c->lock);
	c->packets++;
	c->bytes += len;
	c->last_len = len;
	bpf_spin_unlock(&c->lock);
	return XDP_PASS;
}

// Refused: the path where packets > 10 exits with the lock held.
SEC("xdp")
int spin_exit_held(struct xdp_md *ctx)
{
	__u32 key = 1;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return XDP_ABORTED;
	bpf_spin_lock(&c->lock);
	if (c->packets > 10)
		return XDP_DROP;
	c->packets++;
	bpf_spin_unlock(&c->lock);
	return XDP_PASS;
}

// Refused: a helper call inside the critical section.
SEC("xdp")
int spin_helper_held(struct xdp_md *ctx)
{
	__u32 key = 2;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return XDP_ABORTED;
	bpf_spin_lock(&c->lock);
	c->bytes = bpf_ktime_get_ns();
	bpf_spin_unlock(&c->lock);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
