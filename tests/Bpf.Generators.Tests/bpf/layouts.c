// The generator's layout corpus: every C layout feature the generated C# types must reproduce exactly —
// unions, bitfields (signed, unsigned, enum, bool, straddling), nested and anonymous struct/union members,
// typedef chains, big-endian fields, arrays (nested, of structs), enums (signed, 8-bit, 64-bit), packed structs.
// Build: clang-14 -target bpf -O2 -g -c layouts.c -o layouts.o (tests/Bpf.Generators.Tests/bpf/build.sh)
#include "../../Bpf.Core.Tests/programs/bpfnet_helpers.h"

typedef __u64 u64_alias;
typedef u64_alias timestamp_t;          /* a typedef chain */
typedef __u64 __be64;

enum verdict { VERDICT_PASS = 0, VERDICT_DROP = 1, VERDICT_REDIRECT = 7 };
enum signed_level { LEVEL_LOW = -2, LEVEL_NONE = 0, LEVEL_HIGH = 3 };
enum big_flags { BIG_FLAG_HIGH = 0x100000000ULL, BIG_FLAG_LOW = 1 };
enum __attribute__((packed)) tiny { TINY_A = 1, TINY_B = 200 };

struct addr {
	__be32 ip;                  /* big-endian */
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct flow_key {
	struct addr src;            /* nested named struct */
	struct addr dst;
	union {                     /* anonymous union: members reachable as flow_key.v4 / .v6_words */
		__u32 v4;
		__u32 v6_words[4];
	};
	struct {                    /* anonymous struct inside */
		__u16 vlan;
		__u16 vlan_proto;
	};
};

struct flags {
	__u32 a : 3;
	__u32 b : 5;
	__s32 c : 4;                /* signed bitfield */
	enum verdict v : 3;         /* enum bitfield */
	_Bool on : 1;
	__u64 big : 40;             /* bitfield in a 64-bit unit */
	__u16 tail;
};

struct __attribute__((packed)) packed_hdr {
	__u8 kind;
	__u32 value;                /* at offset 1 */
	__be16 len;
	__u8 bits : 4;
	__u8 more : 4;
};

union value_u {
	__u64 raw;
	struct {
		__u32 lo;
		__u32 hi;
	} parts;                    /* named member of anonymous type */
	__u8 bytes[8];
	double d;
};

struct event {
	timestamp_t ts;
	__u32 pid;
	enum verdict verdict;
	enum signed_level level;
	enum tiny tiny;
	char comm[16];
	__u16 matrix[2][3];         /* nested arrays */
	struct addr hops[2];        /* array of structs */
	union value_u val;
	struct flags fl;
	__be64 cookie;
	void *ptr;                  /* pointer: 8 bytes in BPF */
	enum big_flags bf;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct flow_key);
	__type(value, struct event);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct { __u64 packets; __u64 bytes; struct packed_hdr last; });
} stats SEC(".maps");

volatile const __u32 config_port = 53;
struct { __u32 hits; union value_u last; } counters;
timestamp_t started = 1;

SEC("xdp")
int layouts(struct xdp_md *ctx)
{
	struct flow_key key = {};
	key.v4 = ctx->ingress_ifindex;
	key.vlan = config_port;
	struct event *e = bpf_map_lookup_elem(&flows, &key);
	if (e) {
		e->fl.a = 1;
		e->fl.big = 5;
		counters.hits++;
		counters.last.parts.hi = e->pid;
	}
	__u32 zero = 0;
	void *s = bpf_map_lookup_elem(&stats, &zero);
	if (s)
		started++;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
