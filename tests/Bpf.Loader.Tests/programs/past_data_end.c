// An XDP program that checks data_end for the Ethernet header and then reads past it: the kernel's verifier
// refuses it (invalid access to packet), and so must BpfNet's, on every engine, at the same instruction and line.
#include "loader_extra.h"

SEC("xdp")
int past_data_end(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;
	if (data + 14 > data_end)
		return 1;
	return data[20] == 6 ? 2 : 1;
}

char _license[] SEC("license") = "GPL";
