// An arena map whose map_extra (the user-space address) is written with __ulong (a one-value enum), not __uint.
#include "features.h"

struct {
	__uint(type, 33 /* BPF_MAP_TYPE_ARENA */);
	__uint(map_flags, 1024 /* BPF_F_MMAPABLE */);
	__uint(max_entries, 16); /* pages */
	/* Arena objects put the user address (e.g. 1ull << 44) here; clang-14 has no BTF ENUM64, so values
	 * above 32 bits need clang 15+. The encoding the reader must understand is the same. */
	__ulong(map_extra, 0x7f000000);
} arena SEC(".maps");

SEC("syscall")
int touch(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
