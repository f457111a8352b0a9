#!/bin/sh
# Rebuilds the BPF test corpus: every *.c here into a .o beside it (or into $1 if given).
# When building in place, also refreshes expected/*.readelf.txt and expected/*.objdump.txt, the
# llvm-readelf / llvm-objdump views the tests compare the reader against where those tools are absent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
clang=${CLANG:-clang-14}
mkdir -p "$out"
cd "$here"
for src in *.c; do
	name=$(basename "$src" .c)
	# Relative source paths keep the objects (BTF line info, DWARF) independent of the checkout location.
	"$clang" -target bpf -O2 -g -fdebug-prefix-map="$here"=. -c "$src" -I . -o "$out/$name.o"
done
if [ "$out" = "$here" ] && command -v llvm-readelf-14 >/dev/null && command -v llvm-objdump-14 >/dev/null; then
	mkdir -p expected
	for obj in *.o; do
		name=$(basename "$obj" .o)
		llvm-readelf-14 -S -s -r --wide "$obj" > "expected/$name.readelf.txt"
		llvm-objdump-14 -d -r "$obj" > "expected/$name.objdump.txt"
	done
fi
