/* A global subprogram with hidden visibility (libbpf's __hidden, as usdt.bpf.h uses): the kernel verifies a global
 * function alone, from its BTF prototype, where `res` may be NULL and the store is refused; libbpf (and BpfNet) give
 * it static linkage in the loaded BTF, so it is verified inside its caller, where `res` is the caller's stack. */
#include "loader_extra.h"

__attribute__((noinline, visibility("hidden"))) int fill(long *res, int v)
{
	*res = v * 2;
	return 1;
}

SEC("socket")
int hidden_caller(struct __sk_buff *skb)
{
	long out = 0;
	if (!fill(&out, 21))
		return 0;
	return out;
}

char LICENSE[] SEC("license") = "GPL";
