#ifndef BERTH_CLMDB_SHIM_H
#define BERTH_CLMDB_SHIM_H
#include <lmdb.h>
#endif
