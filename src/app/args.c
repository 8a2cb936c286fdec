/* args.c -- the command line's syntax: exact option names with suggestions,
 * and numbers checked for syntax and range (getopt_long takes any unambiguous
 * prefix, so "--user" silently meant "--user-agent"). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

void acr_args_init(acr_args *a, const acr_opt *opts, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->opts = opts;
    a->argc = argc;
    a->argv = argv;
    a->next = 1;
}

/* ---- numbers ---- */

static double size_suffix(char ch)
{
    switch (ch) {
    case 'k': case 'K': return 1024.0;
    case 'm': case 'M': return 1024.0 * 1024;
    case 'g': case 'G': return 1024.0 * 1024 * 1024;
    default: return 0;
    }
}

/* Plain decimal only: strtod alone would also take " 5", "-5", "0x10", "inf", "nan". */
static int parse_decimal(const char *s, size_t len, bool integral, double *out)
{
    const char *ok = integral ? "0123456789" : "0123456789.eE+-";
    if (len == 0 || len > 40 || strspn(s, ok) < len || !(s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
        return -EINVAL;
    char buf[48];
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

int acr_args_parse_num(const acr_num_spec *sp, const char *s, double *out)
{
    size_t len = strlen(s);
    double mul = 1;
    if (sp->kind == ACR_NUM_SIZE && len > 0 && size_suffix(s[len - 1]) > 0) {
        mul = size_suffix(s[len - 1]);
        len--;
    }
    double v;
    int rc = parse_decimal(s, len, sp->kind == ACR_NUM_COUNT, &v);
    if (rc != 0)
        return rc;
    v *= mul;
    if (sp->kind == ACR_NUM_SIZE && v != floor(v))
        return -EINVAL;
    if (!(v >= sp->min && v <= sp->max)) /* also false for inf (from 1e999) */
        return -ERANGE;
    *out = v;
    return 0;
}

/* ---- suggestions ---- */

/* Edits (insert, delete, replace) from a[0..na) to b[0..nb); nb <= 64. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    size_t row[65];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* Lower is closer. Any name the typed one starts ranks before any edit. */
static size_t closeness(const char *opt, const char *name, size_t len)
{
    size_t olen = strlen(opt);
    if (olen > len && !strncmp(opt, name, len))
        return olen - len;
    size_t d = edit_distance(name, len, opt, olen);
    return d <= (len + 2) / 3 ? 1000 + d : SIZE_MAX;
}

const char *acr_args_suggest(const acr_opt *opts, const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_score = SIZE_MAX;
    if (len == 0 || len > 64)
        return NULL;
    for (const acr_opt *o = opts; o->name; o++) {
        if (o->flags & ACR_OPT_HIDDEN)
            continue;
        size_t score = closeness(o->name, name, len);
        if (score < best_score) {
            best_score = score;
            best = o->name;
        }
    }
    return best;
}

/* ---- options ---- */

static int usage(char *err, size_t errlen, const char *fmt, const char *flag)
{
    snprintf(err, errlen, fmt, flag);
    return -EINVAL;
}

static void keep_operand(acr_args *a, char *s)
{
    /* s came from argv[next - 1], never before argv[1 + noperands]: nothing unread moves. */
    a->argv[1 + a->noperands] = s;
    a->noperands++;
}

/* "--first 3": a following bare number is the optional value. */
static const char *optional_follower(acr_args *a)
{
    if (a->next >= a->argc)
        return NULL;
    const char *s = a->argv[a->next];
    if (!s[0] || strspn(s, "0123456789") != strlen(s))
        return NULL;
    a->next++;
    return s;
}

static int take_value(acr_args *a, acr_arg *out, const char *value, char *err, size_t errlen)
{
    const acr_opt *o = out->opt;
    if (!value && o->arg == ACR_ARG_REQUIRED && a->next < a->argc)
        value = a->argv[a->next++];
    else if (!value && o->arg == ACR_ARG_OPTIONAL)
        value = optional_follower(a);
    if (!value && o->arg == ACR_ARG_REQUIRED)
        return usage(err, errlen, "option '%s' needs a value", out->flag);
    out->value = value;
    if (!value || !o->num || acr_args_parse_num(o->num, value, &out->num) == 0)
        return 1;
    const acr_num_spec *sp = o->num;
    snprintf(err, errlen, "%s wants %s from %.15g to %.15g, not '%.40s'", out->flag, sp->what, sp->min, sp->max,
             value);
    return -EINVAL;
}

static int unknown_long(const acr_opt *opts, const char *s, size_t len, char *err, size_t errlen)
{
    const char *near = acr_args_suggest(opts, s, len);
    int shown = (int)(len > 60 ? 60 : len);
    if (near)
        snprintf(err, errlen, "unknown option '--%.*s'; did you mean '--%s'?", shown, s, near);
    else
        snprintf(err, errlen, "unknown option '--%.*s'", shown, s);
    return -EINVAL;
}

static int long_opt(acr_args *a, const char *s, acr_arg *out, char *err, size_t errlen)
{
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    for (const acr_opt *o = a->opts; o->name; o++) {
        if (strlen(o->name) == len && !strncmp(o->name, s, len))
            out->opt = o;
    }
    if (!out->opt)
        return unknown_long(a->opts, s, len, err, errlen);
    snprintf(out->flag, sizeof out->flag, "--%s", out->opt->name);
    if (eq && out->opt->arg == ACR_ARG_NONE)
        return usage(err, errlen, "option '%s' takes no value", out->flag);
    return take_value(a, out, eq ? eq + 1 : NULL, err, errlen);
}

static int short_opt(acr_args *a, acr_arg *out, char *err, size_t errlen)
{
    char ch = *a->bundle++;
    for (const acr_opt *o = a->opts; o->name; o++) {
        if (o->short_name && o->short_name == ch)
            out->opt = o;
    }
    if (ch >= ' ' && ch < 127)
        snprintf(out->flag, sizeof out->flag, "-%c", ch);
    else
        snprintf(out->flag, sizeof out->flag, "-\\x%02x", (unsigned char)ch);
    if (!out->opt)
        return usage(err, errlen, "unknown option '%s'", out->flag);
    if (out->opt->arg == ACR_ARG_NONE)
        return 1;
    const char *attached = *a->bundle ? a->bundle : NULL;
    a->bundle = NULL; /* "-c50", "-13": the rest of the group is the value */
    return take_value(a, out, attached, err, errlen);
}

int acr_args_next(acr_args *a, acr_arg *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (a->bundle && *a->bundle)
        return short_opt(a, out, err, errlen);
    while (a->next < a->argc) {
        char *s = a->argv[a->next++];
        if (a->operands_only || s[0] != '-' || !s[1]) {
            keep_operand(a, s);
            continue;
        }
        if (!strcmp(s, "--")) {
            a->operands_only = true;
            continue;
        }
        if (s[1] == '-')
            return long_opt(a, s + 2, out, err, errlen);
        a->bundle = s + 1;
        return short_opt(a, out, err, errlen);
    }
    return 0;
}

/* ---- help ---- */

enum { HELP_COL = 27 }; /* where help text starts: after "  -c, --" and a 19-byte name */

/* "  -c, --name ARG" or "      --name[=ARG]"; returns its width. */
static int print_synopsis(FILE *f, const acr_opt *o)
{
    int n;
    if (o->short_name)
        n = fprintf(f, "  -%c, --%s", o->short_name, o->name);
    else
        n = fprintf(f, "      --%s", o->name);
    if (o->arg == ACR_ARG_REQUIRED)
        n += fprintf(f, " %s", o->argname);
    else if (o->arg == ACR_ARG_OPTIONAL)
        n += fprintf(f, "[=%s]", o->argname);
    return n;
}

/* "; also --max-time" for each alias of o (rows after it with its id). */
static void print_aliases(FILE *f, const acr_opt *o)
{
    for (const acr_opt *a = o + 1; a->name; a++) {
        if (a->id == o->id && (a->flags & ACR_OPT_ALIAS))
            fprintf(f, "; also --%s", a->name);
    }
}

/* The help text, printed as is (it may hold "%%"), its later lines indented. */
static void print_help_text(FILE *f, const acr_opt *o)
{
    const char *line = o->help ? o->help : "";
    const char *nl = strchr(line, '\n');
    fprintf(f, "%.*s", (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
    print_aliases(f, o);
    while (nl) {
        line = nl + 1;
        nl = strchr(line, '\n');
        fprintf(f, "\n%*s%.*s", HELP_COL, "", (int)(nl ? (size_t)(nl - line) : strlen(line)), line);
    }
    fputc('\n', f);
}

static bool same_group(const char *a, const char *b)
{
    return a && b ? !strcmp(a, b) : a == b;
}

void acr_args_help(FILE *f, const acr_opt *opts)
{
    const char *group = NULL;
    for (const acr_opt *o = opts; o->name; o++) {
        if (o->flags & (ACR_OPT_ALIAS | ACR_OPT_HIDDEN))
            continue;
        if (o->group && !same_group(o->group, group))
            fprintf(f, "%s:\n", o->group);
        group = o->group;
        int width = print_synopsis(f, o);
        fprintf(f, "%*s", width < HELP_COL ? HELP_COL - width : 2, "");
        print_help_text(f, o);
    }
}
