### loop-bounded-10
# expect-cap: reject
# expect: accept
r0 = 0
r1 = 0
l: r0 += r1
r1 += 1
if r1 < 10 goto l
exit

### loop-bounded-1000
# expect-cap: reject
# expect: accept
r0 = 0
r1 = 0
l: r0 += 3
r1 += 1
if r1 < 1000 goto l
exit

### loop-infinite-ja
# expect: reject InfiniteLoop
r0 = 0
l: goto l

### loop-infinite-same-state
# expect: reject InfiniteLoop
r0 = 0
l: r1 = 0
if r1 == 0 goto l
exit

### loop-unbounded-counter
# expect: reject TooComplex
call 7
r1 = r0
r0 = 0
l: r1 -= 1
if r1 != 0 goto l
exit

### loop-bounded-by-mask
# expect-cap: reject
# expect: accept
call 7
r1 = r0
r1 &= 0xf
r0 = 0
l: if r1 == 0 goto +3
r1 -= 1
r0 += 1
goto l
exit

### loop-too-many-iterations
# expect: reject TooComplex
r1 = 0
l: r1 += 1
if r1 < 600000 goto l
r0 = 0
exit

### loop-down-count
# expect-cap: reject
# expect: accept
r1 = 100
r0 = 0
l: r0 += 2
r1 -= 1
if r1 s> 0 goto l
exit

### loop-with-branch-inside
# expect-cap: reject
# expect: accept
r6 = 0
r7 = 0
l: call 7
if r0 & 1 goto +1
r7 += 1
r6 += 1
if r6 < 8 goto l
r0 = r7
exit

### loop-nested
# expect-cap: reject
# expect: accept
r0 = 0
r1 = 0
outer: r2 = 0
inner: r0 += 1
r2 += 1
if r2 < 5 goto inner
r1 += 1
if r1 < 5 goto outer
exit

### loop-stack-counter
# expect-cap: reject
# expect: accept
r1 = 0
*(u64 *)(r10 - 8) = r1
l: r1 = *(u64 *)(r10 - 8)
r1 += 1
*(u64 *)(r10 - 8) = r1
if r1 < 20 goto l
r0 = 0
exit

### loop-32bit-counter
# expect-cap: reject
# expect: accept
w1 = 0
w0 = 0
l: w0 += 1
w1 += 1
if w1 < 50 goto l
exit

### self-loop-cond-const
# expect: reject InfiniteLoop
r1 = 1
l: if r1 == 1 goto l
r0 = 0
exit

### loop-back-edge-over-exit
# expect-cap: reject
# expect: accept
r1 = 3
l: r1 -= 1
if r1 == 0 goto +1
goto l
r0 = 0
exit
