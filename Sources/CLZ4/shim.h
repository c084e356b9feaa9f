#ifndef BERTH_CLZ4_SHIM_H
#define BERTH_CLZ4_SHIM_H
#include <lz4.h>
#endif
