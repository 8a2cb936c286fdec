/* markup.c -- the link extractor's pre-pass: tags and comments through, character
 * data out (see markup.h). A small state machine that chunks may split
 * anywhere; text is skipped with memchr. */
#include <string.h>

#include "markup.h"

enum {
    TEXT,       /* character data: dropped up to the next '<', one space standing
                 * for each run of it (libxml2 2.9.14's push parser, given tags
                 * with nothing between them, stalls and buffers the rest) */
    LT,         /* '<' seen: what follows decides */
    LT_BANG,    /* "<!" */
    LT_DASH,    /* "<!-" */
    TAG,        /* in a tag (or a declaration), copied to its '>' */
    COMMENT,    /* in "<!--": copied through "-->" (copying too much is always safe:
                 * libxml2 decides where the comment ends; only text is dropped) */
};

static bool letter(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static bool blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

void acr_markup_init(acr_markup *m) { memset(m, 0, sizeof *m); }

/* Copies a tag's bytes from in to out up to and including its '>' (outside quotes);
 * returns how many bytes of in it took and leaves the state TEXT when the tag ended. */
static size_t tag(acr_markup *m, const unsigned char *in, size_t n, char *out)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = in[i++];
        out[i - 1] = (char)c;
        if (m->quote) {
            if (c == (unsigned char)m->quote)
                m->quote = 0;
        } else if (c == '>') {
            m->state = TEXT;
            m->after_eq = false;
            return i;
        } else if (c == '=') {
            m->after_eq = true;
        } else if (m->after_eq && (c == '"' || c == '\'')) {
            m->quote = (char)c; /* a value starts quoted only right after '=' (and blanks) */
            m->after_eq = false;
        } else if (!blank(c)) {
            m->after_eq = false;
        }
    }
    return i;
}

/* Passes on what a '<' started and the state still holds back ("<", "<!", "<!-"), the
 * tag it begins being certain now; returns the bytes written. */
static size_t held(acr_markup *m, char *out)
{
    static const char *const prefix[] = {[LT] = "<", [LT_BANG] = "<!", [LT_DASH] = "<!-"};
    if (m->state != LT && m->state != LT_BANG && m->state != LT_DASH)
        return 0;
    size_t k = strlen(prefix[m->state]);
    memcpy(out, prefix[m->state], k);
    m->dropped = false;
    return k;
}

size_t acr_markup_filter(acr_markup *m, const char *data, size_t len, char *out)
{
    const unsigned char *in = (const unsigned char *)data;
    size_t n = len;
    size_t i = 0, o = 0;
    if (!m->started && n > 0) {
        m->started = true;
        /* UTF-16/32 byte order marks: not ASCII-compatible */
        if ((in[0] == 0xff && n > 1 && in[1] == 0xfe) || (in[0] == 0xfe && n > 1 && in[1] == 0xff))
            m->raw = true;
    }
    if (m->raw) {
        memcpy(out, in, n);
        return n;
    }
    /* A NUL (UTF-16/32) or an ESC (ISO-2022): everything from that byte on passes
     * unchanged, after what a '<' before it had started. */
    const unsigned char *nul = memchr(in, 0, n), *esc = memchr(in, 0x1b, n);
    if (nul || esc)
        n = (size_t)((nul && (!esc || nul < esc) ? nul : esc) - in);
    while (i < n) {
        switch (m->state) {
        case TEXT: {
            const unsigned char *lt = memchr(in + i, '<', n - i);
            if (lt != in + i && !m->dropped) {
                out[o++] = ' ';
                m->dropped = true;
            }
            if (!lt) {
                i = n;
                break;
            }
            i = (size_t)(lt - in) + 1;
            m->state = LT;
            break;
        }
        case LT: {
            unsigned char c = in[i];
            if (c == '!') {
                i++;
                m->state = LT_BANG;
            } else if (letter(c) || c == '/' || c == '?') {
                o += held(m, out + o);
                m->state = TAG;
            } else {
                m->state = TEXT; /* "<" then anything else is text to HTML too */
            }
            break;
        }
        case LT_BANG:
            if (in[i] == '-') {
                i++;
                m->state = LT_DASH;
            } else {
                o += held(m, out + o);
                m->state = TAG; /* <!DOCTYPE ...>, <![CDATA[ ... */
            }
            break;
        case LT_DASH:
            o += held(m, out + o);
            if (in[i] == '-') {
                out[o++] = (char)in[i++];
                m->state = COMMENT;
                m->dashes = 0;
            } else {
                m->state = TAG; /* "<!-x": a bogus comment, to the next '>' */
            }
            break;
        case TAG: {
            size_t k = tag(m, in + i, n - i, out + o);
            i += k;
            o += k;
            break;
        }
        case COMMENT: {
            unsigned char c = in[i++];
            out[o++] = (char)c;
            if (c == '>' && m->dashes >= 2)
                m->state = TEXT;
            m->dashes = c == '-' ? (unsigned char)(m->dashes < 2 ? m->dashes + 1 : 2) : 0;
            break;
        }
        }
    }
    if (n < len) {
        o += held(m, out + o);
        m->raw = true;
        memcpy(out + o, in + n, len - n);
        o += len - n;
    }
    return o;
}
