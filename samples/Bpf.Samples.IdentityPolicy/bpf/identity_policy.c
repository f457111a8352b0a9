// Identity-based network policy, Cilium style. Every endpoint address maps to a numeric security identity
// (derived in user space from the endpoint's labels; addresses that are no endpoint are WORLD). A packet is
// allowed when the policy map has (source identity, destination identity, destination port, protocol), or the
// same with port 0 (any port); otherwise it is dropped. Every verdict is counted by reason, every rule's hits too.
#include "bpfnet_samples.h"

enum reserved_identity { IDENTITY_WORLD = 2 };

enum policy_verdict {
	ALLOWED = 0,
	DROP_POLICY_DENIED = 1,   /* no rule allows (source, destination, port, protocol) */
	DROP_FRAGMENT = 2,        /* a non-first IPv4 fragment: no ports to check */
	DROP_MALFORMED = 3,       /* the transport header is cut short */
};

struct policy_key {
	__u32 src_identity;
	__u32 dst_identity;
	__be16 dport;             /* 0: any port */
	__u8 protocol;            /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	__u8 reserved;
};

struct rule_stats {
	__u64 packets;
	__u64 bytes;
};

/* Endpoint address (network order) -> security identity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, __u32);
} endpoints SEC(".maps");

/* The compiled policy: allowed (source, destination, port, protocol), with the packets and bytes each let through. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct policy_key);
	__type(value, struct rule_stats);
} policy SEC(".maps");

/* Packets per verdict: allowed, and dropped by reason. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, enum policy_verdict);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline __u32 identity_of(__be32 address)
{
	__u32 *id = bpf_map_lookup_elem(&endpoints, &address);
	return id ? *id : IDENTITY_WORLD;
}

static __always_inline int verdict(enum policy_verdict v)
{
	__u64 *count = bpf_map_lookup_elem(&verdicts, &v);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&verdicts, &v, &one, 0);
	}
	return v == ALLOWED ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int identity_policy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;                   /* not IPv4: not this program's business */
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return verdict(DROP_MALFORMED);
	if (ip->frag_off & bpf_htons(0x1fff))
		return verdict(DROP_FRAGMENT);

	struct policy_key key = {};
	key.src_identity = identity_of(ip->saddr);
	key.dst_identity = identity_of(ip->daddr);
	key.protocol = ip->protocol;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		struct l4ports *ports = (void *)ip + ip->ihl * 4;
		if ((void *)(ports + 1) > data_end)
			return verdict(DROP_MALFORMED);
		key.dport = ports->dest;
	}

	struct rule_stats *hit = bpf_map_lookup_elem(&policy, &key);
	if (!hit) {
		key.dport = 0;                     /* a rule for any port */
		hit = bpf_map_lookup_elem(&policy, &key);
	}
	if (!hit)
		return verdict(DROP_POLICY_DENIED);
	__sync_fetch_and_add(&hit->packets, 1);
	__sync_fetch_and_add(&hit->bytes, (__u64)(data_end - data));
	return verdict(ALLOWED);
}

char _license[] SEC("license") = "GPL";
