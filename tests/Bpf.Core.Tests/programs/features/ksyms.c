// __ksym externs as libbpf resolves them: a typed kernel variable (its vmlinux BTF id), a typeless symbol (its
// kallsyms address), kfunc calls (BTF ids), and weak ones no kernel has (0, and a poisoned call that
// bpf_ksym_exists keeps unreachable). One strong kfunc no kernel has, for the error naming it.
#include "features.h"

#define __ksym __attribute__((section(".ksyms")))
#define __weak __attribute__((weak))
#define bpf_ksym_exists(sym) (!!(sym))

extern const int bpf_prog_active __ksym;            /* a per-CPU int in vmlinux BTF */
extern const void bpf_fentry_test1 __ksym;          /* typeless: an address from /proc/kallsyms */
extern const int bpfnet_no_such_variable __ksym __weak;

struct sk_buff {
	unsigned int len;
} __attribute__((preserve_access_index));

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern void bpfnet_no_such_kfunc(void) __ksym __weak;
extern void bpfnet_strong_missing_kfunc(void) __ksym;

static void *(*bpf_this_cpu_ptr)(const void *percpu_ptr) = (void *)154;

__u64 typeless_address;

SEC("socket")
int strong_kfunc_missing(void *skb)
{
	bpfnet_strong_missing_kfunc();
	return 6;
}

SEC("socket")
int typed_variable(void *skb)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);
	return *active >= 0 ? 1 : 2;
}

SEC("socket")
int typeless_symbol(void *skb)
{
	typeless_address = (__u64)&bpf_fentry_test1;
	return 0;
}

SEC("socket")
int weak_variable(void *skb)
{
	if (&bpfnet_no_such_variable)
		return 1;
	return 5;
}

SEC("tc")
int kfunc_calls(void *skb)
{
	struct sk_buff *kskb;

	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	kskb = bpf_cast_to_kern_ctx(skb);
	return kskb->len == *(__u32 *)skb ? 1 : 2;
}

SEC("tc")
int weak_kfunc_guarded(void *skb)
{
	if (bpf_ksym_exists(bpfnet_no_such_kfunc))
		bpfnet_no_such_kfunc();
	return 3;
}

SEC("tc")
int weak_kfunc_called(void *skb)
{
	bpfnet_no_such_kfunc();
	return 4;
}

char _license[] SEC("license") = "GPL";
