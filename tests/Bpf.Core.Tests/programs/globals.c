// Global variables in .data, .rodata, .bss and custom .data.*/.rodata.* sections.
#include "bpfnet_helpers.h"

volatile const __u32 filter_port = 443;          /* .rodata */
volatile const char greeting[8] = "hello";      /* .rodata */
__u64 packets_seen = 7;                          /* .data */
__s32 last_len = -1;                             /* .data */
__u64 drops;                                     /* .bss */
struct { __u32 a; __u16 b; } pair;               /* .bss */
__u32 custom_counter SEC(".data.counters") = 3;  /* .data.counters */
volatile const __u16 custom_limit SEC(".rodata.limits") = 1500;

SEC("socket")
int use_globals(struct __sk_buff *skb)
{
	packets_seen++;
	last_len = skb->len;
	if (skb->len > custom_limit) {
		drops++;
		pair.a += 1;
		return 0;
	}
	custom_counter += greeting[1];
	return filter_port == 443 ? skb->len : 0;
}

char _license[] SEC("license") = "GPL";
