// tc classifiers: marks packets by size, drops runts; one legacy "tc" section, one "classifier"
// and one tcx egress program.
#include "bpfnet_helpers.h"

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	if (skb->len < 60)
		return TC_ACT_SHOT;
	skb->mark = skb->len > 1000 ? 2 : 1;
	skb->tc_classid = 0x10001;
	return TC_ACT_OK;
}

SEC("classifier")
int cls_ok(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tcx/egress")
int tcx_egress(struct __sk_buff *skb)
{
	return skb->priority > 3 ? TC_ACT_SHOT : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
