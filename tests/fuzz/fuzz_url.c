/* fuzz_url.c -- acr_url_parse and acr_url_resolve on arbitrary bytes. The input is a
 * URL and a reference against fixed bases; up to a NUL it may also be a base itself. */
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/url.h"
#include "fuzz.h"

static const char *const bases[] = {
    "http://a/b/c/d;p?q",                 /* RFC 3986 §5.4 */
    "https://h:8443/dir/page?x",
    "http://[2001:db8::1]/",
    "http://example.com",                 /* empty path */
    "https://example.com/a/b/../c/./d/?", /* dot segments, empty query */
};

/* What every parsed URL must satisfy, and its href must parse back to itself. */
static void check_url(const acr_url *u)
{
    FUZZ_CHECK(u->href && u->host && u->target && u->origin && u->scheme, "fields set");
    FUZZ_CHECK(!strcmp(u->scheme, "http") || !strcmp(u->scheme, "https"), "scheme is http(s)");
    FUZZ_CHECK(u->tls == !strcmp(u->scheme, "https"), "tls matches scheme");
    FUZZ_CHECK(u->host[0] != 0, "host not empty");
    FUZZ_CHECK(u->port != 0, "port set");
    FUZZ_CHECK(u->target[0] == '/', "target starts with /");
    FUZZ_CHECK(!strchr(u->href, '#'), "fragment dropped");
    for (const unsigned char *p = (const unsigned char *)u->href; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f, "href is printable ASCII without spaces");
    size_t sl = strlen(u->scheme);
    FUZZ_CHECK(!strncmp(u->href, u->scheme, sl) && !strncmp(u->href + sl, "://", 3), "href starts scheme://");
    size_t hl = strlen(u->href), tl = strlen(u->target);
    FUZZ_CHECK(hl >= tl && !strcmp(u->href + hl - tl, u->target), "href ends with the target");

    acr_url again;
    char err[128];
    int rc = acr_url_parse(&again, u->href, err, sizeof err);
    if (rc == -ENOMEM)
        return;
    FUZZ_CHECK(rc == 0, "href re-parses");
    FUZZ_CHECK(!strcmp(again.href, u->href), "href re-parses to the same href");
    FUZZ_CHECK(!strcmp(again.host, u->host), "same host");
    FUZZ_CHECK(again.port == u->port, "same port");
    FUZZ_CHECK(!strcmp(again.target, u->target), "same target");
    FUZZ_CHECK(!strcmp(again.origin, u->origin), "same origin");
    FUZZ_CHECK(again.ipv6 == u->ipv6, "same ipv6");
    acr_url_release(&again);

    acr_url copy;
    if (acr_url_copy(&copy, u) == 0) {
        FUZZ_CHECK(!strcmp(copy.href, u->href), "copy keeps href");
        acr_url_release(&copy);
    }
}

static void resolve(const acr_url *base, const char *ref)
{
    acr_url u;
    char err[128] = "";
    int rc = acr_url_resolve(&u, base, ref, err, sizeof err);
    if (rc == 0) {
        check_url(&u);
        /* An absolute result resolves to itself against any base. */
        acr_url v;
        if (acr_url_resolve(&v, base, u.href, NULL, 0) == 0) {
            FUZZ_CHECK(!strcmp(v.href, u.href), "absolute href resolves to itself");
            acr_url_release(&v);
        }
        acr_url_release(&u);
    } else {
        FUZZ_CHECK(rc == ACR_EBADURL || rc == -ENOMEM, "resolve returns a documented code");
        FUZZ_CHECK(rc != ACR_EBADURL || err[0], "a bad URL has a reason");
    }
}

/* References that must resolve to the base's own href. */
static void same_as_base(const acr_url *base, const char *ref)
{
    acr_url u;
    int rc = acr_url_resolve(&u, base, ref, NULL, 0);
    if (rc == -ENOMEM)
        return;
    FUZZ_CHECK(rc == 0, "a base's own reference resolves");
    FUZZ_CHECK(!strcmp(u.href, base->href), "a base's own reference resolves to the base");
    acr_url_release(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;

    acr_url u;
    char err[128] = "";
    int rc = acr_url_parse(&u, s, err, sizeof err);
    if (rc == 0) {
        check_url(&u);
        acr_url_release(&u);
    } else {
        FUZZ_CHECK(rc == ACR_EBADURL || rc == -ENOMEM, "parse returns a documented code");
        FUZZ_CHECK(rc != ACR_EBADURL || err[0], "a bad URL has a reason");
    }

    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        acr_url b;
        FUZZ_CHECK(acr_url_parse(&b, bases[i], NULL, 0) == 0, "fixed base parses");
        resolve(&b, s);
        acr_url_release(&b);
    }

    /* "base\0ref": the part before a NUL as the base, the rest as the reference. */
    size_t first = strlen(s);
    if (first < size) {
        acr_url b;
        if (acr_url_parse(&b, s, NULL, 0) == 0) {
            resolve(&b, s + first + 1);
            same_as_base(&b, "");       /* RFC 3986 §5.2.2: the base itself */
            if (strncmp(b.target, "//", 2)) /* "//x" would be a network-path reference */
                same_as_base(&b, b.target); /* its own path and query */
            acr_url_release(&b);
        }
    }
    free(s);
    return 0;
}
