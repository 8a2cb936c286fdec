/* cli.h -- private: the acrawl command line, parsed into a config. */
#ifndef ACR_APP_CLI_H
#define ACR_APP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jobs/fetchjob.h"
#include "output.h"

typedef enum { ACR_REPORT_TEXT, ACR_REPORT_JSON, ACR_REPORT_NONE } acr_report_kind;
typedef enum { ACR_ENGINE_ACRAWL, ACR_ENGINE_CURL } acr_engine;

/* Rows the option table may hold (cli.c checks it when compiled). */
#define ACR_CLI_MAX_OPTS 128

typedef struct acr_config {
    acr_job_opts job;
    char **sources;             /* files, "-", URLs; default "-" */
    size_t nsources;
    acr_header *headers;
    size_t nheaders;
    const char **resolve;
    size_t nresolve;
    char *data;                 /* -d, read from a file with @file */
    acr_format format;
    const char *writeout;       /* the -w template (read from a file with @FILE) */
    char *writeout_buf;         /* owns it */
    bool ordered, fail, quiet, no_progress, timeline, sync, compare;
    acr_engine engine;
    acr_report_kind report;
    const char *report_file;
    const char *log_skipped;    /* --log-skipped FILE, "-" for stderr */
    const char *warc;           /* --warc FILE, or NULL */
    bool warc_gzip;             /* --warc-gzip */
    uint64_t warc_max_size;     /* --warc-max-size; 0: one file */
    const char *state_dir;      /* --state DIR, or NULL */
    const char *redis;          /* --redis URL, or NULL */
    const char *redis_job;      /* --job NAME */
    int64_t redis_claim_idle;   /* ns (default 30 s) */
    int64_t redis_timeout;      /* ns (default 60 s) */
    unsigned redis_max_deliveries; /* default 5 */
    bool redis_records;
    enum { ACR_CTL_NONE, ACR_CTL_STATUS, ACR_CTL_COLLECT, ACR_CTL_DRAIN } control;
    bool given_status, given_collect, given_drain;
    char *command_line;         /* as typed, shell-quoted, for the WARC's warcinfo */
    const char **sitemaps;      /* --sitemap URLs */
    size_t nsitemaps;
    int64_t deadline;           /* --deadline for the whole run; 0: none */
    unsigned first;             /* --first N; 0: off */
    unsigned char given[ACR_CLI_MAX_OPTS]; /* per option-table row: 0, or how it was first
                                            * typed (for notes that name it) */
} acr_config;

/* 0: run; 1: exit 0 now (help or version printed); 2: usage error (printed). */
int acr_cli_parse(acr_config *c, int argc, char **argv);
void acr_cli_release(acr_config *c);
/* When c->engine ignores flags the user gave, says which on f:
 * "acrawl: note: --retry and -o apply to the acrawl engine only". */
void acr_cli_note_ignored(const acr_config *c, FILE *f);
/* Raises the open-file soft limit to the hard one; caps -c when it still does not
 * fit (with a note on stderr). */
void acr_cli_fit_fd_limit(acr_config *c);

#endif
