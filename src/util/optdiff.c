/* optdiff.c -- the first difference between two option lists (see optdiff.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "optdiff.h"

/* The line at *p (up to '\n' or end) split at its first '='; *p moves past it. */
struct opt {
    const char *name, *value;
    size_t lname, lvalue;
};

static bool next_opt(const char **p, const char *end, struct opt *o)
{
    while (*p < end && **p == '\n')
        (*p)++;
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *e = nl ? nl : end;
    const char *eq = memchr(*p, '=', (size_t)(e - *p));
    o->name = *p;
    o->lname = (size_t)((eq ? eq : e) - *p);
    o->value = eq ? eq + 1 : e;
    o->lvalue = (size_t)(e - o->value);
    *p = e;
    return true;
}

static bool opt_named(const char *p, const char *end, const struct opt *want)
{
    struct opt o;
    while (next_opt(&p, end, &o)) {
        if (o.lname == want->lname && memcmp(o.name, want->name, o.lname) == 0)
            return true;
    }
    return false;
}

static int refuse(char *err, size_t errlen, const char *advice, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < errlen && advice[0])
            snprintf(err + n, errlen - (size_t)n, " %s", advice);
    }
    return -EINVAL;
}

int acr__optdiff(const char *a, size_t la, const char *b, size_t lb, const char *subject, const char *verb,
                 const char *advice, char *err, size_t errlen)
{
    const char *pa = a, *pb = b, *ea = a + la, *eb = b + lb;
    struct opt oa, ob;
    for (;;) {
        bool ha = next_opt(&pa, ea, &oa), hb = next_opt(&pb, eb, &ob);
        if (!ha && !hb)
            return 0;
        bool same = ha && hb && oa.lname == ob.lname && memcmp(oa.name, ob.name, oa.lname) == 0;
        if (same && oa.lvalue == ob.lvalue && memcmp(oa.value, ob.value, oa.lvalue) == 0)
            continue;
        if (same)
            return refuse(err, errlen, advice, "%s was %s with --%.*s=%.*s; this command has --%.*s=%.*s", subject, verb,
                          (int)oa.lname, oa.name, (int)oa.lvalue, oa.value, (int)ob.lname, ob.name, (int)ob.lvalue,
                          ob.value);
        /* Names differ (or one side has ended). In the canonical order, when the
         * stored side has b's option further on, a's comes first and is the stored
         * side's alone; otherwise b's is this command's alone. */
        if (ha && (!hb || opt_named(pa, ea, &ob)))
            return refuse(err, errlen, advice, "%s was %s with --%.*s=%.*s; this command has no --%.*s", subject, verb,
                          (int)oa.lname, oa.name, (int)oa.lvalue, oa.value, (int)oa.lname, oa.name);
        return refuse(err, errlen, advice, "%s was %s without --%.*s; this command has --%.*s=%.*s", subject, verb,
                      (int)ob.lname, ob.name, (int)ob.lname, ob.name, (int)ob.lvalue, ob.value);
    }
}
