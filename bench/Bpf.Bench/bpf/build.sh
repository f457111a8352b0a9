#!/bin/sh
# Rebuilds the scan-vs-lookup benchmark's BPF object beside its source (libbpf-dev for <bpf/bpf_helpers.h>).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
clang=${CLANG:-clang-14}
cd "$here"
for src in *.c; do
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -I/usr/include/x86_64-linux-gnu -c "$src" -o "$(basename "$src" .c).o"
done
