# Reads through a map pointer (issue 9): root may read the map's kernel struct (struct bpf_array, struct bpf_htab,
# ...) with the kernel's BTF, as check_ptr_to_map_access does; the offsets are this machine's 6.18 BTF layout,
# and our verifier walks the same BTF, so both judge the same fields. Without CAP_PERFMON every such read is refused.

### map-ptr-max-entries
# Read max_entries (struct bpf_map at offset 0 of struct bpf_array; offset 76 on this 6.18 build's BTF).
# needs: kernel-btf
# expect: accept
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u32 *)(r1 + 76)
exit

### map-ptr-max-entries-bounded
# The value read is an unknown scalar: used as a bound it still needs a check.
# needs: kernel-btf
# expect: accept
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u32 *)(r1 + 76)
if r0 > 100 goto big
r0 += 1
exit
big:
r0 = 0
exit

### map-ptr-ops-pointer
# Read the ops pointer: a BTF-typed kernel pointer (PTR_TO_BTF_ID) root may return.
# needs: kernel-btf
# expect: accept
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u64 *)(r1 + 40)
exit

### map-ptr-partial-pointer
# Half of a pointer member.
# needs: kernel-btf
# expect: reject InvalidMemoryAccess
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u32 *)(r1 + 40)
exit

### map-ptr-beyond-member
# Eight bytes at value_size (a u32) run into max_entries.
# needs: kernel-btf
# expect: reject InvalidMemoryAccess
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u64 *)(r1 + 72)
exit

### map-ptr-beyond-struct
# Past the end of struct bpf_array.
# needs: kernel-btf
# expect: reject InvalidMemoryAccess
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u64 *)(r1 + 400)
exit

### map-ptr-negative
# A negative offset.
# needs: kernel-btf
# expect: reject InvalidMemoryAccess
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u32 *)(r1 - 8)
exit

### map-ptr-write
# Writes through a map pointer are refused.
# needs: kernel-btf
# expect: reject InvalidMemoryAccess
# expect-cap: reject PermissionDenied
.map a array key=4 value=8 entries=4
r1 = map:a ll
*(u32 *)(r1 + 76) = 0
r0 = 0
exit

### map-ptr-hash-n-buckets
# A hash map's struct bpf_htab (n_buckets at 784 on this build).
# needs: kernel-btf
# expect: accept
# expect-cap: reject PermissionDenied
.map a hash key=4 value=8 entries=4
r1 = map:a ll
r0 = *(u32 *)(r1 + 784)
exit
