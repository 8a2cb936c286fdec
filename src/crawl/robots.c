/* robots.c -- robots.txt (RFC 9309): line parser, group selection, and rules compiled
 * to normalised octets in a trie of their literal prefixes (the part before any '*'),
 * so a match walks the path down the trie once instead of trying every rule. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crawl/robots.h"
#include "util/alloc.h"

#define MAX_BODY (500 * 1024)          /* RFC 9309 §2.5: parse at least 500 KiB */
#define MAX_DELAY_S INT64_C(1000000000) /* keeps the delay in ns far from overflow */
#define NS_PER_S INT64_C(1000000000)

/* A rule or a path is compared as a sequence of units: a byte that is unreserved or
 * reserved (RFC 3986 §2.2-2.3) is itself; any other byte, and an escape of a byte that
 * is not unreserved, is U_ENC + the byte; an escape of an unreserved byte is the byte.
 * So "%7e" == "~", "%2f" == "%2F" != "/", and "é" == "%C3%A9". */
#define U_ENC 256u
#define U_WILD 512u                    /* '*' in a rule */

#define BIT(c) (UINT64_C(1) << ((c) & 63))
#define RANGE(lo, hi) (((UINT64_C(1) << ((hi) - (lo) + 1)) - 1) << ((lo) & 63))
/* Bytes 0-63 and 64-127 that are unreserved, then those that are reserved. */
static const uint64_t unres_mask[2] = {
    RANGE('0', '9') | BIT('-') | BIT('.'),
    RANGE('A', 'Z') | RANGE('a', 'z') | BIT('_') | BIT('~'),
};
static const uint64_t res_mask[2] = {
    BIT(':') | BIT('/') | BIT('?') | BIT('#') | BIT('!') | BIT('$') | BIT('&') | BIT('\'') | BIT('(') |
        BIT(')') | BIT('*') | BIT('+') | BIT(',') | BIT(';') | BIT('='),
    BIT('[') | BIT(']') | BIT('@'),
};

struct rule {
    const uint16_t *u; /* its units (in the parser's arena, then in acr_robots.units) */
    uint32_t off;      /* parser: first unit in the arena */
    uint32_t n;        /* units, the '$' anchor not included */
    uint32_t plen;     /* units before the first '*': the trie key */
    uint32_t tail;     /* anchored with a '*': units after the last '*', else 0 */
    uint32_t prio;     /* octets of the normalised rule: the longest match wins */
    uint8_t allow;
    uint8_t anchored;
};

/* A node of the trie (a radix tree: chains without branches or rules are one edge):
 * the rules whose literal prefix is the units on the way from the root. Nodes are
 * O(rules), whatever the rules' lengths. */
struct node {
    uint32_t child;  /* children: nodes[child .. child + nchild), by first unit */
    uint32_t nchild;
    uint32_t rule;   /* rules ending here: rules[rule .. rule + nrules), best first */
    uint32_t nrules;
    uint32_t label;  /* the edge from the parent: units[label .. label + label_n) */
    uint32_t label_n;
    uint32_t end;    /* building: rules[rule .. end) all start with this node's prefix */
    uint32_t depth;  /* building: length of that prefix */
    uint16_t unit;   /* units[label], kept here for the binary search */
};

struct acr_robots {
    struct rule *rules;  /* by literal prefix, then best first */
    size_t nrules;
    uint16_t *units;
    struct node *nodes;  /* nodes[0] is the root; none when there are no rules */
    size_t nnodes;
    int64_t delay;
    char **sitemaps;
    size_t nsitemaps;
    bool deny_all;
};

/* Rules being collected for one audience (our agent, or "*"). */
struct ruleset {
    struct rule *v;
    size_t n, cap;
    uint16_t *units;
    size_t un, ucap;
    int64_t delay;
};

struct parser {
    const char *agent;  /* our product token */
    size_t agent_n;
    bool started;       /* a user-agent line was seen: rules count from here */
    bool in_agents;     /* the last group line was a user-agent line */
    bool grp_mine;      /* the current group names our product token */
    bool grp_star;      /* the current group is for "*" */
    bool saw_mine;      /* some group names our product token */
    struct ruleset mine, star;
    char **maps;
    size_t nmaps, capmaps;
    bool oom;
};

enum key { K_OTHER, K_USER_AGENT, K_ALLOW, K_DISALLOW, K_CRAWL_DELAY, K_SITEMAP };

static inline bool in_mask(const uint64_t mask[2], unsigned c)
{
    return c < 128 && ((mask[c >> 6] >> (c & 63)) & 1);
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The unit at s[i] (s has n bytes); *next gets the index after it. */
static inline unsigned unit_at(const char *s, size_t n, size_t i, size_t *next)
{
    unsigned c = (unsigned char)s[i];
    *next = i + 1;
    if (c != '%')
        return in_mask(unres_mask, c) || in_mask(res_mask, c) ? c : U_ENC + c;
    if (i + 2 >= n)
        return U_ENC + '%';
    int hi = hexval((unsigned char)s[i + 1]);
    int lo = hexval((unsigned char)s[i + 2]);
    if (hi < 0 || lo < 0)
        return U_ENC + '%';  /* a bare '%' equals "%25" */
    unsigned b = (unsigned)(hi * 16 + lo);
    *next = i + 3;
    return in_mask(unres_mask, b) ? b : U_ENC + b;
}

/* Returns p grown to hold need elements of size bytes, or p with *oom set. */
static void *grow(void *p, size_t *cap, size_t need, size_t size, bool *oom)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = c <= SIZE_MAX / size ? acr_realloc(p, c * size) : NULL;
    if (!q) {
        *oom = true;
        return p;
    }
    *cap = c;
    return q;
}

/* ---- Rule compilation ---- */

/* Appends the units of pattern v[0..n) to rs (runs of '*' as one); returns its octets. */
static uint32_t compile_units(struct ruleset *rs, const char *v, size_t n)
{
    size_t start = rs->un;
    uint32_t prio = 0;
    size_t i = 0;
    while (i < n) {
        unsigned u;
        if (v[i] == '*') {
            u = U_WILD;
            i++;
        } else {
            u = unit_at(v, n, i, &i);
        }
        if (u == U_WILD && rs->un > start && rs->units[rs->un - 1] == U_WILD)
            continue;
        rs->units[rs->un++] = (uint16_t)u;
        prio += u >= U_ENC && u != U_WILD ? 3 : 1;
    }
    return prio;
}

static void add_rule(struct ruleset *rs, bool allow, const char *v, size_t n, bool *oom)
{
    rs->v = grow(rs->v, &rs->cap, rs->n + 1, sizeof *rs->v, oom);
    /* A unit never takes more than one byte of the pattern. */
    rs->units = grow(rs->units, &rs->ucap, rs->un + n, sizeof *rs->units, oom);
    if (*oom)
        return;
    struct rule *r = &rs->v[rs->n++];
    r->anchored = n > 0 && v[n - 1] == '$';
    if (r->anchored)
        n--;
    r->allow = allow;
    r->off = (uint32_t)rs->un;
    r->prio = compile_units(rs, v, n) + r->anchored;
    r->n = (uint32_t)rs->un - r->off;
}

/* ---- Line parser ---- */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

static bool key_is(const char *k, size_t n, const char *name)
{
    return n == strlen(name) && strncasecmp(k, name, n) == 0;
}

/* Key names, with the misspellings common enough that major crawlers accept them. */
static enum key key_of(const char *k, size_t n)
{
    if (key_is(k, n, "user-agent") || key_is(k, n, "useragent") || key_is(k, n, "user agent"))
        return K_USER_AGENT;
    if (key_is(k, n, "allow"))
        return K_ALLOW;
    if (key_is(k, n, "disallow") || key_is(k, n, "dissallow") || key_is(k, n, "disalow") ||
        key_is(k, n, "dissalow"))
        return K_DISALLOW;
    if (key_is(k, n, "crawl-delay") || key_is(k, n, "crawldelay"))
        return K_CRAWL_DELAY;
    if (key_is(k, n, "sitemap") || key_is(k, n, "site-map"))
        return K_SITEMAP;
    return K_OTHER;
}

/* "key: value", or "key value" (a forgotten colon) when there are exactly two words. */
static bool split_kv(const char *s, size_t n, const char **k, size_t *kn, const char **v, size_t *vn)
{
    trim(&s, &n);
    const char *colon = memchr(s, ':', n);
    size_t sep;
    if (colon) {
        sep = (size_t)(colon - s);
        *v = colon + 1;
    } else {
        sep = 0;
        while (sep < n && !is_space(s[sep]))
            sep++;
        *v = s + sep;
    }
    *k = s;
    *kn = sep;
    *vn = n - (size_t)(*v - s);
    trim(k, kn);
    trim(v, vn);
    if (*kn == 0)
        return false;
    if (colon)
        return true;
    for (size_t i = 0; i < *vn; i++) {
        if (is_space((*v)[i]))
            return false;
    }
    return *vn > 0;
}

/* Length of the product token at s: letters, '_' and '-' (RFC 9309 §2.2.1). */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
        i++;
    return i;
}

static void on_user_agent(struct parser *p, const char *v, size_t n)
{
    if (!p->in_agents) {
        p->grp_mine = false;
        p->grp_star = false;
    }
    p->in_agents = true;
    p->started = true;
    if (n >= 1 && v[0] == '*' && (n == 1 || is_space(v[1]))) {
        p->grp_star = true;
        return;
    }
    size_t t = token_len(v, n);
    if (t > 0 && t == p->agent_n && strncasecmp(v, p->agent, t) == 0) {
        p->grp_mine = true;
        p->saw_mine = true;
    }
}

static void on_rule(struct parser *p, bool allow, const char *v, size_t n)
{
    p->in_agents = false;
    if (!p->started || n == 0)
        return; /* before any group; or empty, which matches nothing */
    if (p->grp_mine)
        add_rule(&p->mine, allow, v, n, &p->oom);
    if (p->grp_star)
        add_rule(&p->star, allow, v, n, &p->oom);
}

/* Integer or decimal seconds in ns; -1 if v is anything else. */
static int64_t parse_delay(const char *v, size_t n)
{
    size_t i = 0;
    int64_t sec = 0;
    int64_t frac = 0;
    int64_t scale = NS_PER_S / 10;
    bool digits = false;
    for (; i < n && isdigit((unsigned char)v[i]); i++) {
        if (sec <= MAX_DELAY_S)
            sec = sec * 10 + (v[i] - '0');
        digits = true;
    }
    if (i < n && v[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)v[i]); i++) {
            frac += (v[i] - '0') * scale;
            scale /= 10;
            digits = true;
        }
    }
    if (!digits || i != n)
        return -1;
    if (sec >= MAX_DELAY_S)
        return MAX_DELAY_S * NS_PER_S;
    return sec * NS_PER_S + frac;
}

/* Crawl-delay belongs to a group as a rule does, so it too ends the user-agent lines:
 * "User-agent: a / Crawl-delay: 5 / User-agent: *" is two groups, as its authors mean. */
static void on_crawl_delay(struct parser *p, const char *v, size_t n)
{
    p->in_agents = false;
    int64_t d = parse_delay(v, n);
    if (!p->started || d < 0)
        return;
    if (p->grp_mine && p->mine.delay < 0)
        p->mine.delay = d;
    if (p->grp_star && p->star.delay < 0)
        p->star.delay = d;
}

static void on_sitemap(struct parser *p, const char *v, size_t n)
{
    if (!(n > 7 && strncasecmp(v, "http://", 7) == 0) && !(n > 8 && strncasecmp(v, "https://", 8) == 0))
        return;
    p->maps = grow(p->maps, &p->capmaps, p->nmaps + 1, sizeof *p->maps, &p->oom);
    char *s = p->oom ? NULL : acr_strndup(v, n);
    if (!s) {
        p->oom = true;
        return;
    }
    p->maps[p->nmaps++] = s;
}

static void parse_line(struct parser *p, const char *s, size_t n)
{
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    const char *k, *v;
    size_t kn, vn;
    if (!split_kv(s, n, &k, &kn, &v, &vn))
        return;
    switch (key_of(k, kn)) {
    case K_USER_AGENT:
        on_user_agent(p, v, vn);
        break;
    case K_ALLOW:
        on_rule(p, true, v, vn);
        break;
    case K_DISALLOW:
        on_rule(p, false, v, vn);
        break;
    case K_CRAWL_DELAY:
        on_crawl_delay(p, v, vn);
        break;
    case K_SITEMAP:
        on_sitemap(p, v, vn);
        break;
    case K_OTHER:
        break; /* unknown lines do not end a group (RFC 9309 §2.2.4) */
    }
}

/* Lines end at CR, LF or CRLF; a last line without an end is parsed unless cut. */
static void parse_lines(struct parser *p, const char *s, size_t n, bool cut)
{
    size_t i = 0;
    while (i < n && !p->oom) {
        size_t e = i;
        while (e < n && s[e] != '\n' && s[e] != '\r')
            e++;
        if (e == n && cut)
            break;
        parse_line(p, s + i, e - i);
        if (e + 1 < n && s[e] == '\r' && s[e + 1] == '\n')
            e++;
        i = e + 1;
    }
}

/* ---- Assembly ---- */

/* Literal prefixes in lexicographic order, a prefix before its extensions; rules
 * with the same prefix best first (more octets, then Allow). */
static int by_prefix_then_precedence(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    uint32_t n = x->plen < y->plen ? x->plen : y->plen;
    for (uint32_t i = 0; i < n; i++) {
        if (x->u[i] != y->u[i])
            return x->u[i] < y->u[i] ? -1 : 1;
    }
    if (x->plen != y->plen)
        return x->plen < y->plen ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio > y->prio ? -1 : 1;
    return (int)y->allow - (int)x->allow;
}

/* Units that rules[k .. j) share from depth d on, all within their literal prefixes.
 * Sorted, so the first and the last rule decide. */
static uint32_t shared_from(const acr_robots *r, uint32_t k, uint32_t j, uint32_t d)
{
    const struct rule *a = &r->rules[k], *b = &r->rules[j - 1];
    uint32_t n = a->plen < b->plen ? a->plen : b->plen;
    uint32_t e = d;
    while (e < n && a->u[e] == b->u[e])
        e++;
    return e - d;
}

/* Gives node i its rules (those whose prefix ends here) and one child per next unit.
 * Children are appended together, so they are consecutive and sorted. */
static int expand(acr_robots *r, size_t i, size_t *cap)
{
    struct node nd = r->nodes[i]; /* a copy: growing may move the array */
    uint32_t k = nd.rule;
    while (k < nd.end && r->rules[k].plen == nd.depth)
        k++;
    nd.nrules = k - nd.rule;
    nd.child = (uint32_t)r->nnodes;
    bool oom = false;
    while (k < nd.end) {
        uint16_t u = r->rules[k].u[nd.depth];
        uint32_t j = k + 1;
        while (j < nd.end && r->rules[j].u[nd.depth] == u)
            j++;
        r->nodes = grow(r->nodes, cap, r->nnodes + 1, sizeof *r->nodes, &oom);
        if (oom)
            return -ENOMEM;
        uint32_t len = shared_from(r, k, j, nd.depth);
        uint32_t label = (uint32_t)(r->rules[k].u - r->units) + nd.depth;
        r->nodes[r->nnodes++] = (struct node){
            .rule = k, .end = j, .depth = nd.depth + len, .label = label, .label_n = len, .unit = u};
        k = j;
    }
    nd.nchild = (uint32_t)r->nnodes - nd.child;
    r->nodes[i] = nd;
    return 0;
}

/* Breadth first: the node array is its own queue. */
static int build_trie(acr_robots *r)
{
    size_t cap = 0;
    bool oom = false;
    r->nodes = grow(NULL, &cap, 1, sizeof *r->nodes, &oom);
    if (oom)
        return -ENOMEM;
    r->nodes[0] = (struct node){.end = (uint32_t)r->nrules};
    r->nnodes = 1;
    for (size_t i = 0; i < r->nnodes; i++) {
        if (expand(r, i, &cap) != 0)
            return -ENOMEM;
    }
    return 0;
}

static uint32_t literal_len(const uint16_t *u, uint32_t n)
{
    uint32_t i = 0;
    while (i < n && u[i] != U_WILD)
        i++;
    return i;
}

static uint32_t tail_len(const struct rule *ru)
{
    uint32_t i = ru->n;
    while (i > ru->plen && ru->u[i - 1] != U_WILD)
        i--;
    return ru->anchored && ru->plen < ru->n ? ru->n - i : 0;
}

/* Moves rs's rules into r, sorted, with their units packed in the same order. */
static int take_rules(acr_robots *r, struct ruleset *rs)
{
    size_t total = 0;
    for (size_t i = 0; i < rs->n; i++) {
        struct rule *ru = &rs->v[i];
        ru->u = rs->units + ru->off;
        ru->plen = literal_len(ru->u, ru->n);
        ru->tail = tail_len(ru);
        total += ru->n;
    }
    r->units = acr_malloc((total ? total : 1) * sizeof *r->units);
    if (!r->units)
        return -ENOMEM;
    if (rs->n > 0)
        qsort(rs->v, rs->n, sizeof *rs->v, by_prefix_then_precedence);
    size_t at = 0;
    for (size_t i = 0; i < rs->n; i++) {
        struct rule *ru = &rs->v[i];
        memcpy(r->units + at, ru->u, ru->n * sizeof *r->units);
        ru->u = r->units + at;
        at += ru->n;
    }
    r->rules = rs->v;
    r->nrules = rs->n;
    rs->v = NULL;
    r->delay = rs->delay;
    return build_trie(r);
}

static void ruleset_release(struct ruleset *rs)
{
    free(rs->v);
    free(rs->units);
}

static void parser_release(struct parser *p)
{
    ruleset_release(&p->mine);
    ruleset_release(&p->star);
    for (size_t i = 0; i < p->nmaps; i++)
        free(p->maps[i]);
    free(p->maps);
}

static acr_robots *robots_new(void)
{
    acr_robots *r = acr_calloc(1, sizeof *r);
    if (r)
        r->delay = -1;
    return r;
}

int acr_robots_parse(acr_robots **out, const char *body, size_t len, const char *agent)
{
    struct parser p = {0};
    p.agent = agent ? agent : "";
    p.agent_n = token_len(p.agent, strlen(p.agent));
    p.mine.delay = -1;
    p.star.delay = -1;
    bool cut = len > MAX_BODY && body[MAX_BODY] != '\n' && body[MAX_BODY] != '\r';
    size_t n = len > MAX_BODY ? MAX_BODY : len;
    if (n >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        body += 3;
        n -= 3;
    }
    parse_lines(&p, body, n, cut);
    *out = NULL;
    acr_robots *r = p.oom ? NULL : robots_new();
    if (!r || take_rules(r, p.saw_mine ? &p.mine : &p.star) != 0) {
        acr_robots_free(r);
        parser_release(&p);
        return -ENOMEM;
    }
    r->sitemaps = p.maps;
    r->nsitemaps = p.nmaps;
    p.maps = NULL;
    p.nmaps = 0;
    parser_release(&p);
    *out = r;
    return 0;
}

int acr_robots_allow_all(acr_robots **out)
{
    *out = robots_new();
    return *out ? 0 : -ENOMEM;
}

int acr_robots_disallow_all(acr_robots **out)
{
    *out = robots_new();
    if (!*out)
        return -ENOMEM;
    (*out)->deny_all = true;
    return 0;
}

/* ---- Matching ---- */

/* Whether rule units p[0..pn) match a prefix of s[0..sn) (all of it if anchored).
 * Greedy, going back only to the last '*': O(pn * sn) at worst, no recursion. */
static bool rule_matches(const uint16_t *p, size_t pn, bool anchored, const char *s, size_t sn)
{
    size_t pi = 0, si = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    for (;;) {
        if (pi == pn) {
            if (!anchored || si == sn)
                return true;
        } else if (p[pi] == U_WILD) {
            star_p = pi++;
            star_s = si;
            continue;
        } else if (si < sn) {
            size_t next;
            if (unit_at(s, sn, si, &next) == p[pi]) {
                pi++;
                si = next;
                continue;
            }
        }
        if (star_p == SIZE_MAX || star_s >= sn)
            return false;
        unit_at(s, sn, star_s, &star_s); /* the '*' takes one more unit */
        si = star_s;
        pi = star_p + 1;
    }
}

/* The unit that ends at s[e - 1] (e a unit boundary); *start gets where it begins.
 * Going backwards is unambiguous: a '%' followed by two hex digits always starts an
 * escape, since '%' is never the second or third byte of one. */
static unsigned unit_before(const char *s, size_t e, size_t *start)
{
    size_t next;
    if (e >= 3 && s[e - 3] == '%' && hexval((unsigned char)s[e - 2]) >= 0 && hexval((unsigned char)s[e - 1]) >= 0)
        *start = e - 3;
    else
        *start = e - 1;
    return unit_at(s, e, *start, &next);
}

/* Whether s[0..n) ends with units p[0..t): a quick refusal, before the full match,
 * for rules that end in '*' + literal + '$' (the common "*.pdf$"). */
static bool ends_with(const uint16_t *p, size_t t, const char *s, size_t n)
{
    size_t e = n;
    while (t > 0) {
        if (e == 0 || unit_before(s, e, &e) != p[t - 1])
            return false;
        t--;
    }
    return true;
}

/* Whether a would decide instead of b (b may be NULL). */
static bool beats(const struct rule *a, const struct rule *b)
{
    if (!b || a->prio > b->prio)
        return true;
    return a->prio == b->prio && a->allow && !b->allow;
}

/* The best of `best` and the rules ending at nd whose rest matches s[0..n). */
static const struct rule *best_at(const acr_robots *r, const struct node *nd, const char *s, size_t n,
                                  const struct rule *best)
{
    for (uint32_t i = nd->rule; i < nd->rule + nd->nrules; i++) {
        const struct rule *ru = &r->rules[i];
        if (!beats(ru, best))
            break; /* best first: no later one can win either */
        if (ru->tail && !ends_with(ru->u + ru->n - ru->tail, ru->tail, s, n))
            continue;
        if (rule_matches(ru->u + ru->plen, ru->n - ru->plen, ru->anchored, s, n))
            return ru;
    }
    return best;
}

static const struct node *child_of(const acr_robots *r, const struct node *nd, unsigned u)
{
    uint32_t lo = nd->child;
    uint32_t hi = nd->child + nd->nchild;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->nodes[mid].unit < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < nd->child + nd->nchild && r->nodes[lo].unit == u)
        return &r->nodes[lo];
    return NULL;
}

/* The child of nd whose whole edge the path follows from *i (moved past it), or NULL. */
static const struct node *next_node(const acr_robots *r, const struct node *nd, const char *s, size_t n,
                                    size_t *i)
{
    if (*i == n)
        return NULL;
    const struct node *c = child_of(r, nd, unit_at(s, n, *i, i));
    if (!c)
        return NULL;
    for (uint32_t k = 1; k < c->label_n; k++) {
        if (*i == n || unit_at(s, n, *i, i) != r->units[c->label + k])
            return NULL;
    }
    return c;
}

static bool is_robots_txt(const char *path)
{
    static const char name[] = "/robots.txt";
    size_t n = sizeof name - 1;
    return strncmp(path, name, n) == 0 && (path[n] == 0 || path[n] == '?');
}

bool acr_robots_allowed(const acr_robots *r, const char *path)
{
    if (is_robots_txt(path))
        return true;
    if (r->deny_all)
        return false;
    if (r->nnodes == 0)
        return true;
    if (!*path)
        path = "/";
    size_t n = strlen(path);
    const struct node *nd = &r->nodes[0];
    const struct rule *best = NULL;
    size_t i = 0;
    while (nd) {
        best = best_at(r, nd, path + i, n - i, best);
        nd = next_node(r, nd, path, n, &i);
    }
    return !best || best->allow;
}

int64_t acr_robots_crawl_delay(const acr_robots *r) { return r->delay; }

size_t acr_robots_sitemaps(const acr_robots *r, const char *const **urls)
{
    *urls = (const char *const *)r->sitemaps;
    return r->nsitemaps;
}

void acr_robots_free(acr_robots *r)
{
    if (!r)
        return;
    free(r->rules);
    free(r->units);
    free(r->nodes);
    for (size_t i = 0; i < r->nsitemaps; i++)
        free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r);
}
