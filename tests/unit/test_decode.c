/* test_decode.c -- Content-Encoding decoding: gzip, zlib deflate, raw deflate, cut streams. */
#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>

#include "acrawl/error.h"
#include "http/decode.h"

static size_t compress_with(int wbits, const char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

/* Feeds the compressed bytes in chunks of `step`; returns the decoded text. */
static size_t decode_all(const char *enc, const unsigned char *in, size_t n, size_t step, char *out, size_t cap,
                         int *rc)
{
    acr_decoder d;
    char err[128] = "";
    cr_assert_eq(acr_decoder_init(&d, enc), 0);
    size_t o = 0;
    *rc = 0;
    for (size_t off = 0; off < n && *rc == 0; off += step) {
        const char *p = (const char *)in + off;
        size_t left = n - off < step ? n - off : step;
        while ((left > 0 || o == 0) && *rc == 0) {
            size_t got, before = left;
            *rc = acr_decoder_step(&d, &p, &left, out + o, cap - o, &got, err, sizeof err);
            o += got;
            if (got == 0 && left == before)
                break;
        }
    }
    if (*rc == 0)
        *rc = acr_decoder_finish(&d, err, sizeof err);
    acr_decoder_release(&d);
    return o;
}

static const char text[] = "the quick brown fox jumps over the lazy dog, again and again and again.";

static void roundtrip(int wbits, const char *enc, size_t step)
{
    unsigned char z[512];
    char out[512];
    size_t n = compress_with(wbits, text, sizeof text, z, sizeof z);
    int rc;
    size_t got = decode_all(enc, z, n, step, out, sizeof out, &rc);
    cr_assert_eq(rc, 0, "%s step %zu", enc, step);
    cr_assert_eq(got, sizeof text);
    cr_assert_str_eq(out, text);
}

Test(decode, gzip_in_one_piece_and_byte_by_byte)
{
    roundtrip(16 + MAX_WBITS, "gzip", 4096);
    roundtrip(16 + MAX_WBITS, "x-gzip", 1);
}

Test(decode, deflate_zlib_wrapped_and_raw)
{
    roundtrip(MAX_WBITS, "deflate", 4096);
    roundtrip(-MAX_WBITS, "deflate", 4096); /* servers that send raw deflate */
    roundtrip(-MAX_WBITS, "deflate", 3);
}

Test(decode, identity_and_unknown_encodings_pass_through)
{
    acr_decoder d;
    cr_assert_eq(acr_decoder_init(&d, NULL), 0);
    cr_assert_not(d.active);
    cr_assert_eq(acr_decoder_init(&d, "br"), 0);
    cr_assert_not(d.active);
    cr_assert_eq(acr_decoder_finish(&d, NULL, 0), 0);
}

Test(decode, cut_stream_is_a_protocol_error)
{
    unsigned char z[512];
    char out[512];
    size_t n = compress_with(16 + MAX_WBITS, text, sizeof text, z, sizeof z);
    int rc;
    decode_all("gzip", z, n - 6, 4096, out, sizeof out, &rc);
    cr_assert_eq(rc, ACR_EPROTO);
}

Test(decode, garbage_is_a_protocol_error)
{
    char out[64];
    int rc;
    decode_all("gzip", (const unsigned char *)"this is not gzip at all", 23, 4096, out, sizeof out, &rc);
    cr_assert_eq(rc, ACR_EPROTO);
}
