/* cli.c -- option parsing with curl's flag names where curl has the flag. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "args.h"
#include "cli.h"
#include "jobs/curlengine.h"

enum {
    O_CONNECT_TIMEOUT = 256, O_DEADLINE, O_RETRY, O_PER_HOST, O_RATE, O_UNIQUE, O_MAX_REDIRS, O_CACERT,
    O_RESOLVE, O_DNS_SERVERS, O_COMPRESSED, O_MAX_FILESIZE, O_SYNC, O_ENGINE, O_COMPARE, O_ORDERED, O_REPORT,
    O_REPORT_FILE, O_TIMELINE, O_NO_PROGRESS, O_FAIL,
};

/* Ranges: a timeout below a millisecond or a rate below one request in 1000 s is
 * surely a typo; the maxima keep every value exact in the integer it becomes. */
static const acr_num_spec n_concurrency = {ACR_NUM_COUNT, 1, 1000000, "a whole number"};
static const acr_num_spec n_seconds = {ACR_NUM_REAL, 0.001, 1e9, "seconds"};
static const acr_num_spec n_first = {ACR_NUM_COUNT, 1, 1e9, "a whole number"};
static const acr_num_spec n_retry = {ACR_NUM_COUNT, 0, 100, "a whole number"};
static const acr_num_spec n_per_host = {ACR_NUM_COUNT, 1, 1000000, "a whole number"};
static const acr_num_spec n_rate = {ACR_NUM_REAL, 0.001, 1000000, "requests per second"};
static const acr_num_spec n_redirs = {ACR_NUM_COUNT, 1, 1000, "a whole number"};
static const acr_num_spec n_filesize = {ACR_NUM_SIZE, 1, 1099511627776.0 /* 1024G */,
                                        "a whole number of bytes (k, M, G: x1024)"};

#define REQ ACR_ARG_REQUIRED
#define NONE ACR_ARG_NONE
static const acr_opt opts[] = {
    {"concurrency", 'c', 'c', REQ, &n_concurrency},
    {"timeout", 't', 't', REQ, &n_seconds},
    {"max-time", 0, 't', REQ, &n_seconds},
    {"connect-timeout", 0, O_CONNECT_TIMEOUT, REQ, &n_seconds},
    {"deadline", 0, O_DEADLINE, REQ, &n_seconds},
    {"first", '1', '1', ACR_ARG_OPTIONAL, &n_first},
    {"retry", 0, O_RETRY, REQ, &n_retry},
    {"per-host", 0, O_PER_HOST, REQ, &n_per_host},
    {"rate", 0, O_RATE, REQ, &n_rate},
    {"unique", 0, O_UNIQUE, NONE, NULL},
    {"request", 'X', 'X', REQ, NULL},
    {"header", 'H', 'H', REQ, NULL},
    {"data", 'd', 'd', REQ, NULL},
    {"user-agent", 'A', 'A', REQ, NULL},
    {"location", 'L', 'L', NONE, NULL},
    {"max-redirs", 0, O_MAX_REDIRS, REQ, &n_redirs},
    {"insecure", 'k', 'k', NONE, NULL},
    {"cacert", 0, O_CACERT, REQ, NULL},
    {"resolve", 0, O_RESOLVE, REQ, NULL},
    {"dns-servers", 0, O_DNS_SERVERS, REQ, NULL},
    {"compressed", 0, O_COMPRESSED, NONE, NULL},
    {"max-filesize", 0, O_MAX_FILESIZE, REQ, &n_filesize},
    {"output-dir", 'o', 'o', REQ, NULL},
    {"sync", 0, O_SYNC, NONE, NULL},
    {"engine", 0, O_ENGINE, REQ, NULL},
    {"compare", 0, O_COMPARE, NONE, NULL},
    {"ordered", 0, O_ORDERED, NONE, NULL},
    {"json", 'j', 'j', NONE, NULL},
    {"write-out", 'w', 'w', REQ, NULL},
    {"report", 0, O_REPORT, REQ, NULL},
    {"report-file", 0, O_REPORT_FILE, REQ, NULL},
    {"timeline", 0, O_TIMELINE, NONE, NULL},
    {"quiet", 'q', 'q', NONE, NULL},
    {"no-progress", 0, O_NO_PROGRESS, NONE, NULL},
    {"fail", 0, O_FAIL, NONE, NULL},
    {"help", 'h', 'h', NONE, NULL},
    {"version", 'V', 'V', NONE, NULL},
    {NULL, 0, 0, NONE, NULL},
};
#undef REQ
#undef NONE

static const char usage_text[] =
    "usage: acrawl [OPTIONS] [FILE | - | URL]...\n"
    "Fetch every URL of a list concurrently; one record per URL on stdout as each completes,\n"
    "a timing report on stderr. Input: files, - for stdin (the default), or URLs as arguments;\n"
    "one URL per line, blank lines and #comments skipped. Long options are spelled in full;\n"
    "numbers outside the range shown are refused.\n"
    "\n"
    "Running:\n"
    "  -c, --concurrency N      requests in flight at most (1-1000000, default 50)\n"
    "  -t, --timeout SECS       per request, queue time excluded (default 30); also --max-time\n"
    "      --connect-timeout S  for DNS + TCP connect (default 10)\n"
    "      --deadline SECS      for the whole run: then cancel what is pending (exit 124)\n"
    "                           (SECS: 0.001-1000000000, fractions allowed)\n"
    "  -1, --first[=N]          stop once N requests (default 1) succeeded; cancel the rest\n"
    "      --retry N            retry connect errors, timeouts, 429 and 5xx with backoff (0-100)\n"
    "      --per-host N         connections per host at most (1-1000000)\n"
    "      --rate R             start at most R requests per second (0.001-1000000)\n"
    "      --unique             skip repeated URLs\n"
    "      --sync               run the list one at a time (the sequential baseline)\n"
    "      --engine acrawl|curl run through acrawl's runtime or libcurl's multi interface\n"
    "      --compare            run sync, async and libcurl back to back; compare them\n"
    "HTTP:\n"
    "  -X, --request METHOD     request method, a token (default GET, or POST with -d)\n"
    "  -H, --header 'N: V'      extra header; 'N:' removes a default header\n"
    "  -d, --data DATA|@FILE    request body, sent as application/x-www-form-urlencoded\n"
    "                           unless -H gives a Content-Type\n"
    "  -A, --user-agent UA      User-Agent (default acrawl/" ACRAWL_VERSION ")\n"
    "  -L, --location           follow redirects\n"
    "      --max-redirs N       redirects to follow at most (1-1000, default 10)\n"
    "  -k, --insecure           do not verify certificates or host names\n"
    "      --cacert FILE        trust these CA certificates instead of the system's\n"
    "      --resolve H:P:ADDR   use ADDR[,ADDR...] for host H port P\n"
    "      --dns-servers LIST   ip[:port],... instead of the system's resolvers\n"
    "      --compressed         ask for gzip/deflate and decode\n"
    "      --max-filesize BYTES fail responses larger than this (1-1024G; k, M, G suffixes)\n"
    "  -o, --output-dir DIR     save bodies in DIR under names made from the URL\n"
    "Output:\n"
    "  -j, --json               JSON Lines records\n"
    "  -w, --write-out FMT      records from a template, or from a file: @FILE, @- (stdin);\n"
    "                           \\n \\t %% and %{VAR}; curl's VARs: content_type errormsg\n"
    "                           exitcode filename_effective header_json http_code json\n"
    "                           num_redirects remote_ip remote_port response_code scheme\n"
    "                           size_download (bytes received) speed_download time_appconnect\n"
    "                           time_connect time_namelookup time_redirect time_starttransfer\n"
    "                           time_total url url_effective urlnum; acrawl's: attempt\n"
    "                           error_kind line size_decoded (after --compressed) time_queue\n"
    "                           size_raw (an old name of size_download)\n"
    "      --ordered            records in input order instead of completion order\n"
    "      --report text|json|none  the timing report on stderr (default text)\n"
    "      --report-file FILE   write the report there instead\n"
    "      --timeline           add an ASCII waterfall of the requests to the report\n"
    "  -q, --quiet              no progress and no report\n"
    "      --no-progress        no progress line\n"
    "      --fail               exit 1 when a response is >= 400\n"
    "  -h, --help               this help\n"
    "  -V, --version            versions of acrawl and its libraries\n"
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
    acr_header *hs = realloc(c->headers, (c->nheaders + 1) * sizeof *hs);
    if (!hs)
        return usage_error("%s", "out of memory");
    c->headers = hs;
    hs[c->nheaders].name = strndup(name, nlen);
    hs[c->nheaders].value = strdup(value);
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
        c->data = strdup(arg);
        c->job.req.body_len = strlen(arg);
        return 0;
    }
    FILE *f = strcmp(arg + 1, "-") ? fopen(arg + 1, "rb") : stdin;
    if (!f)
        return usage_error("cannot read -d file %s", arg + 1);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
        if (len < cap)
            continue;
        cap *= 2;
        char *nb = realloc(buf, cap);
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
    case 'c': c->job.concurrency = (unsigned)v; break;
    case 't': c->job.timeout = (int64_t)(v * 1e9); break;
    case O_CONNECT_TIMEOUT: c->job.client.connect_timeout = (int64_t)(v * 1e9); break;
    case O_DEADLINE: c->deadline = (int64_t)(v * 1e9); break;
    case '1': c->first = (unsigned)v; break;
    case O_RETRY: c->job.retry = (unsigned)v; break;
    case O_PER_HOST: c->job.client.per_origin = (unsigned)v; break;
    case O_RATE: c->job.rate = v; break;
    case O_MAX_REDIRS: c->job.req.max_redirs = (unsigned)v; break;
    case O_MAX_FILESIZE: c->job.client.max_body_bytes = (uint64_t)v; break;
    default: break;
    }
}

static int add_resolve(acr_config *c, const char *arg)
{
    const char **r = realloc(c->resolve, (c->nresolve + 1) * sizeof *r);
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

static int parse_one(acr_config *c, const acr_arg *a)
{
    const char *arg = a->value;
    if (a->opt->num) {
        set_number(c, a->opt->id, arg ? a->num : 1); /* only --first has no value */
        return 0;
    }
    switch (a->opt->id) {
    case O_UNIQUE: c->job.unique = true; return 0;
    case 'X': return set_method(c, a->flag, arg);
    case 'H': return add_header(c, arg);
    case 'd': return read_data(c, arg);
    case 'A': return add_user_agent(c, a->flag, arg);
    case 'L': c->job.req.follow = true; return 0;
    case 'k': c->job.client.insecure = true; return 0;
    case O_CACERT: c->job.client.cacert = arg; return 0;
    case O_RESOLVE: return add_resolve(c, arg);
    case O_DNS_SERVERS: c->job.client.dns_servers = arg; return 0;
    case O_COMPRESSED: c->job.req.decode = true; return 0;
    case 'o': c->job.output_dir = arg; return 0;
    case O_SYNC: c->sync = true; return 0;
    case O_ENGINE: return set_engine(c, arg);
    case O_COMPARE: c->compare = true; return 0;
    case O_ORDERED: c->ordered = true; return 0;
    case 'j': c->format = ACR_FMT_JSON; return 0;
    case 'w': c->format = ACR_FMT_WRITEOUT; c->writeout = arg; return 0;
    case O_REPORT: return set_report(c, arg);
    case O_REPORT_FILE: c->report_file = arg; return 0;
    case O_TIMELINE: c->timeline = true; return 0;
    case 'q': c->quiet = true; return 0;
    case O_NO_PROGRESS: c->no_progress = true; return 0;
    case O_FAIL: c->fail = true; return 0;
    default: return 2;
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

static int finish_config(acr_config *c, char **operands, int noperands)
{
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
    return 0;
}

int acr_cli_parse(acr_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->job.concurrency = 50;
    c->job.timeout = 30 * ACR_SEC;
    c->job.client.connect_timeout = 10 * ACR_SEC;
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
        if (arg.opt->id == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (arg.opt->id == 'V') {
            print_version();
            return 1;
        }
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
    free(c->data);
    free(c->writeout_buf);
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
