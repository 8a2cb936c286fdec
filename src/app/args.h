/* args.h -- private: the command line's syntax. Long options by their exact name
 * only (no abbreviations), bundled short options, a suggestion for a mistyped
 * name, and numeric values checked against each flag's range. */
#ifndef ACR_APP_ARGS_H
#define ACR_APP_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { ACR_ARG_NONE, ACR_ARG_REQUIRED, ACR_ARG_OPTIONAL } acr_arg_kind;

/* How a flag's number is written. */
typedef enum {
    ACR_NUM_COUNT,  /* digits only */
    ACR_NUM_REAL,   /* decimal, with optional fraction and exponent; no sign, inf, nan, hex */
    ACR_NUM_SIZE,   /* as REAL, then an optional k, M or G (x1024 each); whole bytes */
} acr_num_kind;

/* A numeric value and the range it must fall in, both ends included. */
typedef struct acr_num_spec {
    acr_num_kind kind;
    double min, max;
    const char *what;           /* for messages: "a whole number", "seconds", ... */
} acr_num_spec;

/* acr_opt.flags */
enum {
    ACR_OPT_ALIAS = 1,          /* another name for the row before it with the same id: no help
                                 * row of its own, "; also --NAME" on that row's first line */
    ACR_OPT_HIDDEN = 2,         /* undocumented (tests, tools): not in help or suggestions */
};

/* One row of an option table: the parser, the help text and the program's own
 * bookkeeping (which engines and modes honour the flag) all read it. */
typedef struct acr_opt {
    const char *name;           /* long name without "--"; NULL ends a table */
    int short_name;             /* 0: none */
    int id;
    acr_arg_kind arg;           /* an OPTIONAL value is "--name=V", "-xV", or a bare
                                 * number in the next argument */
    const acr_num_spec *num;    /* non-NULL: the value is a number of this kind */
    const char *argname;        /* the value in help: "N", "SECS"; NULL when arg is NONE */
    const char *group;          /* help heading ("Running"); a new one starts where it changes */
    unsigned engines, modes;    /* bitmasks the program defines; the parser ignores them */
    unsigned flags;             /* ACR_OPT_* */
    const char *help;           /* help text; each '\n' starts a line under the first */
} acr_opt;

/* One option read from the command line. */
typedef struct acr_arg {
    const acr_opt *opt;
    char flag[32];              /* as typed, for messages: "-c", "--max-time" */
    const char *value;          /* NULL when none was given */
    double num;                 /* the parsed value when opt->num and value */
} acr_arg;

typedef struct acr_args {
    const acr_opt *opts;
    int argc;
    char **argv;
    int next;                   /* the argv index to read next */
    const char *bundle;         /* what is left of a "-abc" group */
    bool operands_only;         /* after "--" */
    int noperands;              /* operands so far, moved to argv[1..noperands] */
} acr_args;

/* Reads argv (argv[0] is the program) against opts. Operands may come anywhere;
 * "--" ends the options. */
void acr_args_init(acr_args *a, const acr_opt *opts, int argc, char **argv);
/* Reads the next option into out. 1: an option; 0: none left, and the operands are
 * argv[1] .. argv[noperands] in the order given; -EINVAL: a usage error (an unknown
 * option, with the closest valid one when there is one; a missing or unexpected
 * value; a number out of syntax or range), described in err. */
int acr_args_next(acr_args *a, acr_arg *out, char *err, size_t errlen);
/* Parses s as sp says into out. 0, -EINVAL (not a number of that kind) or -ERANGE
 * (outside [min, max]). */
int acr_args_parse_num(const acr_num_spec *sp, const char *s, double *out);
/* The long name closest to the len bytes at name: the shortest one that starts
 * with them, else the one fewest edits away if that is at most about a third of
 * the name. NULL when none is close. */
const char *acr_args_suggest(const acr_opt *opts, const char *name, size_t len);
/* Writes the help for opts to f: a "Group:" line where the group changes, then one
 * row per option that is neither ALIAS nor HIDDEN, as "  -c, --name ARG" with the
 * help from column 27 (further help lines start there too). */
void acr_args_help(FILE *f, const acr_opt *opts);

#endif
