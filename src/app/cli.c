/* cli.c -- the option table (one row per flag, read by the parser, -h, --list-options
 * and the engine note) and the config it fills; curl's flag names where curl has the flag. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/url.h"
#include "args.h"
#include "cli.h"
#include "util/buf.h"
#include "jobs/curlengine.h"
#include "util/alloc.h"

/* Option ids: the switches in set_number and parse_one apply them. */
enum {
    O_CONCURRENCY = 1, O_TIMEOUT, O_CONNECT_TIMEOUT, O_DEADLINE, O_FIRST, O_RETRY, O_PER_HOST, O_RATE, O_UNIQUE,
    O_SYNC, O_ENGINE, O_COMPARE, O_REQUEST, O_HEADER, O_DATA, O_USER_AGENT, O_LOCATION, O_MAX_REDIRS, O_INSECURE,
    O_CACERT, O_RESOLVE, O_DNS_SERVERS, O_COMPRESSED, O_MAX_FILESIZE, O_OUTPUT_DIR, O_JSON, O_WRITE_OUT, O_ORDERED,
    O_REPORT, O_REPORT_FILE, O_TIMELINE, O_QUIET, O_NO_PROGRESS, O_FAIL, O_HELP, O_VERSION, O_LIST_OPTIONS,
    O_CRAWL, O_LEVEL, O_MAX_PAGES, O_SPAN_HOSTS, O_DOMAINS, O_EXCLUDE_DOMAINS, O_INCLUDE, O_EXCLUDE, O_NO_PARENT,
    O_PAGE_REQUISITES, O_NO_ROBOTS, O_WAIT, O_RANDOM_WAIT, O_MAX_CRAWL_DELAY, O_LOG_SKIPPED, O_SITEMAP,
    O_NO_SITEMAPS, O_FRONTIER_MEM, O_MAX_HOST_PAGES, O_WARC, O_WARC_GZIP, O_WARC_MAX_SIZE, O_STATE,
    O_REDIS, O_JOB, O_REDIS_CLAIM_IDLE, O_REDIS_MAX_DELIVERIES, O_REDIS_TIMEOUT, O_REDIS_RECORDS, O_STATUS,
    O_COLLECT, O_DRAIN,
};

/* Which engines honour a flag (acr_opt.engines): bit 1 << acr_engine. */
enum { ON_ACRAWL = 1 << ACR_ENGINE_ACRAWL, ON_CURL = 1 << ACR_ENGINE_CURL, ON_BOTH = ON_ACRAWL | ON_CURL };
/* Which modes a flag applies to (acr_opt.modes): a flag given in a mode it does not
 * apply to is a usage error. */
enum { IN_LIST = 1, IN_CRAWL = 2, IN_BOTH = IN_LIST | IN_CRAWL };

/* Ranges: a timeout below a millisecond or a rate below one request in 1000 s is
 * surely a typo; the maxima keep every value exact in the integer it becomes. */
static const acr_num_spec n_concurrency = {ACR_NUM_COUNT, 1, 1000000, "a whole number"};
static const acr_num_spec n_seconds = {ACR_NUM_REAL, 0.001, 1e9, "seconds"};
static const acr_num_spec n_first = {ACR_NUM_COUNT, 1, 1e9, "a whole number"};
static const acr_num_spec n_retry = {ACR_NUM_COUNT, 0, 100, "a whole number"};
static const acr_num_spec n_per_host = {ACR_NUM_COUNT, 1, 1000000, "a whole number"};
static const acr_num_spec n_rate = {ACR_NUM_REAL, 0.001, 1000000, "requests per second"};
static const acr_num_spec n_redirs = {ACR_NUM_COUNT, 1, 1000, "a whole number"};
static const acr_num_spec n_pages = {ACR_NUM_COUNT, 1, 1e12, "a whole number"};
static const acr_num_spec n_host_pages = {ACR_NUM_COUNT, 0, 1e12, "a whole number (0: no cap)"};
static const acr_num_spec n_frontier_mem = {ACR_NUM_SIZE, 1, 1099511627776.0,
                                            "a whole number of bytes (k, M, G: x1024)"};
static const acr_num_spec n_warc_size = {ACR_NUM_SIZE, 1024, 1099511627776.0,
                                         "a whole number of bytes, 1k at least (k, M, G: x1024)"};
static const acr_num_spec n_wait = {ACR_NUM_REAL, 0, 86400, "seconds"};
static const acr_num_spec n_claim_idle = {ACR_NUM_REAL, 0.1, 86400, "seconds (0.1-86400)"};
static const acr_num_spec n_deliveries = {ACR_NUM_COUNT, 1, 1000, "a whole number (1-1000)"};
static const acr_num_spec n_filesize = {ACR_NUM_SIZE, 1, 1099511627776.0 /* 1024G */,
                                        "a whole number of bytes (k, M, G: x1024)"};

#define REQ ACR_ARG_REQUIRED
#define OPT ACR_ARG_OPTIONAL
#define NONE ACR_ARG_NONE
#define RUN "Running"
#define HTTP "HTTP"
#define OUT "Output"
#define CRAWL "Crawling"
#define ALIAS ACR_OPT_ALIAS
#define HIDDEN ACR_OPT_HIDDEN
/* The one list of flags: the parser, -h, --list-options and the engine note read it,
 * and tests/cli/options.bats holds acrawl.1 and README.md to it. A row:
 * long name, short name, id, value, number, value in help, help group, engines, modes,
 * ACR_OPT_* flags, help (a line per '\n'). Help rows come in the order given here.
 * A new flag: an O_ id, a row, a case in set_number (numbers) or parse_one; if the
 * libcurl engine honours it, the option in curlengine.c's setup_easy, else engines
 * ON_ACRAWL (the note then names it); an entry in acrawl.1 and a row in README.md
 * (options.bats names what they lack). */
static const acr_opt opts[] = {
    {"concurrency", 'c', O_CONCURRENCY, REQ, &n_concurrency, "N", RUN, ON_BOTH, IN_BOTH, 0,
     "requests in flight at most (1-1000000, default 50)"},
    {"timeout", 't', O_TIMEOUT, REQ, &n_seconds, "SECS", RUN, ON_BOTH, IN_BOTH, 0,
     "per request, queue time excluded (default 30)"},
    {"max-time", 0, O_TIMEOUT, REQ, &n_seconds, "SECS", RUN, ON_BOTH, IN_BOTH, ALIAS, NULL},
    {"connect-timeout", 0, O_CONNECT_TIMEOUT, REQ, &n_seconds, "S", RUN, ON_BOTH, IN_BOTH, 0,
     "for DNS + TCP connect (default 10)"},
    {"deadline", 0, O_DEADLINE, REQ, &n_seconds, "SECS", RUN, ON_BOTH, IN_BOTH, 0,
     "for the whole run: then cancel what is pending (exit 124)\n"
     "(SECS: 0.001-1000000000, fractions allowed)"},
    {"first", '1', O_FIRST, OPT, &n_first, "N", RUN, ON_BOTH, IN_BOTH, 0,
     "stop once N requests (default 1) succeeded; cancel the rest"},
    {"retry", 0, O_RETRY, REQ, &n_retry, "N", RUN, ON_ACRAWL, IN_BOTH, 0,
     "retry connect errors, timeouts, 429 and 5xx with backoff (0-100)"},
    {"per-host", 0, O_PER_HOST, REQ, &n_per_host, "N", RUN, ON_BOTH, IN_BOTH, 0,
     "connections per host at most (1-1000000)"},
    {"rate", 0, O_RATE, REQ, &n_rate, "R", RUN, ON_ACRAWL, IN_BOTH, 0,
     "start at most R requests per second (0.001-1000000)"},
    {"unique", 0, O_UNIQUE, NONE, NULL, NULL, RUN, ON_ACRAWL, IN_LIST, 0,
     "skip repeated URLs"},
    {"sync", 0, O_SYNC, NONE, NULL, NULL, RUN, ON_BOTH, IN_BOTH, 0,
     "run the list one at a time (the sequential baseline)"},
    {"engine", 0, O_ENGINE, REQ, NULL, "acrawl|curl", RUN, ON_BOTH, IN_BOTH, 0,
     "run through acrawl's runtime or libcurl's multi interface"},
    {"compare", 0, O_COMPARE, NONE, NULL, NULL, RUN, ON_BOTH, IN_LIST, 0,
     "run sync, async and libcurl back to back; compare them"},
    {"request", 'X', O_REQUEST, REQ, NULL, "METHOD", HTTP, ON_BOTH, IN_BOTH, 0,
     "request method, a token (default GET, or POST with -d)"},
    {"header", 'H', O_HEADER, REQ, NULL, "'N: V'", HTTP, ON_BOTH, IN_BOTH, 0,
     "extra header; 'N:' removes a default header"},
    {"data", 'd', O_DATA, REQ, NULL, "DATA|@FILE", HTTP, ON_BOTH, IN_BOTH, 0,
     "request body, sent as application/x-www-form-urlencoded\n"
     "unless -H gives a Content-Type"},
    {"user-agent", 'A', O_USER_AGENT, REQ, NULL, "UA", HTTP, ON_BOTH, IN_BOTH, 0,
     "User-Agent (default acrawl/" ACRAWL_VERSION ")"},
    {"location", 'L', O_LOCATION, NONE, NULL, NULL, HTTP, ON_BOTH, IN_BOTH, 0,
     "follow redirects"},
    {"max-redirs", 0, O_MAX_REDIRS, REQ, &n_redirs, "N", HTTP, ON_BOTH, IN_BOTH, 0,
     "redirects to follow at most (1-1000, default 10)"},
    {"insecure", 'k', O_INSECURE, NONE, NULL, NULL, HTTP, ON_BOTH, IN_BOTH, 0,
     "do not verify certificates or host names"},
    {"cacert", 0, O_CACERT, REQ, NULL, "FILE", HTTP, ON_BOTH, IN_BOTH, 0,
     "trust these CA certificates instead of the system's"},
    {"resolve", 0, O_RESOLVE, REQ, NULL, "H:P:ADDR", HTTP, ON_BOTH, IN_BOTH, 0,
     "use ADDR[,ADDR...] for host H port P"},
    {"dns-servers", 0, O_DNS_SERVERS, REQ, NULL, "LIST", HTTP, ON_ACRAWL, IN_BOTH, 0,
     "ip[:port],... instead of the system's resolvers"},
    {"compressed", 0, O_COMPRESSED, NONE, NULL, NULL, HTTP, ON_BOTH, IN_BOTH, 0,
     "ask for gzip/deflate and decode"},
    {"max-filesize", 0, O_MAX_FILESIZE, REQ, &n_filesize, "BYTES", HTTP, ON_BOTH, IN_BOTH, 0,
     "fail responses larger than this (1-1024G; k, M, G suffixes)"},
    {"output-dir", 'o', O_OUTPUT_DIR, REQ, NULL, "DIR", HTTP, ON_ACRAWL, IN_BOTH, 0,
     "save bodies in DIR under names made from the URL"},
    {"crawl", 'r', O_CRAWL, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "crawl: follow links from the input URLs (seeds); one record per page"},
    {"recursive", 0, O_CRAWL, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, ALIAS, NULL},
    {"level", 'l', O_LEVEL, REQ, NULL, "N|inf", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "follow links this many steps from a seed at most (default 5)"},
    {"max-pages", 0, O_MAX_PAGES, REQ, &n_pages, "N", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "fetch at most N pages"},
    {"max-host-pages", 0, O_MAX_HOST_PAGES, REQ, &n_host_pages, "N", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "queue at most N pages of one host, a crawl-trap guard (default 100000; 0: no cap)"},
    {"frontier-mem", 0, O_FRONTIER_MEM, REQ, &n_frontier_mem, "SIZE", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "keep queued URLs in memory up to SIZE (default 256M), the rest on disk"},
    {"span-hosts", 0, O_SPAN_HOSTS, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "follow links to other hosts too (default: the seeds' hosts and ports)"},
    {"domains", 0, O_DOMAINS, REQ, NULL, "LIST", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "follow links to hosts in these comma-separated domains"},
    {"exclude-domains", 0, O_EXCLUDE_DOMAINS, REQ, NULL, "LIST", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "never follow links to hosts in these domains"},
    {"include", 0, O_INCLUDE, REQ, NULL, "REGEX", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "follow only URLs that match this POSIX extended regex"},
    {"exclude", 0, O_EXCLUDE, REQ, NULL, "REGEX", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "never follow URLs that match this POSIX extended regex"},
    {"no-parent", 0, O_NO_PARENT, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "never go above a seed's directory on its host"},
    {"page-requisites", 0, O_PAGE_REQUISITES, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "also fetch stylesheets, images and scripts pages use"},
    {"no-robots", 0, O_NO_ROBOTS, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "do not fetch or obey robots.txt (says so on stderr)"},
    {"sitemap", 0, O_SITEMAP, REQ, NULL, "URL", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "read this sitemap (XML, plain or gzip; an index too) for URLs to fetch"},
    {"no-sitemaps", 0, O_NO_SITEMAPS, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "ignore robots.txt's Sitemap: lines"},
    {"wait", 0, O_WAIT, REQ, &n_wait, "SECS", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "pause between requests to one host (default 0); Crawl-delay wins when longer"},
    {"random-wait", 0, O_RANDOM_WAIT, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "wait 0.5 to 1.5 times --wait"},
    {"max-crawl-delay", 0, O_MAX_CRAWL_DELAY, REQ, &n_wait, "SECS", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "robots.txt Crawl-delay is capped at this (default 30)"},
    {"log-skipped", 0, O_LOG_SKIPPED, REQ, NULL, "FILE", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "a line per URL found but not fetched, with the reason (- for stderr)"},
    {"state", 0, O_STATE, REQ, NULL, "DIR", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "keep the crawl's state in DIR: the same command again resumes it"},
    {"redis", 0, O_REDIS, REQ, NULL, "URL", CRAWL, ON_ACRAWL, IN_BOTH, 0,
     "share the crawl through Redis: redis://[:PASSWORD@]HOST[:PORT][/DB]"},
    {"job", 0, O_JOB, REQ, NULL, "NAME", CRAWL, ON_ACRAWL, IN_BOTH, 0,
     "the shared crawl's name: every worker with it crawls together"},
    {"redis-claim-idle", 0, O_REDIS_CLAIM_IDLE, REQ, &n_claim_idle, "SECS", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "a silent worker's hosts and pages are taken over after this (default 30)"},
    {"redis-max-deliveries", 0, O_REDIS_MAX_DELIVERIES, REQ, &n_deliveries, "N", CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "a page handed out more often is recorded as poison (default 5)"},
    {"redis-timeout", 0, O_REDIS_TIMEOUT, REQ, &n_seconds, "SECS", CRAWL, ON_ACRAWL, IN_BOTH, 0,
     "give up (exit 1) when Redis stays unreachable this long (default 60)"},
    {"redis-records", 0, O_REDIS_RECORDS, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_CRAWL, 0,
     "also add every record to the job's records stream (for --collect)"},
    {"status", 0, O_STATUS, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_LIST, 0,
     "print the --job's state: queued, in flight, done, workers; -j: JSON"},
    {"collect", 0, O_COLLECT, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_LIST, 0,
     "print the --job's records from all workers, one per page (JSON Lines)"},
    {"drain", 0, O_DRAIN, NONE, NULL, NULL, CRAWL, ON_ACRAWL, IN_LIST, 0,
     "tell the --job's workers to stop once their pages in flight are done"},
    {"warc", 0, O_WARC, REQ, NULL, "FILE", OUT, ON_ACRAWL, IN_BOTH, 0,
     "archive every exchange in FILE as WARC 1.1 (gzip when it ends in .gz)"},
    {"warc-gzip", 0, O_WARC_GZIP, NONE, NULL, NULL, OUT, ON_ACRAWL, IN_BOTH, 0,
     "gzip the WARC file whatever its name (a member per record)"},
    {"warc-max-size", 0, O_WARC_MAX_SIZE, REQ, &n_warc_size, "SIZE", OUT, ON_ACRAWL, IN_BOTH, 0,
     "start a new WARC file (NAME-00001.warc.gz, ...) before one passes SIZE"},
    {"json", 'j', O_JSON, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "JSON Lines records"},
    {"write-out", 'w', O_WRITE_OUT, REQ, NULL, "FMT", OUT, ON_BOTH, IN_BOTH, 0,
     /* output.c's variables; writeout.bats checks that each is listed here */
     "records from a template, or from a file: @FILE, @- (stdin);\n"
     "\\n \\t %% and %{VAR}; curl's VARs: content_type errormsg\n"
     "exitcode filename_effective header_json http_code json\n"
     "num_redirects remote_ip remote_port response_code scheme\n"
     "size_download (bytes received) speed_download time_appconnect\n"
     "time_connect time_namelookup time_redirect time_starttransfer\n"
     "time_total url url_effective urlnum; acrawl's: attempt\n"
     "error_kind line size_decoded (after --compressed) time_queue\n"
     "size_raw (an old name of size_download); crawl mode's: depth\n"
     "links parent via"},
    {"ordered", 0, O_ORDERED, NONE, NULL, NULL, OUT, ON_BOTH, IN_LIST, 0,
     "records in input order instead of completion order"},
    {"report", 0, O_REPORT, REQ, NULL, "text|json|none", OUT, ON_BOTH, IN_BOTH, 0,
     "the timing report on stderr (default text)"},
    {"report-file", 0, O_REPORT_FILE, REQ, NULL, "FILE", OUT, ON_BOTH, IN_BOTH, 0,
     "write the report there instead"},
    {"timeline", 0, O_TIMELINE, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "add an ASCII waterfall of the requests to the report"},
    {"quiet", 'q', O_QUIET, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "no progress and no report"},
    {"no-progress", 0, O_NO_PROGRESS, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "no progress line"},
    {"fail", 0, O_FAIL, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "exit 1 when a response is >= 400"},
    {"help", 'h', O_HELP, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "this help"},
    {"version", 'V', O_VERSION, NONE, NULL, NULL, OUT, ON_BOTH, IN_BOTH, 0,
     "versions of acrawl and its libraries"},
    {"list-options", 0, O_LIST_OPTIONS, NONE, NULL, NULL, NULL, ON_BOTH, IN_BOTH, HIDDEN,
     "this table as TSV, for tests"},
    {NULL},
};
#undef REQ
#undef OPT
#undef NONE
#undef RUN
#undef HTTP
#undef OUT
#undef CRAWL
#undef ALIAS
#undef HIDDEN

_Static_assert(sizeof opts / sizeof opts[0] <= ACR_CLI_MAX_OPTS, "acr_config.given holds a byte per row");

static const char usage_head[] =
    "usage: acrawl [OPTIONS] [FILE | - | URL]...\n"
    "Fetch every URL of a list concurrently; one record per URL on stdout as each completes,\n"
    "a timing report on stderr. Input: files, - for stdin (the default), or URLs as arguments;\n"
    "one URL per line, blank lines and #comments skipped. Long options are spelled in full;\n"
    "numbers outside the range shown are refused.\n"
    "\n";

static const char usage_tail[] =
    "\n"
    "Exit: 0 every URL got a response (with --fail also < 400; with --first, N succeeded),\n"
    "1 some failed, 2 usage or input error, 124 --deadline cut the run, 130 interrupted.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "acrawl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'acrawl --help'.\n");
    return 2;
}

/* Appends name (nlen bytes) and value as given; the callers checked both. */
static int push_header(acr_config *c, const char *name, size_t nlen, const char *value)
{
    acr_header *hs = acr_realloc(c->headers, (c->nheaders + 1) * sizeof *hs);
    if (!hs)
        return usage_error("%s", "out of memory");
    c->headers = hs;
    hs[c->nheaders].name = acr_strndup(name, nlen);
    hs[c->nheaders].value = acr_strdup(value);
    if (!hs[c->nheaders].name || !hs[c->nheaders].value) {
        free(hs[c->nheaders].name);
        free(hs[c->nheaders].value);
        return usage_error("%s", "out of memory");
    }
    c->nheaders++;
    return 0;
}

static bool has_header(const acr_config *c, const char *name)
{
    for (size_t i = 0; i < c->nheaders; i++) {
        if (!strcasecmp(c->headers[i].name, name))
            return true;
    }
    return false;
}

static int add_header(acr_config *c, const char *h)
{
    const char *colon = strchr(h, ':');
    const char *semi = strchr(h, ';');
    bool empty_send = !colon && semi && semi[1] == 0; /* curl's "Name;" */
    if ((!colon && !empty_send) || strpbrk(h, "\r\n"))
        return usage_error("bad header '%s' (want 'Name: value')", h);
    const char *end = colon ? colon : semi;
    size_t nlen = (size_t)(end - h);
    for (size_t i = 0; i < nlen; i++) {
        if (isspace((unsigned char)h[i]) || !isprint((unsigned char)h[i]))
            return usage_error("bad header name in '%s'", h);
    }
    if (nlen == 0)
        return usage_error("bad header '%s' (empty name)", h);
    const char *v = colon ? colon + 1 : "";
    while (*v == ' ' || *v == '\t')
        v++;
    return push_header(c, h, nlen, v);
}

/* -A goes in whole, however long: it is a header like any other. */
static int add_user_agent(acr_config *c, const char *flag, const char *ua)
{
    if (strpbrk(ua, "\r\n"))
        return usage_error("%s: a User-Agent cannot hold CR or LF", flag);
    return push_header(c, "User-Agent", strlen("User-Agent"), ua);
}

/* RFC 9110 section 5.6.2: a method is a token, so it cannot smuggle a space, CR or
 * LF onto the request line. */
static bool is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return false;
    for (; *s; s++) {
        bool alnum = (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
        if (!alnum && !strchr(extra, *s))
            return false;
    }
    return true;
}

static int set_method(acr_config *c, const char *flag, const char *m)
{
    if (!is_token(m))
        return usage_error("%s wants an HTTP method: letters, digits or !#$%%&'*+-.^_`|~ only, "
                           "no spaces or line breaks (RFC 9110 token)", flag);
    c->job.req.method = m;
    return 0;
}

static int read_data(acr_config *c, const char *arg)
{
    free(c->data);
    c->data = NULL;
    if (arg[0] != '@') {
        c->data = acr_strdup(arg);
        c->job.req.body_len = strlen(arg);
        return 0;
    }
    FILE *f = strcmp(arg + 1, "-") ? fopen(arg + 1, "rb") : stdin;
    if (!f)
        return usage_error("cannot read -d file %s", arg + 1);
    size_t cap = 4096, len = 0;
    char *buf = acr_malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
        if (len < cap)
            continue;
        cap *= 2;
        char *nb = acr_realloc(buf, cap);
        if (!nb)
            free(buf);
        buf = nb;
    }
    if (f != stdin)
        fclose(f);
    c->data = buf;
    c->job.req.body_len = len;
    return buf ? 0 : usage_error("%s", "out of memory");
}

static void print_version(void)
{
    printf("acrawl %s\n", ACRAWL_VERSION);
    printf("  %s\n", acr_client_versions());
    printf("  comparison engine: %s\n", acr_curl_version());
}

/* A numeric flag, already checked against its range by acr_args_next. */
static void set_number(acr_config *c, int id, double v)
{
    switch (id) {
    case O_CONCURRENCY: c->job.concurrency = (unsigned)v; break;
    case O_TIMEOUT: c->job.timeout = (int64_t)(v * 1e9); break;
    case O_CONNECT_TIMEOUT: c->job.client.connect_timeout = (int64_t)(v * 1e9); break;
    case O_DEADLINE: c->deadline = (int64_t)(v * 1e9); break;
    case O_FIRST: c->first = (unsigned)v; break;
    case O_RETRY: c->job.retry = (unsigned)v; break;
    case O_PER_HOST: c->job.client.per_origin = (unsigned)v; break;
    case O_RATE: c->job.rate = v; break;
    case O_MAX_REDIRS: c->job.req.max_redirs = (unsigned)v; break;
    case O_MAX_FILESIZE: c->job.client.max_body_bytes = (uint64_t)v; break;
    case O_MAX_PAGES: c->job.crawl.max_pages = (uint64_t)v; break;
    case O_MAX_HOST_PAGES: c->job.crawl.host_page_cap = (uint64_t)v; break;
    case O_FRONTIER_MEM: c->job.crawl.frontier_mem = (size_t)v; break;
    case O_WARC_MAX_SIZE: c->warc_max_size = (uint64_t)v; break;
    case O_WAIT: c->job.crawl.wait = (int64_t)(v * 1e9); break;
    case O_MAX_CRAWL_DELAY: c->job.crawl.max_crawl_delay = (int64_t)(v * 1e9); break;
    case O_REDIS_CLAIM_IDLE: c->redis_claim_idle = (int64_t)(v * 1e9); break;
    case O_REDIS_MAX_DELIVERIES: c->redis_max_deliveries = (unsigned)v; break;
    case O_REDIS_TIMEOUT: c->redis_timeout = (int64_t)(v * 1e9); break;
    default: break;
    }
}

static int add_resolve(acr_config *c, const char *arg)
{
    const char **r = acr_realloc(c->resolve, (c->nresolve + 1) * sizeof *r);
    if (!r)
        return usage_error("%s", "out of memory");
    c->resolve = r;
    r[c->nresolve++] = arg;
    return 0;
}

static int set_engine(acr_config *c, const char *arg)
{
    if (!strcmp(arg, "acrawl"))
        c->engine = ACR_ENGINE_ACRAWL;
    else if (!strcmp(arg, "curl") || !strcmp(arg, "libcurl"))
        c->engine = ACR_ENGINE_CURL;
    else
        return usage_error("--engine is acrawl or curl, not '%s'", arg);
    return 0;
}

static int set_report(acr_config *c, const char *arg)
{
    if (!strcmp(arg, "text"))
        c->report = ACR_REPORT_TEXT;
    else if (!strcmp(arg, "json"))
        c->report = ACR_REPORT_JSON;
    else if (!strcmp(arg, "none"))
        c->report = ACR_REPORT_NONE;
    else
        return usage_error("--report is text, json or none, not '%s'", arg);
    return 0;
}

/* --level N or inf. */
static int set_level(acr_config *c, const char *flag, const char *arg)
{
    if (!strcmp(arg, "inf")) {
        c->job.crawl.max_depth = ACR_CRAWL_INF_DEPTH;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (!isdigit((unsigned char)arg[0]) || *end || errno || v > 1000000) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s wants a whole number from 0 to 1000000, or inf, not '%.64s'", flag, arg);
        return usage_error("%s", msg);
    }
    c->job.crawl.max_depth = (unsigned)v;
    return 0;
}

static int add_sitemap(acr_config *c, const char *arg)
{
    const char **v = acr_realloc(c->sitemaps, (c->nsitemaps + 1) * sizeof *v);
    if (!v)
        return usage_error("%s", "out of memory");
    c->sitemaps = v;
    v[c->nsitemaps++] = arg;
    c->job.crawl.sitemaps = v;
    c->job.crawl.nsitemaps = c->nsitemaps;
    return 0;
}

static int parse_crawl(acr_config *c, const acr_arg *a)
{
    acr_crawl_opts *co = &c->job.crawl;
    const char *arg = a->value;
    switch (a->opt->id) {
    case O_CRAWL: co->on = true; return 0;
    case O_LEVEL: return set_level(c, a->flag, arg);
    case O_SPAN_HOSTS: co->span_hosts = true; return 0;
    case O_DOMAINS: co->domains = arg; return 0;
    case O_EXCLUDE_DOMAINS: co->exclude_domains = arg; return 0;
    case O_INCLUDE: co->include = arg; return 0;
    case O_EXCLUDE: co->exclude = arg; return 0;
    case O_NO_PARENT: co->no_parent = true; return 0;
    case O_PAGE_REQUISITES: co->page_requisites = true; return 0;
    case O_NO_ROBOTS: co->no_robots = true; return 0;
    case O_RANDOM_WAIT: co->random_wait = true; return 0;
    case O_LOG_SKIPPED: c->log_skipped = arg; return 0;
    case O_STATE: c->state_dir = arg; return 0;
    case O_REDIS: c->redis = arg; return 0;
    case O_JOB: c->redis_job = arg; return 0;
    case O_REDIS_RECORDS: c->redis_records = true; return 0;
    case O_STATUS: c->control = ACR_CTL_STATUS; c->given_status = true; return 0;
    case O_COLLECT: c->control = ACR_CTL_COLLECT; c->given_collect = true; return 0;
    case O_DRAIN: c->control = ACR_CTL_DRAIN; c->given_drain = true; return 0;
    case O_SITEMAP: return add_sitemap(c, arg);
    case O_NO_SITEMAPS: co->no_sitemaps = true; return 0;
    default: return 2;
    }
}

static int parse_one(acr_config *c, const acr_arg *a)
{
    const char *arg = a->value;
    if (a->opt->num) {
        set_number(c, a->opt->id, arg ? a->num : 1); /* only --first has no value */
        return 0;
    }
    switch (a->opt->id) {
    case O_UNIQUE: c->job.unique = true; return 0;
    case O_REQUEST: return set_method(c, a->flag, arg);
    case O_HEADER: return add_header(c, arg);
    case O_DATA: return read_data(c, arg);
    case O_USER_AGENT: return add_user_agent(c, a->flag, arg);
    case O_LOCATION: c->job.req.follow = true; return 0;
    case O_INSECURE: c->job.client.insecure = true; return 0;
    case O_CACERT: c->job.client.cacert = arg; return 0;
    case O_RESOLVE: return add_resolve(c, arg);
    case O_DNS_SERVERS: c->job.client.dns_servers = arg; return 0;
    case O_COMPRESSED: c->job.req.decode = true; return 0;
    case O_OUTPUT_DIR: c->job.output_dir = arg; return 0;
    case O_SYNC: c->sync = true; return 0;
    case O_ENGINE: return set_engine(c, arg);
    case O_COMPARE: c->compare = true; return 0;
    case O_ORDERED: c->ordered = true; return 0;
    case O_JSON: c->format = ACR_FMT_JSON; return 0;
    case O_WRITE_OUT: c->format = ACR_FMT_WRITEOUT; c->writeout = arg; return 0;
    case O_REPORT: return set_report(c, arg);
    case O_REPORT_FILE: c->report_file = arg; return 0;
    case O_TIMELINE: c->timeline = true; return 0;
    case O_QUIET: c->quiet = true; return 0;
    case O_NO_PROGRESS: c->no_progress = true; return 0;
    case O_FAIL: c->fail = true; return 0;
    case O_WARC: c->warc = arg; return 0;
    case O_WARC_GZIP: c->warc_gzip = true; return 0;
    default: return parse_crawl(c, a);
    }
}

/* A body from -d is form data unless the user says otherwise, as in curl. */
static int set_body(acr_config *c)
{
    c->job.req.body = c->data;
    if (!c->job.req.method)
        c->job.req.method = "POST";
    if (has_header(c, "Content-Type"))
        return 0;
    return push_header(c, "Content-Type", strlen("Content-Type"), "application/x-www-form-urlencoded");
}

/* Reads -w @FILE or @- (stdin, which then cannot be the URL list too), checks the
 * template, and tells the jobs whether records must keep response headers. */
static int setup_writeout(acr_config *c)
{
    for (size_t i = 0; !strcmp(c->writeout, "@-") && i < c->nsources; i++) {
        if (!strcmp(c->sources[i], "-"))
            return usage_error("%s", "-w @- reads the template from stdin, so the URLs cannot come from "
                                     "stdin too: give them as a file or as arguments");
    }
    char err[300];
    if (acr_output_load_writeout(c->writeout, &c->writeout_buf, err, sizeof err) != 0)
        return usage_error("%s", err);
    c->writeout = c->writeout_buf;
    char bad[64];
    if (acr_output_check_writeout(c->writeout, bad, sizeof bad))
        return usage_error("unknown -w variable %%{%s}", bad);
    c->job.keep_headers = acr_output_writeout_needs_headers(c->writeout);
    return 0;
}

/* Every flag given must apply to the mode of the run (a row's modes). */
static int check_modes(const acr_config *c)
{
    unsigned mode = c->job.crawl.on ? IN_CRAWL : IN_LIST;
    for (size_t row = 0; opts[row].name; row++) {
        if (!c->given[row] || (opts[row].modes & mode))
            continue;
        char msg[160];
        snprintf(msg, sizeof msg, mode == IN_CRAWL ? "--%s does not apply in crawl mode"
                                                   : "--%s applies to crawl mode only (add --crawl)",
                 opts[row].name);
        return usage_error("%s", msg);
    }
    return 0;
}

/* Every --sitemap must be an http(s) URL. */
static int check_sitemaps(const acr_config *c)
{
    for (size_t i = 0; i < c->nsitemaps; i++) {
        acr_url u;
        char why[160], msg[300];
        if (acr_url_parse(&u, c->sitemaps[i], why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "--sitemap %.64s: %.100s", c->sitemaps[i], why);
            return usage_error("%s", msg);
        }
        acr_url_release(&u);
    }
    return 0;
}

/* Crawl mode's defaults, where the flags left them. */
/* A pattern that does not compile is a usage error now, before a --state directory
 * is bound to it. */
static int check_pattern(const char *flag, const char *pattern)
{
    regex_t re;
    int rc = pattern ? regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) : 0;
    if (rc == 0) {
        if (pattern)
            regfree(&re);
        return 0;
    }
    char why[128], msg[300];
    regerror(rc, &re, why, sizeof why);
    snprintf(msg, sizeof msg, "%s '%.100s': %s", flag, pattern, why);
    return usage_error("%s", msg);
}

static int finish_crawl(acr_config *c)
{
    acr_crawl_opts *co = &c->job.crawl;
    if (check_sitemaps(c) != 0 || check_pattern("--include", co->include) || check_pattern("--exclude", co->exclude))
        return 2;
    if (c->engine == ACR_ENGINE_CURL)
        return usage_error("%s", "--engine curl cannot crawl: crawl mode runs on the acrawl engine");
    if (c->compare)
        return usage_error("%s", "--compare does not apply in crawl mode");
    co->per_host = c->job.client.per_origin ? c->job.client.per_origin : 2;
    c->job.client.per_origin = co->per_host;
    co->max_url_len = 2048;
    co->max_repeats = 3;
    if (co->no_robots)
        fprintf(stderr, "acrawl: note: --no-robots: robots.txt is neither fetched nor obeyed\n");
    return 0;
}

/* --warc and its companions: the libcurl engine does not show acrawl the bytes on
 * the wire, so an archive from it would be silently missing: refused instead. */
static int check_warc(const acr_config *c)
{
    if (!c->warc && (c->warc_gzip || c->warc_max_size))
        return usage_error("%s", c->warc_gzip ? "--warc-gzip needs --warc FILE" : "--warc-max-size needs --warc FILE");
    if (c->warc && (c->engine == ACR_ENGINE_CURL || c->compare))
        return usage_error("%s", "--warc archives what the acrawl engine puts on the wire: drop --engine curl "
                                 "and --compare");
    if (c->warc && !c->warc[0])
        return usage_error("%s", "--warc needs a file name");
    return 0;
}

/* --redis and --job go together, with --crawl (a worker) or one of --status,
 * --collect, --drain (a client of the job); --state is Redis's job there. */
static int check_redis(acr_config *c, int noperands)
{
    if (!c->redis && !c->redis_job && c->control == ACR_CTL_NONE)
        return 0;
    if (!c->redis || !c->redis_job)
        return usage_error("%s", c->redis ? "--redis needs --job NAME"
                                          : c->redis_job ? "--job needs --redis URL"
                                                         : "--status, --collect and --drain need --redis URL and --job NAME");
    size_t n = strlen(c->redis_job);
    if (n == 0 || n > 100 || strspn(c->redis_job, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return usage_error("--job NAME is 1 to 100 of A-Z a-z 0-9 . _ -, not '%.100s'", c->redis_job);
    if (!c->job.crawl.on && c->control == ACR_CTL_NONE)
        return usage_error("%s", "--redis shares a crawl: add --crawl, or --status, --collect or --drain");
    if (c->control != ACR_CTL_NONE && noperands > 0)
        return usage_error("%s", "--status, --collect and --drain take no URLs");
    int ctl = (c->given_status) + (c->given_collect) + (c->given_drain);
    if (ctl > 1)
        return usage_error("%s", "one of --status, --collect and --drain at a time");
    if (c->state_dir)
        return usage_error("%s", "--state and --redis do not go together: the job in Redis is the crawl's state");
    if (c->sync)
        return usage_error("%s", "--sync does not apply to a shared crawl");
    if (!c->redis_claim_idle)
        c->redis_claim_idle = 30 * (int64_t)1000000000;
    if (!c->redis_max_deliveries)
        c->redis_max_deliveries = 5;
    if (!c->redis_timeout)
        c->redis_timeout = 60 * (int64_t)1000000000;
    return 0;
}

static int finish_config(acr_config *c, char **operands, int noperands)
{
    if (check_modes(c) != 0 || (c->job.crawl.on && finish_crawl(c) != 0) || check_redis(c, noperands) != 0)
        return 2;
    if (c->data && set_body(c) != 0)
        return 2;
    c->job.req.headers = c->headers;
    c->job.req.nheaders = c->nheaders;
    c->job.client.resolve = c->resolve;
    c->job.client.nresolve = c->nresolve;
    if (c->sync)
        c->job.concurrency = 1;
    static char *stdin_only[] = {"-"};
    if (noperands > 0) {
        c->sources = operands;
        c->nsources = (size_t)noperands;
    } else {
        c->sources = stdin_only;
        c->nsources = 1;
    }
    if (c->writeout && setup_writeout(c) != 0)
        return 2;
    if (c->compare && c->engine == ACR_ENGINE_CURL)
        return usage_error("%s", "--compare runs every engine; drop --engine");
    if (c->compare && c->sync)
        return usage_error("%s", "--compare runs --sync itself; drop --sync");
    return check_warc(c);
}

/* ---- the table for tests and notes ---- */

enum { GIVEN_LONG = 1, GIVEN_SHORT = 2 }; /* acr_config.given */

static const char *const engine_names[] = {[ACR_ENGINE_ACRAWL] = "acrawl", [ACR_ENGINE_CURL] = "curl"};
static const char *const mode_names[] = {"list", "crawl"};

/* The names of the set bits of mask, comma-separated: "acrawl,curl". */
static void print_names(FILE *f, unsigned mask, const char *const *names, size_t n)
{
    const char *sep = "";
    for (size_t i = 0; i < n; i++) {
        if (mask & (1u << i)) {
            fprintf(f, "%s%s", sep, names[i]);
            sep = ",";
        }
    }
}

/* The value column: as -h shows it ("N", "[=N]"), empty for none. */
static void list_value(FILE *f, const acr_opt *o)
{
    if (o->arg == ACR_ARG_REQUIRED)
        fprintf(f, "\t%s\t", o->argname);
    else if (o->arg == ACR_ARG_OPTIONAL)
        fprintf(f, "\t[=%s]\t", o->argname);
    else
        fputs("\t\t", f);
}

/* --list-options: a header, then a TSV row per documented option (aliases too):
 * --long, -s (or empty), value (N, [=N] or empty), engines, modes, help group. */
static void list_options(FILE *f)
{
    fputs("long\tshort\tvalue\tengines\tmodes\tgroup\n", f);
    for (const acr_opt *o = opts; o->name; o++) {
        if (o->flags & ACR_OPT_HIDDEN)
            continue;
        fprintf(f, "--%s\t", o->name);
        if (o->short_name)
            fprintf(f, "-%c", o->short_name);
        list_value(f, o);
        print_names(f, o->engines, engine_names, sizeof engine_names / sizeof engine_names[0]);
        fputc('\t', f);
        print_names(f, o->modes, mode_names, sizeof mode_names / sizeof mode_names[0]);
        fprintf(f, "\t%s\n", o->group ? o->group : "");
    }
}

static bool ignored(const acr_config *c, size_t row)
{
    return c->given[row] && !(opts[row].engines & (1u << c->engine));
}

static void print_flag(FILE *f, const acr_config *c, size_t row)
{
    if (c->given[row] == GIVEN_SHORT)
        fprintf(f, "-%c", opts[row].short_name);
    else
        fprintf(f, "--%s", opts[row].name);
}

void acr_cli_note_ignored(const acr_config *c, FILE *f)
{
    size_t n = 0, k = 0;
    for (size_t row = 0; opts[row].name; row++)
        n += ignored(c, row);
    if (n == 0)
        return;
    fputs("acrawl: note: ", f);
    for (size_t row = 0; opts[row].name; row++) {
        if (!ignored(c, row))
            continue;
        fputs(k == 0 ? "" : k + 1 == n ? " and " : ", ", f);
        print_flag(f, c, row);
        k++;
    }
    /* Two engines: what one ignores, only the other honours. */
    fprintf(f, " appl%s to the %s engine only\n", n == 1 ? "ies" : "y",
            engine_names[c->engine == ACR_ENGINE_CURL ? ACR_ENGINE_ACRAWL : ACR_ENGINE_CURL]);
}

/* Flags that print something and end the run: -h, -V, --list-options. */
static bool print_and_exit(int id)
{
    switch (id) {
    case O_HELP:
        fputs(usage_head, stdout);
        acr_args_help(stdout, opts);
        fputs(usage_tail, stdout);
        return true;
    case O_VERSION:
        print_version();
        return true;
    case O_LIST_OPTIONS:
        list_options(stdout);
        return true;
    default:
        return false;
    }
}

/* Remembers that the row of a was given, and how it was first typed. */
static void mark_given(acr_config *c, const acr_arg *a)
{
    size_t row = (size_t)(a->opt - opts);
    if (!c->given[row])
        c->given[row] = a->flag[1] == '-' ? GIVEN_LONG : GIVEN_SHORT;
}

/* argv as a shell would read it back: words of safe characters as they are, the
 * rest in single quotes. NULL when memory runs out. */
static char *shell_line(int argc, char **argv)
{
    acr_buf b = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i)
            acr_buf_putc(&b, ' ');
        if (a[0] && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=@%+,") == strlen(a)) {
            acr_buf_puts(&b, a);
            continue;
        }
        acr_buf_putc(&b, '\'');
        for (const char *p = a; *p; p++) {
            if (*p == '\'')
                acr_buf_puts(&b, "'\\''");
            else
                acr_buf_putc(&b, *p);
        }
        acr_buf_putc(&b, '\'');
    }
    acr_buf_putc(&b, '\0');
    if (!b.oom)
        return b.p;
    acr_buf_release(&b);
    return NULL;
}

int acr_cli_parse(acr_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->command_line = shell_line(argc, argv); /* before the parser reorders argv */
    c->job.concurrency = 50;
    c->job.timeout = 30 * ACR_SEC;
    c->job.client.connect_timeout = 10 * ACR_SEC;
    c->job.crawl.max_depth = 5;
    c->job.crawl.max_crawl_delay = 30 * ACR_SEC;
    c->job.crawl.host_page_cap = 100000;
    c->job.crawl.frontier_mem = (size_t)256 << 20;
    acr_args a;
    acr_args_init(&a, opts, argc, argv);
    for (;;) {
        acr_arg arg;
        char err[256];
        int rc = acr_args_next(&a, &arg, err, sizeof err);
        if (rc == 0)
            break;
        if (rc < 0)
            return usage_error("%s", err);
        if (print_and_exit(arg.opt->id))
            return 1;
        mark_given(c, &arg);
        rc = parse_one(c, &arg);
        if (rc != 0)
            return rc;
    }
    return finish_config(c, argv + 1, a.noperands);
}

void acr_cli_release(acr_config *c)
{
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
    }
    free(c->headers);
    free(c->resolve);
    free(c->sitemaps);
    free(c->data);
    free(c->writeout_buf);
    free(c->command_line);
}

void acr_cli_fit_fd_limit(acr_config *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Each request holds one socket; keep room for stdio, epoll, DNS and files. */
    rlim_t room = rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 1;
    unsigned want = c->job.concurrency + (c->job.output_dir ? c->job.concurrency : 0);
    if (want > room) {
        unsigned cap = (unsigned)(c->job.output_dir ? room / 2 : room);
        fprintf(stderr, "acrawl: -c %u needs more open files than the limit (%llu) allows; using -c %u\n",
                c->job.concurrency, (unsigned long long)rl.rlim_cur, cap ? cap : 1);
        c->job.concurrency = cap ? cap : 1;
    }
}
