#!/bin/sh
# Rebuilds the verifier's compiled fixtures (loop_scan.o, spin_lock.o, btf/btf_ctx.o) with the shared helper header
# of Bpf.Core.Tests. btf/ holds programs the kernel cannot load on every machine (fentry, LSM: EPERM before
# verifying on some), compared by BtfContextTests instead of ObjectTests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for src in *.c btf/*.c; do
	"${CLANG:-clang-14}" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -I ../../Bpf.Core.Tests/programs -I/usr/include/x86_64-linux-gnu -c "$src" -o "${src%.c}.o"
done
