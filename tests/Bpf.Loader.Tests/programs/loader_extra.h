/* Extras the loader tests need on top of the shared corpus header. */
#include "../../Bpf.Core.Tests/programs/bpfnet_helpers.h"
#define BPF_MAP_TYPE_RINGBUF 27
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
