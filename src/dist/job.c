/* job.c -- one crawl shared by many workers through Redis Streams (see job.h): a
 * pipeline task sends every caller's commands in batches, in call order; a heartbeat
 * task keeps this worker's leases, its held entries and its workers entry fresh.
 *
 * Every write is a Lua script (EVALSHA) or an idempotent command, so that a batch
 * whose replies were lost (a reset, a restart) can be sent again: an enqueue is
 * guarded by SADD seen, an ack and a hand-back by the entry's owner, a scope item by
 * SADD scope. A read lost that way (XREADGROUP) leaves its entries pending for this
 * worker without the worker knowing them: nobody refreshes them, so they go idle and
 * are reclaimed by the shard's holder after claim_idle. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/sync.h"
#include "acrawl/task.h"
#include "dist/job.h"
#include "redis/redis.h"
#include "util/alloc.h"
#include "util/errf.h"
#include "util/fdio.h"
#include "util/fpset.h"
#include "util/optdiff.h"

#define DEFAULT_SHARDS 64
#define MAX_SHARDS 65536
#define DEFAULT_CLAIM_IDLE (60 * ACR_SEC)
#define DEFAULT_TIMEOUT (30 * ACR_SEC)
#define BACKOFF_FIRST (100 * ACR_MSEC)
#define BACKOFF_MAX (2 * ACR_SEC)
#define HEARTBEAT_MAX ACR_SEC        /* beats at most this far apart, whatever claim_idle */
#define BEAT_SOON (25 * ACR_MSEC)    /* ... while shards change hands */
#define BEAT_GAP (5 * ACR_MSEC)      /* ... and never closer than this */
#define DRY_BEAT (250 * ACR_MSEC)    /* ... and while idle with work elsewhere, this often */
#define PULL_POLL (100 * ACR_MSEC)   /* how often an empty pull asks again */
#define BUFFER_MAX ((size_t)4 << 20) /* buffered bytes past which buffered calls wait */
#define BATCH_MAX_OPS 2048
#define BATCH_MAX_BYTES ((size_t)1 << 20)
#define MERGE_MAX 256                /* calls merged into one script call, at most */
#define COLLECT_PAGE 1000
#define GROUP "g"
#define FREE_CONSUMER "free"         /* entries handed back: claimable at once */
#define OPT_ADVICE "(use another --job name, or the same options)"

/* ---- scripts ---- */

enum { S_CREATE, S_ENQUEUE, S_SCOPE, S_PULL, S_CONFIRM, S_ACK, S_MOVE, S_BEAT, S_LEAVE, S_DRAIN, S_QUOTA, NSCRIPT };

/* KEYS options meta; ARGV options shards q-prefix. A new job stores its options and
 * shard count; either way every shard's group exists after it (a stream deleted by
 * hand gets its group back). Returns {created, shards, options}. */
static const char SRC_CREATE[] =
    "local created = 0\n"
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX') then\n"
    "  local t = redis.call('TIME')\n"
    "  redis.call('HSET', KEYS[2], 'shards', ARGV[2], 'created', t[1])\n"
    "  created = 1\n"
    "end\n"
    "local n = tonumber(redis.call('HGET', KEYS[2], 'shards'))\n"
    "if not n then return redis.error_reply('ERR job has options but no shard count') end\n"
    "for s = 0, n - 1 do\n"
    "  local ok, e = pcall(redis.call, 'XGROUP', 'CREATE', ARGV[3] .. s, '" GROUP "', '0', 'MKSTREAM')\n"
    "end\n"
    "return {created, n, redis.call('GET', KEYS[1])}\n";

/* KEYS seen ctr hosts, then q:S per URL; ARGV host-cap, then per URL: fp url origin
 * parent('' none) depth via sitemap('1') host('' not counted). The enqueues of a run
 * of calls, in order (the pipeline merges consecutive ones): a URL is queued when its
 * fingerprint is new to seen (and to the URLs before it in this call), first added to
 * seen, then, when its host has had fewer than host-cap URLs queued (--max-host-pages,
 * counted for the whole job; 0 no cap), XADD to its shard; queued grows by their
 * number. Returns {1 queued, 0 seen already, 2 seen but past its host's cap} per URL.
 * Sent again after a lost reply, every URL is seen: nothing is queued or counted twice. */
static const char SRC_ENQUEUE[] =
    "local n, cap = #KEYS - 3, tonumber(ARGV[1])\n"
    "local fps = {}\n"
    "for i = 1, n do fps[i] = ARGV[8 * i - 6] end\n"
    "local had = redis.call('SMISMEMBER', KEYS[1], unpack(fps))\n"
    "local out, new, mark = {}, {}, {}\n"
    "for i = 1, n do\n"
    "  if had[i] == 1 or mark[fps[i]] then out[i] = 0 else mark[fps[i]] = true; new[#new + 1] = fps[i]; out[i] = 1 end\n"
    "end\n"
    "if #new == 0 then return out end\n"
    "redis.call('SADD', KEYS[1], unpack(new))\n"
    "local queued = 0\n"
    "for i = 1, n do\n"
    "  local b = 8 * (i - 1) + 1\n"
    "  if out[i] == 1 and cap > 0 and ARGV[b + 8] ~= '' and redis.call('HINCRBY', KEYS[3], ARGV[b + 8], 1) > cap then\n"
    "    out[i] = 2\n"
    "  end\n"
    "  if out[i] == 1 then\n"
    "    queued = queued + 1\n"
    "    local f = {'u', ARGV[b + 2], 'o', ARGV[b + 3]}\n"
    "    if ARGV[b + 4] ~= '' then f[#f + 1] = 'p'; f[#f + 1] = ARGV[b + 4] end\n"
    "    f[#f + 1] = 'd'; f[#f + 1] = ARGV[b + 5]; f[#f + 1] = 'v'; f[#f + 1] = ARGV[b + 6]\n"
    "    if ARGV[b + 7] == '1' then f[#f + 1] = 'm'; f[#f + 1] = '1' end\n"
    "    redis.call('XADD', KEYS[3 + i], '*', unpack(f))\n"
    "  end\n"
    "end\n"
    "if queued > 0 then redis.call('HINCRBY', KEYS[2], 'queued', queued) end\n"
    "return out\n";

/* KEYS scope scopever; ARGV item. */
static const char SRC_SCOPE[] =
    "if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('INCR', KEYS[2]) end\n"
    "return 1\n";

/* KEYS ctr scopever scope joins, then q:S lease:S per shard; ARGV me claim_idle_ms max
 * known_scopever scan, then the shard numbers. Reads the scope when it grew; with
 * scan "1", takes the entries handed back (no new delivery), then the idle ones (a
 * new delivery, reclaimed); then new ones, a few from each shard in turn (so that
 * each origin has some pages here, not one origin all of them while the others wait
 * behind its --wait); from the shards whose lease is still this worker's.
 * Returns {scopever, members or nil, {{shard, deliveries, id, fields}...}, reclaimed,
 * {queued, done, failed, poison}, joins}. */
static const char SRC_PULL[] =
    "local me, ci, want, scan = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[5] == '1'\n"
    "local sv = redis.call('GET', KEYS[2]) or '0'\n"
    "local members = false\n"
    "if sv ~= ARGV[4] then members = redis.call('SMEMBERS', KEYS[3]) end\n"
    "local out, reclaimed, more = {}, 0, {}\n"
    "local function take(q, shard, id, d, fields)\n"
    "  if fields then out[#out + 1] = {shard, d, id, fields} else redis.call('XACK', q, '" GROUP "', id) end\n"
    "end\n"
    "for i = 1, (#KEYS - 4) / 2 do\n"
    "  if #out >= want then break end\n"
    "  local q, lease, shard = KEYS[3 + 2 * i], KEYS[4 + 2 * i], tonumber(ARGV[5 + i])\n"
    "  local mine = redis.call('GET', lease) == me\n"
    "  if mine and scan then\n"
    "    for _, p in ipairs(redis.call('XPENDING', q, '" GROUP "', '-', '+', want - #out, '" FREE_CONSUMER "')) do\n"
    "      redis.call('XCLAIM', q, '" GROUP "', me, 0, p[1], 'JUSTID')\n"
    "      local e = redis.call('XRANGE', q, p[1], p[1])[1]\n"
    "      take(q, shard, p[1], p[4], e and e[2])\n"
    "    end\n"
    "    if #out < want then\n"
    "      for _, p in ipairs(redis.call('XPENDING', q, '" GROUP "', 'IDLE', ci, '-', '+', want - #out)) do\n"
    "        local e = redis.call('XCLAIM', q, '" GROUP "', me, ci, p[1])[1]\n"
    "        if e then reclaimed = reclaimed + 1 end\n"
    "        take(q, shard, p[1], p[4] + 1, e and e[2])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  if mine and redis.call('XLEN', q) > 0 then more[#more + 1] = {q, shard} end\n"
    "end\n"
    "local cap = math.max(8, math.ceil(want / math.max(1, #more)))\n"
    "while #more > 0 and #out < want do\n"
    "  local full = {}\n"
    "  for _, m in ipairs(more) do\n"
    "    if #out >= want then break end\n"
    "    local n = math.min(cap, want - #out)\n"
    "    local r = redis.call('XREADGROUP', 'GROUP', '" GROUP "', me, 'COUNT', n, 'STREAMS', m[1], '>')\n"
    "    local got = r and r[1][2] or {}\n"
    "    for _, e in ipairs(got) do take(m[1], m[2], e[1], 1, e[2]) end\n"
    "    if #got == n then full[#full + 1] = m end\n"
    "  end\n"
    "  more = full\n"
    "end\n"
    "if reclaimed > 0 then redis.call('HINCRBY', KEYS[1], 'reclaimed', reclaimed) end\n"
    "return {sv, members, out, reclaimed, redis.call('HMGET', KEYS[1], 'queued', 'done', 'failed', 'poison'),\n"
    "        tonumber(redis.call('GET', KEYS[4]) or '0')}\n";

/* KEYS q:S; ARGV me id. 1 (and its idle time reset) when me owns the entry. */
static const char SRC_CONFIRM[] =
    "local p = redis.call('XPENDING', KEYS[1], '" GROUP "', ARGV[2], ARGV[2], 1)[1]\n"
    "if not p or p[2] ~= ARGV[1] then return 0 end\n"
    "redis.call('XCLAIM', KEYS[1], '" GROUP "', ARGV[1], 0, ARGV[2], 'JUSTID')\n"
    "return 1\n";

/* KEYS ctr records, then q:S per entry; ARGV me, then per entry: id counter fp
 * has-record('1') record. The acks of a run of calls, in order (the pipeline merges
 * consecutive ones): each a no-op unless me owns the entry; the owned ones are
 * recorded (with has-record), acked and deleted (one XACK and XDEL per stream), and
 * counted (one HINCRBY per counter). Returns {1 acked, 0 not the owner} per entry.
 * Sent again after a lost reply, no entry is owned any more: nothing happens twice. */
static const char SRC_ACK[] =
    "local me = ARGV[1]\n"
    "local out, cnt, ids, qs, done = {}, {}, {}, {}, {}\n"
    "for i = 1, #KEYS - 2 do\n"
    "  local b, q = 5 * i - 3, KEYS[2 + i]\n"
    "  local id = ARGV[b]\n"
    "  local p = not done[q .. ' ' .. id] and redis.call('XPENDING', q, '" GROUP "', id, id, 1)[1]\n"
    "  if p and p[2] == me then\n"
    "    done[q .. ' ' .. id] = true\n"
    "    if not ids[q] then ids[q] = {}; qs[#qs + 1] = q end\n"
    "    ids[q][#ids[q] + 1] = id\n"
    "    cnt[ARGV[b + 1]] = (cnt[ARGV[b + 1]] or 0) + 1\n"
    "    if ARGV[b + 3] == '1' then redis.call('XADD', KEYS[2], '*', 'id', ARGV[b + 2], 'w', me, 'r', ARGV[b + 4]) end\n"
    "    out[i] = 1\n"
    "  else out[i] = 0 end\n"
    "end\n"
    "for _, q in ipairs(qs) do\n"
    "  redis.call('XACK', q, '" GROUP "', unpack(ids[q]))\n"
    "  redis.call('XDEL', q, unpack(ids[q]))\n"
    "end\n"
    "for _, k in ipairs({'done', 'failed', 'poison'}) do\n"
    "  if cnt[k] then redis.call('HINCRBY', KEYS[1], k, cnt[k]) end\n"
    "end\n"
    "return out\n";

/* KEYS q:S; ARGV me target idle_ms ids...: the entries me still owns go to target
 * with that idle time (me, 0: a refresh; "free", claim_idle: a hand-back), without a
 * new delivery. Returns how many me no longer owned. */
static const char SRC_MOVE[] =
    "local lost = 0\n"
    "for i = 4, #ARGV do\n"
    "  local p = redis.call('XPENDING', KEYS[1], '" GROUP "', ARGV[i], ARGV[i], 1)[1]\n"
    "  if p and p[2] == ARGV[1] then\n"
    "    redis.call('XCLAIM', KEYS[1], '" GROUP "', ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')\n"
    "  else lost = lost + 1 end\n"
    "end\n"
    "return lost\n";

/* KEYS workers w:me drain joins released; ARGV me claim_idle_ms shards pages inflight rate
 * lease-prefix queue-prefix owed-before, then the shards where me holds entries.
 * Registers the beat and renews me's leases. A worker new to the job bumps joins,
 * and so does one owed more shards than at its last beat: every pull reads joins,
 * and the others beat at once. Each shard belongs to one of the workers
 * alive (a beat within claim_idle), by rendezvous hashing on SHA-1 of
 * "worker/shard": an idle shard to its highest-ranked worker; a busy one (entries in
 * its stream) to its holder while the holder has fewer than its share of the busy
 * ones (so that one shard emptying or filling up moves no other), else to its
 * highest-ranked worker below its share (bounded loads), so that a crawl of a few
 * origins is still shared evenly.
 * A worker that joins or dies moves little else. me takes the free shards that
 * belong to it, and gives back those that belong to another once it holds none of
 * their entries (until then it keeps them but is fed no more from them), noting
 * when in `released` (its last request to those origins ended before). Returns
 * {{shards to pull from}, their count, alive, drain, {shards kept only to empty},
 * now, shards of me's that another still holds, joins, {{shard taken now, when its
 * last holder released it (ms, 0 unknown)}...}}. Lease and queue keys are
 * built from the prefixes: they share the job's hash tag, so a cluster would place
 * them with the declared keys. */
static const char SRC_BEAT[] =
    "local me, ci, n, pre, qpre = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[7], ARGV[8]\n"
    "local bump = false\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "if redis.call('ZADD', KEYS[1], now, me) == 1 then bump = true end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - math.max(10 * ci, 3600000))\n"
    "redis.call('HSET', KEYS[2], 'pages', ARGV[4], 'inflight', ARGV[5], 'rate', ARGV[6], 'ci', ci, 'hb', now)\n"
    "redis.call('PEXPIRE', KEYS[2], 86400000)\n"
    "local ids = redis.call('ZRANGEBYSCORE', KEYS[1], now - ci, '+inf')\n"
    "local held = {}\n"
    "for i = 10, #ARGV do held[tonumber(ARGV[i])] = true end\n"
    "local ranks, owner, busy, load, cur, alive = {}, {}, {}, {}, {}, {}\n"
    "for _, w in ipairs(ids) do alive[w] = true end\n"
    "for s = 0, n - 1 do\n"
    "  cur[s] = redis.call('GET', pre .. s)\n"
    "  local rank = {}\n"
    "  for _, w in ipairs(ids) do rank[#rank + 1] = {redis.sha1hex(w .. '/' .. s), w} end\n"
    "  table.sort(rank, function(a, b) return a[1] > b[1] end)\n"
    "  ranks[s], owner[s] = rank, rank[1][2]\n"
    "  if redis.call('XLEN', qpre .. s) > 0 then busy[#busy + 1] = s end\n"
    "end\n"
    "local cap, rest = math.ceil(#busy / #ids), {}\n"
    "for _, s in ipairs(busy) do\n"
    "  local v = cur[s]\n"
    "  if v and alive[v] and (load[v] or 0) < cap then owner[s] = v; load[v] = (load[v] or 0) + 1\n"
    "  else rest[#rest + 1] = s end\n"
    "end\n"
    "for _, s in ipairs(rest) do\n"
    "  for _, r in ipairs(ranks[s]) do\n"
    "    if (load[r[2]] or 0) < cap then owner[s] = r[2]; load[r[2]] = (load[r[2]] or 0) + 1; break end\n"
    "  end\n"
    "end\n"
    "local feed, hold, owed, taken = {}, {}, 0, {}\n"
    "for s = 0, n - 1 do\n"
    "  local best, v = owner[s], cur[s]\n"
    "  if v == me and best == me then redis.call('PEXPIRE', pre .. s, ci); feed[#feed + 1] = s\n"
    "  elseif v == me and held[s] then redis.call('PEXPIRE', pre .. s, ci); hold[#hold + 1] = s\n"
    "  elseif v == me then redis.call('DEL', pre .. s); redis.call('HSET', KEYS[5], s, now)\n"
    "  elseif not v and best == me and redis.call('SET', pre .. s, me, 'NX', 'PX', ci) then\n"
    "    feed[#feed + 1] = s\n"
    "    taken[#taken + 1] = {s, tonumber(redis.call('HGET', KEYS[5], s) or '0')}\n"
    "  elseif best == me then owed = owed + 1 end\n"
    "end\n"
    "if bump or owed > tonumber(ARGV[9]) then redis.call('INCR', KEYS[4]) end\n"
    "return {feed, #feed, #ids, tonumber(redis.call('GET', KEYS[3]) or '0'), hold, now, owed,\n"
    "        tonumber(redis.call('GET', KEYS[4]) or '0'), taken}\n";

/* KEYS workers w:me joins released; ARGV me lease-prefix shards: releases me's
 * leases (noting when, as the heartbeat does), deregisters, and bumps joins (the
 * others beat at once and take its shards). */
static const char SRC_LEAVE[] =
    "local pre = ARGV[2]\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "for s = 0, tonumber(ARGV[3]) - 1 do\n"
    "  if redis.call('GET', pre .. s) == ARGV[1] then\n"
    "    redis.call('DEL', pre .. s)\n"
    "    redis.call('HSET', KEYS[4], s, now)\n"
    "  end\n"
    "end\n"
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('INCR', KEYS[3])\n"
    "return 1\n";

/* KEYS drain: --drain, at Redis's time in ms (workers that beat first after it go on). */
static const char SRC_DRAIN[] =
    "local t = redis.call('TIME')\n"
    "redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n"
    "return 1\n";

/* KEYS ctr returned; ARGV max n me: with n > 0, grants up to n more page starts while
 * fewer than max were granted in all (the job's --max-pages); with n < 0, me gives -n
 * back, once (a worker gives back once, at its end: sent again after a lost reply, it
 * changes nothing). Returns the grant. A grant sent again is counted twice: the job
 * then fetches fewer pages than max, never more. */
static const char SRC_QUOTA[] =
    "local n = tonumber(ARGV[2])\n"
    "if n < 0 then\n"
    "  if redis.call('HSETNX', KEYS[2], ARGV[3], -n) == 1 then\n"
    "    local st = tonumber(redis.call('HGET', KEYS[1], 'started') or '0')\n"
    "    redis.call('HINCRBY', KEYS[1], 'started', -math.min(-n, st))\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "local left = tonumber(ARGV[1]) - tonumber(redis.call('HGET', KEYS[1], 'started') or '0')\n"
    "local grant = math.max(0, math.min(n, left))\n"
    "if grant > 0 then redis.call('HINCRBY', KEYS[1], 'started', grant) end\n"
    "return grant\n";

static const char *const script_src[NSCRIPT] = {SRC_CREATE, SRC_ENQUEUE, SRC_SCOPE, SRC_PULL,  SRC_CONFIRM, SRC_ACK,
                                                SRC_MOVE,   SRC_BEAT,    SRC_LEAVE, SRC_DRAIN, SRC_QUOTA};

/* ---- state ---- */

/* A command: args[first .. first+argc) of its op; a script's start with its keys. */
struct cmd {
    unsigned first, argc, nkeys;
    int script; /* -1: a plain command */
};

struct arg {
    size_t off, len;
};

/* What one call asks of Redis: its commands, sent together in one batch. A waiting
 * op's caller parks until done and then owns the copies of its replies; a buffered
 * op belongs to the pipeline, which frees it.
 * A mergeable op (an enqueue, an ack) is one item of its script: one command whose
 * first arg is its shard's stream, then the item's args. The pipeline sends a run of
 * consecutive ops of one kind as one call of the script (see encode_run); each op's
 * reply is its item's element of that call's array. */
enum { M_NONE, M_ENQUEUE, M_ACK };

struct op {
    struct op *next;
    bool wait, done, abandoned, oom;
    unsigned char merge; /* M_*: buffered, one command */
    int rc;
    int64_t sent;       /* when its batch last went out */
    size_t base;        /* its first reply in that batch */
    unsigned item;      /* merged: its element in the reply at base */
    void (*hook)(acr_dist *j, const redisReply *r); /* buffered: sees its first reply */
    struct cmd *cmds;
    unsigned ncmd, capcmd;
    struct arg *args;
    unsigned nargs, capargs;
    char *buf;
    size_t len, cap;
    redisReply **rep;   /* waiting: the replies, copied */
    char err[256];
};

/* leased[s]: 0 not leased, FEED leased and pulled from, KEEP leased until this
 * worker's entries of it are done (the _NOW forms: while a beat's reply is read). */
enum { FEED = 1, KEEP = 5, FEED_NOW = 2, KEEP_NOW = 6 };

/* A pulled entry while the job holds it: on the held list until ack or release. */
struct held {
    acr_dist_entry e;    /* first: an acr_dist_entry * is a struct held * */
    acr_dist *j;         /* NULL once detached (the job left or was freed) */
    int64_t pulled_at;   /* when the pull that delivered it was sent */
    struct held *prev, *next;
};

struct acr_dist {
    acr_dist_cfg cfg;
    char *name, *options;
    char pre[128];                      /* "acrawl:{NAME}:" */
    size_t lpre;
    char k_seen[160], k_ctr[160], k_records[160], k_hosts[160]; /* keys the merged scripts name */
    char where[300];                    /* "job NAME on HOST:PORT", for messages */
    char worker[300];
    acr_redis_addr addr;
    acr_redis *r;
    int64_t claim_idle, timeout;
    int64_t scan_at;                    /* the last pull that looked for pending entries */
    long long joined_ms;                /* Redis's time at this worker's first beat */
    bool scan_due;                      /* a lease was gained since */
    unsigned shards;
    int refs;                           /* the handle and each running task */

    /* the pipeline */
    struct op *head, *tail;             /* queued, in call order */
    size_t buffered, nbuffered;         /* bytes and count of buffered ops not yet done */
    uint64_t nsubmitted;                /* buffered ops ever queued */
    size_t nwaiting;                    /* ops in the queue that wait for their reply */
    acr_cond *work, *replied, *room, *wake, *kick;
    uint64_t wakes;                     /* broadcasts of wake: a pull saw them or not */
    acr_redis_batch *batch;
    const char **argv;                  /* scratch for encoding */
    size_t *lens, nscratch;
    char sha[NSCRIPT][41];
    bool need_load;
    uint64_t reconnects_seen;
    acr_task *pipe, *beat;
    bool pipe_running;

    int fatal;
    char fatal_msg[512];
    char last_err[256];                 /* the text of a waiting op's error */
    bool left;

    /* leases (worker) */
    unsigned char *leased;              /* per shard */
    int64_t *ended;                     /* per shard: when its last holder's requests had
                                         * ended, when it was taken (local clock; 0 none) */
    unsigned *held_in;                  /* held entries per shard */
    unsigned *busy_in;                  /* other requests in flight per shard (robots.txt) */
    int64_t renewed;                    /* local time the last renewal was sent */
    long long joins;                    /* the job's joins counter at the last beat */
    bool beat_soon;                     /* shards to take or give back: beat again soon */
    unsigned owed;                      /* shards this worker's but leased by another */
    uint64_t unfed;                     /* times a shard stopped being fed to this worker */
    bool kicked;                        /* beat now */
    int64_t dry_at;                     /* when a pull last found work only elsewhere */
    bool draining;
    unsigned rot;                       /* where the next pull starts among the shards */

    struct held *held;                  /* pulled and not yet acked or released */
    size_t nheld;

    char scopever[32];
    acr__fpset scope_seen;

    acr_dist_stats st;
    uint64_t pages, pages_beat;
    int64_t beat_at;
    double rate;
};

static int job_fatal(acr_dist *j, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_free(redisReply *r);
static const redisReply *elem(const redisReply *r, size_t i);

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- ops ---- */

static struct op *op_new(bool wait)
{
    struct op *op = acr_calloc(1, sizeof *op);
    if (op)
        op->wait = wait;
    return op;
}

static void op_free(struct op *op)
{
    if (!op)
        return;
    free(op->cmds);
    free(op->args);
    free(op->buf);
    if (op->rep) {
        for (unsigned i = 0; i < op->ncmd; i++)
            reply_free(op->rep[i]);
        free(op->rep);
    }
    free(op);
}

static bool grow(void **p, unsigned *cap, unsigned need, size_t size)
{
    if (need <= *cap)
        return true;
    unsigned n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *q = acr_realloc(*p, (size_t)n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static void op_arg(struct op *op, const void *p, size_t n)
{
    if (op->oom || !grow((void **)&op->args, &op->capargs, op->nargs + 1, sizeof *op->args)) {
        op->oom = true;
        return;
    }
    if (op->len + n + 1 > op->cap) {
        size_t c = op->cap ? op->cap : 256;
        while (c < op->len + n + 1)
            c *= 2;
        char *b = acr_realloc(op->buf, c);
        if (!b) {
            op->oom = true;
            return;
        }
        op->buf = b;
        op->cap = c;
    }
    if (n)
        memcpy(op->buf + op->len, p, n);
    op->buf[op->len + n] = 0;
    op->args[op->nargs++] = (struct arg){op->len, n};
    op->len += n + 1;
    op->cmds[op->ncmd - 1].argc++;
}

static void op_str(struct op *op, const char *s) { op_arg(op, s, strlen(s)); }

static void op_fmt(struct op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void op_fmt(struct op *op, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof b) {
        op->oom = true;
        return;
    }
    op_arg(op, b, (size_t)n);
}

/* A key of the job: its prefix, then the formatted rest. */
static void op_key(struct op *op, const acr_dist *j, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void op_key(struct op *op, const acr_dist *j, const char *fmt, ...)
{
    char b[512];
    size_t lp = strlen(j->pre);
    memcpy(b, j->pre, lp);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b + lp, sizeof b - lp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof b - lp) {
        op->oom = true;
        return;
    }
    op_arg(op, b, lp + (size_t)n);
}

static size_t utoa(char *b, unsigned long long v)
{
    char t[24];
    size_t n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        b[i] = t[n - 1 - i];
    return n;
}

/* A number in decimal (without printf: these are per URL and per page). */
static void op_uint(struct op *op, unsigned long long v)
{
    char b[24];
    op_arg(op, b, utoa(b, v));
}

/* The job's key WHAT followed by shard s ("q:", "lease:"). */
static void op_skey(struct op *op, const acr_dist *j, const char *what, unsigned s)
{
    char b[sizeof j->pre + 32];
    size_t n = j->lpre, lw = strlen(what);
    memcpy(b, j->pre, n);
    memcpy(b + n, what, lw);
    n += lw;
    n += utoa(b + n, s);
    op_arg(op, b, n);
}

/* Starts a command: script < 0 a plain one (its name is the first arg added), else
 * EVALSHA of that script, whose first nkeys args are keys. */
static void op_cmd(struct op *op, int script, unsigned nkeys)
{
    if (op->oom || !grow((void **)&op->cmds, &op->capcmd, op->ncmd + 1, sizeof *op->cmds)) {
        op->oom = true;
        return;
    }
    op->cmds[op->ncmd++] = (struct cmd){.first = op->nargs, .nkeys = nkeys, .script = script};
}

/* ---- replies kept past their batch ---- */

static void reply_free(redisReply *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->elements; i++)
        reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

static redisReply *reply_dup(const redisReply *r)
{
    redisReply *c = acr_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = r->type;
    c->integer = r->integer;
    if (r->str) {
        c->str = acr_malloc(r->len + 1);
        if (!c->str)
            goto fail;
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = 0;
        c->len = r->len;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements) {
        c->element = acr_calloc(r->elements, sizeof *c->element);
        if (!c->element)
            goto fail;
        c->elements = r->elements;
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i] && !(c->element[i] = reply_dup(r->element[i])))
                goto fail;
        }
    }
    return c;
fail:
    reply_free(c);
    return NULL;
}

/* ---- the job's life: references, failure ---- */

static void job_release(acr_dist *j)
{
    for (struct op *op = j->head, *next; op; op = next) {
        next = op->next;
        op_free(op);
    }
    for (struct held *h = j->held; h; h = h->next)
        h->j = NULL;
    acr_redis_close(j->r);
    acr_redis_batch_free(j->batch);
    acr_cond_free(j->work);
    acr_cond_free(j->replied);
    acr_cond_free(j->room);
    acr_cond_free(j->wake);
    acr_cond_free(j->kick);
    acr__fpset_release(&j->scope_seen);
    free(j->argv);
    free(j->lens);
    free(j->leased);
    free(j->held_in);
    free(j->busy_in);
    free(j->ended);
    free(j->name);
    free(j->options);
    free(j);
}

static void job_unref(acr_dist *j)
{
    if (--j->refs == 0)
        job_release(j);
}

/* Something a pull waiting for work should look again for: counted, so that a pull
 * whose reply was on its way when it happened does not then wait PULL_POLL. */
static void wake_pull(acr_dist *j)
{
    j->wakes++;
    acr_cond_broadcast(j->wake);
}

static void wake_all(acr_dist *j)
{
    acr_cond_broadcast(j->replied);
    acr_cond_broadcast(j->room);
    wake_pull(j);
}

/* The job cannot go on: every call returns rc from now on. */
static int job_fatal(acr_dist *j, int rc, const char *fmt, ...)
{
    if (j->fatal)
        return j->fatal;
    j->fatal = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->fatal_msg, sizeof j->fatal_msg, fmt, ap);
    va_end(ap);
    acr_cond_broadcast(j->work);
    wake_all(j);
    return rc;
}

/* ---- the pipeline ---- */

/* Queues op (the caller gives it up unless it waits). 0, -ENOMEM (op freed), or
 * the fatal error (op freed). */
static int submit(acr_dist *j, struct op *op)
{
    if (op->oom) {
        op_free(op);
        return -ENOMEM;
    }
    if (j->fatal || !j->pipe_running) {
        op_free(op);
        return j->fatal ? j->fatal : ACR_ECANCELED;
    }
    if (!op->wait) {
        j->buffered += op->len;
        j->nbuffered++;
        j->nsubmitted++;
    } else {
        j->nwaiting++;
    }
    if (j->tail)
        j->tail->next = op;
    else
        j->head = op;
    j->tail = op;
    acr_cond_signal(j->work);
    return 0;
}

/* Queues a waiting op and parks until its batch returns: 0 with the replies in
 * op->rep (the caller frees op), or an error (op is the pipeline's, or freed). A
 * caller that is cancelled or whose deadline passes leaves the op to the pipeline. */
static int submit_wait(acr_dist *j, struct op *op, int64_t deadline)
{
    int rc = submit(j, op);
    if (rc != 0)
        return rc;
    while (!op->done) {
        rc = acr_cond_wait(j->replied, deadline);
        if (rc != 0 && !op->done) {
            op->abandoned = true;
            return rc;
        }
    }
    if (op->rc != 0) {
        rc = op->rc;
        snprintf(j->last_err, sizeof j->last_err, "%s", op->err);
        op_free(op);
        return rc;
    }
    return 0;
}

static bool ensure_scratch(acr_dist *j, size_t n)
{
    if (n <= j->nscratch)
        return true;
    size_t c = j->nscratch ? j->nscratch : 64;
    while (c < n)
        c *= 2;
    const char **a = acr_realloc(j->argv, c * sizeof *a);
    if (!a)
        return false;
    j->argv = a;
    size_t *l = acr_realloc(j->lens, c * sizeof *l);
    if (!l)
        return false;
    j->lens = l;
    j->nscratch = c;
    return true;
}

static int encode(acr_dist *j, struct op *op)
{
    op->base = acr_redis_count(j->batch);
    for (unsigned c = 0; c < op->ncmd; c++) {
        const struct cmd *cmd = &op->cmds[c];
        if (!ensure_scratch(j, cmd->argc + 3))
            return -ENOMEM;
        size_t n = 0;
        char nk[16];
        if (cmd->script >= 0) {
            snprintf(nk, sizeof nk, "%u", cmd->nkeys);
            j->argv[n] = "EVALSHA";
            j->lens[n++] = 7;
            j->argv[n] = j->sha[cmd->script];
            j->lens[n++] = strlen(j->sha[cmd->script]);
            j->argv[n] = nk;
            j->lens[n++] = strlen(nk);
        }
        for (unsigned a = 0; a < cmd->argc; a++) {
            const struct arg *g = &op->args[cmd->first + a];
            j->argv[n] = op->buf + g->off;
            j->lens[n++] = g->len;
        }
        int rc = acr_redis_add(j->batch, (int)n, j->argv, j->lens);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The run of mergeable ops of first's kind from first on (MERGE_MAX at most) as one
 * call of its script, their items in call order; *after the op past the run. */
static int encode_run(acr_dist *j, struct op *first, struct op **after)
{
    unsigned char kind = first->merge;
    size_t n = 0, nargs = 0;
    struct op *op = first;
    for (; op && op->merge == kind && n < MERGE_MAX; op = op->next) {
        n++;
        nargs += op->cmds[0].argc;
    }
    *after = op;
    if (!ensure_scratch(j, 7 + nargs))
        return -ENOMEM;
    size_t base = acr_redis_count(j->batch), a = 0;
    int script = kind == M_ENQUEUE ? S_ENQUEUE : S_ACK;
    char nk[24], cap[24];
    j->argv[a] = "EVALSHA";
    j->lens[a++] = 7;
    j->argv[a] = j->sha[script];
    j->lens[a++] = strlen(j->sha[script]);
    j->argv[a] = nk;
    j->lens[a++] = utoa(nk, (kind == M_ENQUEUE ? 3 : 2) + n);
    j->argv[a] = kind == M_ENQUEUE ? j->k_seen : j->k_ctr;
    j->lens[a] = strlen(j->argv[a]);
    a++;
    j->argv[a] = kind == M_ENQUEUE ? j->k_ctr : j->k_records;
    j->lens[a] = strlen(j->argv[a]);
    a++;
    if (kind == M_ENQUEUE) {
        j->argv[a] = j->k_hosts;
        j->lens[a] = strlen(j->argv[a]);
        a++;
    }
    unsigned i = 0;
    for (op = first; op != *after; op = op->next) {
        const struct arg *g = &op->args[op->cmds[0].first];
        op->base = base;
        op->item = i++;
        j->argv[a] = op->buf + g->off;
        j->lens[a++] = g->len;
    }
    if (kind == M_ACK) {
        j->argv[a] = j->worker;
        j->lens[a++] = strlen(j->worker);
    } else {
        j->argv[a] = cap;
        j->lens[a++] = utoa(cap, j->cfg.host_cap);
    }
    for (op = first; op != *after; op = op->next) {
        for (unsigned k = 1; k < op->cmds[0].argc; k++) {
            const struct arg *g = &op->args[op->cmds[0].first + k];
            j->argv[a] = op->buf + g->off;
            j->lens[a++] = g->len;
        }
    }
    return acr_redis_add(j->batch, (int)a, j->argv, j->lens);
}

static int encode_loads(acr_dist *j)
{
    for (int s = 0; s < NSCRIPT; s++) {
        const char *argv[3] = {"SCRIPT", "LOAD", script_src[s]};
        int rc = acr_redis_add(j->batch, 3, argv, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* After a batch with the loads in front: the scripts are there when every load
 * answered with its SHA1. */
static void check_loads(acr_dist *j)
{
    for (int s = 0; s < NSCRIPT; s++) {
        const redisReply *r = acr_redis_reply(j->batch, (size_t)s);
        if (!r || r->type != REDIS_REPLY_STRING || r->len != 40)
            return;
        memcpy(j->sha[s], r->str, 40);
        j->sha[s][40] = 0;
    }
    j->need_load = false;
}

enum { RP_OK, RP_ERROR, RP_BUSY, RP_NOSCRIPT, RP_MISSING };

/* The worst reply of op's commands; *bad the first error reply. */
static int op_replies(acr_dist *j, const struct op *op, const redisReply **bad)
{
    int worst = RP_OK;
    *bad = NULL;
    for (unsigned c = 0; c < op->ncmd; c++) {
        const redisReply *r = acr_redis_reply(j->batch, op->base + c);
        int k = RP_OK;
        if (!r)
            k = RP_MISSING;
        else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            k = RP_NOSCRIPT;
        else if (r->type == REDIS_REPLY_ERROR &&
                 (strncmp(r->str, "LOADING", 7) == 0 || strncmp(r->str, "BUSY", 4) == 0 ||
                  strncmp(r->str, "TRYAGAIN", 8) == 0 || strncmp(r->str, "MASTERDOWN", 10) == 0))
            k = RP_BUSY;
        else if (r->type == REDIS_REPLY_ERROR)
            k = RP_ERROR;
        if (k > worst) {
            worst = k;
            *bad = r;
        }
    }
    return worst;
}

/* op is done with rc (0: its replies are in the batch, or an error). */
static void op_finish(acr_dist *j, struct op *op, int rc, const char *msg)
{
    if (!op->wait) {
        if (rc == 0 && op->hook) {
            const redisReply *r = acr_redis_reply(j->batch, op->base);
            op->hook(j, op->merge ? elem(r, op->item) : r);
        }
        if (rc != 0 && rc != ACR_ECANCELED)
            job_fatal(j, rc, "%s: %s", j->where, msg);
        j->buffered -= op->len;
        j->nbuffered--;
        op_free(op);
        acr_cond_broadcast(j->room);
        return;
    }
    if (op->abandoned) {
        op_free(op);
        return;
    }
    if (rc == 0) {
        op->rep = acr_calloc(op->ncmd ? op->ncmd : 1, sizeof *op->rep);
        for (unsigned c = 0; op->rep && c < op->ncmd; c++) {
            op->rep[c] = reply_dup(acr_redis_reply(j->batch, op->base + c));
            if (!op->rep[c])
                rc = -ENOMEM;
        }
        if (!op->rep)
            rc = -ENOMEM;
    }
    op->rc = rc;
    snprintf(op->err, sizeof op->err, "%s", msg);
    op->done = true;
    acr_cond_broadcast(j->replied);
}

/* Sends the ops of list (in order) until each has its replies: a NOSCRIPT reloads
 * the scripts and resends; a lost connection or a busy server is retried with
 * backoff until Redis has been unreachable for the timeout. 0, ACR_ECANCELED, or
 * the fatal error; on error the ops left are still on *list. */
static int send_ops(acr_dist *j, struct op **list)
{
    int64_t first_fail = 0, backoff = BACKOFF_FIRST;
    char err[256];
    for (;;) {
        acr_redis_batch_clear(j->batch);
        bool loads = j->need_load;
        int rc = loads ? encode_loads(j) : 0;
        for (struct op *op = *list; op && rc == 0;) {
            if (op->merge) {
                rc = encode_run(j, op, &op);
            } else {
                rc = encode(j, op);
                op = op->next;
            }
        }
        if (rc != 0)
            return job_fatal(j, rc, "%s: %s", j->where, acr_strerror(rc));
        int64_t t0 = acr_now();
        for (struct op *op = *list; op; op = op->next)
            op->sent = t0;
        int64_t dl = first_fail ? first_fail + j->timeout : t0 + j->timeout;
        rc = acr_redis_exec(j->r, j->batch, dl, err, sizeof err);
        if (rc == ACR_ECANCELED)
            return rc;
        acr_redis_stats st;
        acr_redis_stats_get(j->r, &st);
        if (st.reconnects != j->reconnects_seen) {
            /* A new connection may be to a restarted server, without our scripts:
             * a NOSCRIPT would say so too, but loading now saves a round trip. */
            j->reconnects_seen = st.reconnects;
            j->need_load = true;
        }
        if (loads && rc == 0)
            check_loads(j);
        bool again = rc != 0;
        struct op **pp = list;
        while (*pp) {
            struct op *op = *pp;
            const redisReply *bad;
            int k = op_replies(j, op, &bad);
            if (k == RP_NOSCRIPT)
                j->need_load = true;
            if (k == RP_BUSY) {
                again = true;
                snprintf(err, sizeof err, "%s", bad->str);
            }
            if (k >= RP_BUSY) {
                pp = &op->next;
                continue;
            }
            *pp = op->next;
            op_finish(j, op, k == RP_ERROR ? -EPROTO : 0, k == RP_ERROR ? bad->str : "");
        }
        if (!*list)
            return 0;
        if (!again)
            continue; /* only NOSCRIPT: resend at once, the loads in front */
        if (!first_fail)
            first_fail = t0;
        int64_t now = acr_now();
        if (now - first_fail >= j->timeout)
            return job_fatal(j, ACR_ECONNECT, "%s: Redis unreachable for %.1f s: %s", j->where,
                             (double)(now - first_fail) / ACR_SEC, err[0] ? err : acr_strerror(rc));
        rc = acr_sleep_until(min64(now + backoff, first_fail + j->timeout));
        if (rc == ACR_ECANCELED)
            return rc;
        backoff = min64(backoff * 2, BACKOFF_MAX);
    }
}

/* Takes the next batch's ops off the queue, in order. */
static struct op *take_batch(acr_dist *j)
{
    struct op *list = j->head, *last = NULL;
    size_t n = 0, bytes = 0;
    for (struct op *op = j->head; op && n < BATCH_MAX_OPS && (n == 0 || bytes + op->len <= BATCH_MAX_BYTES);
         op = op->next) {
        last = op;
        n++;
        bytes += op->len;
        if (op->wait)
            j->nwaiting--;
    }
    j->head = last->next;
    if (!j->head)
        j->tail = NULL;
    last->next = NULL;
    return list;
}

static void fail_list(acr_dist *j, struct op *list, int rc)
{
    while (list) {
        struct op *next = list->next;
        op_finish(j, list, rc, j->fatal_msg);
        list = next;
    }
}

#define LINGER (1 * ACR_MSEC)     /* how long buffered ops wait for company */
#define LINGER_OPS 256              /* ... unless there are this many */

static int pipe_main(void *arg)
{
    acr_dist *j = arg;
    int rc = 0;
    while (!j->fatal) {
        if (!j->head) {
            rc = acr_cond_wait(j->work, ACR_FOREVER);
            if (rc == ACR_ECANCELED)
                break;
            continue;
        }
        /* Only buffered ops (enqueues, acks): wait a moment for more, so that a batch
         * carries many pages' worth instead of one; an op that waits for its reply
         * (a pull, a confirm) ends the wait. */
        int64_t until = acr_now() + LINGER;
        while (!j->fatal && j->nwaiting == 0 && j->nbuffered < LINGER_OPS && acr_now() < until) {
            rc = acr_cond_wait(j->work, until);
            if (rc == ACR_ECANCELED)
                break;
        }
        if (rc == ACR_ECANCELED)
            break;
        struct op *list = take_batch(j);
        rc = send_ops(j, &list);
        if (rc != 0) {
            fail_list(j, list, rc);
            if (rc == ACR_ECANCELED)
                break;
        }
    }
    j->pipe_running = false;
    struct op *rest = j->head;
    j->head = j->tail = NULL;
    j->nwaiting = 0;
    fail_list(j, rest, j->fatal ? j->fatal : ACR_ECANCELED);
    wake_all(j);
    job_unref(j);
    return 0;
}

/* ---- replies ---- */

static const redisReply *elem(const redisReply *r, size_t i)
{
    return r && r->type == REDIS_REPLY_ARRAY && i < r->elements ? r->element[i] : NULL;
}

/* An integer reply, or a decimal string (HMGET, Lua numbers as strings); 0 else. */
static long long num(const redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        return strtoll(r->str, NULL, 10);
    return 0;
}

static double dnum(const redisReply *r)
{
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        return strtod(r->str, NULL);
    return (double)num(r);
}

static bool is_str(const redisReply *r) { return r && r->type == REDIS_REPLY_STRING; }

/* ---- held entries ---- */

static void kick_beat(acr_dist *j)
{
    j->kicked = true;
    acr_cond_signal(j->kick);
}

/* A shard kept only to be emptied and now empty (no entry held, no request in
 * flight): given back to its worker at once. */
static void kick_if_emptied(acr_dist *j, unsigned s)
{
    if (j->leased && j->leased[s] == KEEP && !j->held_in[s] && !j->busy_in[s])
        kick_beat(j);
}

static unsigned shard_of(const acr_dist *j, const char *origin)
{
    return (unsigned)(acr__hash64(origin, strlen(origin)) % j->shards);
}

static void held_link(acr_dist *j, struct held *h)
{
    h->j = j;
    h->prev = NULL;
    h->next = j->held;
    if (j->held)
        j->held->prev = h;
    j->held = h;
    j->nheld++;
    j->held_in[h->e.shard]++;
}

static void held_unlink(struct held *h)
{
    acr_dist *j = h->j;
    if (!j)
        return;
    if (h->prev)
        h->prev->next = h->next;
    else
        j->held = h->next;
    if (h->next)
        h->next->prev = h->prev;
    j->nheld--;
    j->held_in[h->e.shard]--;
    kick_if_emptied(j, h->e.shard);
    h->j = NULL;
    h->prev = h->next = NULL;
}

/* Every held entry stays valid for its caller, but the job forgets it. */
static void held_detach_all(acr_dist *j)
{
    while (j->held)
        held_unlink(j->held);
}

void acr_dist_entry_free(acr_dist_entry *e)
{
    if (!e)
        return;
    struct held *h = (struct held *)e;
    held_unlink(h);
    free(e->url);
    free(e->origin);
    free(e->parent);
    free(h);
}

static char *field_dup(const redisReply *v)
{
    return is_str(v) ? acr_strndup(v->str, v->len) : NULL;
}

/* An entry of the pull script's reply: {shard, deliveries, id, fields}. NULL on
 * -ENOMEM. An entry without url or origin (not written by acrawl) comes out as
 * poison, so that it is recorded and acked rather than taken over for ever. */
static struct held *entry_parse(const acr_dist *j, const redisReply *r)
{
    struct held *h = acr_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    acr_dist_entry *e = &h->e;
    long long shard = num(elem(r, 0));
    e->shard = shard >= 0 && (unsigned long long)shard < j->shards ? (unsigned)shard : 0;
    e->deliveries = (unsigned)num(elem(r, 1));
    const redisReply *id = elem(r, 2);
    if (is_str(id))
        snprintf(e->id, sizeof e->id, "%s", id->str);
    const redisReply *f = elem(r, 3);
    bool oom = false;
    for (size_t i = 0; f && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (!is_str(k) || k->len != 1)
            continue;
        char **slot = k->str[0] == 'u' ? &e->url : k->str[0] == 'o' ? &e->origin : k->str[0] == 'p' ? &e->parent : NULL;
        if (slot && !*slot) {
            *slot = field_dup(v);
            oom |= !*slot && is_str(v);
        } else if (k->str[0] == 'd') {
            e->depth = (unsigned)num(v);
        } else if (k->str[0] == 'v') {
            e->via = (unsigned)num(v);
        } else if (k->str[0] == 'm') {
            e->sitemap = num(v) == 1;
        }
    }
    e->poison = j->cfg.max_deliveries && e->deliveries > j->cfg.max_deliveries;
    e->ended_elsewhere = j->ended[e->shard];
    if (!e->url || !e->origin) {
        e->poison = true;
        if (!e->url)
            e->url = acr_strdup("");
        if (!e->origin)
            e->origin = acr_strdup("");
        oom |= !e->url || !e->origin;
    }
    if (oom) {
        acr_dist_entry_free(e);
        return NULL;
    }
    return h;
}

/* ---- leases and the heartbeat ---- */

static int64_t beat_every(const acr_dist *j) { return min64(j->claim_idle / 3, HEARTBEAT_MAX); }

static void key_prefix(const acr_dist *j, char *b, size_t n, const char *what)
{
    snprintf(b, n, "%s%s", j->pre, what);
}

/* One S_MOVE per shard where the job holds entries: to target with idle_ms. */
static void add_moves(acr_dist *j, struct op *op, const char *target, long long idle_ms)
{
    for (unsigned s = 0; s < j->shards; s++) {
        if (!j->held_in[s])
            continue;
        op_cmd(op, S_MOVE, 1);
        op_skey(op, j, "q:", s);
        op_str(op, j->worker);
        op_str(op, target);
        op_fmt(op, "%lld", idle_ms);
        for (struct held *h = j->held; h; h = h->next) {
            if (h->e.shard == s)
                op_str(op, h->e.id);
        }
    }
}

static struct op *beat_op(acr_dist *j)
{
    struct op *op = op_new(true);
    if (!op)
        return NULL;
    int64_t now = acr_now();
    if (now > j->beat_at)
        j->rate = (double)(j->pages - j->pages_beat) * ACR_SEC / (double)(now - j->beat_at);
    j->pages_beat = j->pages;
    j->beat_at = now;
    char pre[200];
    key_prefix(j, pre, sizeof pre, "lease:");
    op_cmd(op, S_BEAT, 5);
    op_key(op, j, "workers");
    op_key(op, j, "w:%s", j->worker);
    op_key(op, j, "drain");
    op_key(op, j, "joins");
    op_key(op, j, "released");
    op_str(op, j->worker);
    op_fmt(op, "%lld", (long long)(j->claim_idle / ACR_MSEC));
    op_fmt(op, "%u", j->shards);
    op_fmt(op, "%" PRIu64, j->pages);
    op_fmt(op, "%zu", j->nheld);
    op_fmt(op, "%.3f", j->rate);
    op_str(op, pre);
    key_prefix(j, pre, sizeof pre, "q:");
    op_str(op, pre);
    op_uint(op, j->owed);
    for (unsigned s = 0; s < j->shards; s++) {
        if (j->held_in[s] || j->busy_in[s])
            op_uint(op, s); /* kept (only to be emptied, if not this worker's) */
    }
    add_moves(j, op, j->worker, 0);
    return op;
}

/* The beat's reply: the shards now leased (to pull from, or only to empty), the
 * drain flag, the shards owed, those just taken and when their last holder let go. */
static void beat_apply(acr_dist *j, const struct op *op)
{
    const redisReply *r = op->rep[0];
    bool gained = false, unfed = false;
    for (int k = 0; k < 2; k++) {
        const redisReply *l = elem(r, k ? 4 : 0);
        for (size_t i = 0; l && i < l->elements; i++) {
            long long s = num(l->element[i]);
            if (s < 0 || (unsigned long long)s >= j->shards)
                continue;
            gained |= !k && j->leased[s] != FEED;
            unfed |= k && j->leased[s] == FEED; /* kept only to be emptied now */
            j->leased[s] = k ? KEEP_NOW : FEED_NOW;
        }
    }
    for (unsigned s = 0; s < j->shards; s++) {
        unfed |= j->leased[s] == FEED; /* lost */
        if (j->leased[s] == FEED || j->leased[s] == KEEP)
            j->st.lost_leases++;
        j->leased[s] = j->leased[s] == FEED_NOW ? FEED : j->leased[s] == KEEP_NOW ? KEEP : 0;
    }
    j->renewed = op->sent;
    /* --drain stores when it was asked (Redis's clock): it stops the workers that
     * were there then, not those started after it to go on */
    if (j->joined_ms == 0)
        j->joined_ms = num(elem(r, 5));
    if (num(elem(r, 3)) > j->joined_ms)
        j->draining = true;
    j->owed = (unsigned)num(elem(r, 6));
    /* A shard taken from a worker that released it: its origins keep their delay
     * from then. Redis's clock is turned into ours by the age it gives, counted from
     * now (the reply is later than the script ran: the delay only grows). */
    const redisReply *tk = elem(r, 8);
    int64_t now = acr_now();
    for (size_t i = 0; tk && i < tk->elements; i++) {
        long long s = num(elem(tk->element[i], 0)), rel = num(elem(tk->element[i], 1));
        if (s < 0 || (unsigned long long)s >= j->shards)
            continue;
        long long age = num(elem(r, 5)) - rel;
        /* a release "after" the beat: Redis's clock went back (a failover): now */
        j->ended[s] = rel <= 0 ? 0 : age >= 0 ? now - (int64_t)age * ACR_MSEC : now;
    }
    j->beat_soon = j->owed > 0 || (elem(r, 4) && elem(r, 4)->elements > 0);
    j->joins = num(elem(r, 7));
    if (unfed)
        j->unfed++; /* the crawl gives back what it queued of them and has not started */
    if (gained)
        j->scan_due = true;
    if (gained || unfed)
        wake_pull(j);
}

static int beat(acr_dist *j)
{
    struct op *op = beat_op(j);
    if (!op)
        return -ENOMEM;
    int rc = submit_wait(j, op, ACR_FOREVER);
    if (rc == -EPROTO)
        return job_fatal(j, rc, "%s: the heartbeat failed: %s", j->where, j->last_err);
    if (rc != 0)
        return rc;
    beat_apply(j, op);
    op_free(op);
    return 0;
}

/* Beats every beat_every; sooner (BEAT_SOON) while shards are owed to this worker
 * or kept by it only to be emptied; at once (BEAT_GAP after the last) when kicked: a
 * kept shard emptied, or a pull saw a worker join or leave. */
static int beat_main(void *arg)
{
    acr_dist *j = arg;
    int64_t last = acr_now();
    while (!j->fatal) {
        int64_t next = last + (j->beat_soon ? BEAT_SOON : beat_every(j));
        while (!j->kicked && acr_now() < next) {
            if (acr_cond_wait(j->kick, next) == ACR_ECANCELED)
                goto out;
        }
        if (j->kicked && acr_sleep_until(last + BEAT_GAP) == ACR_ECANCELED)
            break;
        j->kicked = false;
        last = acr_now();
        if (beat(j) == ACR_ECANCELED)
            break;
    }
out:
    job_unref(j);
    return 0;
}

void acr_dist_origin_busy(acr_dist *j, const char *origin, int delta)
{
    if (!j || !j->cfg.worker || !j->busy_in)
        return;
    unsigned s = shard_of(j, origin);
    if (delta < 0 && j->busy_in[s] == 0)
        return;
    j->busy_in[s] += (unsigned)delta;
    kick_if_emptied(j, s);
}

bool acr_dist_feeding(const acr_dist *j, unsigned shard) { return shard < j->shards && j->leased[shard] == FEED; }

uint64_t acr_dist_unfed(const acr_dist *j) { return j->unfed; }

bool acr_dist_may_start(const acr_dist *j, unsigned shard)
{
    if (j->fatal || j->left || shard >= j->shards || !j->leased[shard])
        return false;
    return acr_now() < j->renewed + j->claim_idle - j->claim_idle / 4;
}

/* ---- open, leave, free ---- */

static bool name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len < 1 || len > 100)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int make_worker_id(acr_dist *j)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    unsigned char r[2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -errno;
    snprintf(j->worker, sizeof j->worker, "%s:%ld:%02x%02x", host, (long)getpid(), r[0], r[1]);
    return 0;
}

/* The first connection, retried with backoff until the timeout. */
static int connect_first(acr_dist *j, char *err, size_t errlen)
{
    int64_t end = acr_now() + j->timeout, backoff = BACKOFF_FIRST;
    char e[256] = "";
    for (;;) {
        int rc = acr_redis_open(&j->r, &j->addr, end, e, sizeof e);
        if (rc == 0)
            return 0;
        if (rc == -EACCES || rc == -EINVAL || rc == -ENOMEM || rc == ACR_ECANCELED || rc == ACR_ENOTASK)
            return acr__errf(err, errlen, rc, "%s: %s", j->where, e);
        int64_t now = acr_now();
        if (now >= end)
            return acr__errf(err, errlen, ACR_ETIMEOUT, "%s: Redis unreachable for %.1f s: %s", j->where,
                        (double)j->timeout / ACR_SEC, e);
        if (acr_sleep_until(min64(now + backoff, end)) == ACR_ECANCELED)
            return acr__errf(err, errlen, ACR_ECANCELED, "%s: cancelled while connecting", j->where);
        backoff = min64(backoff * 2, BACKOFF_MAX);
    }
}

/* A worker creates the job or joins it with the same options; a client finds it. */
static int bind_job(acr_dist *j, char *err, size_t errlen)
{
    struct op *op = op_new(true);
    if (!op)
        return -ENOMEM;
    if (j->options) {
        op_cmd(op, S_CREATE, 2);
        op_key(op, j, "options");
        op_key(op, j, "meta");
        op_str(op, j->options);
        op_fmt(op, "%u", j->cfg.shards ? j->cfg.shards : DEFAULT_SHARDS);
        op_key(op, j, "q:");
    } else {
        op_cmd(op, -1, 0);
        op_str(op, "GET");
        op_key(op, j, "options");
        op_cmd(op, -1, 0);
        op_str(op, "HGET");
        op_key(op, j, "meta");
        op_str(op, "shards");
    }
    int rc = submit_wait(j, op, ACR_FOREVER);
    if (rc != 0)
        return acr__errf(err, errlen, rc, "%s", j->fatal ? j->fatal_msg : j->last_err);
    const redisReply *stored = j->options ? elem(op->rep[0], 2) : op->rep[0];
    long long shards = num(j->options ? elem(op->rep[0], 1) : op->rep[1]);
    if (!is_str(stored))
        rc = acr__errf(err, errlen, -ENOENT, "%s: no such job", j->where);
    else if (shards < 1 || shards > MAX_SHARDS)
        rc = acr__errf(err, errlen, -EPROTO, "%s: the job's shard count (%lld) is not acrawl's", j->where, shards);
    else if (j->options) {
        char subject[160];
        snprintf(subject, sizeof subject, "job %s", j->name);
        rc = acr__optdiff(stored->str, stored->len, j->options, strlen(j->options), subject, "started", OPT_ADVICE, err,
                          errlen);
    }
    j->shards = (unsigned)shards;
    op_free(op);
    return rc;
}

static int spawn_task(acr_dist *j, acr_task **t, acr_task_fn *fn, const char *name)
{
    int rc = acr_spawn(NULL, t, fn, j);
    if (rc != 0)
        return rc;
    acr_task_set_name(*t, name);
    j->refs++;
    return 0;
}

static int job_init(acr_dist *j, const acr_dist_cfg *cfg, char *err, size_t errlen)
{
    j->cfg = *cfg;
    j->refs = 1;
    j->claim_idle = cfg->claim_idle > 0 ? cfg->claim_idle : DEFAULT_CLAIM_IDLE;
    j->timeout = cfg->timeout > 0 ? cfg->timeout : DEFAULT_TIMEOUT;
    snprintf(j->scopever, sizeof j->scopever, "none");
    acr__fpset_init(&j->scope_seen);
    if (!name_ok(cfg->name))
        return acr__errf(err, errlen, -EINVAL, "--job %s: a job name is 1 to 100 of A-Z a-z 0-9 . _ -",
                    cfg->name ? cfg->name : "(none)");
    int rc = acr_redis_parse_url(cfg->url ? cfg->url : "", &j->addr, err, errlen);
    if (rc != 0)
        return rc;
    snprintf(j->pre, sizeof j->pre, "acrawl:{%s}:", cfg->name);
    j->lpre = strlen(j->pre);
    snprintf(j->k_seen, sizeof j->k_seen, "%sseen", j->pre);
    snprintf(j->k_ctr, sizeof j->k_ctr, "%sctr", j->pre);
    snprintf(j->k_records, sizeof j->k_records, "%srecords", j->pre);
    snprintf(j->k_hosts, sizeof j->k_hosts, "%shosts", j->pre);
    snprintf(j->where, sizeof j->where, "job %s on redis %s%s%s:%u", cfg->name, strchr(j->addr.host, ':') ? "[" : "",
             j->addr.host, strchr(j->addr.host, ':') ? "]" : "", j->addr.port);
    j->name = acr_strdup(cfg->name);
    j->options = cfg->options ? acr_strdup(cfg->options) : NULL;
    j->work = acr_cond_new();
    j->replied = acr_cond_new();
    j->room = acr_cond_new();
    j->wake = acr_cond_new();
    j->kick = acr_cond_new();
    j->batch = acr_redis_batch_new();
    if (!j->name || (cfg->options && !j->options) || !j->work || !j->replied || !j->room || !j->wake || !j->kick ||
        !j->batch)
        return acr__errf(err, errlen, -ENOMEM, "%s: out of memory", j->where);
    j->need_load = true;
    j->cfg.url = j->cfg.name = j->cfg.options = NULL; /* not ours to keep */
    return 0;
}

/* The worker's part: its id, its lease tables, a first beat, the heartbeat task. */
static int worker_start(acr_dist *j, char *err, size_t errlen)
{
    int rc = make_worker_id(j);
    if (rc != 0)
        return acr__errf(err, errlen, rc, "%s: getrandom: %s", j->where, strerror(-rc));
    j->leased = acr_calloc(j->shards, 1);
    j->held_in = acr_calloc(j->shards, sizeof *j->held_in);
    j->busy_in = acr_calloc(j->shards, sizeof *j->busy_in);
    j->ended = acr_calloc(j->shards, sizeof *j->ended);
    if (!j->leased || !j->held_in || !j->busy_in || !j->ended)
        return acr__errf(err, errlen, -ENOMEM, "%s: out of memory", j->where);
    j->beat_at = acr_now();
    rc = beat(j);
    if (rc != 0)
        return acr__errf(err, errlen, rc, "%s", j->fatal ? j->fatal_msg : acr_strerror(rc));
    rc = spawn_task(j, &j->beat, beat_main, "job heartbeat");
    return rc ? acr__errf(err, errlen, rc, "%s: %s", j->where, acr_strerror(rc)) : 0;
}

int acr_dist_open(acr_dist **out, const acr_dist_cfg *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    if (!acr_task_self())
        return acr__errf(err, errlen, ACR_ENOTASK, "acr_dist_open must run in a task");
    acr_dist *j = acr_calloc(1, sizeof *j);
    if (!j)
        return acr__errf(err, errlen, -ENOMEM, "out of memory");
    int rc = job_init(j, cfg, err, errlen);
    if (rc == 0)
        rc = connect_first(j, err, errlen);
    if (rc == 0) {
        acr_redis_stats st;
        acr_redis_stats_get(j->r, &st);
        j->reconnects_seen = st.reconnects;
        rc = spawn_task(j, &j->pipe, pipe_main, "job pipeline");
        if (rc != 0)
            acr__errf(err, errlen, rc, "%s: %s", j->where, acr_strerror(rc));
        j->pipe_running = rc == 0;
    }
    if (rc == 0)
        rc = bind_job(j, err, errlen);
    if (rc == 0 && cfg->worker)
        rc = worker_start(j, err, errlen);
    if (rc == ACR_ECONNECT)
        rc = ACR_ETIMEOUT; /* lost during the open: as if never reached */
    if (rc != 0) {
        acr_dist_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

static void stop_task(acr_task **t)
{
    if (!*t)
        return;
    acr_task_cancel(*t);
    if (acr_task_self()) {
        int was = acr_shield(1);
        acr_task_join(*t, ACR_FOREVER, NULL);
        acr_shield(was);
    }
    acr_task_unref(*t);
    *t = NULL;
}

void acr_dist_leave(acr_dist *j, int64_t deadline)
{
    if (!j || !j->cfg.worker || j->left)
        return;
    stop_task(&j->beat); /* no beat may take a lease back after this */
    j->left = true;
    if (!j->fatal) {
        struct op *op = op_new(true);
        char pre[200];
        key_prefix(j, pre, sizeof pre, "lease:");
        if (op) {
            add_moves(j, op, FREE_CONSUMER, j->claim_idle / ACR_MSEC);
            op_cmd(op, S_LEAVE, 4);
            op_key(op, j, "workers");
            op_key(op, j, "w:%s", j->worker);
            op_key(op, j, "joins");
            op_key(op, j, "released");
            op_str(op, j->worker);
            op_str(op, pre);
            op_fmt(op, "%u", j->shards);
            /* After every buffered op (FIFO): flushed first. */
            int64_t limit = acr_deadline_in(j->timeout);
            if (submit_wait(j, op, deadline < limit ? deadline : limit) == 0)
                op_free(op);
        }
    }
    held_detach_all(j);
    memset(j->leased, 0, j->shards);
    wake_pull(j);
}

void acr_dist_close(acr_dist *j)
{
    if (!j)
        return;
    stop_task(&j->beat);
    stop_task(&j->pipe);
    held_detach_all(j);
    job_unref(j);
}

const char *acr_dist_worker_id(const acr_dist *j) { return j->worker; }

/* ---- queueing ---- */

/* Buffered calls wait here while too much is buffered. 0, or the fatal error. */
static int room(acr_dist *j)
{
    while (j->buffered > BUFFER_MAX && !j->fatal) {
        int rc = acr_cond_wait(j->room, ACR_FOREVER);
        if (rc != 0)
            return rc;
    }
    return j->fatal;
}

static int usable(const acr_dist *j)
{
    if (j->fatal)
        return j->fatal;
    return j->left || !j->pipe_running ? ACR_ECANCELED : 0;
}

static void enqueued_hook(acr_dist *j, const redisReply *r)
{
    if (num(r) == 2)
        j->st.host_capped++;
    if (num(r) == 1) {
        j->st.enqueued++;
        /* a pull waiting for work asks again now rather than after PULL_POLL: a
         * crawl's next pages are most often the links its own pages just found */
        wake_pull(j);
    }
}

int acr_dist_enqueue(acr_dist *j, const acr_dist_url *u)
{
    int rc = usable(j);
    if (rc == 0)
        rc = room(j);
    if (rc != 0)
        return rc;
    uint64_t fp = acr__hash64(u->url, strlen(u->url));
    unsigned char fpb[8];
    for (int i = 0; i < 8; i++)
        fpb[i] = (unsigned char)(fp >> (8 * i));
    unsigned shard = shard_of(j, u->origin);
    struct op *op = op_new(false);
    if (!op)
        return -ENOMEM;
    op->hook = enqueued_hook;
    op->merge = M_ENQUEUE;
    op_cmd(op, S_ENQUEUE, 0);
    op_skey(op, j, "q:", shard);
    op_arg(op, fpb, sizeof fpb);
    op_str(op, u->url);
    op_str(op, u->origin);
    op_str(op, u->parent ? u->parent : "");
    op_uint(op, u->depth);
    op_uint(op, u->via);
    op_str(op, u->sitemap ? "1" : "0");
    op_str(op, u->host ? u->host : "");
    return submit(j, op);
}

int acr_dist_scope_add(acr_dist *j, const char *item)
{
    int rc = usable(j);
    if (rc == 0)
        rc = room(j);
    if (rc != 0)
        return rc;
    struct op *op = op_new(false);
    if (!op)
        return -ENOMEM;
    op_cmd(op, S_SCOPE, 2);
    op_key(op, j, "scope");
    op_key(op, j, "scopever");
    op_str(op, item);
    return submit(j, op);
}

/* ---- pulling ---- */

static void reverse(unsigned *a, size_t from, size_t to)
{
    while (from + 1 < to) {
        unsigned t = a[from];
        a[from++] = a[--to];
        a[to] = t;
    }
}

/* The shards to pull from: those leased and this worker's by the rendezvous (one
 * kept only to be given back is emptied, not fed), rotated so that every shard gets
 * its turn at the front. */
static size_t pull_shards(acr_dist *j, unsigned *out)
{
    size_t n = 0;
    for (unsigned s = 0; s < j->shards; s++) {
        if (j->leased[s] == FEED)
            out[n++] = s;
    }
    if (n > 1) {
        size_t k = j->rot++ % n;
        reverse(out, 0, k);
        reverse(out, k, n);
        reverse(out, 0, n);
    }
    return n;
}

static struct op *pull_op(acr_dist *j, size_t max)
{
    unsigned *sh = acr_malloc((j->shards ? j->shards : 1) * sizeof *sh);
    struct op *op = op_new(true);
    if (!sh || !op) {
        free(sh);
        op_free(op);
        return NULL;
    }
    size_t n = pull_shards(j, sh);
    op_cmd(op, S_PULL, (unsigned)(4 + 2 * n));
    op_key(op, j, "ctr");
    op_key(op, j, "scopever");
    op_key(op, j, "scope");
    op_key(op, j, "joins");
    for (size_t i = 0; i < n; i++) {
        op_skey(op, j, "q:", sh[i]);
        op_skey(op, j, "lease:", sh[i]);
    }
    op_str(op, j->worker);
    op_fmt(op, "%lld", (long long)(j->claim_idle / ACR_MSEC));
    op_fmt(op, "%zu", max);
    op_str(op, j->scopever);
    /* Entries handed back or left idle by a dead worker are looked for once a beat,
     * and at once after a lease is gained: not on every pull (they cost a scan of
     * each shard's pending list). */
    int64_t now = acr_now();
    bool scan = j->scan_due || now - j->scan_at >= beat_every(j);
    if (scan) {
        j->scan_at = now;
        j->scan_due = false;
    }
    op_str(op, scan ? "1" : "0");
    for (size_t i = 0; i < n; i++)
        op_uint(op, sh[i]);
    free(sh);
    return op;
}

static int take_scope(acr_dist *j, const redisReply *sv, const redisReply *members, acr_dist_scope_fn *scope, void *arg)
{
    for (size_t i = 0; members && members->type == REDIS_REPLY_ARRAY && i < members->elements; i++) {
        const redisReply *m = members->element[i];
        if (!is_str(m))
            continue;
        int rc = acr__fpset_add(&j->scope_seen, acr__hash64(m->str, m->len));
        if (rc < 0)
            return rc;
        if (rc == 1 && scope)
            scope(arg, m->str);
    }
    if (is_str(sv))
        snprintf(j->scopever, sizeof j->scopever, "%s", sv->str);
    return 0;
}

/* The pull script's reply into out; *complete when the job is, *elsewhere when
 * pages are queued or in flight in other workers' shards. after: whether buffered
 * ops were queued after the pull (its counters miss them: an enqueue behind it in
 * the same batch would look complete). */
static int take_pull(acr_dist *j, const redisReply *r, acr_dist_scope_fn *scope, void *arg, acr_dist_entry **out,
                     size_t max, size_t *n, bool after, bool *complete, bool *elsewhere)
{
    int rc = take_scope(j, elem(r, 0), elem(r, 1), scope, arg);
    if (rc != 0)
        return rc;
    const redisReply *es = elem(r, 2);
    for (size_t i = 0; es && i < es->elements && *n < max; i++) {
        struct held *h = entry_parse(j, es->element[i]);
        if (!h)
            return -ENOMEM; /* the rest stay pending for this worker: reclaimed later */
        held_link(j, h);
        out[(*n)++] = &h->e;
    }
    j->st.pulled += *n;
    j->st.reclaimed += (uint64_t)num(elem(r, 3));
    if (j->joins && num(elem(r, 5)) != j->joins) {
        j->joins = num(elem(r, 5)); /* once: the beat updates it too */
        kick_beat(j); /* a worker joined or left: share the shards out now */
    }
    const redisReply *c = elem(r, 4);
    long long queued = num(elem(c, 0));
    long long settled = num(elem(c, 1)) + num(elem(c, 2)) + num(elem(c, 3));
    *complete = *n == 0 && queued > 0 && settled >= queued && j->nheld == 0 && j->nbuffered == 0 && !after;
    *elsewhere = queued - settled > (long long)j->nheld;
    return 0;
}

int acr_dist_pull(acr_dist *j, size_t max, int64_t deadline, acr_dist_scope_fn *scope, void *arg,
                 acr_dist_entry **out, size_t *n)
{
    *n = 0;
    if (max == 0 || !j->cfg.worker)
        return -EINVAL;
    for (;;) {
        int rc = usable(j);
        if (rc != 0)
            return rc;
        struct op *op = pull_op(j, max);
        if (!op)
            return -ENOMEM;
        uint64_t wakes = j->wakes, submitted = j->nsubmitted, unfed = j->unfed;
        /* Not bounded by deadline: entries read by an abandoned pull would wait
         * claim_idle. The pipeline bounds it by the timeout. */
        rc = submit_wait(j, op, ACR_FOREVER);
        if (rc != 0)
            return rc;
        bool complete, elsewhere = false;
        rc = take_pull(j, op->rep[0], scope, arg, out, max, n, j->nsubmitted != submitted, &complete, &elsewhere);
        for (size_t i = 0; i < *n; i++)
            ((struct held *)out[i])->pulled_at = op->sent;
        op_free(op);
        if (rc != 0 || *n > 0)
            return rc;
        if (complete)
            return ACR_EEMPTY;
        int64_t now = acr_now();
        if (elsewhere && now - j->dry_at >= DRY_BEAT) {
            j->dry_at = now;
            kick_beat(j); /* nothing in this worker's shards but work in others': share */
        }
        if (now >= deadline)
            return ACR_ETIMEOUT;
        if (j->unfed != unfed)
            return ACR_ETIMEOUT; /* the caller has entries to give back first */
        if (j->wakes != wakes)
            continue; /* work came while the reply was on its way: ask again now */
        rc = acr_cond_wait(j->wake, min64(deadline, now + PULL_POLL));
        if (rc == ACR_ECANCELED)
            return rc;
    }
}

/* ---- confirm, ack, release ---- */

int acr_dist_confirm(acr_dist *j, const acr_dist_entry *e)
{
    int rc = usable(j);
    if (rc != 0)
        return rc;
    /* Delivered less than half claim_idle ago (Redis's idle time counts from the
     * delivery, which came after the pull was sent): no one can have taken it over,
     * since that needs it idle for claim_idle. The monotonic clock runs on while the
     * process is stopped, so a pause past that asks Redis. */
    const struct held *h = (const struct held *)e;
    if (h->pulled_at > 0 && acr_now() - h->pulled_at < j->claim_idle / 2)
        return 1;
    struct op *op = op_new(true);
    if (!op)
        return -ENOMEM;
    op_cmd(op, S_CONFIRM, 1);
    op_skey(op, j, "q:", e->shard);
    op_str(op, j->worker);
    op_str(op, e->id);
    rc = submit_wait(j, op, ACR_FOREVER);
    if (rc != 0)
        return rc;
    rc = num(op->rep[0]) == 1;
    op_free(op);
    return rc;
}

static void acked_hook(acr_dist *j, const redisReply *r)
{
    if (num(r) == 1)
        j->st.acked++;
    if (j->nbuffered <= 1) /* the last ack out: a waiting pull may find the job complete */
        wake_pull(j);
}

static int ack(acr_dist *j, acr_dist_entry *e, bool failed, const char *record, size_t len, bool may_wait)
{
    int rc = usable(j);
    if (rc == 0 && may_wait)
        rc = room(j);
    if (rc != 0) {
        acr_dist_entry_free(e);
        return rc;
    }
    struct op *op = op_new(false);
    if (!op) {
        acr_dist_entry_free(e);
        return -ENOMEM;
    }
    op->hook = acked_hook;
    op->merge = M_ACK;
    op_cmd(op, S_ACK, 0);
    op_skey(op, j, "q:", e->shard);
    op_str(op, e->id);
    op_str(op, e->poison ? "poison" : failed ? "failed" : "done");
    char fp[16];
    uint64_t h = acr__hash64(e->url, strlen(e->url));
    for (int i = 15; i >= 0; i--, h >>= 4)
        fp[i] = "0123456789abcdef"[h & 15];
    op_arg(op, fp, sizeof fp);
    bool rec = j->cfg.records && record;
    op_str(op, rec ? "1" : "0");
    op_arg(op, rec ? record : "", rec ? len : 0);
    j->pages++;
    acr_dist_entry_free(e);
    return submit(j, op);
}

int acr_dist_ack(acr_dist *j, acr_dist_entry *e, bool failed, const char *record, size_t len)
{
    return ack(j, e, failed, record, len, true);
}

int acr_dist_ack_dropped(acr_dist *j, acr_dist_entry *e) { return ack(j, e, false, NULL, 0, false); }

void acr_dist_release(acr_dist *j, acr_dist_entry *e)
{
    (void)j;
    acr_dist_entry_free(e);
}

void acr_dist_hand_back(acr_dist *j, acr_dist_entry *e)
{
    if (usable(j) == 0) {
        struct op *op = op_new(false);
        if (op) {
            op_cmd(op, S_MOVE, 1);
            op_skey(op, j, "q:", e->shard);
            op_str(op, j->worker);
            op_str(op, FREE_CONSUMER);
            op_fmt(op, "%lld", (long long)(j->claim_idle / ACR_MSEC));
            op_str(op, e->id);
            submit(j, op); /* on failure the entry waits claim_idle instead */
        }
    }
    acr_dist_entry_free(e);
}

/* ---- the job's --max-pages ---- */

long long acr_dist_quota(acr_dist *j, unsigned long long max, unsigned want)
{
    int rc = usable(j);
    if (rc != 0)
        return rc;
    struct op *op = op_new(true);
    if (!op)
        return -ENOMEM;
    op_cmd(op, S_QUOTA, 2);
    op_key(op, j, "ctr");
    op_key(op, j, "returned");
    op_uint(op, max);
    op_uint(op, want);
    op_str(op, j->worker);
    /* Not cancelled half way: a grant whose reply were dropped would be lost to the
     * job; this way the caller has it, and gives back what it does not use. */
    int was = acr_shield(1);
    rc = submit_wait(j, op, ACR_FOREVER);
    acr_shield(was);
    if (rc != 0)
        return rc;
    long long grant = num(op->rep[0]);
    op_free(op);
    return grant < 0 ? 0 : grant;
}

void acr_dist_quota_return(acr_dist *j, unsigned long long n)
{
    if (n == 0 || usable(j) != 0)
        return;
    struct op *op = op_new(false);
    if (!op)
        return; /* the job fetches fewer pages than --max-pages */
    op_cmd(op, S_QUOTA, 2);
    op_key(op, j, "ctr");
    op_key(op, j, "returned");
    op_uint(op, 0);
    op_fmt(op, "-%llu", n);
    op_str(op, j->worker);
    submit(j, op);
}

/* ---- robots.txt ---- */

int acr_dist_robots_get(acr_dist *j, const char *origin, int *status, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    int rc = usable(j);
    if (rc != 0)
        return rc;
    struct op *op = op_new(true);
    if (!op)
        return -ENOMEM;
    op_cmd(op, -1, 0);
    op_str(op, "HGET");
    op_key(op, j, "robots");
    op_str(op, origin);
    rc = submit_wait(j, op, ACR_FOREVER);
    if (rc != 0)
        return rc;
    const redisReply *r = op->rep[0];
    const char *nl = is_str(r) ? memchr(r->str, '\n', r->len) : NULL;
    rc = 0;
    if (nl) {
        size_t off = (size_t)(nl + 1 - r->str);
        *status = atoi(r->str);
        *len = r->len - off;
        *body = acr_malloc(*len + 1);
        if (*body) {
            memcpy(*body, nl + 1, *len);
            (*body)[*len] = 0;
            rc = 1;
        } else {
            *len = 0;
            rc = -ENOMEM;
        }
    }
    op_free(op);
    return rc;
}

int acr_dist_robots_put(acr_dist *j, const char *origin, int status, const char *body, size_t len)
{
    int rc = usable(j);
    if (rc == 0)
        rc = room(j);
    if (rc != 0)
        return rc;
    char head[16];
    int lh = snprintf(head, sizeof head, "%d\n", status);
    char *v = acr_malloc((size_t)lh + len + 1);
    struct op *op = op_new(false);
    if (!v || !op) {
        free(v);
        op_free(op);
        return -ENOMEM;
    }
    memcpy(v, head, (size_t)lh);
    if (len)
        memcpy(v + lh, body, len);
    op_cmd(op, -1, 0);
    op_str(op, "HSET");
    op_key(op, j, "robots");
    op_str(op, origin);
    op_arg(op, v, (size_t)lh + len);
    free(v);
    return submit(j, op);
}

/* ---- control ---- */

bool acr_dist_draining(const acr_dist *j) { return j->draining; }

int acr_dist_failed(const acr_dist *j, char *msg, size_t len)
{
    if (j->fatal && msg && len)
        snprintf(msg, len, "%s", j->fatal_msg);
    return j->fatal;
}

/* A client's command: its error worded with the job. */
static int client_wait(acr_dist *j, struct op *op, char *err, size_t errlen)
{
    int rc = submit_wait(j, op, acr_deadline_in(j->timeout));
    if (rc == 0)
        return 0;
    if (j->fatal)
        return acr__errf(err, errlen, rc, "%s", j->fatal_msg);
    if (rc == -EPROTO)
        return acr__errf(err, errlen, rc, "%s: %s", j->where, j->last_err);
    return acr__errf(err, errlen, rc, "%s: %s", j->where, acr_strerror(rc));
}

int acr_dist_drain(acr_dist *j, char *err, size_t errlen)
{
    struct op *op = op_new(true);
    if (!op)
        return acr__errf(err, errlen, -ENOMEM, "out of memory");
    op_cmd(op, S_DRAIN, 1);
    op_key(op, j, "drain");
    int rc = client_wait(j, op, err, errlen);
    if (rc == 0)
        op_free(op);
    return rc;
}

/* ---- status ---- */

struct wstat {
    char *id;
    double age;             /* seconds since its last heartbeat; < 0: not registered */
    bool alive;
    long long inflight, pages;
    double rate;
};

struct status {
    long long queued, done, failed, poison, reclaimed, inflight, handed_back;
    struct wstat *w;
    size_t nw, capw;
    int64_t now_ms;
};

static void status_release(struct status *st)
{
    for (size_t i = 0; i < st->nw; i++)
        free(st->w[i].id);
    free(st->w);
}

static struct wstat *status_worker(struct status *st, const char *id, size_t len)
{
    for (size_t i = 0; i < st->nw; i++) {
        if (strlen(st->w[i].id) == len && memcmp(st->w[i].id, id, len) == 0)
            return &st->w[i];
    }
    unsigned cap = (unsigned)st->capw;
    if (!grow((void **)&st->w, &cap, (unsigned)st->nw + 1, sizeof *st->w))
        return NULL;
    st->capw = cap;
    struct wstat *w = &st->w[st->nw];
    *w = (struct wstat){.id = acr_strndup(id, len), .age = -1};
    if (!w->id)
        return NULL;
    st->nw++;
    return w;
}

/* First round: counters, the workers zset, the server's clock, every shard's
 * pending summary (entries in flight by consumer). */
static int status_counts(acr_dist *j, struct status *st, char *err, size_t errlen)
{
    struct op *op = op_new(true);
    if (!op)
        return acr__errf(err, errlen, -ENOMEM, "out of memory");
    op_cmd(op, -1, 0);
    op_str(op, "HMGET");
    op_key(op, j, "ctr");
    op_str(op, "queued");
    op_str(op, "done");
    op_str(op, "failed");
    op_str(op, "poison");
    op_str(op, "reclaimed");
    op_cmd(op, -1, 0);
    op_str(op, "ZRANGE");
    op_key(op, j, "workers");
    op_str(op, "0");
    op_str(op, "-1");
    op_str(op, "WITHSCORES");
    op_cmd(op, -1, 0);
    op_str(op, "TIME");
    for (unsigned s = 0; s < j->shards; s++) {
        op_cmd(op, -1, 0);
        op_str(op, "XPENDING");
        op_key(op, j, "q:%u", s);
        op_str(op, GROUP);
    }
    int rc = client_wait(j, op, err, errlen);
    if (rc != 0)
        return rc;
    const redisReply *c = op->rep[0], *ws = op->rep[1], *t = op->rep[2];
    st->queued = num(elem(c, 0));
    st->done = num(elem(c, 1));
    st->failed = num(elem(c, 2));
    st->poison = num(elem(c, 3));
    st->reclaimed = num(elem(c, 4));
    st->now_ms = num(elem(t, 0)) * 1000 + num(elem(t, 1)) / 1000;
    for (size_t i = 0; rc == 0 && ws && i + 1 < ws->elements; i += 2) {
        const redisReply *id = ws->element[i];
        struct wstat *w = is_str(id) ? status_worker(st, id->str, id->len) : NULL;
        if (!w)
            rc = -ENOMEM;
        else
            w->age = (double)(st->now_ms - num(ws->element[i + 1])) / 1000.0;
    }
    for (unsigned s = 0; rc == 0 && s < j->shards; s++) {
        const redisReply *cons = elem(op->rep[3 + s], 3);
        for (size_t i = 0; rc == 0 && cons && i < cons->elements; i++) {
            const redisReply *name = elem(cons->element[i], 0);
            long long k = num(elem(cons->element[i], 1));
            if (!is_str(name))
                continue;
            if (strcmp(name->str, FREE_CONSUMER) == 0) {
                st->handed_back += k;
                continue;
            }
            struct wstat *w = status_worker(st, name->str, name->len);
            if (!w)
                rc = -ENOMEM;
            else
                w->inflight += k;
            st->inflight += k;
        }
    }
    op_free(op);
    return rc ? acr__errf(err, errlen, rc, "out of memory") : 0;
}

/* Second round: each worker's own figures; alive by its own claim_idle. */
static int status_workers(acr_dist *j, struct status *st, char *err, size_t errlen)
{
    if (st->nw == 0)
        return 0;
    struct op *op = op_new(true);
    if (!op)
        return acr__errf(err, errlen, -ENOMEM, "out of memory");
    for (size_t i = 0; i < st->nw; i++) {
        op_cmd(op, -1, 0);
        op_str(op, "HMGET");
        op_key(op, j, "w:%s", st->w[i].id);
        op_str(op, "pages");
        op_str(op, "rate");
        op_str(op, "ci");
    }
    int rc = client_wait(j, op, err, errlen);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < st->nw; i++) {
        struct wstat *w = &st->w[i];
        const redisReply *r = op->rep[i];
        w->pages = num(elem(r, 0));
        w->rate = dnum(elem(r, 1));
        long long ci = num(elem(r, 2));
        w->alive = w->age >= 0 && ci > 0 && w->age * 1000 < (double)ci;
        if (!w->alive)
            w->rate = 0;
    }
    op_free(op);
    return 0;
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void status_print(const acr_dist *j, const struct status *st, bool json, FILE *out)
{
    long long queued = st->queued - st->done - st->failed - st->poison;
    size_t alive = 0;
    double rate = 0;
    for (size_t i = 0; i < st->nw; i++) {
        alive += st->w[i].alive;
        rate += st->w[i].rate;
    }
    if (json) {
        fprintf(out, "{\"job\":");
        json_str(out, j->name);
        fprintf(out,
                ",\"queued\":%lld,\"in_flight\":%lld,\"done\":%lld,\"failed\":%lld,\"poison\":%lld,\"reclaimed\":%lld,"
                "\"handed_back\":%lld,\"workers_alive\":%zu,\"pages_per_s\":%.2f,\"workers\":[",
                queued, st->inflight, st->done, st->failed, st->poison, st->reclaimed, st->handed_back, alive, rate);
        for (size_t i = 0; i < st->nw; i++) {
            const struct wstat *w = &st->w[i];
            fprintf(out, "%s{\"id\":", i ? "," : "");
            json_str(out, w->id);
            fprintf(out, ",\"alive\":%s,\"heartbeat_age\":", w->alive ? "true" : "false");
            if (w->age >= 0)
                fprintf(out, "%.1f", w->age);
            else
                fprintf(out, "null");
            fprintf(out, ",\"in_flight\":%lld,\"pages\":%lld,\"pages_per_s\":%.2f}", w->inflight, w->pages, w->rate);
        }
        fprintf(out, "]}\n");
        return;
    }
    fprintf(out, "job %s: %lld queued, %lld in flight, %lld done, %lld failed, %lld poison, %lld reclaimed\n", j->name,
            queued, st->inflight, st->done, st->failed, st->poison, st->reclaimed);
    if (st->handed_back)
        fprintf(out, "  %lld handed back, waiting for a shard holder\n", st->handed_back);
    fprintf(out, "workers: %zu alive, %.1f pages/s\n", alive, rate);
    double last_gone = -1;
    for (size_t i = 0; i < st->nw; i++) {
        const struct wstat *w = &st->w[i];
        if (!w->alive) { /* died without leaving: summed up below, each in -j */
            if (w->age >= 0 && (last_gone < 0 || w->age < last_gone))
                last_gone = w->age;
            continue;
        }
        fprintf(out, "  %s  alive", w->id);
        if (w->age >= 0)
            fprintf(out, ", heartbeat %.1f s ago", w->age);
        fprintf(out, ", %lld in flight, %lld pages, %.1f pages/s\n", w->inflight, w->pages, w->rate);
    }
    if (st->nw > alive) {
        fprintf(out, "  %zu gone without leaving (the last heard of %.1f s ago; their pages are taken over)\n",
                st->nw - alive, last_gone);
    }
}

int acr_dist_status(acr_dist *j, bool json, FILE *out, char *err, size_t errlen)
{
    struct status st = {0};
    int rc = status_counts(j, &st, err, errlen);
    if (rc == 0)
        rc = status_workers(j, &st, err, errlen);
    if (rc == 0) {
        status_print(j, &st, json, out);
        if (fflush(out) != 0)
            rc = acr__errf(err, errlen, -errno, "writing the status: %s", strerror(errno));
    }
    status_release(&st);
    return rc;
}

/* ---- collect ---- */

/* One page of records from after *start: the new ones appended to out; *start moves
 * to the last id; *more when the page was full. */
static int collect_page(acr_dist *j, char *start, size_t startlen, acr__fpset *seen, char **buf, size_t *len,
                        size_t *cap, bool *more, char *err, size_t errlen)
{
    struct op *op = op_new(true);
    if (!op)
        return acr__errf(err, errlen, -ENOMEM, "out of memory");
    op_cmd(op, -1, 0);
    op_str(op, "XRANGE");
    op_key(op, j, "records");
    op_str(op, start);
    op_str(op, "+");
    op_str(op, "COUNT");
    op_fmt(op, "%d", COLLECT_PAGE);
    int rc = client_wait(j, op, err, errlen);
    if (rc != 0)
        return rc;
    const redisReply *r = op->rep[0];
    *more = r && r->elements == COLLECT_PAGE;
    for (size_t i = 0; rc == 0 && r && i < r->elements; i++) {
        const redisReply *e = r->element[i], *id = elem(e, 0), *f = elem(e, 1);
        const redisReply *fp = NULL, *rec = NULL;
        for (size_t k = 0; f && k + 1 < f->elements; k += 2) {
            const redisReply *name = f->element[k];
            if (is_str(name) && strcmp(name->str, "id") == 0)
                fp = f->element[k + 1];
            else if (is_str(name) && strcmp(name->str, "r") == 0)
                rec = f->element[k + 1];
        }
        if (is_str(id))
            snprintf(start, startlen, "(%s", id->str);
        if (!is_str(fp) || !is_str(rec))
            continue;
        int added = acr__fpset_add(seen, strtoull(fp->str, NULL, 16));
        if (added < 0) {
            rc = acr__errf(err, errlen, -ENOMEM, "out of memory");
            break;
        }
        if (!added)
            continue;
        if (*len + rec->len + 1 > *cap) {
            size_t c = *cap ? *cap : 65536;
            while (c < *len + rec->len + 1)
                c *= 2;
            char *b = acr_realloc(*buf, c);
            if (!b) {
                rc = acr__errf(err, errlen, -ENOMEM, "out of memory");
                break;
            }
            *buf = b;
            *cap = c;
        }
        memcpy(*buf + *len, rec->str, rec->len);
        *len += rec->len;
        (*buf)[(*len)++] = '\n';
    }
    op_free(op);
    return rc;
}

int acr_dist_collect(acr_dist *j, int fd, char *err, size_t errlen)
{
    acr__fpset seen;
    acr__fpset_init(&seen);
    char start[64] = "-", *buf = NULL;
    size_t len = 0, cap = 0;
    bool more = true;
    int rc = 0;
    while (rc == 0 && more) {
        len = 0;
        rc = collect_page(j, start, sizeof start, &seen, &buf, &len, &cap, &more, err, errlen);
        if (rc == 0 && len) {
            rc = acr__write_all(fd, buf, len);
            if (rc != 0)
                acr__errf(err, errlen, rc, "writing the records: %s", strerror(-rc));
        }
    }
    free(buf);
    acr__fpset_release(&seen);
    return rc;
}

void acr_dist_stats_get(const acr_dist *j, acr_dist_stats *out)
{
    *out = j->st;
    if (j->r) {
        acr_redis_stats r;
        acr_redis_stats_get(j->r, &r);
        out->commands = r.commands;
        out->batches = r.batches;
        out->bytes_out = r.bytes_out;
        out->bytes_in = r.bytes_in;
        out->reconnects = r.reconnects;
    }
}
