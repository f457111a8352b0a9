#!/bin/sh
# Rebuilds the verifier's compiled fixtures (loop_scan.o, spin_lock.o) with the shared helper header of Bpf.Core.Tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for src in *.c; do
	"${CLANG:-clang-14}" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -I ../../Bpf.Core.Tests/programs -I/usr/include/x86_64-linux-gnu -c "$src" -o "$(basename "$src" .c).o"
done
