### ret-zero
# expect: accept
r0 = 0
exit

### ret-uninit-r0
# expect: reject UninitializedRegister
exit

### read-uninit-r2
# expect: reject UninitializedRegister
r0 = r2
exit

### ret-one-32
# expect: accept
w0 = 1
exit

### r1-is-ctx-copy
# expect: accept
r6 = r1
r0 = 0
exit

### read-r10-ok
# expect: accept
r1 = r10
r0 = 0
exit

### write-r10
# expect: reject InvalidRegister
r10 = 0
r0 = 0
exit

### add-to-r10
# expect: reject InvalidRegister
r10 += 8
r0 = 0
exit

### r0-after-helper-call
# expect: accept
call 5
exit

### r1-after-helper-call
# expect: reject UninitializedRegister
call 5
r0 = r1
exit

### r6-preserved-across-call
# expect: accept
r6 = 7
call 5
r0 = r6
exit

### r5-clobbered-by-call
# expect: reject UninitializedRegister
r5 = 1
call 7
r0 = r5
exit

### uninit-in-one-branch
# expect: reject UninitializedRegister
call 7
if r0 > 5 goto +1
r3 = 1
r0 = r3
exit

### init-in-both-branches
# expect: accept
call 7
if r0 > 5 goto +2
r3 = 1
goto +1
r3 = 2
r0 = r3
exit

### uninit-in-dead-branch
# expect: accept
r1 = 5
if r1 > 5 goto +1
r3 = 1
r0 = r3
exit

### return-ctx-pointer
# expect: accept
# expect-cap: reject PointerLeak
r0 = r1
exit

### return-stack-pointer
# expect: accept
# expect-cap: reject PointerLeak
r0 = r10
exit

### lddw-const
# expect: accept
r0 = 0x123456789 ll
exit

### lddw-dst-r10
# expect: reject InvalidRegister
r10 = 1 ll
r0 = 0
exit

### mov32-of-pointer
# expect: accept
# expect-cap: reject PointerLeak
w0 = w1
exit

### r11-invalid
# expect: reject InvalidRegister
.insn 0x0000000000000bb7
r0 = 0
exit
