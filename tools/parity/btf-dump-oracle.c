// libbpf's BTF-to-C dumper, used as the oracle for `bpfnet btf dump FILE --format c`.
#include <stdio.h>
#include <stdarg.h>
#include <bpf/btf.h>
static void out(void *ctx, const char *fmt, va_list args) { vprintf(fmt, args); }
int main(int argc, char **argv)
{
	struct btf *btf = btf__parse(argv[1], NULL);
	if (!btf) { perror("btf__parse"); return 2; }
	struct btf_dump *d = btf_dump__new(btf, out, NULL, NULL);
	int n = btf__type_cnt(btf);
	for (int i = 1; i < n; i++) if (btf_dump__dump_type(d, i)) { fprintf(stderr, "dump %d failed\n", i); return 1; }
	return 0;
}
