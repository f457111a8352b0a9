// Compiled by clang-14 for the LLVM-dialect oracle test (see LlvmOracleTests):
//   clang-14 -target bpf -O2 -mcpu=v3 -c oracle.c -o oracle.o
//   llvm-objdump-14 -d --mattr=+alu32 oracle.o > oracle.objdump.txt
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef signed char s8;
typedef int s32;
typedef long long s64;

static __attribute__((noinline)) u64 mix(u64 a, u64 b)
{
    return a * 3 + (b >> 2) - (a << 7);
}

u64 entry(u64 *mem, u64 len)
{
    u64 v = 0;
    u32 w = (u32)len;
    volatile u64 slot = 5;
    volatile u32 slot32 = 7;
    __sync_fetch_and_add(&slot, len);
    __sync_fetch_and_and(&slot32, w);
    u64 old = __sync_fetch_and_or(&slot, 3);
    u32 old32 = __sync_fetch_and_xor(&slot32, w);
    u32 add32 = __sync_fetch_and_add(&slot32, 2);
    u64 x = __sync_lock_test_and_set(&slot, 9);
    u32 x32 = __sync_lock_test_and_set(&slot32, w);
    u64 c = __sync_val_compare_and_swap(&slot, 9, 11);
    u32 c32 = __sync_val_compare_and_swap(&slot32, 7, w);
    for (u64 i = 0; i < len; i++)
        v += mem[i] ^ (i << 3);
    u8 *bytes = (u8 *)mem;
    u16 *halves = (u16 *)mem;
    if ((s32)w < -5)
        v -= 100;
    if (w > 17u && (s64)v >= 0)
        v |= bytes[3];
    if ((w & 0xff) != (u32)halves[1])
        v ^= 0xdeadbeef;
    v += mix(v, len);
    v = __builtin_bswap64(v) ^ (u64)(s8)w;
    v += 0x1122334455667788ULL;
    return v + old + old32 + add32 + x + x32 + c + c32 + (w / 3) + (w % 7) + (v >> 63) + ((s64)v >> 5) + (u64)-(s64)len;
}
