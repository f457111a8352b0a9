// A program the kernel's verifier must reject: it reads the packet without checking data_end.
#include "loader_extra.h"

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	return data[20];
}

char _license[] SEC("license") = "GPL";
