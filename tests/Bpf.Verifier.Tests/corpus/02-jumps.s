### jump-out-of-range-forward
# expect: reject JumpOutOfRange
r0 = 0
goto +5
exit

### jump-out-of-range-backward
# expect: reject JumpOutOfRange
r0 = 0
goto -5
exit

### jump-to-end
# expect: reject JumpOutOfRange
r0 = 0
if r0 == 0 goto +1
exit

### fall-off-end
# expect: reject FallsOffEnd
r0 = 0

### last-is-cond-jump
# expect: reject FallsOffEnd
r0 = 0
exit
if r0 == 0 goto -2

### last-is-ja-back
# expect: accept
r0 = 0
goto +1
exit
goto -2

### unreachable-after-exit
# expect: reject UnreachableInstruction
r0 = 0
exit
r0 = 1
exit

### unreachable-skipped-by-ja
# expect: reject UnreachableInstruction
r0 = 0
goto +1
r0 = 1
exit

### dead-code-behind-const-cond
# expect: accept
r0 = 0
if r0 == 1 goto +1
goto +1
r0 = 1
exit

### jump-into-lddw
# expect: reject JumpIntoWideLoad
r0 = 0
if r0 == 0 goto +1
r1 = 0x100000000 ll
exit

### jump-over-lddw
# expect: accept
r0 = 0
if r0 == 0 goto +2
r1 = 0x100000000 ll
exit

### gotol-forward
# expect: accept
r0 = 0
if r0 == 0 goto +1
gotol +1
r0 = 1
exit

### jmp32-cond
# expect: accept
call 7
if w0 > 10 goto +1
w0 = 1
exit

### jset-cond
# expect: accept
call 7
if r0 & 0x4 goto +1
r0 = 0
exit

### jmp-reserved-src-imm
# expect: reject ReservedField
r0 = 0
.insn 0x0000000000001015
exit

### exit-reserved
# expect: reject ReservedField
r0 = 0
.insn 0x0000000100000095

### ja-reserved-imm
# expect: reject ReservedField
r0 = 0
.insn 0x0000000100000005
exit

### cond-both-exit
# expect: accept
call 7
if r0 s> 3 goto +2
r0 = 0
exit
r0 = 1
exit

### many-branches-diamond
# expect: accept
call 7
r6 = r0
r0 = 0
if r6 & 1 goto +1
r0 += 1
if r6 & 2 goto +1
r0 += 2
if r6 & 4 goto +1
r0 += 4
if r6 & 8 goto +1
r0 += 8
exit

### cond-on-uninit
# expect: reject UninitializedRegister
if r3 > 1 goto +0
r0 = 0
exit

### jeq-reg-both-known
# expect: accept
r1 = 4
r2 = 4
r0 = 0
if r1 == r2 goto +1
r0 = r9
exit

### jne-reg-known-dead
# expect: accept
r1 = 4
r2 = 4
r0 = 0
if r1 != r2 goto +1
exit
r0 = r9
exit

### signed-range-dead-branch
# expect: accept
call 7
r0 &= 0xff
if r0 s< 0 goto +2
r0 = 0
exit
r0 = r9
exit

### unsigned-range-live-branch
# expect: reject UninitializedRegister
call 7
r0 &= 0x1ff
if r0 > 0xff goto +2
r0 = 0
exit
r0 = r9
exit

### jmp32-high-bits-ignored
# expect: reject UninitializedRegister
r1 = 0x100000000 ll
r0 = 0
if w1 == 0 goto +1
exit
r0 = r9
exit

### jmp64-high-bits-seen
# expect: accept
r1 = 0x100000000 ll
r0 = 0
if r1 == 0 goto +1
exit
r0 = r9
exit
