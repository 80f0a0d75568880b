/* The struct core_api handed to every transport instance. */
#ifndef FERRY_CORE_API_H
#define FERRY_CORE_API_H

#include "transport.h"

extern const struct core_api core_api;

#endif
