#ifndef PROVIDENT_CSODIUM_SHIM_H
#define PROVIDENT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
