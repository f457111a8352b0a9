// A CO-RE target whose struct config has no threshold: core_config.c's relocation cannot resolve (poisoned).
#include "features.h"

struct config {
	__u32 mode;
};

struct config target_config SEC(".data.target");
