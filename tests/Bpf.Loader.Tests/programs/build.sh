#!/bin/sh
# Rebuilds the loader tests' own BPF objects (rejected.o, ringbuf.o, perf_output.o) beside their sources.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
for src in *.c; do
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c "$src" -I . -o "$(basename "$src" .c).o"
done
