### alu-add-consts
# expect: accept
r0 = 5
r0 += 7
r0 *= 3
r0 -= 1
exit

### alu32-ops
# expect: accept
w0 = 5
w0 <<= 3
w0 >>= 1
w0 s>>= 1
w0 |= 0x10
w0 &= 0xff
w0 ^= 3
exit

### div-imm-zero
# expect: reject InvalidImmediate
r0 = 5
r0 /= 0
exit

### mod-imm-zero
# expect: reject InvalidImmediate
r0 = 5
r0 %= 0
exit

### div-reg-maybe-zero
# expect: accept
call 7
r1 = r0
r0 = 100
r0 /= r1
exit

### sdiv-imm
# expect: accept
r0 = -100
r0 s/= 7
exit

### smod-reg
# expect: accept
call 7
r1 = r0
r0 = -100
r0 s%= r1
exit

### shift-imm-64
# expect: reject InvalidImmediate
r0 = 1
r0 <<= 64
exit

### shift-imm-63
# expect: accept
r0 = 1
r0 <<= 63
exit

### shift32-imm-32
# expect: reject InvalidImmediate
w0 = 1
w0 <<= 32
exit

### shift-by-reg-unknown
# expect: accept
call 7
r1 = r0
r0 = 1
r0 <<= r1
exit

### arsh-imm
# expect: accept
r0 = -8
r0 s>>= 2
exit

### neg64
# expect: accept
r0 = 3
r0 = -r0
exit

### neg32
# expect: accept
w0 = 3
w0 = -w0
exit

### bswap-be16
# expect: accept
r0 = 0x1234
r0 = be16 r0
exit

### bswap-le64
# expect: accept
r0 = 0x1234
r0 = le64 r0
exit

### bswap-le64-folds-to-itself
# expect: accept
# le64 on a little-endian machine leaves a constant as it is: the branch below is decided, the uninitialized read
# after it never reached.
r1 = 0x1234
r1 = le64 r1
if r1 == 0x1234 goto ok
r0 = r5
ok: r0 = 0
exit

### bswap64
# expect: accept
r0 = 0x1234
r0 = bswap64 r0
exit

### movsx8
# expect: accept
r1 = 0xff
r0 = (s8)r1
exit

### movsx8-result-decides-a-branch
# expect: accept
# (s8)0xff is -1, and the verifier knows it: the branch below is decided, the uninitialized read never reached.
r1 = 0xff
r2 = 5
r2 = (s8)r1
if r2 == -1 goto ok
r0 = r5
ok: r0 = 0
exit

### movsx32-64
# expect: accept
r1 = 0xffffffff ll
r0 = (s32)r1
exit

### movsx16-32
# expect: accept
w1 = 0xffff
w0 = (s16)w1
exit

### alu-uninit-dst
# expect: reject UninitializedRegister
r0 += 1
exit

### alu-uninit-src
# expect: reject UninitializedRegister
r0 = 1
r0 += r4
exit

### alu-reserved-offset
# expect: reject ReservedField
r0 = 0
.insn 0x0000000100050007
exit

### alu-reserved-src-imm
# expect: reject ReservedField
r0 = 0
.insn 0x0000000100001007
exit

### mov-bad-sx-offset
# expect: reject ReservedField
r1 = 0
.insn 0x00000000000410bf
r0 = 0
exit

### end-bad-width
# expect: reject ReservedField
r0 = 0
.insn 0x00000018000000d4
exit

### mod32-reg
# expect: accept
call 7
w1 = w0
w0 = 77
w0 %= w1
exit

### mul-overflow-ok
# expect: accept
r0 = 0x7fffffffffffffff ll
r0 *= 0x7fffffff
exit

### xor-self
# expect: accept
call 7
r0 ^= r0
exit

### unknown-opcode
# expect: reject UnknownOpcode
r0 = 0
.insn 0x00000000000000ff
exit

### callx-unknown-to-kernel
# expect: reject UnknownOpcode
r0 = 5
callx r0
exit
