/* test_normalize.c -- acr_url_normalize: one case per RFC 3986 §6.2.2/§6.2.3 rule,
 * and idempotence and re-parse stability over every case. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "acrawl/url.h"
#include "util/alloc.h"

struct ncase {
    const char *rule;
    const char *in;
    const char *want;
};

static const struct ncase cases[] = {
    {"scheme and host case", "HTTP://Example.COM/Path", "http://example.com/Path"},
    {"percent-encoding case", "http://a.b/x%3ay%2fz", "http://a.b/x%3Ay%2Fz"},
    {"percent-encoding case in query", "http://a.b/?q=%c3%a9", "http://a.b/?q=%C3%A9"},
    {"unreserved decoded", "http://a.b/%7Euser/%41%62%2D%2e%5F%30", "http://a.b/~user/Ab-._0"},
    {"unreserved decoded in query", "http://a.b/?%61=%31", "http://a.b/?a=1"},
    {"reserved stay encoded", "http://a.b/%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A",
     "http://a.b/%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A"},
    {"other escapes stay encoded", "http://a.b/%20%25%00%7F%80", "http://a.b/%20%25%00%7F%80"},
    {"bare percent escaped", "http://a.b/100%/%zz/%4", "http://a.b/100%25/%25zz/%254"},
    {"bare percent before escape", "http://a.b/%%36%31", "http://a.b/%2561"},
    {"dot segments", "http://a.b/a/./b/../c/.", "http://a.b/a/c/"},
    {"dot segments uncovered by decoding", "http://a.b/a/%2E%2e/b/%2E/c", "http://a.b/b/c"},
    {"default port http", "http://a.b:80/x", "http://a.b/x"},
    {"default port https", "https://a.b:443/x", "https://a.b/x"},
    {"other port kept", "http://a.b:443/x", "http://a.b:443/x"},
    {"empty port", "http://a.b:/x", "http://a.b/x"},
    {"empty path", "http://a.b", "http://a.b/"},
    {"empty path with query", "http://a.b?q=1", "http://a.b/?q=1"},
    {"fragment removed", "http://a.b/x?y#frag%41", "http://a.b/x?y"},
    {"query order and empty query kept", "http://a.b/p?b=2&a=1&b=1&&", "http://a.b/p?b=2&a=1&b=1&&"},
    {"empty query kept", "http://a.b/p?", "http://a.b/p?"},
    {"plus not decoded", "http://a.b/?q=a+b%2Bc", "http://a.b/?q=a+b%2Bc"},
    {"IPv6 literal", "http://[2001:DB8:0:0::1]:80/%7e", "http://[2001:db8::1]/~"},
    {"IPv6 with port", "https://[::FFFF:1.2.3.4]:8443/", "https://[::ffff:1.2.3.4]:8443/"},
    {"host trailing dot kept", "http://Example.COM./", "http://example.com./"},
    {"non-ASCII and space encoded", "http://a.b/caf\xc3\xa9 x", "http://a.b/caf%C3%A9%20x"},
    {"path case kept", "http://a.b/A/%4A", "http://a.b/A/J"},
};

static void normalized(acr_url *u, const char *in)
{
    char err[128] = "";
    cr_assert_eq(acr_url_parse(u, in, err, sizeof err), 0, "%s: %s", in, err);
    cr_assert_eq(acr_url_normalize(u), 0, "%s", in);
}

Test(normalize, each_rule)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acr_url u;
        normalized(&u, cases[i].in);
        cr_expect_str_eq(u.href, cases[i].want, "%s: %s", cases[i].rule, cases[i].in);
        size_t hl = strlen(u.href), tl = strlen(u.target);
        cr_expect(hl >= tl && !strcmp(u.href + hl - tl, u.target), "%s: target %s", cases[i].rule, u.target);
        acr_url_release(&u);
    }
}

Test(normalize, idempotent)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acr_url u;
        normalized(&u, cases[i].in);
        char *once = strdup(u.href);
        cr_assert_eq(acr_url_normalize(&u), 0);
        cr_expect_str_eq(u.href, once, "%s: second pass", cases[i].rule);
        acr_url_release(&u);
        free(once);
    }
}

Test(normalize, reparse_gives_same_href)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acr_url u, v;
        normalized(&u, cases[i].in);
        cr_assert_eq(acr_url_parse(&v, u.href, NULL, 0), 0, "%s", u.href);
        cr_expect_str_eq(v.href, u.href, "%s: re-parse", cases[i].rule);
        cr_expect_str_eq(v.target, u.target, "%s: re-parse", cases[i].rule);
        acr_url_release(&v);
        acr_url_release(&u);
    }
}

Test(normalize, host_and_origin_untouched)
{
    acr_url u;
    normalized(&u, "HTTPS://Ex.COM:8443/%7e");
    cr_expect_str_eq(u.host, "ex.com");
    cr_expect_str_eq(u.origin, "https://ex.com:8443");
    cr_expect_str_eq(u.target, "/~");
    acr_url_release(&u);
}

Test(normalize, out_of_memory_leaves_url_unchanged)
{
    for (uint64_t n = 1;; n++) {
        acr_url u;
        cr_assert_eq(acr_url_parse(&u, "http://a.b/%7e/%2E%2E/x?%3a", NULL, 0), 0);
        acr_alloc_fail_nth(n);
        int rc = acr_url_normalize(&u);
        acr_alloc_fail_nth(0);
        if (rc == 0) {
            cr_expect_str_eq(u.href, "http://a.b/x?%3A");
            acr_url_release(&u);
            break;
        }
        cr_assert_eq(rc, -ENOMEM);
        cr_expect_str_eq(u.href, "http://a.b/%7e/%2E%2E/x?%3a");
        acr_url_release(&u);
    }
}
