/* error.c -- messages and names for acrawl's error codes (from ACR_ERRNO_MAP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "check.h"

struct errdesc {
    int code;
    const char *name;
    const char *msg;
};

static const struct errdesc table[] = {
#define ROW(name, n, kind, msg) {ACR_##name, #name, msg},
    ACR_ERRNO_MAP(ROW)
#undef ROW
};

static const struct errdesc *find(int code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].code == code)
            return &table[i];
    }
    return NULL;
}

const char *acr_strerror(int code)
{
    if (code == 0)
        return "success";
    const struct errdesc *d = find(code);
    if (d)
        return d->msg;
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

const char *acr_errname(int code)
{
    if (code == 0)
        return "OK";
    const struct errdesc *d = find(code);
    if (d)
        return d->name;
    const char *e = code < 0 && code > -4096 ? strerrorname_np(-code) : NULL;
    return e ? e : "EUNKNOWN";
}

_Noreturn void acr__assert_fail(const char *cond, const char *rule, const char *file, int line)
{
    fprintf(stderr, "acrawl: internal error: %s (%s at %s:%d)\n", rule, cond, file, line);
    fflush(stderr);
    abort();
}
