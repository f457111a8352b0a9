// The lookup-vs-linear-scan benchmark (docs/benchmarks.md, issue 14): three XDP programs that give a packet a
// verdict from N rules.
//
//   xdp_scan  iptables style: the rules sit in an array map in order and the first rule that matches wins. Each
//             rule has source and destination CIDRs, ports (0 = any) and a protocol (0 = any), so the cost is one
//             compare per rule: O(N). The loop is bpf_loop, so the program loads at any N up to MAX_RULES (a
//             plain loop would be unrolled or walked by the verifier once per rule).
//   xdp_hash  one hash-map lookup of the packet's exact 5-tuple: O(1).
//   xdp_lpm   one LPM-trie lookup of the destination address (CIDR rules): longest prefix wins.
//
// All three read the same Ethernet/IPv4/TCP-or-UDP frame; anything else passes. Ports and addresses stay in
// network byte order, as in the packet. Rebuild with build.sh beside this file.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_RULES 100000

/* A packet's 5-tuple: the hash map's key. */
struct flow {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* One iptables-style rule: matches when (addr & mask) == rule addr for both addresses, the ports are equal or the
 * rule's is 0, and the protocol is equal or the rule's is 0. */
struct rule {
	__u32 saddr;
	__u32 smask;
	__u32 daddr;
	__u32 dmask;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
	__u32 action;
};

struct lpm_key {
	__u32 prefixlen;
	__u32 daddr;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_RULES);
	__type(key, struct flow);
	__type(value, __u32);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} prefixes SEC(".maps");

/* How many entries of `rules` are in use (set from user space). */
__u32 nr_rules;

/* Reads the 5-tuple of an Ethernet/IPv4/TCP or UDP frame; -1 for anything else. */
static __always_inline int parse(struct xdp_md *ctx, struct flow *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5)
		return -1;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return -1;
	/* TCP and UDP both start with the source and destination ports. */
	struct udphdr *l4 = (void *)(ip + 1);
	if ((void *)(l4 + 1) > data_end)
		return -1;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->sport = l4->source;
	f->dport = l4->dest;
	f->proto = ip->protocol;
	return 0;
}

struct scan_state {
	struct flow f;
	__u32 action;
};

static long scan_one(__u32 i, void *data)
{
	struct scan_state *s = data;
	struct rule *r = bpf_map_lookup_elem(&rules, &i);
	if (!r)
		return 1;
	if ((s->f.saddr & r->smask) != r->saddr || (s->f.daddr & r->dmask) != r->daddr)
		return 0;
	if ((r->sport && r->sport != s->f.sport) || (r->dport && r->dport != s->f.dport))
		return 0;
	if (r->proto && r->proto != s->f.proto)
		return 0;
	s->action = r->action;
	return 1; /* first match wins: stop */
}

SEC("xdp")
int xdp_scan(struct xdp_md *ctx)
{
	struct scan_state s = { .action = XDP_PASS };
	if (parse(ctx, &s.f))
		return XDP_PASS;
	__u32 n = nr_rules;
	if (n > MAX_RULES)
		n = MAX_RULES;
	bpf_loop(n, scan_one, &s, 0);
	return s.action;
}

SEC("xdp")
int xdp_hash(struct xdp_md *ctx)
{
	struct flow f = {};
	if (parse(ctx, &f))
		return XDP_PASS;
	__u32 *action = bpf_map_lookup_elem(&flows, &f);
	return action ? *action : XDP_PASS;
}

SEC("xdp")
int xdp_lpm(struct xdp_md *ctx)
{
	struct flow f = {};
	if (parse(ctx, &f))
		return XDP_PASS;
	struct lpm_key key = { .prefixlen = 32, .daddr = f.daddr };
	__u32 *action = bpf_map_lookup_elem(&prefixes, &key);
	return action ? *action : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
