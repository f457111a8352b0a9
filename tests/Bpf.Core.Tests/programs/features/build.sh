#!/bin/sh
# Rebuilds the feature objects (one C file per reader/loader feature) beside their sources.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
for src in *.c; do
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c "$src" -I . -o "$(basename "$src" .c).o"
done
