// Tracepoint and kprobe programs: count execve calls per pid, print with trace_printk, and read a
// kernel struct field through a CO-RE relocation.
#include "bpfnet_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} exec_count SEC(".maps");

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_execve")
int count_execve(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&exec_count, &key);
	if (v)
		*v += 1;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	bpf_trace_printk("execve pid %d\n", sizeof("execve pid %d\n"), pid);
	return 0;
}

SEC("tp/sched/sched_switch")
int on_switch(void *ctx)
{
	return 0;
}

SEC("kprobe/wake_up_new_task")
int on_new_task(struct task_struct **args)
{
	struct task_struct *task = args[0];
	int tgid = 0;
	bpf_probe_read_kernel(&tgid, sizeof(tgid), &task->tgid);
	return tgid;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050f00;
