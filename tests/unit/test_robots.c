/* test_robots.c -- robots.txt parsing and matching: a table with a case per RFC 9309
 * rule and per behaviour of widely deployed parsers worth keeping, then crawl-delay,
 * sitemaps, the 500 KiB limit, hostile input and allocation failures. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/robots.h"
#include "util/alloc.h"

struct rcase {
    const char *rule;  /* what the case pins */
    const char *body;
    const char *path;
    bool allowed;      /* for agent "acrawl" */
};

static const struct rcase cases[] = {
    /* Group selection (RFC 9309 §2.2.1) */
    {"own group chosen over *", "User-agent: *\nDisallow: /\n\nUser-agent: acrawl\nDisallow: /private\n", "/x", true},
    {"own group applies", "User-agent: *\nDisallow: /\n\nUser-agent: acrawl\nDisallow: /private\n", "/private/a", false},
    {"falls back to *", "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n", "/tmp/a", false},
    {"other group ignored", "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp\n", "/a", true},
    {"no group for us: allowed", "User-agent: otherbot\nDisallow: /\n", "/a", true},
    {"product token case-insensitive", "User-agent: ACrawl\nDisallow: /a\n", "/a", false},
    {"user-agent line with version", "User-agent: acrawl/1.0\nDisallow: /a\n", "/a", false},
    {"user-agent line with comment words", "User-agent: acrawl crawler of ours\nDisallow: /a\n", "/a", false},
    {"longer token is another agent", "User-agent: acrawl-bot\nDisallow: /a\n", "/a", true},
    {"prefix of our token is another agent", "User-agent: acraw\nDisallow: /a\n", "/a", true},
    {"empty own group beats *", "User-agent: acrawl\nAllow:\n\nUser-agent: *\nDisallow: /\n", "/a", true},
    {"own group with only other lines beats *", "User-agent: acrawl\nCrawl-delay: 1\n\nUser-agent: *\nDisallow: /\n",
     "/a", true},
    {"several agents share a group", "User-agent: a\nUser-agent: acrawl\nUser-agent: b\nDisallow: /x\n", "/x", false},
    {"blank lines inside a group", "User-agent: acrawl\n\n\nDisallow: /x\n", "/x", false},
    {"groups for us are merged (1)", "User-agent: acrawl\nDisallow: /a\n\nUser-agent: b\nDisallow: /c\n\n"
                                     "User-agent: acrawl\nDisallow: /b\n", "/a", false},
    {"groups for us are merged (2)", "User-agent: acrawl\nDisallow: /a\n\nUser-agent: b\nDisallow: /c\n\n"
                                     "User-agent: acrawl\nDisallow: /b\n", "/b", false},
    {"groups for us are merged (3)", "User-agent: acrawl\nDisallow: /a\n\nUser-agent: b\nDisallow: /c\n\n"
                                     "User-agent: acrawl\nDisallow: /b\n", "/c", true},
    {"* groups are merged", "User-agent: *\nDisallow: /a\nUser-agent: b\nDisallow: /\nUser-agent: *\nDisallow: /b\n",
     "/b", false},
    {"user-agent after a rule starts a group", "User-agent: acrawl\nDisallow: /x\nUser-agent: b\nDisallow: /y\n",
     "/y", true},
    {"rules before any user-agent ignored", "Disallow: /\nUser-agent: acrawl\nDisallow: /x\n", "/a", true},
    {"rules without any user-agent ignored", "Disallow: /\n", "/a", true},
    {"sitemap does not end the agent lines", "User-agent: b\nSitemap: http://a.b/s.xml\nUser-agent: acrawl\n"
                                             "Disallow: /\nUser-agent: b\n", "/a", false},
    {"unknown line does not end the agent lines", "User-agent: acrawl\nFoo: bar\nUser-agent: b\nDisallow: /\n",
     "/a", false},
    {"* with a version-like suffix is not *", "User-agent: *bot\nDisallow: /\n", "/a", true},
    /* Syntax (§2.2) */
    {"keys case-insensitive", "USER-AGENT: acrawl\nDISALLOW: /a\n", "/a", false},
    {"paths case-sensitive", "User-agent: acrawl\nDisallow: /a\n", "/A", true},
    {"spaces around colon and value", "  User-agent  :   acrawl  \n\tDisallow :\t/a \t\n", "/a", false},
    {"comments", "# all\nUser-agent: acrawl # us\nDisallow: /a # no\n#Disallow: /\n", "/a", false},
    {"comment-only rule is no rule", "User-agent: acrawl\nDisallow: # /\n", "/", true},
    {"missing colon accepted", "User-agent acrawl\nDisallow /a\n", "/a", false},
    {"missing colon with three words ignored", "User-agent: acrawl\nDisallow /a b\n", "/a", true},
    {"CR line ends", "User-agent: acrawl\rDisallow: /a\rAllow: /a/b\r", "/a/c", false},
    {"CRLF line ends", "User-agent: acrawl\r\nDisallow: /a\r\n\r\nUser-agent: b\r\nDisallow: /\r\n", "/b", true},
    {"mixed line ends", "User-agent: acrawl\r\n\rDisallow: /a\n\r\nAllow: /a/b", "/a/b", true},
    {"no final line end", "User-agent: acrawl\nDisallow: /a", "/a", false},
    {"UTF-8 BOM", "\xEF\xBB\xBFUser-agent: acrawl\nDisallow: /a\n", "/a", false},
    {"broken BOM spoils only the first line", "\xEF\x11\xBFUser-agent: acrawl\nDisallow: /a\n", "/a", true},
    {"misspelt disallow accepted", "User-agent: acrawl\nDissallow: /a\n", "/a", false},
    {"non-ASCII junk lines ignored", "User-agent: acrawl\n\xff\xfe\x80: /\nDisallow: /a\n", "/b", true},
    /* Matching (§2.2.2, §2.2.3) */
    {"prefix match", "User-agent: acrawl\nDisallow: /fish\n", "/fish.html", false},
    {"prefix match includes query", "User-agent: acrawl\nDisallow: /fish\n", "/fish?id=1", false},
    {"no match allows", "User-agent: acrawl\nDisallow: /fish\n", "/Fish", true},
    {"directory rule", "User-agent: acrawl\nDisallow: /fish/\n", "/fish", true},
    {"query in rule", "User-agent: acrawl\nDisallow: /p?id=\n", "/p?id=3", false},
    {"longest match: allow longer", "User-agent: acrawl\nDisallow: /x/\nAllow: /x/page.html\n", "/x/page.html", true},
    {"longest match: disallow longer", "User-agent: acrawl\nAllow: /x/\nDisallow: /x/page\n", "/x/page.html", false},
    {"longest match independent of order", "User-agent: acrawl\nAllow: /x/page.html\nDisallow: /x/\n", "/x/", false},
    {"allow wins a tie", "User-agent: acrawl\nDisallow: /page\nAllow: /page\n", "/page", true},
    {"allow wins a tie, either order", "User-agent: acrawl\nAllow: /page\nDisallow: /page\n", "/page", true},
    {"tie between a wildcard and a literal rule", "User-agent: acrawl\nDisallow: /ab\nAllow: /a*\n", "/ab", true},
    {"longer wildcard rule wins", "User-agent: acrawl\nDisallow: /*.php\nAllow: /a*.php\n", "/a.php", true},
    {"empty disallow allows all", "User-agent: acrawl\nDisallow:\n", "/anything", true},
    {"disallow all", "User-agent: acrawl\nDisallow: /\n", "/", false},
    {"'*' wildcard", "User-agent: acrawl\nDisallow: /*.gif\n", "/img/a.gif", false},
    {"'*' wildcard in the middle", "User-agent: acrawl\nDisallow: /a*/c\n", "/a/b/c/d", false},
    {"'*' matches empty", "User-agent: acrawl\nDisallow: /a*b\n", "/ab", false},
    {"'*' needs the rest", "User-agent: acrawl\nDisallow: /a*b\n", "/a/c", true},
    {"leading '*'", "User-agent: acrawl\nDisallow: *private\n", "/x/private", false},
    {"trailing '*' is a prefix match", "User-agent: acrawl\nDisallow: /fish*\n", "/fishheads", false},
    {"'*' backtracks", "User-agent: acrawl\nDisallow: /*ab*abc$\n", "/xababxabc", false},
    {"'$' anchor matches end", "User-agent: acrawl\nDisallow: /*.php$\n", "/a/b.php", false},
    {"'$' anchor refuses more", "User-agent: acrawl\nDisallow: /*.php$\n", "/a/b.php?x=1", true},
    {"'$' anchor refuses more (2)", "User-agent: acrawl\nDisallow: /*.php$\n", "/a/b.php5", true},
    {"'/$' allows only the root", "User-agent: acrawl\nAllow: /$\nDisallow: /\n", "/", true},
    {"'/$' allows only the root (2)", "User-agent: acrawl\nAllow: /$\nDisallow: /\n", "/index.html", false},
    {"'$' elsewhere is literal", "User-agent: acrawl\nDisallow: /a$b\n", "/a$bc", false},
    {"'*' at the end with '$'", "User-agent: acrawl\nDisallow: /a*$\n", "/abc", false},
    /* Percent-encoding (§2.2.2) */
    {"encoded unreserved in rule", "User-agent: acrawl\nDisallow: /%7Euser\n", "/~user/x", false},
    {"encoded unreserved in path", "User-agent: acrawl\nDisallow: /~user\n", "/%7euser/x", false},
    {"encoded letters", "User-agent: acrawl\nDisallow: /foo/bar/%62%61%7A\n", "/foo/bar/baz", false},
    {"hex case ignored", "User-agent: acrawl\nDisallow: /a%2fb\n", "/a%2Fb", false},
    {"encoded slash is not a slash", "User-agent: acrawl\nDisallow: /a/b\n", "/a%2Fb", true},
    {"encoded slash is not a slash (2)", "User-agent: acrawl\nDisallow: /a%2Fb\n", "/a/b", true},
    {"UTF-8 rule matches encoded path", "User-agent: acrawl\nDisallow: /foo/bar/\xE3\x83\x84\n",
     "/foo/bar/%E3%83%84", false},
    {"encoded rule matches UTF-8 path", "User-agent: acrawl\nDisallow: /foo/bar/%E3%83%84\n", "/foo/bar/\xE3\x83\x84",
     false},
    {"space equals %20", "User-agent: acrawl\nDisallow: /a%20b\n", "/a b", false},
    {"encoded '*' is literal", "User-agent: acrawl\nDisallow: /a%2Ab\n", "/axb", true},
    {"encoded '$' is not an anchor", "User-agent: acrawl\nDisallow: /a%24\n", "/a%24x", false},
    {"encoded reserved is not the reserved char", "User-agent: acrawl\nDisallow: /a%24\n", "/a$", true},
    {"bare '%' equals %25", "User-agent: acrawl\nDisallow: /100%\n", "/100%25off", false},
    {"reserved chars literal", "User-agent: acrawl\nDisallow: /p?q=a&b=c:d\n", "/p?q=a&b=c:d&e", false},
    {"longest match counts normalised octets", "User-agent: acrawl\nAllow: /%7Ea\nDisallow: /~a\n", "/~a", true},
    {"escaped suffix of an anchored rule", "User-agent: acrawl\nDisallow: /*%2f$\n", "/a%2F", false},
    {"decoded suffix of an anchored rule", "User-agent: acrawl\nDisallow: /*~$\n", "/a%7e", false},
    {"bare '%' at the end of an anchored rule", "User-agent: acrawl\nDisallow: /*0%$\n", "/x100%", false},
    {"bare '%' at the end of an anchored rule (2)", "User-agent: acrawl\nDisallow: /*0%$\n", "/x100%25", false},
    {"anchored rule, other suffix", "User-agent: acrawl\nDisallow: /*.pdf$\n", "/a.pdf/", true},
    {"suffix overlapping the prefix", "User-agent: acrawl\nDisallow: /ab*b$\n", "/ab", true},
    /* /robots.txt (§2.2.2) */
    {"/robots.txt always allowed", "User-agent: *\nDisallow: /\n", "/robots.txt", true},
    {"/robots.txt always allowed, explicit", "User-agent: acrawl\nDisallow: /robots.txt\n", "/robots.txt", true},
    {"/robots.txt.bak is a page", "User-agent: acrawl\nDisallow: /\n", "/robots.txt.bak", false},
};

static acr_robots *parse(const char *body, const char *agent)
{
    acr_robots *r = NULL;
    cr_assert_eq(acr_robots_parse(&r, body, strlen(body), agent), 0);
    cr_assert_not_null(r);
    return r;
}

Test(robots, rule_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        acr_robots *r = parse(cases[i].body, "acrawl");
        cr_expect_eq(acr_robots_allowed(r, cases[i].path), cases[i].allowed, "%s: %s should be %s", cases[i].rule,
                     cases[i].path, cases[i].allowed ? "allowed" : "disallowed");
        acr_robots_free(r);
    }
}

Test(robots, our_agent_string_reduced_to_product_token)
{
    acr_robots *r = parse("User-agent: acrawl\nDisallow: /a\n", "acrawl/0.3 (+https://example.org/bot)");
    cr_expect_not(acr_robots_allowed(r, "/a"));
    acr_robots_free(r);
    r = parse("User-agent: acrawl\nDisallow: /a\nUser-agent: *\nDisallow: /b\n", NULL);
    cr_expect(acr_robots_allowed(r, "/a"), "no agent: the * group");
    cr_expect_not(acr_robots_allowed(r, "/b"));
    acr_robots_free(r);
}

Test(robots, allow_all_and_disallow_all)
{
    acr_robots *r;
    cr_assert_eq(acr_robots_allow_all(&r), 0);
    cr_expect(acr_robots_allowed(r, "/x"));
    cr_expect_eq(acr_robots_crawl_delay(r), -1);
    acr_robots_free(r);
    cr_assert_eq(acr_robots_disallow_all(&r), 0);
    cr_expect_not(acr_robots_allowed(r, "/x"));
    cr_expect_not(acr_robots_allowed(r, "/"));
    cr_expect(acr_robots_allowed(r, "/robots.txt"));
    acr_robots_free(r);
}

Test(robots, empty_body_and_empty_path)
{
    acr_robots *r = NULL;
    cr_assert_eq(acr_robots_parse(&r, NULL, 0, "acrawl"), 0);
    cr_expect(acr_robots_allowed(r, "/"));
    acr_robots_free(r);
    r = parse("User-agent: *\nDisallow: /$\n", "acrawl");
    cr_expect_not(acr_robots_allowed(r, ""), "an empty path is /");
    acr_robots_free(r);
}

struct dcase {
    const char *body;
    int64_t ns;
};

Test(robots, crawl_delay)
{
    static const struct dcase d[] = {
        {"User-agent: acrawl\nCrawl-delay: 10\n", INT64_C(10000000000)},
        {"User-agent: acrawl\nCrawl-delay: 0.5\n", 500000000},
        {"User-agent: acrawl\nCrawl-delay: 2.25\n", 2250000000},
        {"User-agent: acrawl\nCrawl-delay: .1\n", 100000000},
        {"User-agent: acrawl\nCrawl-delay: 0.0000000019\n", 1},
        {"User-agent: acrawl\ncrawl-delay : 3 # seconds\n", 3000000000},
        {"User-agent: acrawl\nDisallow: /\n", -1},
        {"User-agent: acrawl\nCrawl-delay: soon\n", -1},
        {"User-agent: acrawl\nCrawl-delay: -1\n", -1},
        {"User-agent: acrawl\nCrawl-delay: 1e3\n", -1},
        {"User-agent: acrawl\nCrawl-delay: .\n", -1},
        {"User-agent: acrawl\nCrawl-delay: 99999999999999999999999\n", INT64_C(1000000000) * 1000000000},
        {"Crawl-delay: 5\nUser-agent: acrawl\nDisallow: /\n", -1},
        {"User-agent: *\nCrawl-delay: 7\n", 7000000000},
        {"User-agent: *\nCrawl-delay: 7\nUser-agent: acrawl\nCrawl-delay: 1\n", 1000000000},
        {"User-agent: acrawl\nCrawl-delay: 1\nUser-agent: acrawl\nCrawl-delay: 2\n", 1000000000},
        {"User-agent: b\nCrawl-delay: 9\n", -1},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        acr_robots *r = parse(d[i].body, "acrawl");
        cr_expect_eq(acr_robots_crawl_delay(r), d[i].ns, "%s", d[i].body);
        acr_robots_free(r);
    }
}

Test(robots, sitemaps_from_anywhere)
{
    acr_robots *r = parse("Sitemap: https://a.b/1.xml\nUser-agent: b\nsitemap: http://a.b/2.xml # c\n"
                          "Disallow: /\nSitemap: /relative.xml\nSITE-MAP:HTTPS://a.b/3.xml\n",
                          "acrawl");
    const char *const *urls = NULL;
    cr_assert_eq(acr_robots_sitemaps(r, &urls), 3);
    cr_expect_str_eq(urls[0], "https://a.b/1.xml");
    cr_expect_str_eq(urls[1], "http://a.b/2.xml");
    cr_expect_str_eq(urls[2], "HTTPS://a.b/3.xml");
    acr_robots_free(r);
    r = parse("User-agent: *\nDisallow: /\n", "acrawl");
    cr_expect_eq(acr_robots_sitemaps(r, &urls), 0);
    acr_robots_free(r);
}

/* A body of exactly len bytes: head, filler comment lines, then tail. */
static char *padded(const char *head, size_t len, const char *tail)
{
    char *b = malloc(len + 1);
    cr_assert_not_null(b);
    size_t h = strlen(head), t = strlen(tail);
    memcpy(b, head, h);
    memset(b + h, '#', len - h - t);
    for (size_t i = h + 99; i < len - t; i += 100)
        b[i] = '\n';
    memcpy(b + len - t, tail, t);
    b[len] = 0;
    return b;
}

Test(robots, only_first_500_KiB)
{
    const char *head = "User-agent: acrawl\nDisallow: /a\n";
    char *b = padded(head, 500 * 1024, "\nDisallow: /b\n");
    acr_robots *r = parse(b, "acrawl");
    cr_expect_not(acr_robots_allowed(r, "/b"), "a rule ending right at 500 KiB counts");
    acr_robots_free(r);
    free(b);
    b = padded(head, 500 * 1024 + 20, "\nDisallow: /c\n");
    r = parse(b, "acrawl");
    cr_expect_not(acr_robots_allowed(r, "/a"));
    cr_expect(acr_robots_allowed(r, "/c"), "a rule after 500 KiB is ignored");
    acr_robots_free(r);
    free(b);
    /* "Disallow: /cde" cut after "/c" by the limit must not become "Disallow: /c". */
    b = padded(head, 500 * 1024 + 3, "\nDisallow: /cde\n");
    r = parse(b, "acrawl");
    cr_expect(acr_robots_allowed(r, "/c"), "a line cut by the limit is dropped");
    acr_robots_free(r);
    free(b);
}

Test(robots, hostile_input)
{
    /* A 400 KB line, NUL bytes, lone CRs, colons everywhere. */
    size_t n = 400000;
    char *b = malloc(n + 64);
    cr_assert_not_null(b);
    int h = snprintf(b, 64, "User-agent: acrawl\nDisallow: /");
    memset(b + h, 'x', n);
    memcpy(b + h + n, "\n\0:\r:::\nDisallow: /y\n", 21);
    acr_robots *r = NULL;
    cr_assert_eq(acr_robots_parse(&r, b, (size_t)h + n + 21, "acrawl"), 0);
    cr_expect_not(acr_robots_allowed(r, "/y"), "parsing goes on after a NUL");
    cr_expect(acr_robots_allowed(r, "/xxx"));
    acr_robots_free(r);
    free(b);
    r = parse("User-agent: acrawl\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n", "acrawl");
    cr_expect(acr_robots_allowed(r, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    acr_robots_free(r);
}

Test(robots, many_rules)
{
    size_t nrules = 50000;
    char *b = malloc(nrules * 24 + 32);
    cr_assert_not_null(b);
    size_t at = (size_t)snprintf(b, 32, "User-agent: *\n");
    for (size_t i = 0; i < nrules; i++)
        at += (size_t)snprintf(b + at, 24, "%s: /d%zu/\n", i % 2 ? "Allow" : "Disallow", i);
    acr_robots *r = NULL;
    cr_assert_eq(acr_robots_parse(&r, b, at, "acrawl"), 0);
    cr_expect_not(acr_robots_allowed(r, "/d4/x"));
    cr_expect(acr_robots_allowed(r, "/d49999/x"));
    cr_expect(acr_robots_allowed(r, "/e"));
    acr_robots_free(r);
    free(b);
}

Test(robots, out_of_memory_at_every_allocation)
{
    const char *body = "Sitemap: http://a.b/s.xml\nUser-agent: acrawl\nDisallow: /a*b$\nAllow: /a\n"
                       "User-agent: *\nDisallow: /\n";
    for (uint64_t n = 1;; n++) {
        acr_robots *r = (acr_robots *)&n; /* must be reset on failure */
        acr_alloc_fail_nth(n);
        int rc = acr_robots_parse(&r, body, strlen(body), "acrawl");
        acr_alloc_fail_nth(0);
        if (rc == 0) {
            cr_expect_not(acr_robots_allowed(r, "/axb"));
            cr_expect(acr_robots_allowed(r, "/ax"));
            acr_robots_free(r);
            break;
        }
        cr_assert_eq(rc, -ENOMEM);
        cr_assert_null(r);
    }
}

/* The matcher against a plain reference on random rule sets: rules and paths are
 * built from pieces whose normalised unit is known, so the reference needs no
 * decoding; it matches recursively and picks the winner by scanning every rule. */
struct piece {
    const char *text;
    int unit;   /* what the piece normalises to; -1: '*' */
    int octets; /* its length normalised */
};

static const struct piece pieces[] = {
    {"/", '/', 1}, {"a", 'a', 1}, {"b", 'b', 1}, {"%61", 'a', 1}, {"%2f", 1000 + 0x2f, 3},
    {"%2F", 1000 + 0x2f, 3}, {"~", '~', 1}, {"%7E", '~', 1}, {"*", -1, 1}, /* '*' last: not in paths */
};
#define NPIECES (sizeof pieces / sizeof pieces[0])
#define MAXU 8

struct refrule {
    int u[MAXU];
    int n, prio;
    bool anchored, allow;
};

static bool ref_match(const int *p, int pn, bool anchored, const int *s, int sn)
{
    if (pn == 0)
        return !anchored || sn == 0;
    if (p[0] == -1) {
        for (int k = 0; k <= sn; k++) {
            if (ref_match(p + 1, pn - 1, anchored, s + k, sn - k))
                return true;
        }
        return false;
    }
    return sn > 0 && p[0] == s[0] && ref_match(p + 1, pn - 1, anchored, s + 1, sn - 1);
}

static bool ref_allowed(const struct refrule *rules, int nrules, const int *s, int sn)
{
    const struct refrule *best = NULL;
    for (int i = 0; i < nrules; i++) {
        const struct refrule *r = &rules[i];
        if (r->n == 0 && !r->anchored)
            continue; /* an empty rule is no rule */
        if (!ref_match(r->u, r->n, r->anchored, s, sn))
            continue;
        if (!best || r->prio > best->prio || (r->prio == best->prio && r->allow))
            best = r;
    }
    return !best || best->allow;
}

/* Appends a random sequence of up to MAXU pieces (first piece from first..) to text. */
static int random_pieces(char *text, int *u, unsigned *seed, size_t first, size_t npieces, int *prio)
{
    int n = 1 + (int)(rand_r(seed) % MAXU);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const struct piece *pc = &pieces[i == 0 ? first : (size_t)rand_r(seed) % npieces];
        strcat(text, pc->text);
        if (pc->unit == -1 && k > 0 && u[k - 1] == -1)
            continue; /* "**" is "*" */
        u[k++] = pc->unit;
        *prio += pc->octets;
    }
    return k;
}

Test(robots, matches_reference_on_random_rules)
{
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        struct refrule rules[12];
        int nrules = 1 + (int)(rand_r(&seed) % 12);
        char body[1024] = "User-agent: *\n";
        for (int i = 0; i < nrules; i++) {
            struct refrule *r = &rules[i];
            char pat[64] = "";
            r->prio = 0;
            size_t first = rand_r(&seed) % 4 ? 0 : (size_t)rand_r(&seed) % NPIECES;
            r->n = random_pieces(pat, r->u, &seed, first, NPIECES, &r->prio);
            r->anchored = rand_r(&seed) % 3 == 0;
            r->allow = rand_r(&seed) % 2;
            r->prio += r->anchored;
            strcat(body, r->allow ? "Allow: " : "Disallow: ");
            strcat(body, pat);
            strcat(body, r->anchored ? "$\n" : "\n");
        }
        acr_robots *rb = parse(body, "acrawl");
        for (int j = 0; j < 20; j++) {
            char path[64] = "";
            int su[MAXU], prio = 0;
            int sn = random_pieces(path, su, &seed, 0, NPIECES - 1, &prio);
            bool want = ref_allowed(rules, nrules, su, sn);
            cr_assert_eq(acr_robots_allowed(rb, path), want, "%s\npath %s: reference says %s", body, path,
                         want ? "allowed" : "disallowed");
        }
        acr_robots_free(rb);
    }
}

/* Random bytes drawn mostly from robots.txt's own vocabulary: nothing to check but
 * that parsing and matching stay in bounds (run under `make asan`). */
Test(robots, random_bytes)
{
    static const char *const words[] = {"User-agent:", "Disallow:", "Allow:", "acrawl", "*", "$", "%", "%2", "%4a",
                                        "/", "a", "\n", "\r", "\r\n", "#", ":", " ", "\t", "\xef\xbb\xbf", "\xff",
                                        "Crawl-delay:", "1.5", "Sitemap:", "http://x/"};
    size_t nwords = sizeof words / sizeof words[0];
    unsigned seed = 99;
    char body[4096], path[256];
    for (int round = 0; round < 2000; round++) {
        size_t n = 0;
        size_t target = rand_r(&seed) % 3000;
        while (n < target) {
            const char *w = rand_r(&seed) % 8 ? words[rand_r(&seed) % nwords] : (char[]){(char)rand_r(&seed), 0};
            size_t wl = strlen(w);
            memcpy(body + n, w, wl);
            n += wl;
        }
        acr_robots *r = NULL;
        cr_assert_eq(acr_robots_parse(&r, body, n, "acrawl"), 0);
        for (int j = 0; j < 10; j++) {
            size_t pn = 0;
            size_t plen = rand_r(&seed) % 40;
            while (pn < plen) {
                const char *w = words[4 + rand_r(&seed) % 7];
                size_t wl = strlen(w);
                memcpy(path + pn, w, wl);
                pn += wl;
            }
            path[pn] = 0;
            (void)acr_robots_allowed(r, path);
        }
        acr_robots_free(r);
    }
}
