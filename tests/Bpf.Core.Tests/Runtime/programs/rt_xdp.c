// XDP programs for the runtime's kernel differential: packet rewriting, head/tail/meta adjustment,
// per-CPU counters, an LPM trie, a ring buffer and hash maps.
#include "runtime_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bpf_lpm_key4);
	__type(value, __u32);
} routes SEC(".maps");

struct {
	__uint(type, MAP_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} bytes_by_len SEC(".maps");

static __always_inline void count(__u32 verdict)
{
	__u64 *v = bpf_map_lookup_elem(&verdicts, &verdict);
	if (v)
		*v += 1;
}

// Swaps Ethernet addresses, decrements the IPv4 TTL with an incremental checksum update, and
// picks a verdict from the LPM route of the destination.
SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		count(0);
		return XDP_ABORTED;
	}
	__u32 len = data_end - data;
	__u64 *b = bpf_map_lookup_elem(&bytes_by_len, &len);
	if (b) {
		*b += len;
	} else {
		__u64 l = len;
		bpf_map_update_elem(&bytes_by_len, &len, &l, 0);
	}
	unsigned char tmp[6];
	__builtin_memcpy(tmp, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, tmp, 6);
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		count(1);
		return XDP_PASS;
	}
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end) {
		count(1);
		return XDP_PASS;
	}
	if (ip->ttl <= 1) {
		count(2);
		return XDP_DROP;
	}
	__u32 sum = ip->check;
	sum += bpf_htons(0x0100);
	ip->check = (__u16)(sum + (sum >> 16));
	ip->ttl--;
	struct bpf_lpm_key4 key = { .prefixlen = 32, .addr = ip->daddr };
	__u32 *action = bpf_map_lookup_elem(&routes, &key);
	__u32 verdict = action ? *action : XDP_TX;
	count(verdict & 3);
	struct { __u32 saddr, daddr, verdict, len; } ev = { ip->saddr, ip->daddr, verdict, len };
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return verdict;
}

// Strips (or adds) bytes at the head and tail according to the first two bytes of the packet,
// and writes metadata.
SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 2 > data_end)
		return XDP_ABORTED;
	signed char head = ((signed char *)data)[0];
	signed char tail = ((signed char *)data)[1];
	long r1 = bpf_xdp_adjust_head(ctx, head);
	long r2 = bpf_xdp_adjust_tail(ctx, tail * 4);
	long r3 = bpf_xdp_adjust_meta(ctx, -8);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	if (meta + 8 <= data) {
		((__u32 *)meta)[0] = 0xfeedf00d;
		((__u32 *)meta)[1] = (__u32)(data_end - data);
	}
	if (data + 4 <= data_end) {
		((__u8 *)data)[0] = (__u8)r1;
		((__u8 *)data)[1] = (__u8)r2;
		((__u8 *)data)[2] = (__u8)r3;
	}
	return (r1 == 0 ? 1 : 0) | (r2 == 0 ? 2 : 0) | (r3 == 0 ? 4 : 0) | 8;
}

// Reserves ring buffer records, submits or discards them, and returns what query reports.
SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 n = 0;
	for (int i = 0; i < 8; i++) {
		if (data + i + 1 > data_end)
			break;
		__u8 byte = ((__u8 *)data)[i];
		__u64 *rec = (byte & 0x40) ? bpf_ringbuf_reserve(&events, 40, 0) : bpf_ringbuf_reserve(&events, 8, 0);
		if (!rec)
			break;
		rec[0] = byte * 0x0101010101010101ULL;
		if (byte & 0x80)
			bpf_ringbuf_discard(rec, 0);
		else
			bpf_ringbuf_submit(rec, 0);
		n++;
	}
	return n + ((__u32)bpf_ringbuf_query(&events, 0) << 8);
}

char _license[] SEC("license") = "GPL";
