#!/usr/bin/env node
// check_warc.mjs -- an independent check of the WARC files acrawl writes: records read
// with webrecorder's warcio.js, every digest recomputed here (node's crypto, own
// base32, own de-chunking), gzip members walked here with node's zlib.
//
// usage: node tests/warc/check_warc.mjs [--expect-bodies DIR] FILE...
//
// Checks: each file starts with a warcinfo record (WARC-Filename = its name); every
// record is WARC/1.1 with WARC-Type, a <urn:uuid:...> WARC-Record-ID (unique),
// WARC-Date (UTC, optional fraction), Content-Length = the block's length and a
// WARC-Block-Digest that matches; request/response records carry WARC-Target-URI and
// application/http;msgtype=...; a response that is not WARC-Truncated carries a
// WARC-Payload-Digest of its body with any chunked transfer coding removed (WARC 1.1
// §6.3.2; content coding kept), and names its request (same URI) in
// WARC-Concurrent-To; metadata records are application/warc-fields and name records
// that exist. In a gzipped file (by its magic, whatever its name) every record is
// exactly one gzip member, whose CRC and length are checked.
//
// --expect-bodies DIR: every file DIR/P must be the body of a whole response for a
// URL whose path is /P (content coding undone), else a violation.
//
// Prints a JSON summary on stdout: files, records, counts by type, and per target URL
// its last response (status, payload bytes, payload sha1 in hex, truncated) and how many
// responses the files hold for it (count).
// Exit status: 0 all good; 1 violations (each on stderr); 2 usage.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { WARCParser } from 'warcio';

const violations = [];
function fail(where, msg) {
  violations.push(`${where}: ${msg}`);
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(bytes) {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}
const sha1 = (buf) => crypto.createHash('sha1').update(buf).digest();
const labelled = (buf) => 'sha1:' + base32(sha1(buf));

// ---- gzip members, walked with zlib alone ----

// The gzip member at off: its length and its inflated bytes (RFC 1952).
function gzipMember(buf, off) {
  if (buf.length - off < 18 || buf[off] !== 0x1f || buf[off + 1] !== 0x8b || buf[off + 2] !== 8)
    throw new Error(`no gzip member at offset ${off}`);
  const flg = buf[off + 3];
  let p = off + 10;
  if (flg & 4) p += 2 + buf.readUInt16LE(p);
  if (flg & 8) p = buf.indexOf(0, p) + 1;
  if (flg & 16) p = buf.indexOf(0, p) + 1;
  if (flg & 2) p += 2;
  const { buffer: data, engine } = zlib.inflateRawSync(buf.subarray(p), { info: true });
  const end = p + engine.bytesWritten;
  if (end + 8 > buf.length) throw new Error(`gzip member at ${off} has no trailer`);
  if (zlib.crc32 && buf.readUInt32LE(end) !== zlib.crc32(data))
    throw new Error(`gzip member at ${off}: CRC mismatch`);
  if (buf.readUInt32LE(end + 4) !== data.length % 2 ** 32)
    throw new Error(`gzip member at ${off}: ISIZE mismatch`);
  return { length: end + 8 - off, data };
}

// Each member must hold one whole record: header, Content-Length bytes, CRLF CRLF.
function checkMembers(file, buf) {
  const members = [];
  for (let off = 0; off < buf.length; ) {
    let m;
    try {
      m = gzipMember(buf, off);
    } catch (e) {
      fail(file, e.message);
      break;
    }
    const where = `${file}: member at ${off}`;
    const headEnd = m.data.indexOf('\r\n\r\n');
    const cl = /\r\ncontent-length:[ \t]*(\d+)\r\n/i.exec(m.data.subarray(0, headEnd + 2).toString('latin1'));
    if (headEnd < 0 || !cl) fail(where, 'does not start with a WARC record header');
    else if (headEnd + 4 + Number(cl[1]) + 4 !== m.data.length)
      fail(where, `holds ${m.data.length} bytes, its record ${headEnd + 4 + Number(cl[1]) + 4}: not exactly one record`);
    members.push(off);
    off += m.length;
  }
  return members;
}

// ---- HTTP ----

function splitHttp(block) {
  const i = block.indexOf('\r\n\r\n');
  if (i < 0) return null;
  const lines = block.subarray(0, i).toString('latin1').split('\r\n');
  const headers = new Map();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
  }
  return { status: lines[0], headers, body: block.subarray(i + 4) };
}

// RFC 9112 §7.1: chunks, then trailers; null when the framing is broken.
function dechunk(body) {
  const parts = [];
  let p = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', p);
    if (eol < 0) return null;
    const size = parseInt(body.subarray(p, eol).toString('latin1').split(';')[0].trim(), 16);
    if (Number.isNaN(size)) return null;
    p = eol + 2;
    if (size === 0) break;
    if (p + size + 2 > body.length || body[p + size] !== 13 || body[p + size + 1] !== 10) return null;
    parts.push(body.subarray(p, p + size));
    p += size + 2;
  }
  for (;;) {
    const eol = body.indexOf('\r\n', p);
    if (eol < 0) return null;
    if (eol === p) return Buffer.concat(parts);
    p = eol + 2;
  }
}

function payloadOf(http) {
  const te = (http.headers.get('transfer-encoding') || '').toLowerCase();
  return te.includes('chunked') ? dechunk(http.body) : http.body;
}

function decodeContent(payload, coding) {
  switch ((coding || '').toLowerCase()) {
    case '':
    case 'identity':
      return payload;
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(payload);
    case 'deflate':
      try {
        return zlib.inflateSync(payload);
      } catch {
        return zlib.inflateRawSync(payload);
      }
    case 'br':
      return zlib.brotliDecompressSync(payload);
    default:
      return null;
  }
}

// ---- Records ----

const ID_RE = /^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}>$/;
const DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

const summary = { files: 0, records: 0, types: {}, responses: {} };
const byId = new Map(); // id -> { type, uri, where }
const requestUsed = new Set();
const pending = []; // references to check once every file is read

function checkRecord(where, rec, block, first, file) {
  const h = (name) => rec.warcHeaders.headers.get(name);
  const type = h('WARC-Type');
  summary.types[type] = (summary.types[type] || 0) + 1;
  if (rec.warcHeaders.protocol !== 'WARC/1.1') fail(where, `version ${rec.warcHeaders.protocol}`);
  if (!type) return fail(where, 'no WARC-Type');
  if (first && type !== 'warcinfo') fail(where, `the first record is ${type}, not warcinfo`);
  const id = h('WARC-Record-ID');
  if (!id || !ID_RE.test(id)) fail(where, `bad WARC-Record-ID ${id}`);
  else if (byId.has(id)) fail(where, `WARC-Record-ID ${id} already used at ${byId.get(id).where}`);
  if (!DATE_RE.test(h('WARC-Date') || '')) fail(where, `bad WARC-Date ${h('WARC-Date')}`);
  if (Number(h('Content-Length')) !== block.length)
    fail(where, `Content-Length ${h('Content-Length')} but the block has ${block.length} bytes`);
  const bd = h('WARC-Block-Digest');
  if (!bd) fail(where, 'no WARC-Block-Digest');
  else if (bd !== labelled(block)) fail(where, `WARC-Block-Digest ${bd}, computed ${labelled(block)}`);
  const uri = h('WARC-Target-URI');
  const ctype = h('Content-Type');
  const to = (h('WARC-Concurrent-To') || '').split(',').map((s) => s.trim()).filter(Boolean);
  const method = type === 'request' ? block.subarray(0, 16).toString('latin1').split(' ')[0] : null;
  byId.set(id, { type, uri, where, method });

  if (type === 'warcinfo') {
    if (h('WARC-Filename') !== path.basename(file))
      fail(where, `WARC-Filename ${h('WARC-Filename')} in ${path.basename(file)}`);
    if (ctype !== 'application/warc-fields') fail(where, `warcinfo Content-Type ${ctype}`);
    if (!block.toString('utf8').includes('format: WARC File Format 1.1\r\n')) fail(where, 'warcinfo without format');
  } else if (type === 'request' || type === 'response') {
    if (!uri) fail(where, `${type} without WARC-Target-URI`);
    if (ctype !== `application/http;msgtype=${type}`) fail(where, `${type} Content-Type ${ctype}`);
    const http = splitHttp(block);
    if (type === 'response') checkResponse(where, h, http, uri, to);
    else if (!http) fail(where, 'request without a whole head');
  } else if (type === 'metadata') {
    if (ctype !== 'application/warc-fields') fail(where, `metadata Content-Type ${ctype}`);
    for (const t of to) pending.push({ where, ref: t });
  }
}

function checkResponse(where, h, http, uri, to) {
  const truncated = h('WARC-Truncated');
  const pd = h('WARC-Payload-Digest');
  if (to.length !== 1) fail(where, `response with ${to.length} WARC-Concurrent-To`);
  let method = null;
  for (const t of to) {
    const req = byId.get(t);
    if (req) method = req.method;
    if (!req || req.type !== 'request') fail(where, `WARC-Concurrent-To ${t} is no earlier request record`);
    else if (req.uri !== uri) fail(where, `its request is for ${req.uri}`);
    else if (requestUsed.has(t)) fail(where, `request ${t} already has a response`);
    requestUsed.add(t);
  }
  const count = (summary.responses[uri] ? summary.responses[uri].count : 0) + 1;
  const entry = { status: null, truncated: truncated || null, payload_bytes: null, payload_sha1: null, count };
  summary.responses[uri] = entry;
  if (!http) {
    if (!truncated) fail(where, 'response without a whole head and not WARC-Truncated');
    return;
  }
  entry.status = Number(http.status.split(' ')[1]);
  entry.headers = http.headers;
  if (truncated) {
    if (pd) fail(where, 'WARC-Payload-Digest on a truncated response');
    return;
  }
  // RFC 9110 §6.4.1: no content in a response to HEAD, nor in 1xx, 204 and 304,
  // whatever Transfer-Encoding or Content-Length say
  const st = entry.status;
  const bodiless = method === 'HEAD' || (st >= 100 && st < 200) || st === 204 || st === 304;
  const payload = bodiless ? Buffer.alloc(0) : payloadOf(http);
  if (bodiless && http.body.length) fail(where, `${http.body.length} body bytes in a response that has none`);
  if (!payload) return fail(where, 'broken chunked framing in a response not marked WARC-Truncated');
  entry.payload_bytes = payload.length;
  entry.payload_sha1 = sha1(payload).toString('hex');
  entry.payload = payload;
  if (!pd) fail(where, 'whole response without WARC-Payload-Digest');
  else if (pd !== labelled(payload)) {
    const raw = labelled(http.body);
    fail(where, `WARC-Payload-Digest ${pd}, computed ${labelled(payload)}` +
      (pd === raw ? ' (it is the digest of the chunked bytes: see warcio issue #74)' : ''));
  }
}

async function checkFile(file) {
  summary.files++;
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    return fail(file, e.message);
  }
  if (buf.length === 0) return fail(file, 'empty');
  const gz = buf[0] === 0x1f && buf[1] === 0x8b;
  const members = gz ? checkMembers(file, buf) : null;
  const parser = new WARCParser([buf], { parseHttp: false });
  let n = 0;
  try {
    for await (const rec of parser) {
      const off = parser.offset;
      const where = `${file}: record ${n} at ${off}`;
      const block = Buffer.from(await rec.readFully(false));
      if (members && members[n] !== off)
        fail(where, members[n] === undefined ? 'not at the start of a gzip member of its own' : `starts at ${off}, its gzip member at ${members[n]}`);
      checkRecord(where, rec, block, n === 0, file);
      n++;
    }
  } catch (e) {
    fail(`${file}: record ${n}`, `warcio: ${e.message}`);
  }
  if (members && members.length !== n) fail(file, `${members.length} gzip members, ${n} records`);
  if (n === 0) fail(file, 'no records');
  summary.records += n;
}

function walk(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

function checkBodies(dir) {
  const byPath = new Map();
  for (const [uri, r] of Object.entries(summary.responses)) {
    try {
      byPath.set(new URL(uri).pathname, r);
    } catch {}
  }
  for (const rel of walk(dir)) {
    const want = fs.readFileSync(path.join(dir, rel));
    const p = '/' + rel.split(path.sep).join('/');
    const r = byPath.get(p);
    if (!r || !r.payload) {
      fail(`--expect-bodies ${rel}`, `no whole response for a URL with path ${p}`);
      continue;
    }
    let got;
    try {
      got = decodeContent(r.payload, r.headers.get('content-encoding'));
    } catch (e) {
      got = null;
    }
    if (!got) fail(`--expect-bodies ${rel}`, `cannot undo Content-Encoding ${r.headers.get('content-encoding')}`);
    else if (!got.equals(want)) fail(`--expect-bodies ${rel}`, `body of ${p} differs (${got.length} bytes, want ${want.length})`);
  }
}

async function main(argv) {
  let bodies = null;
  let bad = false;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--expect-bodies') {
      bodies = argv[++i];
      bad ||= !bodies;
    } else if (argv[i].startsWith('-')) {
      bad = true;
    } else {
      files.push(argv[i]);
    }
  }
  if (bad || files.length === 0) {
    process.stderr.write('usage: node check_warc.mjs [--expect-bodies DIR] FILE...\n');
    return 2;
  }
  for (const f of files) await checkFile(f);
  for (const { where, ref } of pending) if (!byId.has(ref)) fail(where, `WARC-Concurrent-To ${ref} names no record`);
  if (bodies) checkBodies(bodies);
  for (const r of Object.values(summary.responses)) {
    delete r.payload;
    delete r.headers;
  }
  process.stdout.write(JSON.stringify({ ok: violations.length === 0, ...summary }, null, 1) + '\n');
  for (const v of violations) process.stderr.write(`check_warc: ${v}\n`);
  return violations.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
