#!/bin/sh
# Rebuilds the BPF test corpus: every *.c here into a .o beside it (or into $1 if given).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
clang=${CLANG:-clang-14}
mkdir -p "$out"
for src in "$here"/*.c; do
	name=$(basename "$src" .c)
	"$clang" -target bpf -O2 -g -c "$src" -I "$here" -o "$out/$name.o"
done
