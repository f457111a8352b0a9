#!/bin/sh
# Rebuilds the sample's BPF objects (every *.c here into a .o beside it) with clang-14, as the build does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
for src in *.c; do
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c "$src" -I ../../include -I/usr/include/x86_64-linux-gnu -o "$(basename "$src" .c).o"
done
