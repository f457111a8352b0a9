// The virtual __kconfig externs libbpf computes instead of reading the configuration, and a weak unknown one (0).
#include "features.h"

#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))

extern int LINUX_HAS_BPF_COOKIE __kconfig;
extern int LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern int LINUX_BPFNET_NO_SUCH_VALUE __kconfig __weak;

SEC("socket")
int virtuals(void *skb)
{
	return LINUX_HAS_BPF_COOKIE * 2 + LINUX_HAS_SYSCALL_WRAPPER + LINUX_BPFNET_NO_SUCH_VALUE * 4;
}

char _license[] SEC("license") = "GPL";
