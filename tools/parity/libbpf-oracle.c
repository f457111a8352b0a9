// libbpf oracle: for each program of an object, load it alone (others autoload=false); print "name OK|FAIL err".
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
static int quiet(enum libbpf_print_level l, const char *f, va_list a) { return 0; }
int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	struct bpf_object *obj = bpf_object__open(argv[1]);
	if (!obj || libbpf_get_error(obj)) { printf("OPENFAIL %ld\n", libbpf_get_error(obj)); return 0; }
	int n = 0; struct bpf_program *p;
	char names[512][128];
	bpf_object__for_each_program(p, obj) strncpy(names[n++], bpf_program__name(p), 127);
	bpf_object__close(obj);
	for (int i = 0; i < n; i++) {
		obj = bpf_object__open(argv[1]);
		bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, strcmp(bpf_program__name(p), names[i]) == 0);
		int err = bpf_object__load(obj);
		printf("%s %s %d\n", names[i], err ? "FAIL" : "OK", err);
		bpf_object__unpin_maps(obj, NULL); /* by-name pins: leave nothing behind in bpffs */
		bpf_object__close(obj);
	}
	return 0;
}
