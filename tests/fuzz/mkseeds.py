#!/usr/bin/env python3
"""mkseeds.py -- writes the seed corpora under tests/fuzz/corpus/ (run from the repo
root; the seeds are committed, this only says how they were made). Deterministic:
gzip headers carry mtime 0, so a rerun gives the same bytes."""
import gzip
import os
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# http1 option bits (fuzz_http1.c): byte 0 of every http1 seed.
HEAD, DECODE, KEEP, FOLLOW, CANCEL, SMALL_HEAD, SMALL_BODY, BODY_FD = (1 << i for i in range(8))


def put(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(b):
    return gzip.compress(b, mtime=0)


def zdeflate(b):
    return zlib.compress(b)


def rawdeflate(b):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(b) + c.flush()


def chunked(body, sizes):
    out, i = b"", 0
    for n in sizes:
        out += b"%x\r\n" % n + body[i:i + n] + b"\r\n"
        i += n
    return out + b"0\r\n\r\n"


TEXT = b"<html><head><title>acrawl</title></head><body>" + b"the quick brown fox " * 20 + b"</body></html>\n"


def http1():
    def r(name, opts, split, data):
        put("http1", name, bytes([opts, split]) + (data.encode() if isinstance(data, str) else data))

    r("content-length", KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  spaced  \r\n\r\nhello")
    r("content-length-split", KEEP, 7, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world")
    r("bytewise", KEEP, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    r("chunked-ext-trailer", KEEP, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: done\r\n\r\n")
    r("chunked-split", KEEP, 3, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(TEXT, [1, 16, 100, len(TEXT) - 117]))
    r("chunked-upper-hex", KEEP, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n")
    r("close-delimited", KEEP | CANCEL, 0, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
    r("close-delimited-eof", KEEP, 5, "HTTP/1.0 200 OK\r\n\r\nuntil the end of the stream")
    r("1xx", KEEP, 0, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    r("101-upgrade", 0, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00")
    r("head", HEAD, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    r("204", 0, 0, "HTTP/1.1 204 No Content\r\n\r\n")
    r("304", KEEP, 0, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n")
    for code in (301, 302, 303, 307, 308):
        r("redirect-%d" % code, KEEP | FOLLOW, 0, "HTTP/1.1 %d Moved\r\nLocation: /next?a=1\r\nContent-Length: 9\r\n\r\nmoved off" % code)
    r("redirect-no-location", KEEP | FOLLOW, 0, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")
    r("truncated", KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    r("empty", 0, 0, "")
    r("garbage", 0, 0, "SSH-2.0-OpenSSH_9.2\r\n")
    r("small-header-limit", SMALL_HEAD, 0, "HTTP/1.1 200 OK\r\nX-Big: " + "a" * 300 + "\r\n\r\n")
    r("small-body-limit", SMALL_BODY | KEEP, 0, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 5000 + b"x" * 5000)
    r("body-fd", BODY_FD, 2, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world")
    r("many-headers", KEEP, 0, "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 22 Nov 2026 02:00:00 GMT\r\n"
      "Content-Type: text/html; charset=utf-8\r\nSet-Cookie: a=b; Path=/\r\nSet-Cookie: c=d\r\n"
      "Cache-Control: no-cache\r\nVary: Accept-Encoding\r\nContent-Length: 2\r\n\r\nok")
    r("obs-fold", KEEP, 0, "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n")
    r("lf-only", KEEP, 0, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
    r("both-lengths", KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    r("keepalive-extra-bytes", KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n")
    r("gzip", DECODE | KEEP, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz(TEXT)) + gz(TEXT))
    r("gzip-chunked", DECODE | KEEP, 9, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
      + chunked(gz(TEXT), [3, 10, len(gz(TEXT)) - 13]))
    r("gzip-close", DECODE | KEEP, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nConnection: close\r\n\r\n" + gz(TEXT))
    r("deflate", DECODE | KEEP, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(zdeflate(TEXT)) + zdeflate(TEXT))
    r("rawdeflate", DECODE | KEEP, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(rawdeflate(TEXT)) + rawdeflate(TEXT))
    r("gzip-cut", DECODE, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n" + gz(TEXT)[:20])
    r("gzip-bad", DECODE, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n" + b"\x1f\x8b\x08\x00garbag")
    bomb = gz(b"\0" * (2 << 20))
    r("gzip-bomb-ratio", DECODE | SMALL_BODY, 0, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb) + bomb)
    r("identity", DECODE | KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 2\r\n\r\nok")
    r("br-unknown", DECODE | KEEP, 0, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nok")
    r("status-404", KEEP, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
    r("status-999", KEEP, 0, "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n")
    r("reason-empty", 0, 0, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")
    r("cancel-midbody", KEEP | CANCEL, 4, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part")


def decode():
    # byte 0: encoding index (gzip, x-gzip, deflate, GZIP, br, none, Deflate, compress) + 8 * (outcap/512)
    def d(name, enc, outk, split, body):
        put("decode", name, bytes([enc + 8 * outk, split]) + body)

    d("gzip-whole", 0, 4, 0, gz(TEXT))
    d("gzip-bytewise-out1", 0, 0, 1, gz(TEXT))
    d("gzip-split7", 1, 2, 7, gz(TEXT))
    d("gzip-upper", 3, 1, 13, gz(b"hello"))
    d("gzip-two-members", 0, 4, 0, gz(b"first") + gz(b"second"))
    d("gzip-trailing-garbage", 0, 4, 5, gz(TEXT) + b"garbage")
    d("gzip-cut", 0, 4, 3, gz(TEXT)[:-6])
    d("gzip-bad-crc", 0, 4, 0, gz(b"hello")[:-8] + b"\0\0\0\0\5\0\0\0")
    d("gzip-empty", 0, 4, 0, gz(b""))
    d("gzip-fname", 0, 4, 0, b"\x1f\x8b\x08\x08\0\0\0\0\0\x03name.txt\0" + rawdeflate(b"hi") + zlib.crc32(b"hi").to_bytes(4, "little") + b"\2\0\0\0")
    d("deflate-zlib", 2, 4, 0, zdeflate(TEXT))
    d("deflate-zlib-split", 2, 1, 2, zdeflate(TEXT))
    d("deflate-raw", 2, 4, 0, rawdeflate(TEXT))
    d("deflate-raw-split", 2, 4, 9, rawdeflate(TEXT))
    d("deflate-stored", 2, 4, 0, zlib.compress(TEXT, 0))
    d("deflate-bad", 2, 4, 0, b"\x78\x9c\xff\xff\xff")
    d("zeros", 0, 31, 0, gz(b"\0" * 100000))
    d("br-passthrough", 4, 1, 3, b"\x1b\x03\x00\xf8\xa5" + TEXT[:40])
    d("identity-passthrough", 5, 0, 2, TEXT[:64])


def url():
    urls = [
        "http://example.com/", "HTTPS://Example.COM:8443/a/b?x=1#frag", "http://[2001:DB8::1]/",
        "http://[::ffff:192.0.2.1]:8080/p", "http://[fe80::1%25eth0]/", "http://user:pass@example.com/",
        "http://example.com/a%20b/%7Euser?q=%E2%82%AC", "http://example.com/a b/c\xc3\xa9?q=\"<>`",
        "http://example.com/a/./b/../../c/./d/..", "http://example.com/../../x", "http://example.com:80/",
        "https://example.com:443", "http://example.com:65535/", "http://example.com:0/", "http://example.com:65536/",
        "http://example.com:/", "http://exa_mple.com/~x", "ftp://example.com/", "mailto:a@b", "//example.com/x",
        "http:/example.com", "http://", "http://[::1", "http://[::1]x/", "http://ex%41mple.com/",
        "http://127.0.0.1:8080/path;params?query#frag", "http://example.com?only=query", "http://example.com#frag",
        "http://example.com/\x7f", "http://example.com/tab\there", "\x00http://example.com/",
        "http://example.com/%2e%2e/%2E/x", "http://example.com//double//slash",
        # base\0reference pairs (fuzz_url.c): resolution against a parsed first part
        "http://a/b/c/d;p?q\0../../../g", "http://a/b/c/d;p?q\0g?y/./x", "http://a/b/c/d;p?q\0//g",
        "http://a/b/c/d;p?q\0?y", "http://a/b/c/d;p?q\0#s", "http://a/b/c/d;p?q\0", "https://h:8443/dir/page?x\0other",
        "http://[::1]:8080/a/b\0../c", "http://a\0.", "http://a/b\0..", "http://a/b/c\0g;x=1/../y",
    ]
    refs = ["g", "./g", "g/", "/g", "//g", "?y", "g?y", "#s", "g#s", "g?y#s", ";x", "g;x", "", ".", "./", "..",
            "../", "../g", "../..", "../../", "../../g", "../../../../g", "/./g", "/../g", "g.", ".g", "g..", "..g",
            "./../g", "./g/.", "g/./h", "g/../h", "g;x=1/./y", "g;x=1/../y", "g?y/./x", "g#s/../x", "http:g",
            "HTTP://OTHER.example:81/x", "//[2001:db8::7]:8080/x", "//u@h/", "a:b/c"]
    for i, u in enumerate(urls):
        put("url", "url-%02d" % i, u.encode("utf-8", "surrogateescape") if "\xc3" not in u else u.encode("latin-1"))
    for i, u in enumerate(refs):
        put("url", "ref-%02d" % i, u)


def input_():
    put("input", "simple", "http://example.com/\nhttps://example.org/a?b=1\n")
    put("input", "comments-blanks", "# a list\n\nhttp://a.example/\n   \n\t# indented comment\n  http://b.example/  \n#\n")
    put("input", "crlf", "http://a.example/\r\nhttp://b.example/\r\n\r\n")
    put("input", "no-final-newline", "http://a.example/\nhttp://b.example/")
    put("input", "bad-urls", "ftp://x/\nnot a url\nhttp://user@h/\nhttp://[::1/\nhttp://h:99999/\nhttp://\xc3\xa9.example/\n"
        .encode("latin-1"))
    put("input", "nul-bytes", b"http://a.example/\0junk\n\0\nhttp://b\0.example/\n")
    put("input", "invalid-utf8", b"http://a.example/\xff\xfe\n\xc3\x28\nhttp://b.example/\xed\xa0\x80\n")
    put("input", "whitespace", "\f\vhttp://a.example/\v\f\n \t \r\n")
    put("input", "only-newlines", "\n\n\n\n")
    put("input", "empty", "")
    put("input", "long-line", "http://a.example/" + "x" * (64 * 1024 + 10) + "\nhttp://b.example/\n")
    put("input", "line-at-limit", "http://a.example/" + "y" * (64 * 1024 - 17) + "\n")
    put("input", "long-line-no-newline", "z" * (64 * 1024 + 1))
    put("input", "many-short", "".join("http://h%d.example/%d\n" % (i % 7, i) for i in range(200)))


def writeout():
    names = ["http_code", "response_code", "time_total", "time_namelookup", "time_connect", "time_appconnect",
             "time_starttransfer", "time_queue", "size_download", "size_raw", "url", "url_effective",
             "num_redirects", "errormsg", "line", "error_kind", "attempt", "filename_effective"]
    put("writeout", "all-vars", " ".join("%%{%s}" % n for n in names) + "\\n")
    for n in names:
        put("writeout", "var-" + n, "%%{%s}\\n" % n)
    put("writeout", "escapes", "a\\tb\\nc\\rd\\\\e%%f\\x\\")
    put("writeout", "curl-style", "%{url} %{http_code} %{time_total}s\\n")
    put("writeout", "unknown", "%{nope} %{http_code}")
    put("writeout", "unterminated", "%{http_code")
    put("writeout", "empty-name", "%{}")
    put("writeout", "percent-tail", "100%")
    put("writeout", "plain", "just text")
    put("writeout", "with-url-message", b"%{url}|%{errormsg}\\n\0http://h.example/\ttab\nnewline\"q\"\\\0server said:\r\n\x01\x1f\xff")
    put("writeout", "json-escapes", b"%{url_effective}\0\x00")
    put("writeout", "long-url", b"%{url}\0http://h.example/" + b"a" * 600 + b"\0" + b"m" * 300)


def regressions():
    d = os.path.join(os.path.dirname(ROOT), "regressions", "decode")
    os.makedirs(d, exist_ok=True)
    # deflate (index 2), 2 KiB output buffer, split seed 1: one byte at a time.
    with open(os.path.join(d, "deflate-raw-first-chunk-1-byte"), "wb") as f:
        f.write(bytes([2 + 8 * 4, 1]) + rawdeflate(b"hello, raw deflate sent as deflate\n"))


http1()
decode()
url()
input_()
writeout()
regressions()
