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
        wbits = MAX_WBITS; /* zlib-wrapped per RFC 9110; raw deflate is retried */
    else
        return 0;
    if (inflateInit2(&d->z, wbits) != Z_OK)
        return -ENOMEM;
    d->active = true;
    return 0;
}

int acr_decoder_step(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn,
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
    if (zr == Z_DATA_ERROR && !d->started && !d->raw_retry) {
        /* Some servers send raw deflate as "deflate": start again raw. */
        inflateEnd(&d->z);
        memset(&d->z, 0, sizeof d->z);
        d->raw_retry = true;
        if (inflateInit2(&d->z, -MAX_WBITS) != Z_OK)
            return -ENOMEM;
        return acr_decoder_step(d, in, inlen, out, outcap, outn, err, errlen);
    }
    if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
        snprintf(err, errlen, "bad compressed body: %s", d->z.msg ? d->z.msg : "zlib error");
        return ACR_EPROTO;
    }
    size_t used = *inlen - d->z.avail_in;
    *in += used;
    *inlen -= used;
    *outn = outcap - d->z.avail_out;
    d->started = true;
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
    if (d->active)
        inflateEnd(&d->z);
    d->active = false;
}
