/* markup.h -- private: a streaming pre-pass for the link extractor. It hands on the
 * markup of an HTML document (tags whole, with their quoted attribute values, and
 * comments) and drops the character data between tags (one space stands for each
 * run of it): it holds no links, it is
 * most of a page's bytes, and libxml2's parser spends most of its time on it. What
 * libxml2 then reads is the document's own tags, in order, so its SAX start-tag
 * callbacks see the same elements and attributes. Only text outside any tag is
 * dropped, so where this pass and libxml2 might judge a tag's end differently, the
 * pass copies too much, never too little.
 *
 * Whenever the bytes may not be ASCII-compatible (a UTF-16 or UTF-32 byte order mark
 * or a NUL byte, an ESC of ISO-2022), everything from there on is passed unchanged. */
#ifndef ACR_CRAWL_MARKUP_H
#define ACR_CRAWL_MARKUP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct acr_markup {
    unsigned char state;    /* where the previous chunk ended (markup.c) */
    char quote;             /* in a quoted attribute value: its quote */
    bool after_eq;          /* in a tag, an '=' and blanks only since */
    unsigned char dashes;   /* in a comment: '-' seen just before */
    bool started;           /* the first byte was looked at */
    bool raw;               /* pass everything from now on */
    bool dropped;           /* text dropped since the last tag: one space stands for it */
} acr_markup;

void acr_markup_init(acr_markup *m);

/* Filters in[0..n) into out, which has room for n + 4 bytes (a "<!--" split from
 * the chunk before is written again here; out may not overlap in). Returns the bytes
 * written. Chunks may split anything anywhere. */
#define ACR_MARKUP_SLACK 4
size_t acr_markup_filter(acr_markup *m, const char *in, size_t n, char *out);

#endif
