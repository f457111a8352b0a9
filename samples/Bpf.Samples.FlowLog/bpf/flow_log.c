// Flow visibility, Hubble style: an XDP program that reports every IPv4 packet as one flow event
// (5-tuple, verdict, bytes, timestamp) in a ring buffer, and drops packets to the ports user space denies.
#include "bpfnet_samples.h"

enum flow_verdict { FLOW_FORWARDED = 1, FLOW_DROPPED = 2 };

struct flow_event {
	__u64 timestamp_ns;   /* bpf_ktime_get_ns() when the packet was seen */
	__be32 saddr;
	__be32 daddr;
	__be16 sport;         /* 0 for protocols without ports */
	__be16 dport;
	__u8 protocol;        /* IPPROTO_* */
	enum flow_verdict verdict : 8;
	__u16 reserved;
	__u32 bytes;          /* the frame's length */
};

/* The records are struct flow_event: declaring the value type puts it in the BTF, so the generated class reads
 * them typed (the loader gives the kernel a ring buffer without key or value size, as libbpf does). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct flow_event);
} flows SEC(".maps");

/* Destination ports (host order) whose packets are dropped; user space fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} denied_ports SEC(".maps");

SEC("xdp")
int flow_log(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return XDP_PASS;

	struct flow_event ev = {};
	ev.timestamp_ns = bpf_ktime_get_ns();
	ev.saddr = ip->saddr;
	ev.daddr = ip->daddr;
	ev.protocol = ip->protocol;
	ev.bytes = (__u32)(data_end - data);
	ev.verdict = FLOW_FORWARDED;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		struct l4ports *ports = (void *)ip + ip->ihl * 4;
		if ((void *)(ports + 1) <= data_end) {
			ev.sport = ports->source;
			ev.dport = ports->dest;
			__u16 dport = bpf_ntohs(ports->dest);
			if (bpf_map_lookup_elem(&denied_ports, &dport))
				ev.verdict = FLOW_DROPPED;
		}
	}
	bpf_ringbuf_output(&flows, &ev, sizeof(ev), 0);
	return ev.verdict == FLOW_DROPPED ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
