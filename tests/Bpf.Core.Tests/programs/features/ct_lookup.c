// The conntrack lookup kfuncs (net/netfilter/nf_conntrack_bpf.c) from tc and XDP: the test sets the tuple, the opts
// and the sizes passed; the program copies them to its stack, calls bpf_skb_ct_lookup / bpf_xdp_ct_lookup, and
// writes what came back (opts->error, opts->dir, opts->ct_zone_dir, and a found entry's status, mark and timeout,
// read through CO-RE from the kernel's struct nf_conn) into globals, releasing the entry. Returns 1 when an entry
// was found, 0 when not.
#include "features.h"

typedef unsigned char __u8;
typedef int __s32;

#define __ksym __attribute__((section(".ksyms")))

/* Structs, not forward declarations (CO-RE type compatibility does not match those with a struct), each with a
 * member so the generated C# types have the BTF's sizes; compatibility of a kfunc's prototype compares only kinds. */
struct __sk_buff { __u32 len; };
struct xdp_md { __u32 data; };
struct bpf_sock_tuple { __u8 raw[36]; };
struct bpf_ct_opts { __s32 netns_id; __s32 error; __u8 l4proto, dir; unsigned short ct_zone_id; __u8 ct_zone_dir, reserved[3]; };
struct nf_conn {
	unsigned long status;
	__u32 mark;
	__u32 timeout;
} __attribute__((preserve_access_index));

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *, __u32) __ksym;
extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *, __u32) __ksym;
extern void bpf_ct_release(struct nf_conn *) __ksym;

/* In: the tuple (struct bpf_sock_tuple, ipv4 or ipv6), the opts (struct bpf_ct_opts, up to 16 bytes) and the sizes. */
__u8 tuple_in[36];
__u8 opts_in[16];
__u32 tuple_size = 12;
__u32 opts_size = 16;

/* Out. */
__s32 error_out;
__u32 dir_out;
__u32 zone_dir_out;
__u32 found;
__u64 status_out;
__u32 mark_out;
__u32 timeout_out;

struct buffers { __u8 tuple[36]; __u8 opts[16]; };

static __attribute__((always_inline)) void prepare(struct buffers *b)
{
	__builtin_memcpy(b->tuple, tuple_in, sizeof(b->tuple));
	__builtin_memcpy(b->opts, opts_in, sizeof(b->opts));
}

static __attribute__((always_inline)) int report(struct buffers *b, struct nf_conn *ct)
{
	error_out = *(__s32 *)&b->opts[4];
	dir_out = b->opts[9];
	zone_dir_out = b->opts[12];
	found = ct != 0;
	if (!ct)
		return 0;
	status_out = ct->status;
	mark_out = ct->mark;
	timeout_out = ct->timeout;
	bpf_ct_release(ct);
	return 1;
}

SEC("tc")
int ct_skb(struct __sk_buff *ctx)
{
	struct buffers b;
	__u32 ts = tuple_size, os = opts_size;
	prepare(&b);
	if (ts > sizeof(b.tuple)) ts = sizeof(b.tuple);
	if (os > sizeof(b.opts)) os = sizeof(b.opts);
	return report(&b, bpf_skb_ct_lookup(ctx, (struct bpf_sock_tuple *)b.tuple, ts, (struct bpf_ct_opts *)b.opts, os));
}

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	struct buffers b;
	__u32 ts = tuple_size, os = opts_size;
	prepare(&b);
	if (ts > sizeof(b.tuple)) ts = sizeof(b.tuple);
	if (os > sizeof(b.opts)) os = sizeof(b.opts);
	return report(&b, bpf_xdp_ct_lookup(ctx, (struct bpf_sock_tuple *)b.tuple, ts, (struct bpf_ct_opts *)b.opts, os));
}

char _license[] SEC("license") = "GPL";
