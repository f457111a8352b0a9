// Names and types the generator must report rather than mangle silently (BPFGEN0004, BPFGEN0005).
// Build: see build.sh (with -g); nobtf.o is the same file built without -g (BPFGEN0003).
#include "../../../Bpf.Core.Tests/programs/bpfnet_helpers.h"

struct foo_bar { __u32 x; };
struct fooBar { __u64 y; };               /* FooBar twice */
struct node { __u32 node; __u32 Layout; }; /* member named like its type; member named like the reserved Layout */
struct packet {
	__u32 len;
	__u8 data[];                          /* flexible array member: no size */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct foo_bar);
	__type(value, struct fooBar);
} table SEC(".maps");

struct node last_node;
struct packet last_packet;

SEC("socket")
int clashes(struct __sk_buff *skb)
{
	struct foo_bar k = { .x = skb->len };
	struct fooBar *v = bpf_map_lookup_elem(&table, &k);
	last_node.node = v ? 1 : 0;
	last_packet.len = skb->len;
	return 0;
}

char _license[] SEC("license") = "GPL";
