/* fixtures.h -- real peers for integration tests: the project's test server (with
 * its TLS listeners) and dnsmasq, each started on loopback and stopped by the test. */
#ifndef ACR_TEST_FIXTURES_H
#define ACR_TEST_FIXTURES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

enum { TLS_GOOD, TLS_EXPIRED, TLS_WRONGHOST, TLS_SELFSIGNED, TLS_UNTRUSTED, NTLS };

struct server {
    pid_t pid;
    int http;
    int https[NTLS];
};

static inline const char *certs_dir(void)
{
    const char *d = getenv("ACR_CERTS");
    return d ? d : "build/certs";
}

static inline void cert_path(char *buf, size_t len, const char *name, const char *ext)
{
    snprintf(buf, len, "%s/%s.%s", certs_dir(), name, ext);
}

static inline void server_start(struct server *s)
{
    const char *bin = getenv("ACR_TESTSERVER");
    if (!bin)
        bin = "build/acrawl-testserver";
    static const char *names[NTLS] = {"good", "expired", "wronghost", "selfsigned", "untrusted"};
    char paths[NTLS][2][256];
    const char *argv[8 + 3 * NTLS];
    int a = 0;
    argv[a++] = bin;
    argv[a++] = "--max-seconds";
    argv[a++] = "120";
    for (int i = 0; i < NTLS; i++) {
        cert_path(paths[i][0], sizeof paths[i][0], names[i], "pem");
        cert_path(paths[i][1], sizeof paths[i][1], names[i], "key");
        argv[a++] = "--tls";
        argv[a++] = paths[i][0];
        argv[a++] = paths[i][1];
    }
    argv[a] = NULL;
    int p[2];
    cr_assert_eq(pipe(p), 0);
    s->pid = fork();
    if (s->pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    char line[256] = "";
    FILE *f = fdopen(p[0], "r");
    cr_assert(fgets(line, sizeof line, f), "test server did not start (%s)", bin);
    fclose(f);
    char *c = line;
    cr_assert_eq(sscanf(c, "http=%d", &s->http), 1, "bad ready line: %s", line);
    for (int i = 0; i < NTLS; i++) {
        c = strstr(c + 1, "https=");
        cr_assert(c, "missing https port %d: %s", i, line);
        s->https[i] = atoi(c + 6);
    }
}

static inline void server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* A port with nothing listening (bound, then closed). */
static inline int free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, len);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* A listener whose accept queue is full, so new connections hang in SYN_SENT:
 * a stalling address on loopback. Returns the listening fd (close it after). */
static inline int stalled_listener(int family, int port, int *fill, int nfill)
{
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons((uint16_t)port);
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4->sin_port = htons((uint16_t)port);
        len = sizeof *s4;
    }
    cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "bind stalled listener");
    getsockname(fd, (struct sockaddr *)&ss, &len);
    listen(fd, 0);
    for (int i = 0; i < nfill; i++) { /* fill the queue; these complete, later ones hang */
        fill[i] = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&ss, len);
    }
    usleep(50000);
    return fd;
}

struct dnsmasq {
    pid_t pid;
    int port;
    char log[128];
};

/* dnsmasq on 127.0.0.1:random, answering NAME → 127.0.0.1 for *.acrawl.test, NXDOMAIN
 * for anything else, logging every query to a file we can count. */
static inline pid_t dnsmasq_spawn(struct dnsmasq *d)
{
    d->port = free_port(SOCK_DGRAM);
    char port[32], logf[160];
    snprintf(port, sizeof port, "--port=%d", d->port);
    snprintf(logf, sizeof logf, "--log-facility=%s", d->log);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/sbin/dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
              "--listen-address=127.0.0.1", "--bind-interfaces", port, "--address=/acrawl.test/127.0.0.1",
              "--address=/#/", "--log-queries", logf, "--user=root", "--pid-file=", "--cache-size=0",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* True once dnsmasq answers a query for ready.acrawl.test (not counted by tests);
 * false if it exits first (its port was taken meanwhile) or after 5 s. */
static inline bool dnsmasq_ready(const struct dnsmasq *d)
{
    static const unsigned char q[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'r', 'e', 'a', 'd', 'y',
                                      6, 'a', 'c', 'r', 'a', 'w', 'l', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {.tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool up = false;
    for (int i = 0; i < 50 && !up && waitpid(d->pid, NULL, WNOHANG) == 0; i++) {
        unsigned char buf[512];
        sendto(fd, q, sizeof q, 0, (struct sockaddr *)&a, sizeof a);
        up = recv(fd, buf, sizeof buf, 0) > 0;
    }
    close(fd);
    return up;
}

/* dnsmasq on 127.0.0.1:random, answering NAME → 127.0.0.1 for *.acrawl.test, NXDOMAIN
 * for anything else, logging every query to a file we can count. A loaded machine
 * gets three tries on fresh ports. */
static inline void dnsmasq_start(struct dnsmasq *d)
{
    snprintf(d->log, sizeof d->log, "/tmp/acrawl-dnsmasq-%d.log", (int)getpid());
    for (int attempt = 0; attempt < 3; attempt++) {
        unlink(d->log);
        d->pid = dnsmasq_spawn(d);
        if (dnsmasq_ready(d))
            return;
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
    }
    d->pid = 0;
    cr_assert_fail("dnsmasq did not start in three tries");
}

static inline int dnsmasq_count(const struct dnsmasq *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, needle))
            n++;
    }
    fclose(f);
    return n;
}

static inline void dnsmasq_stop(struct dnsmasq *d)
{
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
    }
    unlink(d->log);
}

#endif
