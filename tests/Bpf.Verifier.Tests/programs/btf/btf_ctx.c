/* BTF-typed contexts and kernel objects (tracing, LSM and iterator programs) and __kconfig externs, for the
 * verifier's comparison with the kernel (BtfContextTests). Each program's name says what the kernel does with it:
 * ok_* are accepted, bad_* rejected; na_* are not judged by BpfNet's verifier (NotSupported). Kernel structs are declared with the fields used and relocated by CO-RE
 * against the running kernel's BTF. */
#include "bpfnet_helpers.h"

#define __kconfig __attribute__((section(".kconfig")))
#define __core __attribute__((preserve_access_index))

struct seq_file;
struct mm_struct { unsigned long task_size; } __core;
struct task_struct {
	int pid;
	int tgid;
	struct mm_struct *mm;
	char comm[16];
} __core;
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __core;
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
struct filename { const char *name; } __core;

static long (*bpf_seq_write)(struct seq_file *m, const void *data, __u32 len) = (void *)127;
static long (*bpf_get_task_stack)(struct task_struct *task, void *buf, __u32 size, __u64 flags) = (void *)141;
static long (*bpf_probe_read_kernel_str)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)115;

/* Iterator: meta is trusted and never null, the task may be null; meta->seq is trusted. */
SEC("iter/task")
int ok_iter_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u64 stack[4];
	__u32 ids[2];

	if (!task)
		return 0;
	ids[0] = task->pid;
	ids[1] = task->tgid;
	bpf_get_task_stack(task, stack, sizeof(stack), 0);
	bpf_seq_write(seq, ids, sizeof(ids));
	return ctx->meta->seq_num > 100;
}

/* The task is PTR_TO_BTF_ID_OR_NULL: reading it unchecked is refused. */
SEC("iter/task")
int bad_iter_task_unchecked(struct bpf_iter__task *ctx)
{
	return ctx->task->pid;
}

/* A pointer read through a trusted one may not be passed to a helper that wants a kernel struct. */
SEC("iter/task")
int bad_iter_wrong_struct(struct bpf_iter__task *ctx)
{
	__u64 stack[4];

	/* a seq_file where a task_struct is expected */
	bpf_get_task_stack((struct task_struct *)ctx->meta->seq, stack, sizeof(stack), 0);
	return 0;
}

/* Kernel objects are read-only. */
SEC("iter/task")
int bad_iter_write_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		task->pid = 1;
	return 0;
}

/* Past the end of the struct (the kernel's btf_struct_walk refuses). */
SEC("iter/task")
int bad_iter_beyond_struct(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	return *(volatile int *)((char *)task + 0x100000);
}

/* fentry: the context is the arguments, u64 each; a struct pointer argument is a kernel pointer. */
SEC("fentry/do_unlinkat")
int ok_fentry_args(unsigned long long *ctx)
{
	struct filename *name = (void *)ctx[1];
	char buf[16];

	bpf_probe_read_kernel_str(buf, sizeof(buf), name->name);
	return 0;
}

/* do_unlinkat has two arguments: for fentry the third slot does not exist. */
SEC("fentry/do_unlinkat")
int bad_fentry_no_such_arg(unsigned long long *ctx)
{
	return ctx[2] != 0;
}

/* fexit: the slot after the arguments is the return value. */
SEC("fexit/do_unlinkat")
int ok_fexit_ret(unsigned long long *ctx)
{
	int ret = ctx[2];

	return ret < 0 ? 0 : 0;
}

/* Arguments are 8-byte slots. */
SEC("fentry/do_unlinkat")
int bad_fentry_misaligned(unsigned long long *ctx)
{
	return *(int *)((char *)ctx + 4);
}

/* LSM (int file_open(struct file *file)): the hook's arguments, then the previous program's return value, which the
 * kernel bounds to the hook's range (0 or a negative errno), so returning it is allowed. */
struct file { unsigned int f_flags; } __core;

SEC("lsm/file_open")
int ok_lsm_file_open(unsigned long long *ctx)
{
	struct file *file = (void *)ctx[0];
	int ret = ctx[1];

	if (ret != 0)
		return ret;
	return file->f_flags & 1 ? -1 : 0;
}

/* An int LSM hook's programs return 0 or a negative errno. */
SEC("lsm/file_open")
int bad_lsm_positive(unsigned long long *ctx)
{
	return 1;
}

/* Sleepable (fentry.s): the kernel's rules for sleepable programs are not modelled: not judged (na_*). */
SEC("fentry.s/do_unlinkat")
int na_sleepable(unsigned long long *ctx)
{
	return 0;
}

/* __kconfig externs: the .kconfig map is read-only for programs. */
extern int LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern int LINUX_HAS_BPF_COOKIE __kconfig;

SEC("kprobe/do_unlinkat")
int ok_kconfig_read(void *ctx)
{
	return LINUX_HAS_SYSCALL_WRAPPER + LINUX_HAS_BPF_COOKIE;
}

SEC("kprobe/do_unlinkat")
int bad_kconfig_write(void *ctx)
{
	LINUX_HAS_BPF_COOKIE = 1;
	return 0;
}

char _license[] SEC("license") = "GPL";
