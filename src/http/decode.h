/* decode.h -- private: Content-Encoding decoding (gzip, deflate) with zlib. */
#ifndef ACR_HTTP_DECODE_H
#define ACR_HTTP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <zlib.h>

typedef struct acr_decoder {
    z_stream z;
    bool active;        /* an encoding we decode was named */
    bool inited;        /* z is set up (deflate: once its first two bytes are seen) */
    bool sniff;         /* deflate: zlib-wrapped or raw is decided by the first two bytes */
    unsigned char head[2];
    unsigned nhead;
    bool done;          /* end of the compressed stream seen */
} acr_decoder;

/* Sets up for the Content-Encoding value enc (NULL or identity: inactive).
 * 0, or -ENOMEM. Unknown encodings leave the decoder inactive (bytes pass through). */
int acr_decoder_init(acr_decoder *d, const char *enc);
/* Decodes from *in (advancing it and *inlen) into out; *outn gets the bytes produced.
 * Call until *inlen is 0. 0, or ACR_EPROTO with a reason in err. */
int acr_decoder_step(acr_decoder *d, const char **in, size_t *inlen, char *out, size_t outcap, size_t *outn,
                     char *err, size_t errlen);
/* 0 when the stream ended properly, ACR_EPROTO when it was cut short. */
int acr_decoder_finish(acr_decoder *d, char *err, size_t errlen);
void acr_decoder_release(acr_decoder *d);

#endif
