/* test_url.c -- URL parsing, normalisation and RFC 3986 §5.4 resolution. */
#include <criterion/criterion.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/url.h"

static void expect_href(const char *in, const char *want)
{
    acr_url u;
    char err[128] = "";
    int rc = acr_url_parse(&u, in, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", in, err);
    cr_expect_str_eq(u.href, want, "%s", in);
    acr_url_release(&u);
}

static void expect_bad(const char *in, const char *why)
{
    acr_url u;
    char err[128] = "";
    cr_assert_eq(acr_url_parse(&u, in, err, sizeof err), ACR_EBADURL, "%s parsed", in);
    cr_expect(strstr(err, why) != NULL, "%s: error '%s' lacks '%s'", in, err, why);
}

Test(url, parses_components)
{
    acr_url u;
    cr_assert_eq(acr_url_parse(&u, "HTTPS://Example.COM:8443/a/b?x=1#frag", NULL, 0), 0);
    cr_assert_str_eq(u.scheme, "https");
    cr_assert_str_eq(u.host, "example.com");
    cr_assert_eq(u.port, 8443);
    cr_assert(u.tls);
    cr_assert_str_eq(u.target, "/a/b?x=1");
    cr_assert_str_eq(u.origin, "https://example.com:8443");
    cr_assert_str_eq(u.href, "https://example.com:8443/a/b?x=1");
    acr_url_release(&u);
}

Test(url, normalises)
{
    expect_href("http://a.b", "http://a.b/");
    expect_href("http://a.b:80/", "http://a.b/");
    expect_href("https://a.b:443/x", "https://a.b/x");
    expect_href("http://a.b:/x", "http://a.b/x");
    expect_href("http://a.b/x/./y/../z", "http://a.b/x/z");
    expect_href("http://a.b/../../x", "http://a.b/x");
    expect_href("http://a.b/a b", "http://a.b/a%20b");
    expect_href("http://a.b?q", "http://a.b/?q");
    expect_href("http://127.0.0.1:8080/p", "http://127.0.0.1:8080/p");
    expect_href("http://[::1]:8080/p", "http://[::1]:8080/p");
    expect_href("http://[0:0::1]/", "http://[::1]/");
}

Test(url, ipv6_host)
{
    acr_url u;
    cr_assert_eq(acr_url_parse(&u, "http://[2001:DB8::1]/", NULL, 0), 0);
    cr_assert(u.ipv6);
    cr_assert_str_eq(u.host, "2001:db8::1");
    cr_assert_str_eq(u.origin, "http://[2001:db8::1]:80");
    acr_url_release(&u);
}

Test(url, rejects_bad_input_with_reasons)
{
    expect_bad("ftp://a.b/", "unsupported scheme");
    expect_bad("a.b/x", "no scheme");
    expect_bad("http:/a.b", "missing '//'");
    expect_bad("http://", "empty host");
    expect_bad("http:///x", "empty host");
    expect_bad("http://user:pw@a.b/", "credentials");
    expect_bad("http://a.b:99999/", "port");
    expect_bad("http://a.b:0/", "port");
    expect_bad("http://a.b:8x/", "bad port");
    expect_bad("http://caf\xc3\xa9.fr/", "non-ASCII host");
    expect_bad("http://[::1/", "IPv6");
    expect_bad("http://[zz::1]/", "bad IPv6");
    expect_bad("http://a b/", "invalid character");
    expect_bad("http://a.b/\x01", "control character");
    expect_bad("", "no scheme");
}

/* RFC 3986 §5.4: base http://a/b/c/d;p?q. Fragments are dropped, and a non-http
 * result ("g:h") is refused. */
static const char *const examples[][2] = {
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g/"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q"},
    {"g#s", "http://a/b/c/g"},
    {"g?y#s", "http://a/b/c/g?y"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"g;x?y#s", "http://a/b/c/g;x?y"},
    {"", "http://a/b/c/d;p?q"},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    /* abnormal */
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g?y/../x", "http://a/b/c/g?y/../x"},
    {"g#s/./x", "http://a/b/c/g"},
    {"g#s/../x", "http://a/b/c/g"},
    {"http:g", NULL}, /* strict parsers: scheme with no authority */
};

Test(url, rfc3986_section_5_4_examples)
{
    acr_url base;
    cr_assert_eq(acr_url_parse(&base, "http://a/b/c/d;p?q", NULL, 0), 0);
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        acr_url u;
        char err[128] = "";
        int rc = acr_url_resolve(&u, &base, examples[i][0], err, sizeof err);
        if (!examples[i][1]) {
            cr_expect_eq(rc, ACR_EBADURL, "'%s' should be refused", examples[i][0]);
            continue;
        }
        cr_assert_eq(rc, 0, "'%s': %s", examples[i][0], err);
        cr_expect_str_eq(u.href, examples[i][1], "'%s'", examples[i][0]);
        acr_url_release(&u);
    }
    acr_url u;
    char err[128] = "";
    cr_expect_eq(acr_url_resolve(&u, &base, "g:h", err, sizeof err), ACR_EBADURL);
    cr_expect(strstr(err, "unsupported scheme"));
    acr_url_release(&base);
}

Test(url, resolves_against_https_with_port)
{
    acr_url base, u;
    cr_assert_eq(acr_url_parse(&base, "https://h:8443/dir/page?x", NULL, 0), 0);
    cr_assert_eq(acr_url_resolve(&u, &base, "other", NULL, 0), 0);
    cr_assert_str_eq(u.href, "https://h:8443/dir/other");
    acr_url_release(&u);
    cr_assert_eq(acr_url_resolve(&u, &base, "//x.org/y", NULL, 0), 0);
    cr_assert_str_eq(u.href, "https://x.org/y");
    acr_url_release(&u);
    acr_url_release(&base);
}
