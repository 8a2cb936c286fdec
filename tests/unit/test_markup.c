/* test_markup.c -- the link extractor's pre-pass: tags and comments through, text
 * out, whatever the chunking; never less than a tag. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/markup.h"

/* in filtered in chunks of `step` bytes (0: whole), NUL-terminated; caller frees. */
static char *filter(const char *in, size_t step)
{
    size_t n = strlen(in);
    char *out = malloc(n + ACR_MARKUP_SLACK + 1);
    acr_markup m;
    acr_markup_init(&m);
    size_t o = 0;
    if (step == 0)
        step = n ? n : 1;
    char *chunk = malloc(step + ACR_MARKUP_SLACK);
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        size_t w = acr_markup_filter(&m, in + i, k, chunk);
        cr_assert_leq(w, k + ACR_MARKUP_SLACK);
        memcpy(out + o, chunk, w);
        o += w;
    }
    out[o] = 0;
    free(chunk);
    return out;
}

/* The same output for every chunk size from 1 to 17 and whole. */
static void expect(const char *in, const char *want)
{
    for (size_t step = 0; step <= 17; step++) {
        char *got = filter(in, step);
        cr_assert_str_eq(got, want, "chunks of %zu: '%s'", step, in);
        free(got);
    }
}

Test(markup, text_goes_tags_stay)
{
    expect("<html><body><p>Some words & more</p><a href=\"/x\">link text</a></body></html>",
           "<html><body><p> </p><a href=\"/x\"> </a></body></html>");
    expect("lead-in text<p>x", " <p> ");
    expect("", "");
    expect("no tags at all", " ");
}

Test(markup, a_quoted_value_may_hold_a_gt_sign)
{
    expect("<a title=\"a > b\" href=/p>t</a>", "<a title=\"a > b\" href=/p> </a>");
    expect("<a title = 'x>y' href='/q'>t</a>", "<a title = 'x>y' href='/q'> </a>");
    /* a quote not after '=' starts no value, for HTML as for libxml2 */
    expect("<a b\"c>d\" href=/z>", "<a b\"c> ");
    /* an unterminated value runs on: more is copied, never less */
    expect("<a href=\"/x>text <b>bold</b>", "<a href=\"/x>text <b>bold</b>");
}

Test(markup, comments_and_declarations_are_copied_whole)
{
    expect("<!DOCTYPE html><!-- a <a href=/no> -- > x --><p>t", "<!DOCTYPE html><!-- a <a href=/no> -- > x --><p> ");
    expect("<!--x--->y<a>", "<!--x---> <a>");
    expect("<![CDATA[ z ]]>t<i>", "<![CDATA[ z ]]> <i>");
    expect("<!-bogus>t<b>", "<!-bogus> <b>");
    expect("<?xml version=\"1.0\"?>t<b>", "<?xml version=\"1.0\"?> <b>");
}

Test(markup, a_lt_that_starts_no_tag_is_text)
{
    expect("1 < 2 and 3 <= 4<br>", " <br>");
    expect("a<b>c</b>", " <b> </b>");
    expect("trailing <", " ");
}

Test(markup, non_ascii_compatible_bytes_pass_unchanged)
{
    static const char utf16[] = "\xff\xfe<\0a\0>\0x\0";
    acr_markup m;
    acr_markup_init(&m);
    char out[32];
    cr_assert_eq(acr_markup_filter(&m, utf16, 10, out), 10);
    cr_assert_eq(memcmp(out, utf16, 10), 0);
    acr_markup_init(&m);
    cr_assert_eq(acr_markup_filter(&m, "<p>t", 4, out), 4);
    cr_assert_eq(acr_markup_filter(&m, "x\x1b$B<x", 6, out), 5, "ISO-2022: everything from the ESC on");
    cr_assert_eq(memcmp(out, "\x1b$B<x", 5), 0);
    cr_assert_eq(acr_markup_filter(&m, "text", 4, out), 4);
}

Test(markup, a_nul_or_esc_switches_to_raw_at_that_byte_whatever_the_chunks)
{
    /* a '<' just before the switch keeps its tag: the link is not lost */
    expect("x<a href=/y>t\x1bu", " <a href=/y> \x1bu");
    expect("x<\x1bz", " <\x1bz");
    expect("x<!-\x1bz", " <!-\x1bz");
}
