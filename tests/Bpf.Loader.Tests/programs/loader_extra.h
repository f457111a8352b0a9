/* Extras the loader tests need on top of the shared corpus header. */
#include "../../Bpf.Core.Tests/programs/bpfnet_helpers.h"
#define BPF_MAP_TYPE_RINGBUF 27
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
#define BPF_F_CURRENT_CPU 0xffffffffULL
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;
