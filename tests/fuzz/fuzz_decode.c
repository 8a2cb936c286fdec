/* fuzz_decode.c -- acr_decoder_* (gzip, deflate, raw deflate) on compressed bytes from
 * the input, fed in input-derived chunks into a small output buffer, and compared with
 * the same bytes decoded in one piece. Byte 0 picks the encoding and the output buffer
 * size, byte 1 the split, the rest is the body. */
#include <string.h>

#include "acrawl/error.h"
#include "fuzz.h"
#include "http/decode.h"

#define OUT_MAX (1u << 20) /* stop comparing past 1 MiB: bombs are http1's limit */

/* Indexed by the low 3 bits of byte 0; NULL is no Content-Encoding at all. */
static const char *const encodings[8] = {"gzip", "x-gzip", "deflate", "GZIP", "br", NULL, "Deflate", "compress"};

struct result {
    int rc;
    size_t n;
    bool done;
    char out[OUT_MAX];
};

/* Feeds in to the decoder the way http1.c's on_body does: step until the input is
 * taken and the output buffer is not full, stop when zlib wants more input. */
static void decode(const char *enc, const uint8_t *in, size_t len, uint8_t split, size_t outcap,
                   struct result *r)
{
    static char out[16384];
    char err[256] = "";
    acr_decoder d;
    r->n = 0;
    r->rc = acr_decoder_init(&d, enc);
    FUZZ_CHECK(r->rc == 0, "decoder init");
    uint32_t seed = split * 0x01000193u;
    size_t off = 0;
    while (off < len && r->rc == 0 && r->n < OUT_MAX) {
        size_t chunk = split ? fuzz_chunk(&seed, split, len - off) : len - off;
        const char *p = (const char *)in + off;
        size_t left = chunk;
        size_t outn;
        do {
            size_t before = left;
            if (!d.active) { /* inactive: bytes pass through, as on_body's sink */
                outn = left < outcap ? left : outcap;
                memcpy(out, p, outn);
                p += outn;
                left -= outn;
            } else {
                r->rc = acr_decoder_step(&d, &p, &left, out, outcap, &outn, err, sizeof err);
                if (r->rc != 0)
                    break;
            }
            FUZZ_CHECK(outn <= outcap, "output fits the buffer");
            FUZZ_CHECK(left <= before, "input only advances");
            FUZZ_CHECK(p == (const char *)in + off + (chunk - left), "pointer and length move together");
            size_t room = OUT_MAX - r->n;
            memcpy(r->out + r->n, out, outn < room ? outn : room);
            r->n += outn < room ? outn : room;
            if (outn == 0 && left == before)
                break;
        } while ((left > 0 || outn == outcap) && r->n < OUT_MAX);
        /* on_body drops what zlib left of a chunk: it must leave nothing. */
        if (r->rc == 0 && r->n < OUT_MAX)
            FUZZ_CHECK(left == 0, "the decoder takes every byte it is given");
        off += chunk;
    }
    if (r->rc == 0 && r->n < OUT_MAX)
        r->rc = acr_decoder_finish(&d, err, sizeof err);
    FUZZ_CHECK(r->rc == 0 || r->rc == ACR_EPROTO || r->rc == -ENOMEM, "a documented code");
    FUZZ_CHECK(r->rc != ACR_EPROTO || err[0], "an error has a reason");
    r->done = d.done;
    acr_decoder_release(&d);
    FUZZ_CHECK(!d.active, "release deactivates");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct result split_r, whole_r;
    if (size < 2)
        return 0;
    const char *enc = encodings[data[0] & 7];
    size_t outcap = (data[0] >> 3) ? (size_t)(data[0] >> 3) * 512 : 1; /* bits 3-7: 1 byte .. 15.5 KiB */
    const uint8_t *in = data + 2;
    size_t len = size - 2;

    decode(enc, in, len, data[1], outcap, &split_r);
    decode(enc, in, len, 0, 16384, &whole_r);
    if (split_r.n >= OUT_MAX || whole_r.n >= OUT_MAX)
        return 0;
    /* Where the body is split must not change what it decodes to. */
    FUZZ_CHECK(split_r.rc == whole_r.rc, "same outcome split or whole");
    if (split_r.rc == 0) {
        FUZZ_CHECK(split_r.n == whole_r.n, "same length split or whole");
        FUZZ_CHECK(!memcmp(split_r.out, whole_r.out, split_r.n), "same bytes split or whole");
    }
    return 0;
}
