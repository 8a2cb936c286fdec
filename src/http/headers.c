/* headers.c -- the response's header list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acrawl/http.h"
#include "util/alloc.h"

const char *acr_headers_get(const acr_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++) {
        if (!strcasecmp(h->v[i].name, name))
            return h->v[i].value;
    }
    return NULL;
}

int acr_headers_add(acr_headers *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        acr_header *v = acr_realloc(h->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    /* Trim the optional whitespace llhttp leaves at the end of a value. */
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    char *n = acr_strndup(name, nlen), *v = acr_strndup(value, vlen);
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    h->v[h->n].name = n;
    h->v[h->n].value = v;
    h->n++;
    return 0;
}

void acr_headers_release(acr_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    memset(h, 0, sizeof *h);
}
