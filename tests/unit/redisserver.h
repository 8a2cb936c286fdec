/* redisserver.h -- a real redis-server for one Criterion test (test_redis, test_job):
 * on a free loopback port, in its own directory, killed by PID; and killed with the
 * test's process if that dies first (PR_SET_PDEATHSIG), so no server outlives a
 * crashed test. */
#ifndef ACR_TESTS_REDISSERVER_H
#define ACR_TESTS_REDISSERVER_H

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

struct rserver {
    pid_t pid;
    int port;                   /* 0: a free one at the next redis_up */
    char dir[64];
    const char *password;       /* NULL: none */
    bool aof;                   /* appendonly yes, appendfsync always */
};

/* True once something on port answers a PING with PONG, or with NOAUTH (a password
 * is needed): not while it is still loading its data (LOADING). */
static inline bool redis_answers(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool up = false;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "PING\r\n", 6) == 6) {
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        up = n > 0 && (buf[0] == '+' || !strncmp(buf, "-NOAUTH", 7));
    }
    close(fd);
    return up;
}

static inline pid_t redis_spawn(const struct rserver *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        const char *argv[24] = {"redis-server", "--port", port,         "--bind",   "127.0.0.1", "--save",
                                "",             "--dir",  s->dir,       "--daemonize", "no",     "--appendonly",
                                s->aof ? "yes" : "no"};
        int n = 13;
        if (s->aof) {
            argv[n++] = "--appendfsync";
            argv[n++] = "always";
        }
        if (s->password) {
            argv[n++] = "--requirepass";
            argv[n++] = s->password;
        }
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* (Re)starts the server on s->port; a fresh port if 0. Three tries on fresh ports
 * when another process took ours meanwhile (a restart must keep its port). */
static inline void redis_up(struct rserver *s)
{
    bool fixed = s->port != 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!fixed)
            s->port = free_port(SOCK_STREAM);
        s->pid = redis_spawn(s);
        for (int i = 0; i < 500; i++) {
            if (redis_answers(s->port))
                return;
            if (waitpid(s->pid, NULL, WNOHANG) != 0)
                break;
            usleep(10000);
        }
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
    cr_assert_fail("redis-server did not start on port %d in three tries", s->port);
}

static inline void redis_kill(struct rserver *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* A new server in a new directory named after prefix ("/tmp/acrawl-job"). */
static inline void redis_start(struct rserver *s, const char *prefix)
{
    s->port = 0;
    snprintf(s->dir, sizeof s->dir, "%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(s->dir));
    redis_up(s);
}

/* Kills it and removes its directory. */
static inline void redis_stop(struct rserver *s)
{
    redis_kill(s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    cr_assert_eq(system(cmd), 0);
}

#endif
