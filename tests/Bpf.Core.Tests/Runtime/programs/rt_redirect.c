/* Redirect maps of the managed runtime: device, CPU, XSK and socket maps, and bpf_redirect_map over them. */
#include "runtime_helpers.h"

#define MAP_DEVMAP 14
#define MAP_SOCKMAP 15
#define MAP_CPUMAP 16
#define MAP_XSKMAP 17
#define MAP_SOCKHASH 18
#define MAP_DEVMAP_HASH 25
#define BPF_F_BROADCAST (1ULL << 3)
#define BPF_F_EXCLUDE_INGRESS (1ULL << 4)

static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;

struct bpf_devmap_val { __u32 ifindex; int prog_fd; };

struct { __uint(type, MAP_DEVMAP); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } tx_port SEC(".maps");
struct { __uint(type, MAP_DEVMAP_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, struct bpf_devmap_val); } tx_hash SEC(".maps");
struct { __uint(type, MAP_CPUMAP); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } cpus SEC(".maps");
struct { __uint(type, MAP_XSKMAP); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } xsks SEC(".maps");
struct { __uint(type, MAP_SOCKMAP); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } socks SEC(".maps");
struct { __uint(type, MAP_SOCKHASH); __uint(max_entries, 4); __type(key, __u64); __type(value, __u64); } sock_hash SEC(".maps");

/* Slot 0 of tx_port, or XDP_PASS when it is empty. */
SEC("xdp")
int redirect_dev(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_port, 0, XDP_PASS);
}

/* Key 7 of tx_hash, or XDP_DROP; a second, failing redirect must undo the first. */
SEC("xdp")
int redirect_dev_hash(struct xdp_md *ctx)
{
	long first = bpf_redirect_map(&tx_hash, 7, XDP_DROP);
	if (ctx->data_end - ctx->data > 100)
		return bpf_redirect_map(&tx_hash, 99, XDP_PASS);
	return first;
}

/* The device map's entry as a program reads it: the ifindex, 0 when there is none. */
SEC("xdp")
int read_dev_hash(struct xdp_md *ctx)
{
	__u32 key = 7;
	struct bpf_devmap_val *v = bpf_map_lookup_elem(&tx_hash, &key);
	return v ? v->ifindex : 0;
}

/* CPU 1, or XDP_PASS. */
SEC("xdp")
int redirect_cpu(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, 1, XDP_PASS);
}

/* The AF_XDP pattern: the receive queue's socket when there is one. */
SEC("xdp")
int redirect_xsk(struct xdp_md *ctx)
{
	__u32 index = ctx->rx_queue_index;
	if (bpf_map_lookup_elem(&xsks, &index))
		return bpf_redirect_map(&xsks, index, 0);
	return XDP_PASS;
}

/* Every device of tx_port but the one the packet came in on. */
SEC("xdp")
int broadcast(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_port, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

/* Flags bpf_redirect_map does not know: XDP_ABORTED. */
SEC("xdp")
int bad_flags(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, 0, BPF_F_BROADCAST);
}

char LICENSE[] SEC("license") = "GPL";
