// bpf_fib_lookup (69) from XDP and tc: the packet carries the call's flags, whether plen is short, and the
// struct bpf_fib_lookup; the program calls the helper on a copy on its stack and writes the struct back into the
// packet, returning the helper's result. The managed runtime's routes against a network namespace's.
#include "features.h"

typedef unsigned char __u8;
typedef unsigned short __u16;

struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
struct __sk_buff { __u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto, priority,
	ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid, data, data_end; };

/* struct bpf_fib_lookup of the UAPI: 64 bytes. */
struct fib_params { __u8 raw[64]; };

struct request { __u32 flags; __u32 short_plen; struct fib_params params; };

static long (*bpf_fib_lookup)(void *ctx, void *params, int plen, __u32 flags) = (void *)69;

static __attribute__((always_inline)) int lookup(void *ctx, void *data, void *data_end)
{
	struct request *req = data;
	struct fib_params p;
	long rc;
	if ((void *)(req + 1) > data_end) return -1;
	__builtin_memcpy(&p, &req->params, sizeof(p));
	if (req->short_plen)
		rc = bpf_fib_lookup(ctx, &p, 32, req->flags);
	else
		rc = bpf_fib_lookup(ctx, &p, sizeof(p), req->flags);
	__builtin_memcpy(&req->params, &p, sizeof(p));
	return rc;
}

SEC("xdp")
int fib_xdp(struct xdp_md *ctx)
{
	return lookup(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

SEC("tc")
int fib_tc(struct __sk_buff *skb)
{
	return lookup(skb, (void *)(long)skb->data, (void *)(long)skb->data_end);
}

char _license[] SEC("license") = "GPL";
