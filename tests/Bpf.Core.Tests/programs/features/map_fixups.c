// Map definitions as objects in the wild write them, which the kernel refuses as written: a ring buffer
// declaring its event type as the value, a perf event array that leaves key/value sizes out and hard-codes 1024 slots,
// and one that declares its event type as the value (for code generators, as cilium/ebpf's testdata does).
#include "features.h"

struct event {
	__u32 pid;
	__u64 bytes;
};

struct {
	__uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
	__uint(max_entries, 4096);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, 4 /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */);
	__uint(max_entries, 1024);
} perf SEC(".maps");

struct {
	__uint(type, 4 /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */);
	__uint(max_entries, 2);
	__type(value, struct event);
} perf_typed SEC(".maps");

static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

SEC("socket")
int emit(void *skb)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = 1;
	e->bytes = 64;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
