/* redis.h -- private: a Redis client on the runtime. hiredis only encodes commands
 * (RESP) and parses replies; the bytes go over acrawl's own non-blocking streams, a
 * batch of commands per write, so a task suspends where any socket user would. */
#ifndef ACR_REDIS_REDIS_H
#define ACR_REDIS_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

typedef struct acr_redis acr_redis;
typedef struct acr_redis_batch acr_redis_batch;

/* Where a server is, as a redis:// URL says it. port 0 means 6379. */
typedef struct acr_redis_addr {
    char host[256];     /* a name, or an IP literal (IPv6 without brackets) */
    unsigned port;
    char user[128];     /* "" : AUTH with the password alone (the default user) */
    char password[256]; /* "" with user "": no AUTH */
    unsigned db;        /* SELECTed after AUTH when not 0 */
} acr_redis_addr;

/* Replies larger than this fail the batch with -EPROTO (acr_redis_set_max_reply). */
#define ACR_REDIS_MAX_REPLY ((size_t)512 << 20)

/* Parses redis://[[user]:password@]host[:port][/db]: the scheme in any case, host a
 * name, an IPv4 literal or [IPv6], port 1-65535 (default 6379), db decimal (default
 * 0). user and password may be %-encoded (for ':', '@', '/'); a userinfo without ':'
 * is a password, as redis-cli reads it. rediss:// (TLS), unix://, query strings and
 * anything else are refused. Never allocates, never suspends.
 * 0, or -EINVAL with the reason in err. */
int acr_redis_parse_url(const char *url, acr_redis_addr *out, char *err, size_t errlen);

/* Connects and says hello, all before deadline: the host is resolved with the
 * project's resolver (transport/dns.h: IP literals need no query, /etc/hosts, then
 * c-ares), then TCP (happy eyeballs over the addresses), then AUTH (when a password
 * or user is given), SELECT (db not 0) and PING, pipelined in one write. Must run in
 * a task. On failure nothing is left allocated and err names host:port and the step:
 * ACR_EDNS; ACR_EREFUSED (nothing listens), ACR_ECONNECT (unreachable);
 * ACR_ETIMEOUT (no connection, or no answer, by deadline); -EACCES (the password
 * was refused, or is needed: err holds Redis's WRONGPASS / NOAUTH text); -EINVAL
 * (SELECT refused: no such db); -EAGAIN (the server says try later: LOADING, BUSY,
 * max clients reached); -EPROTO (an answer that is not Redis); ACR_ERESET (closed
 * during the hello); ACR_ECANCELED; -ENOMEM; ACR_ENOTASK. */
int acr_redis_open(acr_redis **out, const acr_redis_addr *a, int64_t deadline, char *err, size_t errlen);

/* Closes the connection and frees r (NULL is fine). Never suspends. No task may be
 * inside acr_redis_exec on r, nor waiting for its turn there. */
void acr_redis_close(acr_redis *r);

/* Bounds the size of one reply: the bytes it takes on the wire and its arrays'
 * element counts (counted as pointers, 8 bytes each). Default ACR_REDIS_MAX_REPLY. */
void acr_redis_set_max_reply(acr_redis *r, size_t max);

/* True while r holds a live connection (false after a failure, until the next exec
 * reconnects). Never suspends and asks no syscall. */
int acr_redis_connected(const acr_redis *r);

/* A batch: commands encoded one after the other, sent in one write, their replies
 * read in order. Owned by one task at a time; reusable with acr_redis_batch_clear.
 * NULL on -ENOMEM. */
acr_redis_batch *acr_redis_batch_new(void);

/* Appends a command of argc arguments, binary-safe (lens[i] bytes of argv[i]; lens
 * NULL: each argv[i] is a C string). 0, -EINVAL (argc < 1), -ENOMEM. */
int acr_redis_add(acr_redis_batch *b, int argc, const char *const *argv, const size_t *lens);

/* Appends a command in hiredis's format: "SET %s %b" takes a C string, then a
 * pointer and a size_t length; %d, %lld ... as printf; %% a percent sign. Spaces
 * separate arguments. 0, -EINVAL (a bad format), -ENOMEM. */
int acr_redis_addf(acr_redis_batch *b, const char *fmt, ...);

/* Commands in the batch. */
size_t acr_redis_count(const acr_redis_batch *b);

/* Sends b and reads one reply per command, before deadline. Must run in a task.
 * Several tasks may share r: their batches never interleave (a FIFO lock per
 * connection), and a task waiting for its turn keeps its deadline and its cancel.
 * A connection found broken before anything is sent (the server closed it while
 * idle: a restart, an idle timeout) and a connection a failed exec closed are
 * reopened first, once, within the deadline (counted in reconnects). Once bytes
 * went out, a failure (reset, EOF, timeout, cancel, a bad or too large reply)
 * closes the connection and returns the error: the replies read before it are
 * there (acr_redis_reply), the rest NULL, and whether the commands ran is unknown,
 * so resend only idempotent commands. Calling exec again on b resends it all.
 * 0 when every reply was read: a command Redis refused has a REDIS_REPLY_ERROR
 * reply. Else, with err naming host:port: ACR_ETIMEOUT (waiting for the turn, or
 * the server), ACR_ECANCELED, ACR_ERESET (reset, or closed by the server),
 * -EPROTO (not RESP, or a reply over the limit), -ENOMEM, any code of
 * acr_redis_open when it had to reconnect, ACR_ENOTASK. An empty batch returns 0
 * at once. Do not batch SUBSCRIBE or MONITOR: they answer more than once. */
int acr_redis_exec(acr_redis *r, acr_redis_batch *b, int64_t deadline, char *err, size_t errlen);

/* The reply to command i of the last exec, owned by b: NULL when i is out of range
 * or the reply was not read. hiredis types: REDIS_REPLY_STRING (str, len; binary),
 * _STATUS, _ERROR (str), _INTEGER (integer), _NIL, _ARRAY (element[elements]). */
const redisReply *acr_redis_reply(const acr_redis_batch *b, size_t i);

/* Drops the commands and the replies, keeping the memory for reuse. */
void acr_redis_batch_clear(acr_redis_batch *b);

/* Frees b and its replies (NULL is fine). */
void acr_redis_batch_free(acr_redis_batch *b);

/* Counts since open: commands and batches sent (whole or in part), bytes written
 * and read, successful reconnections after the first connect. */
typedef struct acr_redis_stats {
    uint64_t commands, batches, bytes_out, bytes_in, reconnects;
} acr_redis_stats;

void acr_redis_stats_get(const acr_redis *r, acr_redis_stats *out);

#endif
