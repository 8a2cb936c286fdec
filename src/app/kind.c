/* kind.c -- codes to the closed set of error kinds records show (see README). */
#include "acrawl/error.h"
#include "kind.h"

const char *acr_error_kind(int code)
{
    switch (code) {
    case 0:
        return "ok";
#define KIND(name, n, kind, msg)                                                                       \
    case ACR_##name:                                                                                   \
        return kind;
        ACR_ERRNO_MAP(KIND)
#undef KIND
    default:
        return "system";
    }
}
