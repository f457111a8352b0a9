### subprog-simple
# expect: accept
r1 = 3
call f
exit
f: r0 = r1
r0 += 1
exit

### subprog-r6-preserved
# expect: accept
r6 = 5
call f
r0 += r6
exit
f: r6 = 1
r0 = 2
exit

### subprog-r1-clobbered
# expect: reject UninitializedRegister
r1 = 3
call f
r0 = r1
exit
f: r0 = 0
exit

### subprog-uninit-arg
# expect: reject UninitializedRegister
call f
exit
f: r0 = r3
exit

### subprog-no-r0
# expect: accept
call f
r0 = 0
exit
f: exit

### subprog-caller-stack-ptr
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
r1 = r10
r1 += -8
call f
exit
f: r0 = *(u64 *)(r1 + 0)
exit

### subprog-return-stack-ptr
# expect: reject PointerLeak
call f
r0 = 0
exit
f: r0 = r10
r0 += -8
exit

### subprog-call-out-of-range
# expect: reject InvalidCallTarget
call pc+10
r0 = 0
exit

### subprog-jump-across
# expect: reject JumpOutOfRange
r0 = 0
call f
goto +2
exit
f: r0 = 1
exit

### subprog-unreachable
# expect: reject UnreachableInstruction
r0 = 0
exit
r0 = 1
exit

### subprog-last-not-exit
# expect: reject FallsOffEnd
call f
exit
f: r0 = 1

### subprog-recursion
# expect: reject CallDepthExceeded
call f
exit
f: call f
r0 = 0
exit

### subprog-depth-8
# expect: accept
call f1
exit
f1: call f2
exit
f2: call f3
exit
f3: call f4
exit
f4: call f5
exit
f5: call f6
exit
f6: call f7
exit
f7: r0 = 0
exit

### subprog-depth-9
# expect: reject CallDepthExceeded
call f1
exit
f1: call f2
exit
f2: call f3
exit
f3: call f4
exit
f4: call f5
exit
f5: call f6
exit
f6: call f7
exit
f7: call f8
exit
f8: r0 = 0
exit

### subprog-combined-stack-too-large
# expect: reject StackTooLarge
r1 = 0
*(u64 *)(r10 - 512) = r1
call f
exit
f: r1 = 0
*(u64 *)(r10 - 64) = r1
r0 = 0
exit

### subprog-combined-stack-ok
# expect: accept
r1 = 0
*(u64 *)(r10 - 256) = r1
call f
exit
f: r1 = 0
*(u64 *)(r10 - 256) = r1
r0 = 0
exit

### subprog-called-twice
# expect: accept
r1 = 1
call f
r6 = r0
r1 = 2
call f
r0 += r6
exit
f: r0 = r1
r0 *= 3
exit

### subprog-write-caller-stack
# expect: accept
r1 = r10
r1 += -8
call f
r0 = *(u64 *)(r10 - 8)
exit
f: r2 = 7
*(u64 *)(r1 + 0) = r2
r0 = 0
exit

### subprog-helper-inside
# expect: accept
call f
exit
f: call 7
exit
