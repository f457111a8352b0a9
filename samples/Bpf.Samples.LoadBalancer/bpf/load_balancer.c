// A service load balancer, kube-proxy-replacement style. A packet to a service (VIP, port, protocol) picks a
// backend from the service's Maglev table by a hash of its 5-tuple — user space fills the table so that removing a
// backend moves only the flows it had — and has its destination address and port rewritten to the backend's, with
// the IPv4 header checksum and the TCP/UDP checksum updated incrementally (RFC 1624). It leaves with XDP_TX.
#include "bpfnet_samples.h"

#define MAGLEV_SIZE 251        /* a prime: every backend's permutation visits every slot */
#define MAX_SERVICES 8

struct service_key {
	__be32 vip;
	__be16 port;
	__u8 protocol;
	__u8 reserved;
};

struct service {
	__u32 id;                  /* its Maglev table is maglev[id * MAGLEV_SIZE ... + MAGLEV_SIZE - 1] */
	__u32 backend_count;       /* 0: no backend, packets are dropped */
};

struct backend {
	__be32 address;
	__be16 port;
	__u16 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_SERVICES);
	__type(key, struct service_key);
	__type(value, struct service);
} services SEC(".maps");

/* Maglev lookup tables, one block of MAGLEV_SIZE slots per service: slot -> backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SERVICES * MAGLEV_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

/* Packets sent to each backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} backend_packets SEC(".maps");

static __always_inline __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x9e3779b1;
	return h ^ (h >> 15);
}

/* RFC 1624: the checksum after a 16-bit word changes from old to new (byte order does not matter, if consistent). */
static __always_inline __u16 csum_update(__u16 check, __u16 old, __u16 new)
{
	__u32 s = (__u16)~check + (__u16)~old + (__u32)new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline __u16 csum_update4(__u16 check, __u32 old, __u32 new)
{
	check = csum_update(check, (__u16)old, (__u16)new);
	return csum_update(check, (__u16)(old >> 16), (__u16)(new >> 16));
}

SEC("xdp")
int load_balancer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;           /* options or fragments: left to the stack */

	struct service_key key = { .vip = ip->daddr, .protocol = ip->protocol };
	__u16 *check_at;
	void *l4 = (void *)(ip + 1);
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return XDP_PASS;
		check_at = &tcp->check;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		check_at = &udp->check;
	} else {
		return XDP_PASS;
	}
	struct l4ports *ports = l4;
	key.port = ports->dest;
	struct service *svc = bpf_map_lookup_elem(&services, &key);
	if (!svc)
		return XDP_PASS;           /* not a service */
	if (svc->backend_count == 0 || svc->id >= MAX_SERVICES)
		return XDP_DROP;

	__u32 h = mix(mix(mix(mix(0, ip->saddr), ip->daddr), ((__u32)ports->source << 16) | ports->dest), ip->protocol);
	__u32 slot = svc->id * MAGLEV_SIZE + h % MAGLEV_SIZE;
	__u32 *backend_id = bpf_map_lookup_elem(&maglev, &slot);
	if (!backend_id)
		return XDP_DROP;
	__u32 id = *backend_id;
	struct backend *be = bpf_map_lookup_elem(&backends, &id);
	if (!be)
		return XDP_DROP;

	/* Rewrite the destination; the transport checksum covers the pseudo-header's address as well as the port. */
	__u16 l4check = *check_at;
	if (ip->protocol == IPPROTO_TCP || l4check != 0) {
		l4check = csum_update4(l4check, ip->daddr, be->address);
		l4check = csum_update(l4check, ports->dest, be->port);
		if (ip->protocol == IPPROTO_UDP && l4check == 0)
			l4check = 0xffff;
		*check_at = l4check;
	}
	ip->check = csum_update4(ip->check, ip->daddr, be->address);
	ip->daddr = be->address;
	ports->dest = be->port;

	__u64 *count = bpf_map_lookup_elem(&backend_packets, &id);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
