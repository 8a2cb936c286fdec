/* cli.c -- option parsing with curl's flag names where curl has the flag. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "cli.h"
#include "jobs/curlengine.h"
#include "transport/dns.h"
#include "transport/tls.h"

enum {
    O_CONNECT_TIMEOUT = 256, O_DEADLINE, O_RETRY, O_PER_HOST, O_RATE, O_UNIQUE, O_MAX_REDIRS, O_CACERT,
    O_RESOLVE, O_DNS_SERVERS, O_COMPRESSED, O_MAX_FILESIZE, O_SYNC, O_ENGINE, O_COMPARE, O_ORDERED, O_REPORT,
    O_REPORT_FILE, O_TIMELINE, O_NO_PROGRESS, O_FAIL,
};

static const struct option longopts[] = {
    {"concurrency", required_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'},
    {"max-time", required_argument, NULL, 't'},
    {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
    {"deadline", required_argument, NULL, O_DEADLINE},
    {"first", optional_argument, NULL, '1'},
    {"retry", required_argument, NULL, O_RETRY},
    {"per-host", required_argument, NULL, O_PER_HOST},
    {"rate", required_argument, NULL, O_RATE},
    {"unique", no_argument, NULL, O_UNIQUE},
    {"request", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"data", required_argument, NULL, 'd'},
    {"user-agent", required_argument, NULL, 'A'},
    {"location", no_argument, NULL, 'L'},
    {"max-redirs", required_argument, NULL, O_MAX_REDIRS},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, O_CACERT},
    {"resolve", required_argument, NULL, O_RESOLVE},
    {"dns-servers", required_argument, NULL, O_DNS_SERVERS},
    {"compressed", no_argument, NULL, O_COMPRESSED},
    {"max-filesize", required_argument, NULL, O_MAX_FILESIZE},
    {"output-dir", required_argument, NULL, 'o'},
    {"sync", no_argument, NULL, O_SYNC},
    {"engine", required_argument, NULL, O_ENGINE},
    {"compare", no_argument, NULL, O_COMPARE},
    {"ordered", no_argument, NULL, O_ORDERED},
    {"json", no_argument, NULL, 'j'},
    {"write-out", required_argument, NULL, 'w'},
    {"report", required_argument, NULL, O_REPORT},
    {"report-file", required_argument, NULL, O_REPORT_FILE},
    {"timeline", no_argument, NULL, O_TIMELINE},
    {"quiet", no_argument, NULL, 'q'},
    {"no-progress", no_argument, NULL, O_NO_PROGRESS},
    {"fail", no_argument, NULL, O_FAIL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "usage: acrawl [OPTIONS] [FILE | - | URL]...\n"
    "Fetch every URL of a list concurrently; one record per URL on stdout as each completes,\n"
    "a timing report on stderr. Input: files, - for stdin (the default), or URLs as arguments;\n"
    "one URL per line, blank lines and #comments skipped.\n"
    "\n"
    "Running:\n"
    "  -c, --concurrency N      requests in flight at most (default 50)\n"
    "  -t, --timeout SECS       per request, queue time excluded (default 30)\n"
    "      --connect-timeout S  for DNS + TCP connect (default 10)\n"
    "      --deadline SECS      for the whole run: then cancel what is pending (exit 124)\n"
    "  -1, --first[=N]          stop once N requests (default 1) succeeded; cancel the rest\n"
    "      --retry N            retry connect errors, timeouts, 429 and 5xx with backoff\n"
    "      --per-host N         connections per host at most\n"
    "      --rate R             start at most R requests per second\n"
    "      --unique             skip repeated URLs\n"
    "      --sync               run the list one at a time (the sequential baseline)\n"
    "      --engine acrawl|curl run through acrawl's runtime or libcurl's multi interface\n"
    "      --compare            run sync, async and libcurl back to back; compare them\n"
    "HTTP:\n"
    "  -X, --request METHOD     request method (default GET, or POST with -d)\n"
    "  -H, --header 'N: V'      extra header; 'N:' removes a default header\n"
    "  -d, --data DATA|@FILE    request body\n"
    "  -A, --user-agent UA      User-Agent (default acrawl/" ACRAWL_VERSION ")\n"
    "  -L, --location           follow redirects\n"
    "      --max-redirs N       redirects to follow at most (default 10)\n"
    "  -k, --insecure           do not verify certificates or host names\n"
    "      --cacert FILE        trust these CA certificates instead of the system's\n"
    "      --resolve H:P:ADDR   use ADDR[,ADDR...] for host H port P\n"
    "      --dns-servers LIST   ip[:port],... instead of the system's resolvers\n"
    "      --compressed         ask for gzip/deflate and decode\n"
    "      --max-filesize BYTES fail responses larger than this (k, M, G suffixes)\n"
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

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static bool parse_secs(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 1e9)
        return false;
    *out = (int64_t)(v * 1e9);
    return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024;
    else if (*end == 'm' || *end == 'M')
        mul = 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G')
        mul = 1024.0 * 1024 * 1024;
    if (mul != 1)
        end++;
    if (end == s || *end || !(v > 0))
        return false;
    *out = (uint64_t)(v * mul);
    return true;
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
    acr_header *hs = realloc(c->headers, (c->nheaders + 1) * sizeof *hs);
    if (!hs)
        return usage_error("%s", "out of memory");
    c->headers = hs;
    hs[c->nheaders].name = strndup(h, nlen);
    hs[c->nheaders].value = strdup(v);
    c->nheaders++;
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
    printf("  c-ares %s, %s, llhttp %d.%d.%d, zlib %s\n", acr_dns_version(), acr_tls_version(), 8, 1, 0,
           zlibVersion());
    printf("  comparison engine: %s\n", acr_curl_version());
}

/* "--first 3" and "-1 3": a following bare number belongs to the flag. */
static void join_first_arg(int argc, char **argv, char **joined)
{
    for (int i = 1; i + 1 < argc; i++) {
        if ((strcmp(argv[i], "--first") && strcmp(argv[i], "-1")) || !argv[i + 1][0])
            continue;
        if (strspn(argv[i + 1], "0123456789") != strlen(argv[i + 1]))
            continue;
        size_t n = strlen(argv[i + 1]) + 10;
        *joined = malloc(n);
        if (!*joined)
            return;
        snprintf(*joined, n, "--first=%s", argv[i + 1]);
        argv[i] = *joined;
        memmove(argv + i + 1, argv + i + 2, (size_t)(argc - i - 2) * sizeof *argv);
        argv[argc - 1] = NULL;
        return;
    }
}

static int parse_one(acr_config *c, int opt, const char *arg)
{
    unsigned long u;
    switch (opt) {
    case 'c':
        if (!parse_uint(arg, 1000000, &u) || u == 0)
            return usage_error("-c wants a number from 1 to 1000000, not '%s'", arg);
        c->job.concurrency = (unsigned)u;
        return 0;
    case 't':
        return parse_secs(arg, &c->job.timeout) ? 0 : usage_error("bad --timeout '%s'", arg);
    case O_CONNECT_TIMEOUT:
        return parse_secs(arg, &c->job.client.connect_timeout) ? 0 : usage_error("bad --connect-timeout '%s'", arg);
    case O_DEADLINE:
        return parse_secs(arg, &c->deadline) ? 0 : usage_error("bad --deadline '%s'", arg);
    case '1':
        if (arg && (!parse_uint(arg, 1000000000, &u) || u == 0))
            return usage_error("--first wants a positive number, not '%s'", arg);
        c->first = arg ? (unsigned)u : 1;
        return 0;
    case O_RETRY:
        if (!parse_uint(arg, 100, &u))
            return usage_error("--retry wants a number from 0 to 100, not '%s'", arg);
        c->job.retry = (unsigned)u;
        return 0;
    case O_PER_HOST:
        if (!parse_uint(arg, 1000000, &u) || u == 0)
            return usage_error("bad --per-host '%s'", arg);
        c->job.client.per_origin = (unsigned)u;
        return 0;
    case O_RATE: {
        char *end;
        double r = strtod(arg, &end);
        if (end == arg || *end || !(r > 0))
            return usage_error("bad --rate '%s'", arg);
        c->job.rate = r;
        return 0;
    }
    case O_UNIQUE: c->job.unique = true; return 0;
    case 'X': c->job.req.method = arg; return 0;
    case 'H': return add_header(c, arg);
    case 'd': return read_data(c, arg);
    case 'A': {
        char h[1024];
        snprintf(h, sizeof h, "User-Agent: %s", arg);
        return add_header(c, h);
    }
    case 'L': c->job.req.follow = true; return 0;
    case O_MAX_REDIRS:
        if (!parse_uint(arg, 1000, &u) || u == 0)
            return usage_error("bad --max-redirs '%s'", arg);
        c->job.req.max_redirs = (unsigned)u;
        return 0;
    case 'k': c->job.client.insecure = true; return 0;
    case O_CACERT: c->job.client.cacert = arg; return 0;
    case O_RESOLVE: {
        const char **r = realloc(c->resolve, (c->nresolve + 1) * sizeof *r);
        if (!r)
            return 2;
        c->resolve = r;
        r[c->nresolve++] = arg;
        return 0;
    }
    case O_DNS_SERVERS: c->job.client.dns_servers = arg; return 0;
    case O_COMPRESSED: c->job.req.decode = true; return 0;
    case O_MAX_FILESIZE:
        return parse_size(arg, &c->job.client.max_body_bytes) ? 0 : usage_error("bad --max-filesize '%s'", arg);
    case 'o': c->job.output_dir = arg; return 0;
    case O_SYNC: c->sync = true; return 0;
    case O_ENGINE:
        if (!strcmp(arg, "acrawl"))
            c->engine = ACR_ENGINE_ACRAWL;
        else if (!strcmp(arg, "curl") || !strcmp(arg, "libcurl"))
            c->engine = ACR_ENGINE_CURL;
        else
            return usage_error("--engine is acrawl or curl, not '%s'", arg);
        return 0;
    case O_COMPARE: c->compare = true; return 0;
    case O_ORDERED: c->ordered = true; return 0;
    case 'j': c->format = ACR_FMT_JSON; return 0;
    case 'w': c->format = ACR_FMT_WRITEOUT; c->writeout = arg; return 0;
    case O_REPORT:
        if (!strcmp(arg, "text"))
            c->report = ACR_REPORT_TEXT;
        else if (!strcmp(arg, "json"))
            c->report = ACR_REPORT_JSON;
        else if (!strcmp(arg, "none"))
            c->report = ACR_REPORT_NONE;
        else
            return usage_error("--report is text, json or none, not '%s'", arg);
        return 0;
    case O_REPORT_FILE: c->report_file = arg; return 0;
    case O_TIMELINE: c->timeline = true; return 0;
    case 'q': c->quiet = true; return 0;
    case O_NO_PROGRESS: c->no_progress = true; return 0;
    case O_FAIL: c->fail = true; return 0;
    default: return 2;
    }
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

static int finish_config(acr_config *c, int argc, char **argv)
{
    if (c->data) {
        c->job.req.body = c->data;
        if (!c->job.req.method)
            c->job.req.method = "POST";
    }
    c->job.req.headers = c->headers;
    c->job.req.nheaders = c->nheaders;
    c->job.client.resolve = c->resolve;
    c->job.client.nresolve = c->nresolve;
    if (c->sync)
        c->job.concurrency = 1;
    static char *stdin_only[] = {"-"};
    if (optind < argc) {
        c->sources = argv + optind;
        c->nsources = (size_t)(argc - optind);
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
    static char *joined;
    join_first_arg(argc, argv, &joined);
    while (argc > 1 && !argv[argc - 1])
        argc--;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":c:t:1::X:H:d:A:Lko:jw:qhV", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (opt == 'V') {
            print_version();
            return 1;
        }
        if (opt == '?')
            return usage_error("unknown option '%s'", argv[optind - 1]);
        if (opt == ':')
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        int rc = parse_one(c, opt, optarg);
        if (rc != 0)
            return rc;
    }
    return finish_config(c, argc, argv);
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
