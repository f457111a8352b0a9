// Socket filter and tc programs for the runtime's kernel differential.
#include "runtime_helpers.h"

struct {
	__uint(type, MAP_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

// Classic socket filter: legacy packet loads (ld_abs / ld_ind) relative to skb->data.
SEC("socket")
int sock_ldabs(struct __sk_buff *skb)
{
	__u32 first = load_byte(skb, 0);
	__u32 ihl = (first & 0x0f) * 4;
	__u32 proto = load_byte(skb, 9);
	__u32 word = load_word(skb, 12);
	__u32 k = 0;
	__u64 *s = bpf_map_lookup_elem(&stats, &k);
	if (s)
		*s += word;
	bpf_map_push_elem(&recent, &word, 2 /* BPF_EXIST: overwrite the oldest */);
	if (proto == 17 || proto == 6) {
		__u32 port = load_half(skb, ihl + 2);
		return port ^ skb->len;
	}
	return skb->len + skb->pkt_type * 1000 + skb->protocol * 7;
}

// tc: reads through direct packet access, rewrites the destination address and port with
// skb_store_bytes plus incremental checksum fix-ups, sets mark, priority and cb.
SEC("tc")
int tc_nat(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	skb->mark = skb->len * 3;
	skb->priority = 5;
	skb->cb[1] = skb->protocol;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 1;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return 1;
	__be32 old_dst = ip->daddr;
	__be32 new_dst = old_dst ^ 0x01020304;
	__u8 proto = ip->protocol;
	long e1 = bpf_l3_csum_replace(skb, 14 + 10, old_dst, new_dst, 4);
	if (proto == 17) {
		long e2 = bpf_l4_csum_replace(skb, 14 + 20 + 6, old_dst, new_dst, 0x10 | 4 | 0x20);
		__be16 port = bpf_htons(4242);
		__be16 old_port;
		bpf_skb_load_bytes(skb, 14 + 20 + 2, &old_port, 2);
		long e3 = bpf_l4_csum_replace(skb, 14 + 20 + 6, old_port, port, 2);
		long e4 = bpf_skb_store_bytes(skb, 14 + 20 + 2, &port, 2, 0);
		skb->cb[2] = (__u32)(e2 | e3 | e4);
	}
	long e5 = bpf_skb_store_bytes(skb, 14 + 16, &new_dst, 4, 0);
	__be32 words[2] = { old_dst, new_dst };
	__s64 diff = bpf_csum_diff(&words[0], 4, &words[1], 4, 0x1234);
	skb->cb[3] = (__u32)diff;
	skb->cb[4] = (__u32)(e1 | e5);
	long bad = bpf_skb_load_bytes(skb, 4000, &old_dst, 4);
	skb->tc_classid = (__u32)bad;
	return TC_ACT_OK;
}

// tc: walks the packet with skb_load_bytes and reports the count of bytes above 0x7f.
SEC("tc")
int tc_scan(struct __sk_buff *skb)
{
	__u32 high = 0;
	for (__u32 off = 0; off < 64; off += 4) {
		__u32 word;
		if (bpf_skb_load_bytes(skb, off, &word, 4) < 0)
			break;
		for (int i = 0; i < 4; i++)
			high += ((word >> (8 * i)) & 0x80) != 0;
	}
	__u32 popped = 0;
	bpf_map_pop_elem(&recent, &popped);
	return high + (popped & 0xff00);
}

char _license[] SEC("license") = "GPL";
