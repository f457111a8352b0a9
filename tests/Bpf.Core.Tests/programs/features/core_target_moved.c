// A CO-RE target in which struct config's threshold moved to byte 12 (the "newer kernel" of core_config.c).
#include "features.h"

struct config {
	__u32 mode;
	__u32 flags[2];
	__u32 threshold;
};

struct config target_config SEC(".data.target");
