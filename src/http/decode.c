/* decode.c -- gzip/deflate response bodies through zlib, fed as bytes arrive. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acrawl/error.h"
#include "decode.h"

int acr_decoder_init(acr_decoder *d, const char *enc)
{
    memset(d, 0, sizeof *d);
    if (!enc)
        return 0;
    int wbits;
    if (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "x-gzip"))
        wbits = 16 + MAX_WBITS;
    else if (!strcasecmp(enc, "deflate"))
        wbits = 0; /* zlib-wrapped per RFC 9110, but some servers send it raw: sniffed */
    else
        return 0;
    d->active = true;
    if (wbits == 0) {
        d->sniff = true;
        return 0;
    }
    if (inflateInit2(&d->z, wbits) != Z_OK)
        return -ENOMEM;
    d->inited = true;
    return 0;
}

/* RFC 1950 §2.2: a zlib stream starts with CM = 8 and a header that is a multiple of 31. */
static bool zlib_header(const unsigned char h[2]) { return (h[0] & 0x0f) == 8 && ((h[0] << 8) | h[1]) % 31 == 0; }

static int inflate_some(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn,
                        char *err, size_t errlen);

/* deflate: collects the first two bytes, however the body is split, then starts
 * zlib-wrapped or raw and decodes them. Bytes of a first one-byte chunk are kept. */
static int sniff(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn, char *err,
                 size_t errlen)
{
    while (d->nhead < 2 && *inlen > 0) {
        d->head[d->nhead++] = (unsigned char)**in;
        (*in)++;
        (*inlen)--;
    }
    *outn = 0;
    if (d->nhead < 2)
        return 0;
    d->sniff = false;
    if (inflateInit2(&d->z, zlib_header(d->head) ? MAX_WBITS : -MAX_WBITS) != Z_OK)
        return -ENOMEM;
    d->inited = true;
    const char *h = (const char *)d->head;
    size_t hl = 2; /* two bytes cannot fill out: they are taken whole */
    return inflate_some(d, &h, &hl, out, outcap, outn, err, errlen);
}

int acr_decoder_step(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn,
                     char *err, size_t errlen)
{
    if (d->sniff)
        return sniff(d, in, inlen, out, outcap, outn, err, errlen);
    return inflate_some(d, in, inlen, out, outcap, outn, err, errlen);
}

static int inflate_some(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn,
                        char *err, size_t errlen)
{
    *outn = 0;
    if (d->done) {
        *in += *inlen; /* trailing garbage after the stream is ignored, as browsers do */
        *inlen = 0;
        return 0;
    }
    d->z.next_in = (Bytef *)*in;
    d->z.avail_in = (uInt)*inlen;
    d->z.next_out = (Bytef *)out;
    d->z.avail_out = (uInt)outcap;
    int zr = inflate(&d->z, Z_NO_FLUSH);
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
        snprintf(err, errlen, "bad compressed body: %s", d->z.msg ? d->z.msg : "zlib error");
        return ACR_EPROTO;
    }
    size_t used = *inlen - d->z.avail_in;
    *in += used;
    *inlen -= used;
    *outn = outcap - d->z.avail_out;
    if (zr == Z_STREAM_END)
        d->done = true;
    return 0;
}

int acr_decoder_finish(acr_decoder *d, char *err, size_t errlen)
{
    if (d->active && !d->done) {
        snprintf(err, errlen, "compressed body ended early");
        return ACR_EPROTO;
    }
    return 0;
}

void acr_decoder_release(acr_decoder *d)
{
    if (d->inited)
        inflateEnd(&d->z);
    d->active = d->inited = false;
}
