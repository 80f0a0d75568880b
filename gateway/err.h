/* Error codes shared by every module: 0 is success, failures are negative
 * values of enum ferry_err.  Only the stanza layer maps them to XMPP
 * conditions. */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

enum ferry_err {
    FERRY_OK = 0,
    FERRY_ENOMEM = -1,    /* allocation failed */
    FERRY_EINVAL = -2,    /* bad argument or malformed input */
    FERRY_ERANGE = -3,    /* value or length out of range */
    FERRY_ENOTFOUND = -4, /* no such entry */
    FERRY_EEXIST = -5,    /* entry exists already */
    FERRY_EIO = -6,       /* I/O or storage failure */
    FERRY_ESTATE = -7,    /* operation not valid in the current state */
    FERRY_EUNSUPP = -8,   /* not implemented by this transport */
    FERRY_ETEMP = -9,     /* transient failure, retry later */
    FERRY_EPERM = -10,    /* not allowed */
    FERRY_ECONFIG = -11,  /* configuration error */
};

/* Static, human-readable text for an error code (never NULL). */
const char *ferry_strerror(int err);

#endif
