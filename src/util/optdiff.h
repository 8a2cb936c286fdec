/* optdiff.h -- private: the first difference between two option lists ("name=value\n"
 * lines in one canonical order), worded for a refusal: shared by --state (crawl/state)
 * and --job (dist/job), which both bind a crawl to the options that started it. */
#ifndef ACR_UTIL_OPTDIFF_H
#define ACR_UTIL_OPTDIFF_H

#include <stddef.h>

/* The stored options (a, la bytes) against this command's (b, lb): 0 when they are
 * the same, else -EINVAL with err saying, for subject "state DIR" and verb "made":
 *   "state DIR was made with --level=3; this command has --level=5 ADVICE"
 *   "state DIR was made with --x=1; this command has no --x ADVICE"
 *   "state DIR was made without --x; this command has --x=1 ADVICE"
 * advice may be "" (then nothing follows the difference). */
int acr__optdiff(const char *a, size_t la, const char *b, size_t lb, const char *subject, const char *verb,
                 const char *advice, char *err, size_t errlen);

#endif
