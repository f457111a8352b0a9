// __kconfig externs as libbpf fills them: LINUX_KERNEL_VERSION, a bool, a tristate, an int, a string, a char,
// and a weak option that no kernel has (zero). The program copies them into .bss for the test to read.
#include "features.h"

enum libbpf_tristate { TRI_NO = 0, TRI_YES = 1, TRI_MODULE = 2 };
#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;
extern char CONFIG_BPF_LSM __kconfig __weak;
extern unsigned long long CONFIG_BPFNET_NO_SUCH_OPTION __kconfig __weak;

struct seen {
	__u32 version;
	__u32 syscall;
	__u32 jit;
	__u32 hz;
	__u32 lsm;
	__u64 missing;
	char local[16];
} seen;

SEC("socket")
int read_config(void *skb)
{
	seen.version = LINUX_KERNEL_VERSION;
	seen.syscall = CONFIG_BPF_SYSCALL;
	seen.jit = CONFIG_BPF_JIT;
	seen.hz = CONFIG_HZ;
	seen.lsm = CONFIG_BPF_LSM;
	seen.missing = CONFIG_BPFNET_NO_SUCH_OPTION;
	__builtin_memcpy(seen.local, CONFIG_LOCALVERSION, sizeof(seen.local));
	return 0;
}

char _license[] SEC("license") = "GPL";
