/* error.c -- messages and kind names for acrawl's error codes. */
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
    {ACR_ETIMEOUT, "timeout", "deadline elapsed"},
    {ACR_ECANCELED, "cancelled", "cancelled"},
    {ACR_ECLOSED, "closed", "closed"},
    {ACR_ENOSTACK, "no-stack", "no stack for a new task (memory maps exhausted; see vm.max_map_count)"},
    {ACR_EEMPTY, "empty", "nothing left to wait for"},
    {ACR_EDEADLOCK, "deadlock", "tasks are waiting but nothing can wake them"},
    {ACR_ENOTASK, "no-task", "must be called from inside a task"},
    {ACR_EBADURL, "bad-url", "malformed or unsupported URL"},
    {ACR_EDNS, "dns", "name resolution failed"},
    {ACR_ECONNECT, "connect", "could not connect"},
    {ACR_EREFUSED, "refused", "connection refused"},
    {ACR_ERESET, "reset", "connection reset by peer"},
    {ACR_ETLSHANDSHAKE, "tls-handshake", "TLS handshake failed"},
    {ACR_ETLSVERIFY, "tls-verify", "certificate verification failed"},
    {ACR_EPROTO, "protocol", "HTTP protocol error"},
    {ACR_ETOOLARGE, "too-large", "size limit exceeded"},
    {ACR_EREDIRLOOP, "redirect-loop", "redirect loop or too many redirects"},
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
        return "ok";
    const struct errdesc *d = find(code);
    return d ? d->name : "system";
}

_Noreturn void acr__assert_fail(const char *cond, const char *rule, const char *file, int line)
{
    fprintf(stderr, "acrawl: internal error: %s (%s at %s:%d)\n", rule, cond, file, line);
    fflush(stderr);
    abort();
}
