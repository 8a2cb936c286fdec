/* overflow.c -- tells which task overflowed its stack when a guard page is hit,
 * then hands the SIGSEGV to whoever handled it before (ASan, or the default). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/fmt.h"
#include "sched.h"

static struct sigaction prev_segv;

static void write_str(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    acr_task *t = acr__self();
    if (t && t->stack && acr__stack_in_guard(t->stack, si->si_addr)) {
        char id[24];
        acr_utoa(id, t->id);
        write_str(program_invocation_short_name); /* whichever program the runtime is in */
        write_str(": stack overflow in task ");
        write_str(id);
        write_str(" (");
        write_str(t->name ? t->name : "unnamed");
        write_str("): raise the stack size\n");
    }
    /* Hand over to whoever was there before (ASan, or the default action). */
    sigaction(SIGSEGV, &prev_segv, NULL);
    if (!(prev_segv.sa_flags & SA_SIGINFO) && prev_segv.sa_handler == SIG_DFL)
        return; /* the faulting instruction re-runs and the default action kills */
    if (prev_segv.sa_flags & SA_SIGINFO)
        prev_segv.sa_sigaction(sig, si, uc);
    else if (prev_segv.sa_handler != SIG_IGN)
        prev_segv.sa_handler(sig);
}

void acr__overflow_install(void)
{
    /* Each thread with a loop needs its own alternate stack: the overflowing
     * stack cannot run the handler. */
    static __thread void *altstack; /* kept for the thread's lifetime */
    if (!altstack) {
        stack_t ss = {.ss_size = 64 * 1024};
        ss.ss_sp = acr_malloc(ss.ss_size);
        if (ss.ss_sp && sigaltstack(&ss, NULL) == 0)
            altstack = ss.ss_sp;
        else
            free(ss.ss_sp);
    }
    static bool installed;
    if (installed)
        return;
    installed = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
}
