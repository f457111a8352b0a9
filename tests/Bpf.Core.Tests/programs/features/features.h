/* Stand-ins for libbpf's headers, for the feature objects (built without libbpf installed). */
#ifndef BPFNET_FEATURES_H
#define BPFNET_FEATURES_H
typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
/* As newer libbpf spells it: a one-value enum carries a 64-bit attribute (arena's map_extra). */
#define ___concat(a, b) a##b
#define ___bpf_concat(a, b) ___concat(a, b)
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name
#endif
