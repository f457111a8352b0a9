#!/bin/sh
# Rebuilds the generator's layout corpus: every *.c here into a committed .o beside it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
for src in *.c; do
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c "$src" -o "$(basename "$src" .c).o"
done
