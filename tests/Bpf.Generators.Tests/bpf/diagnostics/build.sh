#!/bin/sh
# Rebuilds the diagnostics corpus: clashes.o with BTF, nobtf.o without (-g left out on purpose).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c clashes.c -o clashes.o
"$clang" -target bpf -O2 -c clashes.c -o nobtf.o
