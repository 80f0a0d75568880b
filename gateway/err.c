#include "err.h"

const char *ferry_strerror(int err)
{
    switch (err) {
    case FERRY_OK:
        return "success";
    case FERRY_ENOMEM:
        return "out of memory";
    case FERRY_EINVAL:
        return "invalid argument";
    case FERRY_ERANGE:
        return "value out of range";
    case FERRY_ENOTFOUND:
        return "not found";
    case FERRY_EEXIST:
        return "already exists";
    case FERRY_EIO:
        return "input/output error";
    case FERRY_ESTATE:
        return "invalid state";
    case FERRY_EUNSUPP:
        return "not supported";
    case FERRY_ETEMP:
        return "temporary failure";
    case FERRY_EPERM:
        return "not permitted";
    case FERRY_ECONFIG:
        return "configuration error";
    default:
        return "unknown error";
    }
}
