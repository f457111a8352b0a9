// One program the verifiers reject (an unchecked packet read) beside two they accept: with SkipFailedPrograms both
// engines leave the first out and run the others (BpfEngineSkipTests).
#include "loader_extra.h"

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	return data[20];
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return 2; /* XDP_PASS */
}

SEC("xdp")
int length(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

char _license[] SEC("license") = "GPL";
