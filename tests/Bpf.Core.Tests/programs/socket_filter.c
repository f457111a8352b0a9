// A socket filter that keeps only IPv4 TCP packets (whole packet) and truncates the rest to 0 bytes.
#include "bpfnet_helpers.h"

SEC("socket")
int tcp_only(struct __sk_buff *skb)
{
	__u16 proto;
	__u8 ip_proto;
	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0)
		return 0;
	if (proto != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, 14 + 9, &ip_proto, sizeof(ip_proto)) < 0)
		return 0;
	return ip_proto == 6 ? skb->len : 0;
}

char _license[] SEC("license") = "Dual BSD/GPL";
